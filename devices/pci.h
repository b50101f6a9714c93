/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/pci_dev.h"

/*
 * PCI root bus 0 behind a host bridge, reachable through CF8/CFC (legacy
 * mechanism #1, first 256 bytes) and through ECAM (all 4096 bytes).
 * A PCI device, emulated or passthrough, is a struct pci_dev (pci_dev.h):
 * config read/write for the root, BARs for the device model.
 */
#define PCI_DEVFN(slot, fn)	((((slot) & 0x1f) << 3) | ((fn) & 0x07))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x07)

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

#endif
