// SPDX-License-Identifier: MIT
/*
 * VFIO's side of interrupts: one eventfd per vector handed to VFIO with
 * SET_IRQS (the vector -> GSI route + irqfd rule is devices/pci_vector.c's),
 * the MSI capability, and INTx.
 *
 * INTx uses the same irqfd path plus a resample eventfd: KVM signals it on
 * the guest's EOI, and VFIO unmasks the (automasked) line.
 */
#include "vfio/internal.h"
#include "util/log.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>

/* Creates one eventfd per vector and hands them all to VFIO in one SET_IRQS. */
int vfio_vectors_enable(struct vfio_pci_dev *d, uint32_t index, struct pci_vector *v,
			unsigned int n)
{
	int32_t fds[2048];
	int ret;

	if (n > sizeof(fds) / sizeof(fds[0]))
		return -E2BIG;
	for (unsigned int i = 0; i < n; i++)
		pci_vector_init(&v[i]);
	for (unsigned int i = 0; i < n; i++) {
		v[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v[i].fd < 0) {
			ret = -errno;
			goto out_close;
		}
		fds[i] = v[i].fd;
	}
	ret = d->vdev.ops->set_irqs(d->vdev.h, index,
				    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, n,
				    fds);
	if (!ret)
		return 0;
out_close:
	log_err_rl("%s: enabling %u %s vectors failed: %s", d->vdev.name, n,
		   vfio_irq_name(index), strerror(-ret));
	for (unsigned int i = 0; i < n; i++)
		pci_vector_release(&d->pci, &v[i]);
	return ret;
}

void vfio_vectors_disable(struct vfio_pci_dev *d, uint32_t index, struct pci_vector *v,
			  unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i].attached)
			pci_vector_sync(&d->pci, &v[i], false, 0, 0, vfio_irq_name(index), i);
	d->vdev.ops->set_irqs(d->vdev.h, index, VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	for (unsigned int i = 0; i < n; i++)
		pci_vector_release(&d->pci, &v[i]);
}

