/* SPDX-License-Identifier: MIT */
#ifndef VFIO_INTERNAL_H
#define VFIO_INTERNAL_H

/* Calls between the files of vfio/; not for the rest of the VMM. */
#include "vfio/vfio_pci.h"

static inline uint32_t cfg_get(const struct vfio_pci_dev *d, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)d->cfg.shadow[off + i] << (8 * i);
	return v;
}

static inline void cfg_set(struct vfio_pci_dev *d, uint32_t off, uint32_t len, uint32_t v)
{
	for (uint32_t i = 0; i < len; i++)
		d->cfg.shadow[off + i] = v >> (8 * i);
}

/* Reads [off, off+len) of the device's own config space; -errno on failure. */
int vfio_cfg_dev_read(struct vfio_pci_dev *d, uint32_t off, void *buf, uint32_t len);
int vfio_cfg_init(struct vfio_pci_dev *d);
/* Sets emu/wr/fwd masks of [off, off+len) (len <= 4) from 32-bit masks. */
void vfio_cfg_rule(struct vfio_pci_dev *d, uint32_t off, uint32_t len, uint32_t emu,
		   uint32_t wr, uint32_t fwd);
/* Emulated config back to its reset values, device command cleared (lock held). */
void vfio_cfg_flr(struct vfio_pci_dev *d);
/* Re-reads the power state after a PMCSR write or a reset; D3hot takes the BARs off the buses. */
void vfio_cfg_power_changed(struct vfio_pci_dev *d);
/* A guest's Function Level Reset (vfio_pci.c), with d->lock held. */
void vfio_pci_flr(struct vfio_pci_dev *d);

int vfio_bars_init(struct vfio_pci_dev *d);
void vfio_bars_update(struct vfio_pci_dev *d);
void vfio_bars_unmap(struct vfio_pci_dev *d);

void vfio_pci_bar_moved(struct vfio_pci_dev *d, unsigned int i, bool on, uint64_t addr);
/* The PBA's page mapped or trapped as msix_pba_emulated() says (lock held). */
void vfio_pba_update(struct vfio_pci_dev *d, bool may_map);

int vfio_msix_init(struct vfio_pci_dev *d);
void vfio_msix_cfg_written(struct vfio_pci_dev *d);
void vfio_msix_disable(struct vfio_pci_dev *d);
void vfio_msix_read(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, void *data,
		    uint32_t len);
void vfio_msix_write(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, const void *data,
		     uint32_t len);
void vfio_msix_exit(struct vfio_pci_dev *d);

int vfio_msi_init(struct vfio_pci_dev *d);
void vfio_msi_cfg_written(struct vfio_pci_dev *d);
void vfio_msi_disable(struct vfio_pci_dev *d);
void vfio_intx_enable(struct vfio_pci_dev *d);
void vfio_intx_disable(struct vfio_pci_dev *d);

/* VFIO's side of a set of vectors: one eventfd each, handed over in one SET_IRQS. */
int vfio_vectors_enable(struct vfio_pci_dev *d, uint32_t index, struct pci_vector *v,
			unsigned int n);
void vfio_vectors_disable(struct vfio_pci_dev *d, uint32_t index, struct pci_vector *v,
			  unsigned int n);

#endif
