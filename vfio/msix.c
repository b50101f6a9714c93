// SPDX-License-Identifier: MIT
/*
 * The MSI-X capability of a passthrough device. The table and PBA are
 * devices/msix.c's, as for any PCI device; what is VFIO here: VFIO gets one
 * eventfd per vector when the guest sets the enable bit (SET_IRQS), the PBA
 * starts from the device's own bits (region read), and clearing enable
 * tears the vectors down and gives the device back to INTx.
 */
#include "vfio/internal.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

int vfio_msix_init(struct vfio_pci_dev *d)
{
	struct msix *x = &d->msix;
	uint64_t sizes[6];
	uint16_t ctrl;
	uint8_t cap = x->cap;
	int ret;

	if (!cap)
		return 0;
	for (unsigned int i = 0; i < 6; i++)
		sizes[i] = d->regions[i].size;
	ctrl = cfg_get(d, cap + PCI_MSIX_FLAGS, 2);
	ret = msix_init(x, cap, (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1,
			cfg_get(d, cap + PCI_MSIX_TABLE, 4), cfg_get(d, cap + PCI_MSIX_PBA, 4),
			sizes, d->vdev.name);
	if (ret)
		return ret;
	vfio_cfg_rule(d, cap + PCI_MSIX_FLAGS, 2, 0xffff,
		      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	vfio_cfg_rule(d, cap + PCI_MSIX_TABLE, 4, ~0u, 0, 0);
	vfio_cfg_rule(d, cap + PCI_MSIX_PBA, 4, ~0u, 0, 0);
	cfg_set(d, cap + PCI_MSIX_FLAGS, 2,
		ctrl & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
	trace(LOG_IRQ, "%s: MSI-X at %#x: %u vectors, table BAR%u+%#llx, PBA BAR%u+%#llx",
	      d->vdev.name, cap, x->nr, x->table_bar, (unsigned long long)x->table_off,
	      x->pba_bar, (unsigned long long)x->pba_off);
	return 0;
}

void vfio_msix_disable(struct vfio_pci_dev *d)
{
	struct msix *x = &d->msix;

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
	struct msix *x = &d->msix;
	uint16_t ctrl = cfg_get(d, x->cap + PCI_MSIX_FLAGS, 2);

	x->maskall = ctrl & PCI_MSIX_FLAGS_MASKALL;
	if (!(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		vfio_msix_disable(d);
		return;
	}
	/* In D3hot VFIO cannot set vectors up: wait for D0 (vfio_cfg_power_changed). */
	if (!x->enabled && d->cfg.d3) {
		trace(LOG_IRQ, "%s: MSI-X enable deferred until the device is back in D0",
		      d->vdev.name);
		return;
	}
	if (!x->enabled && msix_enable(d))
		return;
	msix_sync_all(&d->pci, x);
	/* Enabled with a vector masked, or the function masked: the PBA is ours now. */
	vfio_pba_update(d, false);
}

void vfio_msix_read(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, void *data,
		    uint32_t len)
{
	struct msix *x = &d->msix;
	uint8_t dev[8] = { 0 };
	const uint8_t *dev_bits = NULL;

	pthread_mutex_lock(&d->lock);
	if (bar == x->pba_bar && off >= x->pba_off && len <= 8 &&
	    d->vdev.ops->region_read(d->vdev.h, &d->regions[bar], off, dev, len) == (ssize_t)len)
		dev_bits = dev;
	msix_read(x, bar, off, data, len, dev_bits);
	pthread_mutex_unlock(&d->lock);
}

void vfio_msix_write(struct vfio_pci_dev *d, unsigned int bar, uint64_t off, const void *data,
		     uint32_t len)
{
	pthread_mutex_lock(&d->lock);
	msix_write(&d->pci, &d->msix, bar, off, data, len);
	vfio_pba_update(d, false);
	pthread_mutex_unlock(&d->lock);
}

void vfio_msix_exit(struct vfio_pci_dev *d)
{
	vfio_msix_disable(d);
	msix_free(&d->msix);
}
