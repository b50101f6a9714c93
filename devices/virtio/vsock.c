// SPDX-License-Identifier: MIT
/*
 * virtio-vsock over vhost-vsock (see vsock.h): a CID claimed at create, the
 * rx and tx vrings handed to vhost at DRIVER_OK and taken back at reset.
 */
#include "devices/virtio/vsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "util/errbuf.h"
#include "util/log.h"

#define BIT(n)		(1ull << (n))
#define NR_VRINGS	2	/* rx, tx: vhost's; the event queue (2) is ours */
#define NR_QUEUES	3
/* vhost-vsock's, offered only when it has them; passed on with VHOST_SET_FEATURES. */
#define VHOST_PASS	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |          \
			 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_VSOCK_F_SEQPACKET))

struct virtio_vsock {
	struct virtio_dev vdev;
	const struct vhost_sys *sys;
	int fd;
	uint32_t cid;
	uint64_t vhost_features;
	uint8_t config[8];	/* le64 guest_cid */
	bool running;		/* SET_RUNNING 1 was accepted */
	bool started[NR_VRINGS];
	char name[32];
};

static struct virtio_vsock *to_vsock(struct virtio_dev *vdev)
{
	return (struct virtio_vsock *)vdev->opaque;
}

static void config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, to_vsock(vdev)->config + off, len);	/* the transport bounds off + len */
}

static void config_write(struct virtio_dev *vdev, uint32_t off, const void *data, uint32_t len)
{
	(void)vdev;	/* guest_cid is read-only */
	(void)off;
	(void)data;
	(void)len;
}

static int set_running(struct virtio_vsock *s, int on)
{
	int ret = vhost_ioctl(s->sys, s->fd, VHOST_VSOCK_SET_RUNNING, &on);

	trace(LOG_VHOST, "%s: VHOST_VSOCK_SET_RUNNING %d: %s", s->name, on,
	      ret < 0 ? strerror(-ret) : "ok");
	return ret < 0 ? ret : 0;
}

static void vsock_reset(struct virtio_dev *vdev)
{
	struct virtio_vsock *s = to_vsock(vdev);
	uint16_t base;

	/* Stopped first: vhost refuses to move a ring that is running. */
	if (s->running && set_running(s, 0))
		log_warn_rl("%s: VHOST_VSOCK_SET_RUNNING 0 failed", s->name);
	s->running = false;
	for (unsigned int i = 0; i < NR_VRINGS; i++) {
		if (!s->started[i])
			continue;
		if (vhost_vring_stop(s->sys, s->fd, i, &base) < 0)
			log_warn_rl("%s: vring %u: taking it back from vhost failed", s->name, i);
		s->started[i] = false;
	}
}

static int vsock_activate(struct virtio_dev *vdev)
{
	struct virtio_vsock *s = to_vsock(vdev);
	int ret;

	ret = vhost_set_features(s->sys, s->fd, vdev->driver_features & s->vhost_features &
				 VHOST_PASS);
	if (!ret)
		ret = vhost_set_mem_table(s->sys, s->fd, vdev->mem);
	for (unsigned int i = 0; i < NR_VRINGS && !ret; i++) {
		if (!vdev->queues[i].enabled)
			continue;
		ret = vhost_vring_start(s->sys, s->fd, i, &vdev->queues[i], vdev->mem);
		s->started[i] = !ret;
	}
	if (!ret)
		ret = set_running(s, 1);
	if (ret) {
		log_warn_rl("%s: handing the queues to vhost-vsock: %s", s->name, strerror(-ret));
		vsock_reset(vdev);
		return ret;
	}
	s->running = true;
	return 0;
}

static const struct virtio_dev_ops vsock_ops = {
	.activate = vsock_activate,
	.reset = vsock_reset,
	.config_read = config_read,
	.config_write = config_write,
};

int virtio_vsock_create(uint32_t cid, const struct vhost_sys *sys, struct virtio_dev **out,
			char *err, size_t errlen)
{
	struct virtio_vsock *s;
	uint64_t c = cid;
	int ret;

	if (cid < VSOCK_CID_MIN || cid > VSOCK_CID_MAX)
		return errbuf_set(err, errlen, -EINVAL, "--vsock cid=%u: use a number from %u to %u", cid,
			    VSOCK_CID_MIN, VSOCK_CID_MAX);
	s = calloc(1, sizeof(*s));
	if (!s)
		return errbuf_set(err, errlen, -ENOMEM, "--vsock: out of memory");
	s->sys = sys ? sys : &vhost_sys_real;
	s->cid = cid;
	snprintf(s->name, sizeof(s->name), "virtio-vsock cid %u", cid);
	s->fd = vhost_open(s->sys, "/dev/vhost-vsock", &s->vhost_features);
	if (s->fd == -ENOENT || s->fd == -ENODEV || s->fd == -ENXIO) {
		ret = errbuf_set(err, errlen, s->fd,
			   "no /dev/vhost-vsock: load it with 'modprobe vhost_vsock'");
		goto err_free;
	}
	if (s->fd == -EACCES || s->fd == -EPERM) {
		ret = errbuf_set(err, errlen, s->fd,
			   "/dev/vhost-vsock: permission denied; run as root or give this user access to it");
		goto err_free;
	}
	if (s->fd < 0) {
		ret = errbuf_set(err, errlen, s->fd, "/dev/vhost-vsock: %s", strerror(-s->fd));
		goto err_free;
	}
	if (!(s->vhost_features & BIT(VIRTIO_F_VERSION_1))) {
		ret = errbuf_set(err, errlen, -ENOTSUP,
			   "/dev/vhost-vsock: this kernel's vhost-vsock lacks VIRTIO_F_VERSION_1");
		goto err_close;
	}
	ret = vhost_ioctl(s->sys, s->fd, VHOST_VSOCK_SET_GUEST_CID, &c);
	trace(LOG_VHOST, "%s: VHOST_VSOCK_SET_GUEST_CID %u: %s", s->name, cid,
	      ret < 0 ? strerror(-ret) : "ok");
	if (ret == -EADDRINUSE) {
		errbuf_set(err, errlen, ret, "vsock cid %u is in use by another VM; pick another --vsock cid=N",
		     cid);
		goto err_close;
	}
	if (ret < 0) {
		errbuf_set(err, errlen, ret, "--vsock cid=%u: VHOST_VSOCK_SET_GUEST_CID: %s", cid,
		     strerror(-ret));
		goto err_close;
	}
	for (unsigned int i = 0; i < 8; i++)
		s->config[i] = (uint8_t)((uint64_t)cid >> (8 * i));
	s->vdev = (struct virtio_dev){
		.ops = &vsock_ops,
		.opaque = s,
		.name = s->name,
		.device_id = VIRTIO_ID_VSOCK,
		.nr_queues = NR_QUEUES,
		.queue_max = VIRTIO_VSOCK_QUEUE_MAX,
		.config_size = sizeof(s->config),
		.features = s->vhost_features & VHOST_PASS & ~BIT(VIRTIO_F_VERSION_1),
	};
	*out = &s->vdev;
	return 0;
err_close:
	s->sys->close(s->sys->ctx, s->fd);
err_free:
	free(s);
	return ret;
}

void virtio_vsock_destroy(struct virtio_dev *vdev)
{
	struct virtio_vsock *s;

	if (!vdev)
		return;
	s = to_vsock(vdev);
	if (s->running || s->started[0] || s->started[1])
		vsock_reset(vdev);
	/* Closing the fd gives the CID back. */
	s->sys->close(s->sys->ctx, s->fd);
	free(s);
}