/* Offsets inside the MSI capability depend on its 64-bit flag. */
static uint32_t msi_data_off(const struct vfio_msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static uint32_t msi_mask_off(const struct vfio_msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

int vfio_msi_init(struct vfio_pci_dev *d)
{
	struct vfio_msi *m = &d->msi;
	uint16_t ctrl;
	uint32_t all;

	for (unsigned int i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		pci_vector_init(&m->vec[i]);
	if (!m->cap)
		return 0;
	ctrl = cfg_get(d, m->cap + PCI_MSI_FLAGS, 2);
	m->is64 = ctrl & PCI_MSI_FLAGS_64BIT;
	m->pvm = ctrl & PCI_MSI_FLAGS_MASKBIT;
	m->max = 1u << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
	if (m->max > VFIO_MSI_MAX_VECTORS)
		m->max = VFIO_MSI_MAX_VECTORS;
	if (m->max > d->irqs[VFIO_PCI_MSI_IRQ_INDEX].count)
		m->max = d->irqs[VFIO_PCI_MSI_IRQ_INDEX].count;
	all = m->max >= 32 ? ~0u : (1u << m->max) - 1;

	/* The whole capability is ours: the device only learns of MSI via SET_IRQS. */
	vfio_cfg_rule(d, m->cap + PCI_MSI_FLAGS, 2, 0xffff,
		      PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
	vfio_cfg_rule(d, m->cap + PCI_MSI_ADDRESS_LO, 4, ~0u, ~3u, 0);
	if (m->is64)
		vfio_cfg_rule(d, m->cap + PCI_MSI_ADDRESS_HI, 4, ~0u, ~0u, 0);
	vfio_cfg_rule(d, msi_data_off(m), 4, ~0u, 0xffff, 0);
	if (m->pvm) {
		vfio_cfg_rule(d, msi_mask_off(m), 4, ~0u, all, 0);
		vfio_cfg_rule(d, msi_mask_off(m) + 4, 4, ~0u, 0, 0);	/* pending */
	}
	cfg_set(d, m->cap + PCI_MSI_FLAGS, 2, ctrl & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
	for (uint32_t o = m->cap + PCI_MSI_ADDRESS_LO; o < msi_data_off(m) + 4; o++)
		d->cfg.shadow[o] = 0;
	if (m->pvm) {
		cfg_set(d, msi_mask_off(m), 4, 0);
		cfg_set(d, msi_mask_off(m) + 4, 4, 0);
	}
	trace(LOG_IRQ, "%s: MSI at %#x: %u vectors%s%s", d->vdev.name, m->cap, m->max,
	      m->is64 ? ", 64-bit" : "", m->pvm ? ", per-vector mask" : "");
	return 0;
}

void vfio_msi_disable(struct vfio_pci_dev *d)
{
	if (d->mode != VFIO_IRQ_MSI)
		return;
	vfio_vectors_disable(d, VFIO_PCI_MSI_IRQ_INDEX, d->msi.vec, d->msi.nr);
	d->msi.nr = 0;
	d->mode = VFIO_IRQ_NONE;
	trace(LOG_IRQ, "%s: MSI disabled", d->vdev.name);
	vfio_intx_enable(d);
}

static int msi_enable(struct vfio_pci_dev *d, unsigned int nr)
{
	int ret;

	if (d->mode == VFIO_IRQ_INTX)
		vfio_intx_disable(d);
	ret = vfio_vectors_enable(d, VFIO_PCI_MSI_IRQ_INDEX, d->msi.vec, nr);
	if (ret) {
		vfio_intx_enable(d);
		return ret;
	}
	d->msi.nr = nr;
	d->mode = VFIO_IRQ_MSI;
	trace(LOG_IRQ, "%s: MSI enabled with %u vectors", d->vdev.name, nr);
	return 0;
}

void vfio_msi_cfg_written(struct vfio_pci_dev *d)
{
	struct vfio_msi *m = &d->msi;
	uint16_t ctrl = cfg_get(d, m->cap + PCI_MSI_FLAGS, 2);
	unsigned int mme = (ctrl & PCI_MSI_FLAGS_QSIZE) >> 4, nr;
	uint64_t addr;
	uint32_t data, mask = 0;

	/* Software may not ask for more than the device offers: clamp what it reads back. */
	while (mme && (1u << mme) > (m->max ? m->max : 1))
		mme--;
	ctrl = (ctrl & ~PCI_MSI_FLAGS_QSIZE) | (mme << 4);
	cfg_set(d, m->cap + PCI_MSI_FLAGS, 2, ctrl);
	nr = 1u << mme;

	if (!(ctrl & PCI_MSI_FLAGS_ENABLE) || !m->max) {
		vfio_msi_disable(d);
		return;
	}
	if (d->mode == VFIO_IRQ_MSIX) {
		/* Guest-triggered: trace, not warn, or a guest could flood our log. */
		trace(LOG_IRQ, "%s: guest enabled MSI while MSI-X is enabled: ignored",
		      d->vdev.name);
		return;
	}
	if (d->mode == VFIO_IRQ_MSI && m->nr != nr)
		vfio_msi_disable(d);	/* the vector count changed: start over */
	if (d->mode != VFIO_IRQ_MSI && d->cfg.d3) {
		trace(LOG_IRQ, "%s: MSI enable deferred until the device is back in D0",
		      d->vdev.name);
		return;
	}
	if (d->mode != VFIO_IRQ_MSI && msi_enable(d, nr))
		return;
	addr = cfg_get(d, m->cap + PCI_MSI_ADDRESS_LO, 4);
	if (m->is64)
		addr |= (uint64_t)cfg_get(d, m->cap + PCI_MSI_ADDRESS_HI, 4) << 32;
	data = cfg_get(d, msi_data_off(m), 2);
	if (m->pvm)
		mask = cfg_get(d, msi_mask_off(m), 4);
	/* Multiple message: vector i replaces the low log2(nr) bits of the data. */
	for (unsigned int i = 0; i < m->nr; i++)
		pci_vector_sync(&d->pci, &m->vec[i], !(mask & (1u << i)) && pci_msi_addr_valid(addr),
				 addr, (data & ~(nr - 1)) | i, "MSI", i);
}

void vfio_intx_enable(struct vfio_pci_dev *d)
{
	struct vfio_intx *x = &d->intx;
	int ret;

	if (!x->present || x->enabled || x->gsi < 0 || d->mode != VFIO_IRQ_NONE)
		return;
	x->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->fd < 0 || x->resample_fd < 0) {
		ret = -errno;
		goto out_close;
	}
	ret = d->vdev.ops->set_irqs(d->vdev.h, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				    &x->fd);
	if (ret)
		goto out_close;
	ret = d->vdev.ops->set_irqs(d->vdev.h, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
				    &x->resample_fd);
	if (ret)
		goto out_disable;
	ret = d->pci.host->ops->irqfd_attach(d->pci.host->opaque, x->fd, x->gsi, x->resample_fd);
	if (ret)
		goto out_disable;
	x->enabled = true;
	d->mode = VFIO_IRQ_INTX;
	trace(LOG_IRQ, "%s: INTx pin %c -> GSI %d (irqfd with resample)", d->vdev.name,
	      'A' + d->cfg.shadow[PCI_INTERRUPT_PIN] - 1, x->gsi);
	return;
out_disable:
	d->vdev.ops->set_irqs(d->vdev.h, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
out_close:
	log_err("%s: INTx setup failed: %s", d->vdev.name, strerror(-ret));
	if (x->fd >= 0)
		close(x->fd);
	if (x->resample_fd >= 0)
		close(x->resample_fd);
	x->fd = x->resample_fd = -1;
}

void vfio_intx_disable(struct vfio_pci_dev *d)
{
	struct vfio_intx *x = &d->intx;

	if (!x->enabled)
		return;
	d->pci.host->ops->irqfd_detach(d->pci.host->opaque, x->fd, x->gsi);
	d->vdev.ops->set_irqs(d->vdev.h, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	close(x->fd);
	close(x->resample_fd);
	x->fd = x->resample_fd = -1;
	x->enabled = false;
	if (d->mode == VFIO_IRQ_INTX)
		d->mode = VFIO_IRQ_NONE;
	trace(LOG_IRQ, "%s: INTx disabled", d->vdev.name);
}

int vfio_pci_intx_setup(struct vfio_pci_dev *d)
{
	const struct pci_host *h = d->pci.host;
	uint8_t devfn, pin;
	int gsi;

	pthread_mutex_lock(&d->lock);
	/* Behind a root port the pin arrives swizzled at the port's slot. */
	devfn = pci_dev_intx_root(&d->pci, d->cfg.shadow[PCI_INTERRUPT_PIN], &pin);
	gsi = h->ops->intx_gsi(h->opaque, devfn, pin);
	d->intx.gsi = gsi < 0 ? -1 : gsi;
	vfio_intx_enable(d);
	pthread_mutex_unlock(&d->lock);
	return d->intx.present && d->intx.gsi >= 0 && !d->intx.enabled ? -EIO : 0;
}
