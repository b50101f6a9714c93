// SPDX-License-Identifier: MIT
/*
 * MSI-X emulation. The guest's table lives here, never in the device: the
 * pages holding the table and the PBA are trapped (bar.c cuts them out of
 * the direct mapping), and accesses that hit the table land in d->msix.table.
 * VFIO gets one eventfd per vector when the guest sets the enable bit; from
 * then on each vector follows the rule in msi.c: enabled + unmasked + valid
 * message = GSI route + irqfd, anything else = irqfd detached. The function
 * mask bit masks all vectors at once. Clearing enable tears everything down
 * and gives the device back to INTx.
 *
 * The PBA is the device's (read through the region) ORed with the vectors we
 * have masked whose eventfd has been signalled meanwhile.
 */
#include "vfio/internal.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#define ENTRY_DWORDS	(PCI_MSIX_ENTRY_SIZE / 4)

static uint64_t pba_size(const struct vfio_msix *x)
{
	return 8ull * ((x->nr + 63) / 64);
}

int vfio_msix_init(struct vfio_pci_dev *d)
{
	struct vfio_msix *x = &d->msix;
	uint32_t table, pba;
	uint16_t ctrl;

	if (!x->cap)
		return 0;
	ctrl = cfg_get(d, x->cap + PCI_MSIX_FLAGS, 2);
	table = cfg_get(d, x->cap + PCI_MSIX_TABLE, 4);
	pba = cfg_get(d, x->cap + PCI_MSIX_PBA, 4);
	x->nr = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	x->table_bar = table & PCI_MSIX_TABLE_BIR;
	x->table_off = table & PCI_MSIX_TABLE_OFFSET;
	x->pba_bar = pba & PCI_MSIX_PBA_BIR;
	x->pba_off = pba & PCI_MSIX_PBA_OFFSET;
	if (x->table_bar > 5 || x->pba_bar > 5 ||
	    x->table_off + 16ull * x->nr > d->regions[x->table_bar].size ||
	    x->pba_off + pba_size(x) > d->regions[x->pba_bar].size) {
		log_err("%s: MSI-X table (BAR%u+%#llx) or PBA (BAR%u+%#llx) lies outside its BAR",
			d->vdev.name, x->table_bar, (unsigned long long)x->table_off, x->pba_bar,
			(unsigned long long)x->pba_off);
		return -EINVAL;
	}
	x->table = calloc(x->nr, PCI_MSIX_ENTRY_SIZE);
	x->vec = calloc(x->nr, sizeof(*x->vec));
	if (!x->table || !x->vec) {
		free(x->table);
		free(x->vec);
		x->table = NULL;
		x->vec = NULL;
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < x->nr; i++)
		x->vec[i] = (struct vfio_vector){ .fd = -1, .gsi = -1 };
	vfio_msix_reset(d);
	vfio_cfg_rule(d, x->cap + PCI_MSIX_FLAGS, 2, 0xffff,
		      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	vfio_cfg_rule(d, x->cap + PCI_MSIX_TABLE, 4, ~0u, 0, 0);
	vfio_cfg_rule(d, x->cap + PCI_MSIX_PBA, 4, ~0u, 0, 0);
	cfg_set(d, x->cap + PCI_MSIX_FLAGS, 2,
		ctrl & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
	trace(LOG_IRQ, "%s: MSI-X at %#x: %u vectors, table BAR%u+%#llx, PBA BAR%u+%#llx",
	      d->vdev.name, x->cap, x->nr, x->table_bar, (unsigned long long)x->table_off,
	      x->pba_bar, (unsigned long long)x->pba_off);
	return 0;
}

void vfio_msix_reset(struct vfio_pci_dev *d)
{
	struct vfio_msix *x = &d->msix;

	if (!x->table)
		return;
	memset(x->table, 0, (size_t)x->nr * PCI_MSIX_ENTRY_SIZE);
	/* Vectors come out of reset masked. */
	for (unsigned int i = 0; i < x->nr; i++)
		x->table[i * ENTRY_DWORDS + 3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

static void msix_sync(struct vfio_pci_dev *d, unsigned int i)
{
	struct vfio_msix *x = &d->msix;
	const uint32_t *e = &x->table[i * ENTRY_DWORDS];
	uint16_t ctrl = cfg_get(d, x->cap + PCI_MSIX_FLAGS, 2);
	uint64_t addr = e[0] | (uint64_t)e[1] << 32;
	bool active = x->enabled && !(ctrl & PCI_MSIX_FLAGS_MASKALL) &&
		      !(e[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) && vfio_msi_addr_valid(addr);

	vfio_vector_sync(d, &x->vec[i], active, addr, e[2], "MSI-X", i);
}

void vfio_msix_disable(struct vfio_pci_dev *d)
{
	struct vfio_msix *x = &d->msix;

	if (!x->enabled)
		return;
	vfio_vectors_disable(d, VFIO_PCI_MSIX_IRQ_INDEX, x->vec, x->nr);
	x->enabled = false;
	d->mode = VFIO_IRQ_NONE;
	trace(LOG_IRQ, "%s: MSI-X disabled", d->vdev.name);
	vfio_intx_enable(d);
}

static int msix_enable(struct vfio_pci_dev *d)
{
	int ret;

	if (d->mode == VFIO_IRQ_MSI) {
		trace(LOG_IRQ, "%s: guest enabled MSI-X with MSI still on: MSI dropped",
		      d->vdev.name);
		vfio_vectors_disable(d, VFIO_PCI_MSI_IRQ_INDEX, d->msi.vec, d->msi.nr);
		d->msi.nr = 0;
	}
	vfio_intx_disable(d);
	d->mode = VFIO_IRQ_NONE;
	ret = vfio_vectors_enable(d, VFIO_PCI_MSIX_IRQ_INDEX, d->msix.vec, d->msix.nr);
	if (ret) {
		vfio_intx_enable(d);
		return ret;
	}
	d->msix.enabled = true;
	d->mode = VFIO_IRQ_MSIX;
	trace(LOG_IRQ, "%s: MSI-X enabled, %u vectors", d->vdev.name, d->msix.nr);
	return 0;
}

void vfio_msix_cfg_written(struct vfio_pci_dev *d)
{
	struct vfio_msix *x = &d->msix;
	uint16_t ctrl = cfg_get(d, x->cap + PCI_MSIX_FLAGS, 2);

	if (!(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		vfio_msix_disable(d);
		return;
	}
	if (!x->enabled && msix_enable(d))
		return;
	for (unsigned int i = 0; i < x->nr; i++)
		msix_sync(d, i);
}

static bool hits(uint64_t off, uint32_t len, uint64_t start, uint64_t size)
{
	return off >= start && off - start < size && size - (off - start) >= len;
}

bool vfio_msix_owns(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, uint32_t len)
{
	struct vfio_msix *x = &d->msix;

	if (!x->cap || !x->table)
		return false;
	if (bar == x->table_bar && off < x->table_off + 16ull * x->nr && off + len > x->table_off)
		return true;
	return bar == x->pba_bar && off < x->pba_off + pba_size(x) && off + len > x->pba_off;
}

static void pba_read(struct vfio_pci_dev *d, uint64_t off, void *data, uint32_t len)
{
	struct vfio_msix *x = &d->msix;
	uint8_t buf[8] = { 0 };
	uint64_t rel = off - x->pba_off;
	ssize_t n;

	n = d->vdev.ops->region_read(d->vdev.h, &d->regions[x->pba_bar], off, buf, len);
	if (n != (ssize_t)len)
		memset(buf, 0, sizeof(buf));
	for (uint32_t b = 0; b < len * 8; b++) {
		uint64_t v = rel * 8 + b;

		if (v < x->nr && x->enabled && vfio_vector_pending(&x->vec[v]))
			buf[b / 8] |= 1u << (b % 8);
	}
	memcpy(data, buf, len);
}

void vfio_msix_read(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, void *data,
		    uint32_t len)
{
	struct vfio_msix *x = &d->msix;

	pthread_mutex_lock(&d->lock);
	if (bar == x->table_bar && hits(off, len, x->table_off, 16ull * x->nr))
		memcpy(data, (uint8_t *)x->table + (off - x->table_off), len);
	else if (bar == x->pba_bar && hits(off, len, x->pba_off, pba_size(x)) && len <= 8)
		pba_read(d, off, data, len);
	else
		memset(data, 0xff, len);	/* straddles the table's edge */
	pthread_mutex_unlock(&d->lock);
}

void vfio_msix_write(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, const void *data,
		     uint32_t len)
{
	struct vfio_msix *x = &d->msix;
	uint64_t rel = off - x->table_off;

	/* PBA writes are ignored, as the spec allows. */
	if (bar != x->table_bar || !hits(off, len, x->table_off, 16ull * x->nr))
		return;
	pthread_mutex_lock(&d->lock);
	memcpy((uint8_t *)x->table + rel, data, len);
	if (trace_on(LOG_IRQ)) {
		const uint32_t *e = &x->table[rel / 16 * ENTRY_DWORDS];

		log_trace(LOG_IRQ, "%s: MSI-X entry %llu: addr %#llx data %#x ctrl %#x",
			  d->vdev.name, (unsigned long long)(rel / 16),
			  (unsigned long long)(e[0] | (uint64_t)e[1] << 32), e[2], e[3]);
	}
	if (x->enabled)
		for (uint64_t i = rel / 16; i <= (rel + len - 1) / 16; i++)
			msix_sync(d, i);
	pthread_mutex_unlock(&d->lock);
}

void vfio_msix_exit(struct vfio_pci_dev *d)
{
	vfio_msix_disable(d);
	free(d->msix.table);
	free(d->msix.vec);
	d->msix.table = NULL;
	d->msix.vec = NULL;
}
