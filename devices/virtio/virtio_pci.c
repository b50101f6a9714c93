// SPDX-License-Identifier: MIT
/*
 * The modern virtio-pci transport (see virtio_pci.h for the BAR layout).
 *
 * Config space is ours entirely: a 256-byte array and a write mask, with
 * the virtio vendor capabilities and MSI-X chained from 0x40. Registers in
 * the BAR are served from a snapshot: a read builds the structure's current
 * bytes and copies out what was asked, a write patches a snapshot and
 * applies each field it changed. Any access size and alignment therefore
 * behaves, and a field is only ever set as a whole.
 *
 * What the guest drives, in the order a driver does it (virtio 1.x, 3.1):
 * reset (status 0), ACKNOWLEDGE, DRIVER, feature negotiation (we refuse
 * FEATURES_OK for a set without VERSION_1 or with bits we did not offer),
 * queue setup (size, vector, ring addresses, enable), DRIVER_OK. At
 * DRIVER_OK every enabled queue is checked (virtq_setup: size, alignment,
 * rings wholly in guest RAM); if one fails the device is not started and
 * DEVICE_NEEDS_RESET tells the driver. Otherwise each queue gets a kick
 * eventfd registered as a KVM ioeventfd on its notify address (moved with
 * the BAR) and the eventfd of its MSI-X vector as call fd, and the device
 * model is activated.
 */
#include "devices/virtio/virtio_pci.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "util/log.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040
#define CAP_START		0x40

