// SPDX-License-Identifier: MIT
/*
 * Bring-up and tear-down of a passthrough function: ask VFIO what the
 * device has (regions with their mmap layout, interrupt indexes), read its
 * config space once, then let config.c, msix.c, msi.c and bar.c build their
 * tables from it, in that order (the BAR split needs the MSI-X location).
 * Also the guest's Function Level Reset, which touches all of them.
 */
#include "vfio/internal.h"
#include "util/log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int query_device(struct vfio_pci_dev *d)
{
	const struct vfio_dev_ops *ops = d->vdev.ops;
	int ret = ops->get_info(d->vdev.h, &d->info);

	if (ret) {
		log_err("%s: VFIO_DEVICE_GET_INFO failed: %s", d->vdev.name, strerror(-ret));
		return ret;
	}
	if (!(d->info.flags & VFIO_DEVICE_FLAGS_PCI) || d->info.num_regions < VFIO_PCI_REGIONS) {
		log_err("%s: not a VFIO PCI device (flags %#x, %u regions)", d->vdev.name,
			d->info.flags, d->info.num_regions);
		return -ENODEV;
	}
	for (uint32_t i = 0; i < VFIO_PCI_REGIONS; i++) {
		ret = ops->region_info(d->vdev.h, i, &d->regions[i]);
		if (ret == -E2BIG) {
			log_err("%s: %s is split into more than %d mmap-able areas, more than vfio-vmm handles; raise VFIO_MAX_MMAP_AREAS in vfio/vfio_dev.h and rebuild",
				d->vdev.name, vfio_region_name(i), VFIO_MAX_MMAP_AREAS);
			return ret;
		}
		if (ret) {
			log_err("%s: region info for %s failed: %s", d->vdev.name,
				vfio_region_name(i), strerror(-ret));
			return ret;
		}
	}
	for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS && i < d->info.num_irqs; i++) {
		/* Not every index exists everywhere (ERR on plain PCI): count 0 then. */
		if (ops->irq_info(d->vdev.h, i, &d->irqs[i]))
			d->irqs[i] = (struct vfio_irq){ .index = i };
	}
	return 0;
}

int vfio_pci_init(struct vfio_pci_dev *d, const struct vfio_dev_ops *ops, void *h,
		  const char *name, const struct pci_host *host)
{
	int ret;

	memset(d, 0, sizeof(*d));
	pci_dev_init(&d->pci, &vfio_pci_dev_ops, d, name, host);
	d->vdev = (struct vfio_dev){ .ops = ops, .h = h, .name = name };
	d->intx = (struct vfio_intx){ .fd = -1, .resample_fd = -1, .gsi = -1 };
	pthread_mutex_init(&d->lock, NULL);

	ret = query_device(d);
	if (!ret)
		ret = vfio_cfg_init(d);
	if (!ret)
		ret = vfio_msix_init(d);
	if (!ret)
		ret = vfio_msi_init(d);
	if (!ret)
		ret = vfio_bars_init(d);
	/* Before placement: BARs at 0, decode and interrupts off, as after reset. */
	memcpy(d->cfg.start, d->cfg.shadow, sizeof(d->cfg.start));
	if (ret) {
		vfio_msix_exit(d);
		pthread_mutex_destroy(&d->lock);
	}
	return ret;
}

void vfio_pci_exit(struct vfio_pci_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->intx.present = false;	/* so tearing down MSI does not fall back to INTx */
	vfio_msix_exit(d);
	vfio_msi_disable(d);
	vfio_intx_disable(d);
	vfio_bars_unmap(d);
	pthread_mutex_unlock(&d->lock);
	vfio_pci_munmap_bars(d);
	pthread_mutex_destroy(&d->lock);
}

int vfio_pci_reset(struct vfio_pci_dev *d)
{
	int ret;

	if (!(d->info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		trace(LOG_VFIO, "%s: no reset method", d->vdev.name);
		return -ENOTSUP;
	}
	ret = d->vdev.ops->reset(d->vdev.h);
	if (ret)
		log_warn_rl("%s: VFIO_DEVICE_RESET failed: %s", d->vdev.name, strerror(-ret));
	else	/* the ioctl layer does not know which device it reset */
		trace(LOG_VFIO, "%s: reset", d->vdev.name);
	return ret;
}

/*
 * The guest set Initiate FLR. Real hardware would drop every bit of state
 * we emulate, so we drop it ourselves, in the order a function goes quiet:
 * interrupts first (MSI-X, MSI, INTx: irqfds detached, routes removed, VFIO
 * indexes disabled), then config space (decode and bus master off, BARs,
 * capabilities back to their values at open), whose decode-off unmaps every
 * BAR piece from the guest (memslots and trapped ranges go), then the MSI-X
 * table (all entries masked). Only then VFIO_DEVICE_RESET, so the device
 * resets with no DMA, no interrupt and no guest mapping on it. INTx comes
 * back as after any reset. Runs in the vCPU thread with d->lock held, so no
 * other access sees a half-reset device; a guest looping on FLR only slows
 * its own vCPU down, and a failing reset warns once.
 */
void vfio_pci_flr(struct vfio_pci_dev *d)
{
	bool intx = d->intx.present;
	int ret;

	trace(LOG_VFIO, "%s: guest FLR: interrupts off, config space and BARs to reset values",
	      d->vdev.name);
	d->intx.present = false;	/* no INTx fallback while MSI/MSI-X go down */
	vfio_msix_disable(d);
	vfio_msi_disable(d);
	vfio_intx_disable(d);
	d->intx.present = intx;
	vfio_cfg_flr(d);
	msix_reset(&d->msix);
	vfio_bars_update(d);
	ret = d->vdev.ops->reset(d->vdev.h);
	/* VFIO puts the device in D0 to reset it. */
	vfio_cfg_power_changed(d);
	if (!ret) {
		trace(LOG_VFIO, "%s: guest FLR: VFIO_DEVICE_RESET done", d->vdev.name);
	} else if (!d->cfg.flr_failed) {
		d->cfg.flr_failed = true;
		log_warn("%s: guest FLR: VFIO_DEVICE_RESET failed: %s (warned once)",
			 d->vdev.name, strerror(-ret));
	}
	vfio_intx_enable(d);
}
