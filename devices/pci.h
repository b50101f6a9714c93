/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/pci_dev.h"
#include "devices/pcie_port.h"

/*
 * PCI root bus 0 behind a host bridge, reachable through CF8/CFC (legacy
 * mechanism #1, first 256 bytes) and through ECAM (all 4096 bytes). PCIe
 * root ports (pcie_port.h) sit on bus 0; a config access for another bus
 * is a type-1 cycle that the port whose secondary bus it is turns into a
 * type-0 one for its device, and reaches nothing otherwise.
 * A PCI device, emulated or passthrough, is a struct pci_dev (pci_dev.h):
 * config read/write for the root, BARs for the device model.
 */
#define PCI_DEVFN(slot, fn)	((((slot) & 0x1f) << 3) | ((fn) & 0x07))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x07)
#define PCI_MAX_PORTS		31	/* one per free slot of bus 0 */

struct pci_root {
	pthread_mutex_t lock;	/* serializes config accesses */
	uint32_t cf8;		/* CONFIG_ADDRESS latch */
	uint64_t ecam_base;
	uint64_t ecam_size;
	struct pci_dev *devs[256];	/* by devfn */
	struct pcie_port *ports[PCI_MAX_PORTS];	/* on bus 0, in the order added */
	unsigned int nr_ports;
};

/* Registers CF8/CFC on pio and the ECAM window on mmio. */
int pci_root_init(struct pci_root *pci, struct bus *pio, struct bus *mmio, uint64_t ecam_base,
		  uint64_t ecam_size);
/* Adds dev at the first free slot (function 0); -ENOSPC when full. */
int pci_root_add(struct pci_root *pci, struct pci_dev *dev);

/*
 * A new root port on bus 0 (pci_root_add) with child below it at device 0:
 * config cycles for the port's secondary bus go through it. The root owns
 * the port (pci_root_release frees it). -ENOSPC when bus 0 is full.
 */
int pci_root_add_port(struct pci_root *pci, struct pci_dev *child, const struct pci_host *host);
/* Frees the ports; the devices stay their owners'. */
void pci_root_release(struct pci_root *pci);

/* Config access by devfn on bus 0, as the guest would; absent functions read ~0. */
void pci_cfg_read(struct pci_root *pci, uint8_t devfn, uint32_t off, void *data, uint32_t len);
void pci_cfg_write(struct pci_root *pci, uint8_t devfn, uint32_t off, const void *data,
		   uint32_t len);
/* The same on any bus: bus != 0 is routed through the root ports. */
void pci_cfg_read_bus(struct pci_root *pci, uint8_t bus, uint8_t devfn, uint32_t off, void *data,
		      uint32_t len);
void pci_cfg_write_bus(struct pci_root *pci, uint8_t bus, uint8_t devfn, uint32_t off,
		       const void *data, uint32_t len);

#endif
