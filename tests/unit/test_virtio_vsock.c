// SPDX-License-Identifier: MIT
/*
 * virtio-vsock over vhost-vsock, against a recording fake of the kernel:
 * the CID claimed at create (and the one line when another VM has it), the
 * rx and tx vrings handed over at DRIVER_OK with SET_RUNNING last, the
 * event queue kept, and reset taking everything back in the order vhost
 * needs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "devices/virtio/vsock.h"

#define BIT(n)		(1ull << (n))
#define RAM_SIZE	(1u << 20)
#define VFD		33

struct call {
	unsigned long req;
	uint64_t u64;
	int i;
	struct vhost_vring_state st;
	struct vhost_vring_file file;
};

static struct {
	bool open;
	int opens;
	int fail_open;
	unsigned long fail_req;
	int fail_errno;
	uint64_t features;
	struct call c[128];
	int n;
} fk;

static int fake_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	(void)flags;
	cr_assert_str_eq(path, "/dev/vhost-vsock");
	fk.opens++;
	if (fk.fail_open)
		return -fk.fail_open;
	fk.open = true;
	return VFD;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct call *c = &fk.c[fk.n++];

	(void)ctx;
	cr_assert_eq(fd, VFD);
	cr_assert(fk.open);
	c->req = req;
	if (req == VHOST_GET_FEATURES)
		*(uint64_t *)arg = fk.features;
	else if (req == VHOST_SET_FEATURES || req == VHOST_VSOCK_SET_GUEST_CID)
		c->u64 = *(uint64_t *)arg;
	else if (req == VHOST_VSOCK_SET_RUNNING)
		c->i = *(int *)arg;
	else if (req == VHOST_SET_VRING_KICK || req == VHOST_SET_VRING_CALL)
		memcpy(&c->file, arg, sizeof(c->file));
	else if (req == VHOST_SET_VRING_NUM || req == VHOST_SET_VRING_BASE ||
		 req == VHOST_GET_VRING_BASE)
		memcpy(&c->st, arg, sizeof(c->st));
	return req == fk.fail_req ? -fk.fail_errno : 0;
}

static void fake_close(void *ctx, int fd)
{
	(void)ctx;
	cr_assert_eq(fd, VFD);
	cr_assert(fk.open, "closed twice");
	fk.open = false;
}

static const struct vhost_sys fake_sys = {
	.open = fake_open, .ioctl = fake_ioctl, .close = fake_close,
};

static struct guest_mem mem;
static uint8_t *ram;

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |
		      BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_VSOCK_F_SEQPACKET) |
		      BIT(VIRTIO_F_ACCESS_PLATFORM);
	memset(&mem, 0, sizeof(mem));
	ram = aligned_alloc(4096, RAM_SIZE);
	cr_assert(ram);
	memset(ram, 0, RAM_SIZE);
	cr_assert_eq(guest_mem_add(&mem, 0, RAM_SIZE, ram), 0);
}

static void teardown(void)
{
	free(ram);
}

TestSuite(virtio_vsock, .init = setup, .fini = teardown);

static struct call *find(unsigned long req, int nth, int from)
{
	for (int i = from; i < fk.n; i++)
		if (fk.c[i].req == req && nth-- == 0)
			return &fk.c[i];
	return NULL;
}

static int count(unsigned long req, int from)
{
	int n = 0;

	for (int i = from; i < fk.n; i++)
		n += fk.c[i].req == req;
	return n;
}

static struct virtio_dev *create(uint32_t cid)
{
	struct virtio_dev *v = NULL;
	char err[256] = "";

	cr_assert_eq(virtio_vsock_create(cid, &fake_sys, &v, err, sizeof(err)), 0, "%s", err);
	v->mem = &mem;
	for (unsigned int q = 0; q < 3; q++) {
		struct virtio_queue *vq = &v->queues[q];

		cr_assert_eq(virtq_setup(&vq->vq, &mem, 64, 0x10000 + 0x1000 * q,
					 0x10400 + 0x1000 * q, 0x10800 + 0x1000 * q, 0), 0);
		vq->enabled = true;
		vq->kick_fd = 60 + (int)q;
		vq->call_fd = 70 + (int)q;
	}
	return v;
}

Test(virtio_vsock, create_claims_the_cid)
{
	struct virtio_dev *v = create(42);
	uint8_t cfg[8];

	cr_assert(find(VHOST_SET_OWNER, 0, 0));
	cr_assert_eq(find(VHOST_VSOCK_SET_GUEST_CID, 0, 0)->u64, 42);
	cr_assert_eq(v->device_id, VIRTIO_ID_VSOCK);
	cr_assert_eq(v->nr_queues, 3, "rx, tx, event");
	cr_assert_eq(v->features, BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
				  BIT(VIRTIO_VSOCK_F_SEQPACKET),
		     "offered %#llx", (unsigned long long)v->features);
	cr_assert_eq(v->config_size, 8);
	v->ops->config_read(v, 0, cfg, 8);
	cr_assert_eq(memcmp(cfg, (uint8_t[]){ 42, 0, 0, 0, 0, 0, 0, 0 }, 8), 0);
	virtio_vsock_destroy(v);
	cr_assert_not(fk.open, "the fd (and with it the CID) is given back");
}

static void create_fails(uint32_t cid, int want_ret, const char *want)
{
	struct virtio_dev *v = NULL;
	char err[256] = "";
	int ret = virtio_vsock_create(cid, &fake_sys, &v, err, sizeof(err));

	cr_assert_eq(ret, want_ret, "%d: %s", ret, err);
	cr_assert_null(v);
	cr_assert_str_eq(err, want);
	cr_assert_not(fk.open, "nothing left open");
}

Test(virtio_vsock, a_cid_in_use_is_one_line_naming_it)
{
	fk.fail_req = VHOST_VSOCK_SET_GUEST_CID;
	fk.fail_errno = EADDRINUSE;
	create_fails(3, -EADDRINUSE,
		     "vsock cid 3 is in use by another VM; pick another --vsock cid=N");
}

Test(virtio_vsock, no_vhost_vsock)
{
	fk.fail_open = ENOENT;
	create_fails(3, -ENOENT, "no /dev/vhost-vsock: load it with 'modprobe vhost_vsock'");
}

Test(virtio_vsock, reserved_cids_are_refused_before_opening)
{
	create_fails(2, -EINVAL, "--vsock cid=2: use a number from 3 to 4294967294");
	create_fails(0xffffffffu, -EINVAL, "--vsock cid=4294967295: use a number from 3 to 4294967294");
	cr_assert_eq(fk.opens, 0);
}

Test(virtio_vsock, activate_and_reset)
{
	struct virtio_dev *v = create(3);
	int start = fk.n;

	v->driver_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX);
	cr_assert_eq(v->ops->activate(v), 0);
	cr_assert_eq(find(VHOST_SET_FEATURES, 0, start)->u64,
		     BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX));
	cr_assert(find(VHOST_SET_MEM_TABLE, 0, start));
	cr_assert_eq(count(VHOST_SET_VRING_ADDR, start), 2, "the event queue stays with us");
	for (int r = 0; r < 2; r++) {
		cr_assert_eq(find(VHOST_SET_VRING_NUM, r, start)->st.num, 64);
		cr_assert_eq(find(VHOST_SET_VRING_KICK, r, start)->file.fd, 60 + r);
		cr_assert_eq(find(VHOST_SET_VRING_CALL, r, start)->file.fd, 70 + r);
	}
	cr_assert_eq(fk.c[fk.n - 1].req, VHOST_VSOCK_SET_RUNNING, "running only with rings in place");
	cr_assert_eq(fk.c[fk.n - 1].i, 1);

	start = fk.n;
	v->ops->reset(v);
	cr_assert_eq(fk.c[start].req, VHOST_VSOCK_SET_RUNNING, "stopped before rings move");
	cr_assert_eq(fk.c[start].i, 0);
	cr_assert_eq(count(VHOST_GET_VRING_BASE, start), 2);
	cr_assert_eq(find(VHOST_SET_VRING_KICK, 1, start)->file.fd, -1);
	cr_assert_eq(find(VHOST_SET_VRING_CALL, 1, start)->file.fd, -1);

	start = fk.n;
	cr_assert_eq(v->ops->activate(v), 0);
	virtio_vsock_destroy(v);
	cr_assert_eq(find(VHOST_VSOCK_SET_RUNNING, 0, start)->i, 1);
	cr_assert_eq(find(VHOST_VSOCK_SET_RUNNING, 1, start)->i, 0, "destroy stops a running device");
	cr_assert_not(fk.open);
}

Test(virtio_vsock, a_refused_start_gives_the_rings_back)
{
	struct virtio_dev *v = create(3);
	int start = fk.n;

	v->driver_features = BIT(VIRTIO_F_VERSION_1);
	fk.fail_req = VHOST_VSOCK_SET_RUNNING;
	fk.fail_errno = EINVAL;
	cr_assert_eq(v->ops->activate(v), -EINVAL);
	fk.fail_req = 0;
	cr_assert_eq(count(VHOST_GET_VRING_BASE, start), 2);
	cr_assert_eq(count(VHOST_VSOCK_SET_RUNNING, start), 1, "never ran: no SET_RUNNING 0");
	start = fk.n;
	virtio_vsock_destroy(v);
	cr_assert_eq(fk.n, start, "nothing left to stop");
}
