/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

/*
 * PCI root bus 0 behind a host bridge, reachable through CF8/CFC (legacy
 * mechanism #1, first 256 bytes) and through ECAM (all 4096 bytes).
 * A PCI device, emulated or passthrough, supplies config read/write; it
 * places its own BARs on the buses when the guest programs them.
 */
#define PCI_DEVFN(slot, fn)	((((slot) & 0x1f) << 3) | ((fn) & 0x07))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x07)
#define PCI_CFG_SPACE_SIZE	256
#define PCI_CFG_SPACE_EXP_SIZE	4096

struct pci_dev;

struct pci_dev_ops {
	/* off + len never crosses a naturally aligned 4-byte boundary. */
	void (*cfg_read)(struct pci_dev *dev, uint32_t off, void *data, uint32_t len);
	void (*cfg_write)(struct pci_dev *dev, uint32_t off, const void *data, uint32_t len);
};

struct pci_dev {
	uint8_t devfn;
	const struct pci_dev_ops *ops;
	void *opaque;
	const char *name;
};

struct pci_root {
	pthread_mutex_t lock;	/* serializes config accesses */
	uint32_t cf8;		/* CONFIG_ADDRESS latch */
	uint64_t ecam_base;
	uint64_t ecam_size;
	struct pci_dev *devs[256];	/* by devfn */
};

/* Registers CF8/CFC on pio and the ECAM window on mmio. */
int pci_root_init(struct pci_root *pci, struct bus *pio, struct bus *mmio, uint64_t ecam_base,
		  uint64_t ecam_size);
/* Adds dev at the first free slot (function 0); -ENOSPC when full. */
int pci_root_add(struct pci_root *pci, struct pci_dev *dev);

/* Config access by devfn, as the guest would; absent functions read ~0. */
void pci_cfg_read(struct pci_root *pci, uint8_t devfn, uint32_t off, void *data, uint32_t len);
void pci_cfg_write(struct pci_root *pci, uint8_t devfn, uint32_t off, const void *data,
		   uint32_t len);

/*
 * A bump allocator over an MMIO window: BARs are naturally aligned to
 * their size. Callers place the largest BARs first to keep packing tight.
 */
struct pci_window {
	uint64_t base;
	uint64_t end;	/* exclusive */
	uint64_t next;
};

void pci_window_init(struct pci_window *w, uint64_t base, uint64_t end);
/* Returns 0 and the address, or -ENOSPC when size does not fit. */
int pci_window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr);

#endif