static void put(uint8_t *p, uint32_t off, uint32_t len, uint64_t v)
{
	for (uint32_t i = 0; i < len; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

void virtio_queue_signal(struct virtio_queue *q)
{
	uint64_t one = 1;

	if (q->call_fd >= 0 && write(q->call_fd, &one, sizeof(one)) < 0)
		log_warn_rl("virtio: signalling a queue interrupt: %s", strerror(errno));
}

/* ---- config space ---- */

/* A vendor capability for one structure in BAR0; returns the next free offset. */
static uint8_t add_cap(struct virtio_pci *vp, uint8_t at, uint8_t type, uint32_t off,
		       uint32_t len, uint8_t cap_len)
{
	uint8_t *c = vp->cfg + at;

	c[0] = PCI_CAP_ID_VNDR;
	c[2] = cap_len;
	c[3] = type;
	c[4] = 0;	/* BAR0 */
	put(c, 8, 4, off);
	put(c, 12, 4, len);
	return at + cap_len;
}

static void config_init(struct virtio_pci *vp, uint32_t class_code)
{
	struct virtio_dev *v = vp->vdev;
	uint8_t at = CAP_START, prev = 0, *c = vp->cfg;
	uint8_t caps[6];
	unsigned int n = 0;

	memset(vp->cfg, 0, sizeof(vp->cfg));
	memset(vp->wmask, 0, sizeof(vp->wmask));
	put(c, PCI_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
	put(c, PCI_DEVICE_ID, 2, VIRTIO_PCI_DEVICE_BASE + v->device_id);
	put(c, PCI_REVISION_ID, 1, 1);	/* modern only */
	put(c, PCI_CLASS_PROG, 3, class_code);
	put(c, PCI_SUBSYSTEM_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
	put(c, PCI_SUBSYSTEM_ID, 2, 0x40 + v->device_id);
	put(c, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	put(c, PCI_BASE_ADDRESS_0, 4, vp->pci.bars[0].low_bits);
	put(vp->wmask, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					PCI_COMMAND_INTX_DISABLE);
	put(vp->wmask, PCI_BASE_ADDRESS_0, 4, pci_bar_reg_mask(&vp->pci, PCI_BASE_ADDRESS_0));
	put(vp->wmask, PCI_INTERRUPT_LINE, 1, 0xff);
	c[PCI_INTERRUPT_PIN] = 0;	/* MSI-X only */

	caps[n++] = at;
	at = add_cap(vp, at, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON,
		     sizeof(struct virtio_pci_common_cfg), sizeof(struct virtio_pci_cap));
	caps[n++] = at;
	put(c, at + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier), 4,
	    VPCI_NOTIFY_MULT);
	at = add_cap(vp, at, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY,
		     VPCI_NOTIFY_MULT * v->nr_queues, sizeof(struct virtio_pci_notify_cap));
	caps[n++] = at;
	at = add_cap(vp, at, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR, 1,
		     sizeof(struct virtio_pci_cap));
	if (v->config_size) {
		caps[n++] = at;
		at = add_cap(vp, at, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE, v->config_size,
			     sizeof(struct virtio_pci_cap));
	}
	/* The spec's MUST: a window into the BAR through config space. */
	caps[n++] = at;
	vp->pci_cfg_cap = at;
	at = add_cap(vp, at, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, sizeof(struct virtio_pci_cfg_cap));
	put(vp->wmask, vp->pci_cfg_cap + 4, 1, 0xff);			/* bar */
	put(vp->wmask, vp->pci_cfg_cap + 8, 4, 0xffffffff);		/* offset */
	put(vp->wmask, vp->pci_cfg_cap + 12, 4, 0xffffffff);		/* length */
	/* MSI-X last. */
	caps[n++] = at;
	c[at] = PCI_CAP_ID_MSIX;
	put(c, at + PCI_MSIX_FLAGS, 2, vp->nr_vectors - 1u);
	put(c, at + PCI_MSIX_TABLE, 4, VPCI_MSIX_TABLE);	/* BIR 0 */
	put(c, at + PCI_MSIX_PBA, 4, VPCI_MSIX_PBA);
	put(vp->wmask, at + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	vp->msix.cap = at;

	c[PCI_CAPABILITY_LIST] = caps[0];
	for (unsigned int i = 0; i < n; i++) {
		if (prev)
			c[prev + 1] = caps[i];
		prev = caps[i];
	}
}

/* ---- common configuration ---- */

static uint64_t offered(const struct virtio_pci *vp)
{
	return vp->vdev->features | (1ull << VIRTIO_F_VERSION_1);
}

static void common_snapshot(struct virtio_pci *vp, uint8_t *b)
{
	const struct virtio_pci_queue_regs *q =
		vp->queue_sel < vp->vdev->nr_queues ? &vp->q[vp->queue_sel] : NULL;
	uint64_t f = offered(vp);

	memset(b, 0, 0x40);
	put(b, 0x00, 4, vp->dev_feature_sel);
	put(b, 0x04, 4, vp->dev_feature_sel < 2 ? (uint32_t)(f >> (32 * vp->dev_feature_sel)) : 0);
	put(b, 0x08, 4, vp->drv_feature_sel);
	put(b, 0x0c, 4, vp->drv_feature_sel < 2 ?
		       (uint32_t)(vp->drv_features >> (32 * vp->drv_feature_sel)) : 0);
	put(b, 0x10, 2, vp->config_vector);
	put(b, 0x12, 2, vp->vdev->nr_queues);
	put(b, 0x14, 1, __atomic_load_n(&vp->status, __ATOMIC_ACQUIRE));
	put(b, 0x15, 1, vp->config_generation);
	put(b, 0x16, 2, vp->queue_sel);
	if (q) {
		put(b, 0x18, 2, q->size);
		put(b, 0x1a, 2, q->msix_vector);
		put(b, 0x1c, 2, q->enable);
		put(b, 0x1e, 2, vp->queue_sel);	/* queue_notify_off */
		put(b, 0x20, 8, q->desc);
		put(b, 0x28, 8, q->driver);
		put(b, 0x30, 8, q->device);
	} else {
		put(b, 0x1a, 2, VIRTIO_MSI_NO_VECTOR);
	}
}

static void stop_device(struct virtio_pci *vp);

static void device_reset(struct virtio_pci *vp)
{
	stop_device(vp);
	vp->dev_feature_sel = vp->drv_feature_sel = 0;
	vp->drv_features = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queue_sel = 0;
	vp->isr = 0;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->q[i] = (struct virtio_pci_queue_regs){
			.size = vp->vdev->queue_max, .msix_vector = VIRTIO_MSI_NO_VECTOR,
		};
	__atomic_store_n(&vp->status, 0, __ATOMIC_RELEASE);
	trace(LOG_PCI, "%s: virtio reset", vp->name);
}

static void set_needs_reset(struct virtio_pci *vp)
{
	uint64_t one = 1;
	uint16_t v = vp->config_vector;

	__atomic_fetch_or(&vp->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_ACQ_REL);
	__atomic_fetch_or(&vp->isr, VIRTIO_PCI_ISR_CONFIG, __ATOMIC_ACQ_REL);
	if (v < vp->nr_vectors && vp->msix.vec[v].fd >= 0 &&
	    write(vp->msix.vec[v].fd, &one, sizeof(one)) < 0)
		log_warn_rl("%s: config interrupt: %s", vp->name, strerror(errno));
}

/* From the device model's I/O thread: no lock taken (reset joins that thread under it). */
static void needs_reset_cb(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = vdev->transport;

	log_warn_rl("%s: a virtqueue is broken (bad descriptors from the driver): device needs reset",
		    vp->name);
	set_needs_reset(vp);
}

static void notify_addrs(struct virtio_pci *vp, bool assign)
{
	const struct pci_host *h = vp->pci.host;

	for (unsigned int i = 0; i < vp->vdev->nr_queues; i++) {
		struct virtio_queue *q = &vp->vdev->queues[i];
		uint64_t gpa = vp->bar_addr + VPCI_NOTIFY + VPCI_NOTIFY_MULT * i;
		int ret;

		/* Only what was registered is removed: the host must not see a stray deassign. */
		if (q->kick_fd < 0 || assign == !!(vp->ioeventfd_on & (1ull << i)))
			continue;
		ret = h->ops->ioeventfd(h->opaque, assign, false, gpa, 2, q->kick_fd);
		if (ret && assign)	/* still correct: the trapped write signals it */
			log_warn_rl("%s: queue %u notify at %#llx stays trapped: %s", vp->name, i,
				    (unsigned long long)gpa, strerror(-ret));
		if (!ret || !assign)
			vp->ioeventfd_on ^= 1ull << i;
	}
	vp->ioeventfds = assign;
}

static void stop_device(struct virtio_pci *vp)
{
	struct virtio_dev *v = vp->vdev;

	if (vp->active)
		v->ops->reset(v);
	vp->active = false;
	if (vp->ioeventfds)
		notify_addrs(vp, false);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtio_queue *q = &v->queues[i];

		if (q->kick_fd >= 0)
			close(q->kick_fd);
		*q = (struct virtio_queue){ .kick_fd = -1, .call_fd = -1 };
	}
}

/* DRIVER_OK: check every enabled queue, wire kicks and calls, start the device. */
static void start_device(struct virtio_pci *vp)
{
	struct virtio_dev *v = vp->vdev;
	int ret;

	for (unsigned int i = 0; i < v->nr_queues; i++) {
		struct virtio_pci_queue_regs *r = &vp->q[i];
		struct virtio_queue *q = &v->queues[i];

		if (!r->enable)
			continue;
		ret = virtq_setup(&q->vq, v->mem, r->size, r->desc, r->driver, r->device,
				  v->driver_features);
		if (ret) {
			log_warn_rl("%s: queue %u refused at DRIVER_OK: %s", vp->name, i,
				    virtq_err_str(ret));
			goto fail;
		}
		q->enabled = true;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0) {
			log_err_rl("%s: eventfd: %s", vp->name, strerror(errno));
			goto fail;
		}
		q->call_fd = r->msix_vector < vp->nr_vectors ? vp->msix.vec[r->msix_vector].fd : -1;
	}
	if (vp->pci.bars[0].mapped) {
		vp->bar_addr = vp->pci.bars[0].mapped_addr;
		notify_addrs(vp, true);
	}
	ret = v->ops->activate(v);
	if (ret) {
		log_warn_rl("%s: device did not start: %s", vp->name, strerror(-ret));
		goto fail;
	}
	vp->active = true;
	trace(LOG_PCI, "%s: DRIVER_OK, features %#llx", vp->name,
	      (unsigned long long)v->driver_features);
	return;
fail:
	stop_device(vp);
	set_needs_reset(vp);
}

static void status_written(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = __atomic_load_n(&vp->status, __ATOMIC_ACQUIRE);

	if (val == 0) {
		device_reset(vp);
		return;
	}
	/* Only a reset takes bits away (the driver MUST NOT clear them): no second DRIVER_OK. */
	val |= old & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	/* FEATURES_OK only for what we offered, and only in virtio 1.x. */
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		uint64_t f = vp->drv_features;

		if (!(f & (1ull << VIRTIO_F_VERSION_1)) || (f & ~offered(vp))) {
			trace(LOG_PCI, "%s: FEATURES_OK refused for %#llx", vp->name,
			      (unsigned long long)f);
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		} else {
			vp->vdev->driver_features = f;
		}
	}
	if (!(old & VIRTIO_CONFIG_S_FEATURES_OK) && !(val & VIRTIO_CONFIG_S_FEATURES_OK))
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;	/* no DRIVER_OK without features */
	/* The device's NEEDS_RESET stays until reset; the driver cannot set it. */
	val = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	__atomic_store_n(&vp->status, val, __ATOMIC_RELEASE);
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_NEEDS_RESET))
		start_device(vp);
}

