/* SPDX-License-Identifier: MIT */
#ifndef VFIO_PCI_PASSTHROUGH_H
#define VFIO_PCI_PASSTHROUGH_H

/*
 * The glue between a vfio_pci_dev and a struct vm: the one place that calls
 * vm_* and bus_* for passthrough. main.c wires it: for each device fd that
 * iommu/ hands out, vfio_passthrough_add(); once all are added,
 * vfio_passthrough_place() (before the guest runs); at exit
 * vfio_passthrough_remove().
 */
#include "vfio/vfio_pci.h"

struct vm;
struct vfio_passthrough;

/*
 * Takes ownership of device_fd (closed by remove). Resets the device,
 * mmaps its BARs, puts it on the root bus and wires INTx to the IOAPIC pin
 * the ACPI _PRT names for its slot.
 */
int vfio_passthrough_add(struct vm *vm, int device_fd, const char *name,
			 struct vfio_passthrough **out);
/* The same over any device ops (tests drive it with a fake); h stays the caller's. */
int vfio_passthrough_add_ops(struct vm *vm, const struct vfio_dev_ops *ops, void *h,
			     const char *name, struct vfio_passthrough **out);
/* Gives every BAR of every device an address (largest first), as firmware would. */
int vfio_passthrough_place(struct vm *vm, struct vfio_passthrough **pts, unsigned int n);
/*
 * Peer-to-peer DMA: called with map=true for each directly mapped BAR piece
 * when it appears at a guest address (the guest turned decode on or moved
 * the BAR), and map=false before it goes away, so the IOMMU can make the
 * piece a DMA target at IOVA = its guest address and follow it. Runs in the
 * vCPU thread that wrote config space; a failure only costs the peers'
 * access, the guest's own accesses keep working.
 */
typedef int (*vfio_passthrough_dma_fn)(void *opaque, bool map, uint64_t gpa, void *hva,
				       uint64_t size);
void vfio_passthrough_set_dma_hook(struct vfio_passthrough *pt, vfio_passthrough_dma_fn fn,
				   void *opaque);
/* Tears down interrupts and mappings, resets the device, closes its fd. */
void vfio_passthrough_remove(struct vfio_passthrough *pt);
struct vfio_pci_dev *vfio_passthrough_dev(struct vfio_passthrough *pt);

#endif
