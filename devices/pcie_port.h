/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_PCIE_PORT_H
#define DEVICES_PCIE_PORT_H

/*
 * An emulated PCI Express root port: a type-1 (PCI-to-PCI bridge) header on
 * bus 0 with one device below it, at device 0 of its secondary bus. The
 * guest sees a real hierarchy (root port, link, slot) instead of an endpoint
 * on the root bus; nothing is forwarded anywhere but to that one device.
 *
 *  - Config space: bus numbers, I/O, memory and 64-bit prefetchable memory
 *    base/limit, command and bridge control are writable as on a real port;
 *    everything else is read-only. A PCIe capability (version 2, Root Port,
 *    slot implemented, link up at 16 GT/s x16) and a power-management
 *    capability are in the chain; no MSI, no extended capabilities, no INTx
 *    of its own (the port raises no interrupts: no hotplug, AER or PME).
 *  - Routing (pcie_port_route): a config access for bus N reaches the
 *    device only when N is the port's secondary bus, N != 0 and N <=
 *    subordinate, and only at device 0 function 0. Whatever the guest
 *    writes in the bus registers, nothing else is ever reached.
 *  - Windows: firmware's job (pcie_port_place) fills them to cover the BARs
 *    it placed for the device. If the guest later moves a window or a BAR,
 *    the BAR keeps decoding where the device's BAR register says: windows
 *    are bookkeeping for the guest's resource allocator, not a second decode
 *    stage (docs/passthrough.md, "PCIe topology", says why).
 */
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci_dev.h"

#define PCIE_PORT_VENDOR	0x1b36	/* the IDs of QEMU's generic root port: no guest quirks */
#define PCIE_PORT_DEVICE	0x000c
#define PCIE_PORT_EXP_CAP	0x40
#define PCIE_PORT_PM_CAP	0x80
#define PCIE_PORT_LINK_SPEED	4	/* 16 GT/s (PCIe 4.0) */
#define PCIE_PORT_LINK_WIDTH	16

struct pcie_port {
	struct pci_dev dev;		/* the port itself, on bus 0 */
	struct pci_dev *child;		/* device 0 on the secondary bus; NULL: empty slot */
	unsigned int nr;		/* port number: LinkCap port number, physical slot */
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
	uint8_t wmask[PCI_CFG_SPACE_SIZE];	/* bits the guest may change */
	char name[24];			/* "root-port-N" */
};

/* Port nr (0-based) with its registers at reset: no bus numbers, windows closed. */
void pcie_port_init(struct pcie_port *p, unsigned int nr, const struct pci_host *host);
/* child becomes device 0 below the port; its INTx swizzles through the port's slot. */
void pcie_port_attach(struct pcie_port *p, struct pci_dev *child);

/* The device a config access to (bus, devfn) reaches through p, or NULL. */
struct pci_dev *pcie_port_route(const struct pcie_port *p, uint8_t bus, uint8_t devfn);
uint8_t pcie_port_secondary(const struct pcie_port *p);
unsigned int pcie_port_nr(const struct pcie_port *p);

/*
 * What the child's BARs need from the three windows, as pcie_port_place
 * will allocate them: size (0: none) and alignment of each. mem holds the
 * non-prefetchable and 32-bit BARs and the ROM; pref the 64-bit
 * prefetchable BARs; io the I/O BARs.
 */
struct pcie_port_need {
	uint64_t mem_size, mem_align;
	uint64_t pref_size, pref_align;
	uint64_t io_size, io_align;
};

void pcie_port_need(const struct pcie_port *p, struct pcie_port_need *n);

/*
 * Firmware's job before boot: the port gets bus number bus (primary 0,
 * secondary = subordinate = bus), windows carved from w32 (memory), w64
 * (prefetchable) and io, the child's BARs placed inside them (largest
 * first, naturally aligned) through its own config writes, and the port's
 * decode and bus mastering turned on. An I/O BAR that finds no room is
 * left unassigned (a warning); -ENOSPC when a memory window does not fit.
 */
int pcie_port_place(struct pcie_port *p, uint8_t bus, struct pci_window *w32,
		    struct pci_window *w64, struct pci_window *io);

#endif