/* Applies field [off, off+len) of snapshot b if the write touched it. */
static bool touched(uint32_t wa, uint32_t wl, uint32_t off, uint32_t len)
{
	return wa < off + len && off < wa + wl;
}

static void common_write(struct virtio_pci *vp, uint32_t wa, const void *data, uint32_t wl)
{
	struct virtio_pci_queue_regs *q =
		vp->queue_sel < vp->vdev->nr_queues ? &vp->q[vp->queue_sel] : NULL;
	bool live = __atomic_load_n(&vp->status, __ATOMIC_ACQUIRE) & VIRTIO_CONFIG_S_DRIVER_OK;
	uint8_t b[0x40];

	if (wa >= sizeof(b) || wl > sizeof(b) - wa)
		return;
	common_snapshot(vp, b);
	memcpy(b + wa, data, wl);
	if (touched(wa, wl, 0x00, 4))
		vp->dev_feature_sel = (uint32_t)get(b, 0x00, 4);
	if (touched(wa, wl, 0x08, 4))
		vp->drv_feature_sel = (uint32_t)get(b, 0x08, 4);
	if (touched(wa, wl, 0x0c, 4) && vp->drv_feature_sel < 2 && !live) {
		unsigned int sh = 32 * vp->drv_feature_sel;

		vp->drv_features = (vp->drv_features & ~(0xffffffffull << sh)) |
				   (get(b, 0x0c, 4) << sh);
	}
	/* A vector past the table reads back as NO_VECTOR: the driver learns it failed. */
	if (touched(wa, wl, 0x10, 2)) {
		vp->config_vector = (uint16_t)get(b, 0x10, 2);
		if (vp->config_vector >= vp->nr_vectors)
			vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	}
	if (touched(wa, wl, 0x16, 2))
		vp->queue_sel = (uint16_t)get(b, 0x16, 2);
	/* Queue registers belong to the driver until DRIVER_OK (spec 4.1.4.3.2). */
	if (q && !live) {
		if (touched(wa, wl, 0x18, 2)) {
			uint16_t s = (uint16_t)get(b, 0x18, 2);

			/* A power of 2 up to the maximum, as the split ring needs; else kept. */
			if (s && !(s & (s - 1)) && s <= vp->vdev->queue_max)
				q->size = s;
		}
		if (touched(wa, wl, 0x1a, 2)) {
			q->msix_vector = (uint16_t)get(b, 0x1a, 2);
			if (q->msix_vector >= vp->nr_vectors)
				q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		}
		if (touched(wa, wl, 0x1c, 2))
			q->enable = get(b, 0x1c, 2) == 1;
		if (touched(wa, wl, 0x20, 8))
			q->desc = get(b, 0x20, 8);
		if (touched(wa, wl, 0x28, 8))
			q->driver = get(b, 0x28, 8);
		if (touched(wa, wl, 0x30, 8))
			q->device = get(b, 0x30, 8);
	}
	if (touched(wa, wl, 0x14, 1))
		status_written(vp, b[0x14]);
}

