/* SPDX-License-Identifier: MIT */
#ifndef VMM_PCI_HOST_VM_H
#define VMM_PCI_HOST_VM_H

struct vm;
struct layout;
struct pci_dev;
struct pci_window;

/* Fills vm->pci_host: the one implementation of the PCI layer's host interface. */
void vm_pci_host_init(struct vm *vm);
/* Firmware's job before boot: every BAR of every device on the root bus gets an address. */
int vm_place_pci_bars(struct vm *vm);
/*
 * The same for devs over the layout's windows: the 64-bit BARs are checked
 * against the window first, so a configuration that cannot fit is refused
 * whole with one error naming the numbers, before any BAR has an address.
 */
int vm_place_bars(const struct layout *l, struct pci_dev **devs, unsigned int n,
		  struct pci_window *w32, struct pci_window *w64, struct pci_window *io);

#endif
