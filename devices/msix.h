/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_MSIX_H
#define DEVICES_MSIX_H

/*
 * MSI-X table and PBA emulation, for every PCI device. The guest's table
 * lives here, never in a device: the pages holding the table and the PBA
 * are trapped, accesses to them land in msix_read/msix_write, and each
 * vector follows the rule of pci_vector_sync(): enabled + unmasked + valid
 * message = GSI route + irqfd, anything else = irqfd detached. The function
 * mask bit masks every vector at once.
 *
 * The device owns the capability's control register (its config space)
 * and the vectors' eventfds; it tells us when the guest changed enable or
 * function mask, and we keep the routes in step.
 */
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci_dev.h"

struct msix {
	uint8_t cap;		/* capability offset; 0: no MSI-X */
	unsigned int nr;	/* table size */
	unsigned int table_bar, pba_bar;
	uint64_t table_off, pba_off;
	uint32_t *table;	/* nr entries of 4 dwords, the guest's view */
	struct pci_vector *vec;
	bool enabled;		/* the device side is on (eventfds exist) */
	bool maskall;		/* the guest's function mask */
};

/*
 * From the capability's Table and PBA registers; checks both lie inside
 * their BARs (bar_size[i] of the BARs the device has). Entries start
 * cleared and masked.
 */
int msix_init(struct msix *x, uint8_t cap, unsigned int nr, uint32_t table_reg,
	      uint32_t pba_reg, const uint64_t *bar_size, const char *name);
void msix_free(struct msix *x);
/* Every entry cleared and masked, as after reset. */
void msix_reset(struct msix *x);
uint64_t msix_pba_size(const struct msix *x);

/* Does [off, off+len) of BAR bar touch the table or the PBA? */
bool msix_owns(const struct msix *x, unsigned int bar, uint64_t off, uint32_t len);
/*
 * A guest read of the table or PBA. For the PBA, dev_bits holds what the
 * device's own PBA says for these bytes (NULL: nothing); the vectors
 * signalled while masked are ORed in.
 */
void msix_read(const struct msix *x, unsigned int bar, uint64_t off, void *data, uint32_t len,
	       const uint8_t *dev_bits);
/* A guest write; re-syncs the entries it touched when enabled. PBA writes are ignored. */
void msix_write(struct pci_dev *dev, struct msix *x, unsigned int bar, uint64_t off,
		const void *data, uint32_t len);

/* Is entry i deliverable now, and with what message? */
bool msix_vector_active(const struct msix *x, unsigned int i, uint64_t *addr, uint32_t *data);
/* Brings every vector's route and irqfd in line with the table and masks. */
void msix_sync_all(struct pci_dev *dev, struct msix *x);
/*
 * Do any of the PBA's bits come from us now? True while enabled with some
 * vector that has an eventfd but no irqfd attached (masked, function mask,
 * no valid message, no route): a signal on it waits in the eventfd and only
 * msix_read() can show it. When false, the PBA a guest should see is the
 * device's own bits and nothing else, so a device whose PBA has a mappable
 * page of its own may map it (vfio/bar.c).
 */
bool msix_pba_emulated(const struct msix *x);

#endif