/* ---- BAR0 ---- */

static void bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off, void *data,
		     uint32_t len)
{
	struct virtio_pci *vp = pd->opaque;
	uint8_t b[0x40];

	memset(data, 0, len);
	if (bar != 0 || len > 8)
		return;
	pthread_mutex_lock(&vp->lock);
	if (off < sizeof(b) && len <= sizeof(b) - off) {
		common_snapshot(vp, b);
		memcpy(data, b + off, len);
	} else if (off == VPCI_ISR) {
		/* Read to clear. With MSI-X the queue bit is never used. */
		*(uint8_t *)data = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_ACQ_REL);
	} else if (off >= VPCI_DEVICE && off - VPCI_DEVICE < vp->vdev->config_size &&
		   len <= vp->vdev->config_size - (off - VPCI_DEVICE)) {
		vp->vdev->ops->config_read(vp->vdev, (uint32_t)(off - VPCI_DEVICE), data, len);
	} else if (msix_owns(&vp->msix, 0, off, len)) {
		msix_read(&vp->msix, 0, off, data, len, NULL);
	}
	pthread_mutex_unlock(&vp->lock);
}

static void bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off, const void *data,
		      uint32_t len)
{
	struct virtio_pci *vp = pd->opaque;
	uint64_t one = 1;

	if (bar != 0 || len > 8)
		return;
	pthread_mutex_lock(&vp->lock);
	if (off < 0x40) {
		common_write(vp, (uint32_t)off, data, len);
	} else if (off >= VPCI_DEVICE && off - VPCI_DEVICE < vp->vdev->config_size &&
		   len <= vp->vdev->config_size - (off - VPCI_DEVICE)) {
		vp->vdev->ops->config_write(vp->vdev, (uint32_t)(off - VPCI_DEVICE), data,
					    len);
	} else if (off >= VPCI_NOTIFY &&
		   off < VPCI_NOTIFY + VPCI_NOTIFY_MULT * (uint64_t)vp->vdev->nr_queues) {
		/* Not caught by the ioeventfd (another width, or none registered): do its job. */
		struct virtio_queue *q = &vp->vdev->queues[(off - VPCI_NOTIFY) /
							   VPCI_NOTIFY_MULT];

		vp->notify_exits++;
		if (q->kick_fd >= 0 && write(q->kick_fd, &one, sizeof(one)) < 0)
			log_warn_rl("%s: kick: %s", vp->name, strerror(errno));
	} else if (msix_owns(&vp->msix, 0, off, len)) {
		msix_write(&vp->pci, &vp->msix, 0, off, data, len);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* The PCI layer moved BAR0: the notify ioeventfds follow it. Lock held (config write). */
static void bar_moved(struct pci_dev *pd, unsigned int bar, bool on, uint64_t addr)
{
	struct virtio_pci *vp = pd->opaque;

	if (bar != 0 || !vp->active)
		return;
	if (!on && vp->ioeventfds)
		notify_addrs(vp, false);
	if (on) {
		vp->bar_addr = addr;
		notify_addrs(vp, true);
	}
}

/* ---- config space accesses ---- */

static void cfg_read(struct pci_dev *pd, uint32_t off, void *data, uint32_t len)
{
	struct virtio_pci *vp = pd->opaque;

	if (off >= sizeof(vp->cfg) || len > sizeof(vp->cfg) - off) {
		memset(data, off >= sizeof(vp->cfg) ? 0 : 0xff, len);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (vp->pci_cfg_cap && off >= vp->pci_cfg_cap + 16u && off < vp->pci_cfg_cap + 20u) {
		uint32_t boff = (uint32_t)get(vp->cfg, vp->pci_cfg_cap + 8, 4);
		uint32_t blen = (uint32_t)get(vp->cfg, vp->pci_cfg_cap + 12, 4);
		uint8_t v[4] = { 0 };

		pthread_mutex_unlock(&vp->lock);
		if (vp->cfg[vp->pci_cfg_cap + 4] == 0 && (blen == 1 || blen == 2 || blen == 4))
			bar_read(pd, 0, boff, v, blen);
		memcpy(data, v + (off - vp->pci_cfg_cap - 16), len);
		return;
	}
	memcpy(data, vp->cfg + off, len);
	pthread_mutex_unlock(&vp->lock);
}

static void cfg_write(struct pci_dev *pd, uint32_t off, const void *data, uint32_t len)
{
	struct virtio_pci *vp = pd->opaque;
	const uint8_t *in = data;
	uint8_t x = vp->msix.cap;

	if (off >= sizeof(vp->cfg) || len > sizeof(vp->cfg) - off)
		return;
	pthread_mutex_lock(&vp->lock);
	if (vp->pci_cfg_cap && off >= vp->pci_cfg_cap + 16u && off < vp->pci_cfg_cap + 20u) {
		uint32_t boff = (uint32_t)get(vp->cfg, vp->pci_cfg_cap + 8, 4);
		uint32_t blen = (uint32_t)get(vp->cfg, vp->pci_cfg_cap + 12, 4);

		pthread_mutex_unlock(&vp->lock);
		/* The window writes exactly the length the driver set up, from cap data. */
		if (vp->cfg[vp->pci_cfg_cap + 4] == 0 && (blen == 1 || blen == 2 || blen == 4) &&
		    off == vp->pci_cfg_cap + 16u && len == blen)
			bar_write(pd, 0, boff, data, len);
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		vp->cfg[off + i] = (vp->cfg[off + i] & ~vp->wmask[off + i]) |
				   (in[i] & vp->wmask[off + i]);
	if (touched(off, len, PCI_COMMAND, 2) || touched(off, len, PCI_BASE_ADDRESS_0, 4))
		pci_dev_update_bars(&vp->pci, vp->cfg, false);
	if (touched(off, len, x + PCI_MSIX_FLAGS, 2)) {
		uint16_t ctrl = (uint16_t)get(vp->cfg, x + PCI_MSIX_FLAGS, 2);

		vp->msix.enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
		vp->msix.maskall = ctrl & PCI_MSIX_FLAGS_MASKALL;
		msix_sync_all(&vp->pci, &vp->msix);
	}
	pthread_mutex_unlock(&vp->lock);
}

static const struct pci_dev_ops virtio_pci_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_read = bar_read,
	.bar_write = bar_write,
	.bar_moved = bar_moved,
};

int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vdev, uint32_t class_code,
		    const struct pci_host *host)
{
	uint64_t sizes[6] = { VPCI_BAR_SIZE };
	int ret;

	if (!vdev->nr_queues || vdev->nr_queues > VIRTIO_MAX_QUEUES || !vdev->queue_max ||
	    (vdev->queue_max & (vdev->queue_max - 1)) || vdev->queue_max > VIRTQ_MAX_SIZE ||
	    vdev->config_size > VPCI_NOTIFY - VPCI_DEVICE)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	snprintf(vp->name, sizeof(vp->name), "%s", vdev->name ? vdev->name : "virtio");
	vp->vdev = vdev;
	vdev->transport = vp;
	vdev->needs_reset = needs_reset_cb;
	vdev->mem = host->mem;
	pthread_mutex_init(&vp->lock, NULL);
	pci_dev_init(&vp->pci, &virtio_pci_ops, vp, vp->name, host);
	pci_bar_init(&vp->pci, 0, PCI_BAR_MEM32, VPCI_BAR_SIZE, false);
	vp->nr_vectors = vdev->nr_queues + 1;
	config_init(vp, class_code);
	ret = msix_init(&vp->msix, vp->msix.cap, vp->nr_vectors, VPCI_MSIX_TABLE,
			VPCI_MSIX_PBA, sizes, vp->name);
	if (ret)
		goto err;
	/* The vectors' eventfds live as long as the device: queues' call fds point at them. */
	for (unsigned int i = 0; i < vp->nr_vectors; i++) {
		vp->msix.vec[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->msix.vec[i].fd < 0) {
			ret = -errno;
			goto err;
		}
	}
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->queues[i] = (struct virtio_queue){ .kick_fd = -1, .call_fd = -1 };
	device_reset(vp);
	return 0;
err:
	for (unsigned int i = 0; vp->msix.vec && i < vp->nr_vectors; i++)
		if (vp->msix.vec[i].fd >= 0)
			close(vp->msix.vec[i].fd);
	msix_free(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
	return ret;
}

void virtio_pci_print_stats(struct virtio_pci *vp, FILE *f)
{
	fprintf(f, "  %s (virtio-pci): notify exits %llu\n", vp->name,
		(unsigned long long)vp->notify_exits);
	pci_dev_print_bars(&vp->pci, vp->cfg, f);
}

void virtio_pci_exit(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	stop_device(vp);
	pci_dev_unmap_bars(&vp->pci);
	for (unsigned int i = 0; i < vp->nr_vectors; i++)
		pci_vector_release(&vp->pci, &vp->msix.vec[i]);
	msix_free(&vp->msix);
	pthread_mutex_unlock(&vp->lock);
	pthread_mutex_destroy(&vp->lock);
}
