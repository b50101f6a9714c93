/* SPDX-License-Identifier: MIT */
#ifndef VMM_PCI_HOST_VM_H
#define VMM_PCI_HOST_VM_H

struct vm;

/* Fills vm->pci_host: the one implementation of the PCI layer's host interface. */
void vm_pci_host_init(struct vm *vm);
/* Firmware's job before boot: every BAR of every device on the root bus gets an address. */
int vm_place_pci_bars(struct vm *vm);

#endif
