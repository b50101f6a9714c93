/* SPDX-License-Identifier: MIT */
#ifndef VMM_PCI_HOST_VM_H
#define VMM_PCI_HOST_VM_H

struct vm;
struct layout;
struct pci_dev;
struct pci_window;
struct pcie_port;

/* Fills vm->pci_host: the one implementation of the PCI layer's host interface. */
void vm_pci_host_init(struct vm *vm);
/*
 * Firmware's job before boot: every root port gets its bus number and
 * windows, every BAR of every device (on the root bus or behind a port)
 * an address.
 */
int vm_place_pci_bars(struct vm *vm);
/*
 * The same for devs over the layout's windows: the 64-bit BARs are checked
 * against the window first, so a configuration that cannot fit is refused
 * whole with one error naming the numbers, before any BAR has an address.
 */
int vm_place_bars(const struct layout *l, struct pci_dev **devs, unsigned int n,
		  struct pci_window *w32, struct pci_window *w64, struct pci_window *io);
/*
 * The same with root ports: each port's windows (its prefetchable window
 * aligned to its device's largest 64-bit prefetchable BAR) and its device's
 * BARs inside them, largest windows first, then the root-bus devices.
 * Port nr gets bus nr + 1. ports is sorted in place.
 */
int vm_place_all(const struct layout *l, struct pci_dev **devs, unsigned int n,
		 struct pcie_port **ports, unsigned int nr_ports, struct pci_window *w32,
		 struct pci_window *w64, struct pci_window *io);

#endif
