/* SPDX-License-Identifier: MIT */
#ifndef VFIO_PCI_PASSTHROUGH_H
#define VFIO_PCI_PASSTHROUGH_H

/*
 * A VFIO device fd made a PCI device: the VFIO ioctl backend bound to a
 * vfio_pci_dev. It knows no VM: the composition root (vmm/assign.c) hands
 * it the VM's PCI host interface, puts vfio_passthrough_pci() on the root
 * bus, wires INTx, places the BARs with every other PCI device and, at
 * exit, closes it.
 */
#include "vfio/vfio_pci.h"

struct vfio_passthrough;

/* Takes ownership of device_fd (closed by close, or on failure). Resets the device, mmaps its BARs. */
int vfio_passthrough_open(int device_fd, const char *name, const struct pci_host *host,
			  struct vfio_passthrough **out);
/* The same over any device ops (tests drive it with a fake); h stays the caller's. */
int vfio_passthrough_open_ops(const struct vfio_dev_ops *ops, void *h, const char *name,
			      const struct pci_host *host, struct vfio_passthrough **out);
/* Tears down interrupts and mappings, resets the device, closes its fd. */
void vfio_passthrough_close(struct vfio_passthrough *pt);
struct vfio_pci_dev *vfio_passthrough_dev(struct vfio_passthrough *pt);
struct pci_dev *vfio_passthrough_pci(struct vfio_passthrough *pt);

#endif
