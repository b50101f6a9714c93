/* SPDX-License-Identifier: MIT */
#ifndef VMM_ASSIGN_H
#define VMM_ASSIGN_H

#include <stdbool.h>

#include "iommu/iommu.h"
#include "vmm/cli.h"

struct vm;
struct vfio_passthrough;
struct vfio_dev_ops;

#define ASSIGN_MAX_RAM	8	/* guest RAM ranges handed to iommu/ */

/*
 * Everything --device sets up, in the order it is set up: one IOMMU
 * container for all groups (viability checked before anything opens), a
 * passthrough PCI device per VFIO device fd, BAR placement, then guest RAM
 * (and with --p2p the BARs) mapped for DMA. Torn down in reverse.
 */
struct assignment {
	struct iommu io;
	bool io_open;
	struct vm *vm;
	bool in_setup;		/* assign_map_dma() running: stop signals are only pending */
	unsigned int nr;
	struct iommu_device devs[CLI_MAX_DEVICES];
	struct vfio_passthrough *pts[CLI_MAX_DEVICES];
};

/*
 * Opens the container, groups and devices; all or nothing. cliques (NULL:
 * none) gives each device its GPUDirect clique ID, -1 for none; ports
 * (NULL: all -1) says where each goes, as assign_add_device's port.
 */
int assign_devices(struct vm *vm, const char *const *args, const int *cliques, const int *ports,
		   unsigned int n, struct assignment *a);
/*
 * After placement: guest RAM (and with p2p the BARs) mapped for DMA, the
 * RAM first faulted in on prefault_threads threads (0: MAP_DMA faults it).
 * Between MAP_DMA calls, here and whenever the guest moves a BAR later, it
 * stops (-EINTR, nothing of that range left mapped) once the VM is stopping
 * or, here, a stop signal is pending (the caller blocks them first).
 */
int assign_map_dma(struct vm *vm, bool p2p, unsigned int prefault_threads,
		   struct assignment *a);
void assign_release(struct assignment *a);
/*
 * One device onto vm: opened over its fd (ops NULL) or over ops/h (a test's
 * fake), behind a root port of its own (port 1; -1: if it is PCIe) or on
 * the root bus (port 0), INTx wired. BARs are placed with every other PCI
 * device (vm_place_pci_bars), then assign_map_dma() maps guest RAM (and
 * with p2p the BARs) for DMA.
 */
int assign_add_device(struct vm *vm, const struct vfio_dev_ops *ops, void *h, int fd,
		      const char *name, int port, struct vfio_passthrough **out);

/* Per device: exits on trapped BAR pieces and host interrupt counts per vector. */
void assign_print_stats(struct assignment *a, FILE *f);

#endif
