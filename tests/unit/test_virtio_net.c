// SPDX-License-Identifier: MIT
/*
 * virtio-net over vhost-net, against a recording fake of the kernel: what
 * create opens and in which order, the one line for each way the host can
 * say no, the ioctls activate and reset make (and their arguments: host
 * addresses of the rings, the memory table, the kick and call fds, the
 * tap's offloads), multiqueue with the control queue served by its thread
 * for a driver played here, and the MAC rules.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "devices/net.h"
#include "devices/virtio/net.h"

#define BIT(n)		(1ull << (n))
#define RAM_SIZE	(1u << 20)
#define FAKE_FD0	100

/* ---- the fake kernel ---- */

struct call {
	int fd;
	unsigned long req;
	union {
		uint64_t u64;
		int i;
		unsigned long ul;
		struct vhost_vring_state st;
		struct vhost_vring_file file;
		struct vhost_vring_addr addr;
		struct ifreq ifr;
		struct {
			uint32_t nregions;
			struct vhost_memory_region r[GUEST_MEM_MAX_REGIONS];
		} mem;
	} a;
};

static struct fake {
	int next_fd;
	char path[64][32];	/* by fd - FAKE_FD0 */
	bool open[64];
	int opens;		/* in order: 'v' vhost, 't' tun */
	char order[64];
	const char *fail_path;
	int fail_open;
	unsigned long fail_req;
	int fail_errno;
	bool tap_exists, tap_mq, tap_created;
	uint64_t features;
	struct call calls[512];
	int n;
} fk;

static int fake_open(void *ctx, const char *path, int flags)
{
	int fd;

	(void)ctx;
	(void)flags;
	if (fk.fail_path && !strcmp(path, fk.fail_path))
		return -fk.fail_open;
	fd = fk.next_fd++;
	snprintf(fk.path[fd - FAKE_FD0], sizeof(fk.path[0]), "%s", path);
	fk.open[fd - FAKE_FD0] = true;
	fk.order[fk.opens++] = strstr(path, "vhost") ? 'v' : 't';
	return fd;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct call *c = &fk.calls[fk.n++];

	(void)ctx;
	cr_assert(fk.n < 512);
	cr_assert(fd >= FAKE_FD0 && fk.open[fd - FAKE_FD0], "ioctl on fd %d that is not open", fd);
	c->fd = fd;
	c->req = req;
	if (req == VHOST_SET_MEM_TABLE)
		memcpy(&c->a.mem, arg, 8 + ((struct vhost_memory *)arg)->nregions *
					  sizeof(struct vhost_memory_region));
	else if (req == TUNSETOFFLOAD)
		c->a.ul = (unsigned long)(uintptr_t)arg;
	else if (req == VHOST_SET_OWNER)
		;
	else if (req == VHOST_GET_FEATURES)
		*(uint64_t *)arg = fk.features;
	else if (req == VHOST_SET_FEATURES)
		c->a.u64 = *(uint64_t *)arg;
	else if (req == TUNSETIFF || req == TUNSETQUEUE)
		memcpy(&c->a.ifr, arg, sizeof(struct ifreq));
	else if (req == TUNSETVNETHDRSZ)
		c->a.i = *(int *)arg;
	else if (req == VHOST_SET_VRING_ADDR)
		memcpy(&c->a.addr, arg, sizeof(c->a.addr));
	else if (req == VHOST_SET_VRING_KICK || req == VHOST_SET_VRING_CALL ||
		 req == VHOST_NET_SET_BACKEND)
		memcpy(&c->a.file, arg, sizeof(c->a.file));
	else
		memcpy(&c->a.st, arg, sizeof(c->a.st));
	if (req == fk.fail_req)
		return -fk.fail_errno;
	if (req == VHOST_GET_VRING_BASE)
		((struct vhost_vring_state *)arg)->num = 7;
	if (req == TUNSETIFF) {
		short f = c->a.ifr.ifr_flags;

		if (fk.tap_exists && (f & IFF_TUN_EXCL))
			return -EBUSY;
		if (fk.tap_exists && !!(f & IFF_MULTI_QUEUE) != fk.tap_mq)
			return -EINVAL;
		if (!fk.tap_exists) {
			fk.tap_exists = fk.tap_created = true;
			fk.tap_mq = f & IFF_MULTI_QUEUE;
		}
	}
	return 0;
}

static void fake_close(void *ctx, int fd)
{
	(void)ctx;
	cr_assert(fk.open[fd - FAKE_FD0], "close of fd %d twice", fd);
	fk.open[fd - FAKE_FD0] = false;
}

static const struct vhost_sys fake_sys = {
	.open = fake_open, .ioctl = fake_ioctl, .close = fake_close,
};

static int open_fds(void)
{
	int n = 0;

	for (int i = 0; i < 64; i++)
		n += fk.open[i];
	return n;
}

/* The n-th call (from `from`) with this request, or NULL. */
static struct call *find(unsigned long req, int nth, int from)
{
	for (int i = from; i < fk.n; i++)
		if (fk.calls[i].req == req && nth-- == 0)
			return &fk.calls[i];
	return NULL;
}

static int count(unsigned long req, int from)
{
	int c = 0;

	for (int i = from; i < fk.n; i++)
		c += fk.calls[i].req == req;
	return c;
}

/* ---- guest RAM and queues as the transport would hand them over ---- */

static struct guest_mem mem;
static uint8_t *ram;

#define Q_SIZE		16
#define Q_GPA(q)	(0x10000ull + 0x1000ull * (q))	/* desc; avail +0x100, used +0x200 */
#define BUF_GPA		0x80000ull

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.next_fd = FAKE_FD0;
	fk.features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |
		      BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		      BIT(VHOST_NET_F_VIRTIO_NET_HDR) | BIT(VIRTIO_F_ACCESS_PLATFORM);
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

TestSuite(virtio_net, .init = setup, .fini = teardown);

static struct virtio_dev *create(const char *tap, unsigned int queues)
{
	struct net_opts o = { .tap = tap, .queues = queues };
	struct virtio_dev *v = NULL;
	char err[256] = "";

	cr_assert_eq(virtio_net_create(&o, &fake_sys, &v, err, sizeof(err)), 0, "%s", err);
	v->mem = &mem;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		v->queues[i] = (struct virtio_queue){ .kick_fd = -1, .call_fd = -1 };
	return v;
}

/* What the transport does at DRIVER_OK for queue q. */
static void enable_queue(struct virtio_dev *v, unsigned int q, int kick, int call)
{
	struct virtio_queue *vq = &v->queues[q];

	cr_assert_eq(virtq_setup(&vq->vq, &mem, Q_SIZE, Q_GPA(q), Q_GPA(q) + 0x100,
				 Q_GPA(q) + 0x200, v->driver_features), 0);
	vq->enabled = true;
	vq->kick_fd = kick;
	vq->call_fd = call;
}

/* ---- create ---- */

Test(virtio_net, create_opens_vhost_first_then_creates_the_tap)
{
	struct virtio_dev *v = create("vmtap0", 0);
	struct call *c;
	uint8_t cfg[10], mac[6];

	cr_assert_str_eq(fk.order, "vt", "vhost-net must be opened before the tap");
	cr_assert(find(VHOST_SET_OWNER, 0, 0));
	c = find(TUNSETIFF, 0, 0);
	cr_assert_str_eq(c->a.ifr.ifr_name, "vmtap0");
	cr_assert_eq(c->a.ifr.ifr_flags, (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL),
		     "flags %#x", c->a.ifr.ifr_flags);
	cr_assert(virtio_net_created_tap(v));
	cr_assert_eq(find(TUNSETVNETHDRSZ, 0, 0)->a.i, 12);
	cr_assert_eq(find(TUNSETOFFLOAD, 0, 0)->a.ul, 0, "no offloads before a driver takes them");
	cr_assert_null(find(TUNSETPERSIST, 0, 0), "a tap we create must not outlive us");

	cr_assert_eq(v->device_id, VIRTIO_ID_NET);
	cr_assert_eq(v->nr_queues, 2, "one pair, no control queue");
	cr_assert_eq(v->features,
		     BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
		     BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
		     BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
		     BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
		     BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_RING_F_EVENT_IDX) |
		     BIT(VIRTIO_RING_F_INDIRECT_DESC),
		     "offered %#llx", (unsigned long long)v->features);
	cr_assert_eq(v->config_size, 10);
	v->ops->config_read(v, 0, cfg, 10);
	virtio_net_mac(v, mac);
	cr_assert_eq(memcmp(cfg, mac, 6), 0);
	cr_assert_eq(cfg[0], 0x02, "default MAC is locally administered");
	cr_assert_eq(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	cr_assert_eq(cfg[8] | cfg[9] << 8, 1);
	virtio_net_destroy(v);
	cr_assert_eq(open_fds(), 0);
}

Test(virtio_net, explicit_mac_is_what_the_guest_sees)
{
	struct net_opts o = { .tap = "t", .mac_set = true, .mac = { 0x52, 0x54, 0, 1, 2, 3 } };
	struct virtio_dev *v;
	char err[256];
	uint8_t cfg[6];

	cr_assert_eq(virtio_net_create(&o, &fake_sys, &v, err, sizeof(err)), 0, "%s", err);
	v->ops->config_read(v, 0, cfg, 6);
	cr_assert_eq(memcmp(cfg, o.mac, 6), 0);
	virtio_net_destroy(v);
}

Test(virtio_net, an_existing_tap_is_attached_not_created)
{
	struct virtio_dev *v;

	fk.tap_exists = true;
	v = create("br-tap", 1);
	cr_assert_not(virtio_net_created_tap(v));
	cr_assert_eq(count(TUNSETIFF, 0), 2, "EXCL first, then a plain attach");
	cr_assert_eq(find(TUNSETIFF, 1, 0)->a.ifr.ifr_flags, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	virtio_net_destroy(v);
	cr_assert_eq(open_fds(), 0);
}

Test(virtio_net, one_pair_on_an_existing_multiqueue_tap)
{
	struct virtio_dev *v;

	fk.tap_exists = fk.tap_mq = true;
	v = create("mq", 1);
	cr_assert(find(TUNSETIFF, 2, 0)->a.ifr.ifr_flags & IFF_MULTI_QUEUE);
	virtio_net_destroy(v);
}

static void create_fails(const char *tap, unsigned int queues, int want_ret, const char *want)
{
	struct net_opts o = { .tap = tap, .queues = queues };
	struct virtio_dev *v = NULL;
	char err[256] = "";
	int ret = virtio_net_create(&o, &fake_sys, &v, err, sizeof(err));

	cr_assert_eq(ret, want_ret, "ret %d: %s", ret, err);
	cr_assert_null(v);
	cr_assert(strstr(err, want), "message '%s' lacks '%s'", err, want);
	cr_assert_null(strchr(err, '\n'), "one line");
	cr_assert_eq(open_fds(), 0, "nothing left open");
}

Test(virtio_net, no_vhost_net_is_one_line_and_no_tap)
{
	fk.fail_path = "/dev/vhost-net";
	fk.fail_open = ENOENT;
	create_fails("t0", 1, -ENOENT, "no /dev/vhost-net: load it with 'modprobe vhost_net'");
	cr_assert_not(fk.tap_created, "no tap may be created when vhost-net is missing");
	cr_assert_eq(fk.opens, 0);
}

Test(virtio_net, no_tun)
{
	fk.fail_path = "/dev/net/tun";
	fk.fail_open = ENOENT;
	create_fails("t0", 1, -ENOENT, "no /dev/net/tun: load it with 'modprobe tun'");
}

Test(virtio_net, tap_errors_name_the_fix)
{
	fk.tap_exists = true;
	fk.fail_req = TUNSETIFF;
	fk.fail_errno = EBUSY;
	create_fails("busy0", 1, -EBUSY, "in use by another process");

	memset(&fk.calls, 0, sizeof(fk.calls));
	fk.fail_req = 0;
	fk.tap_mq = false;
	create_fails("plain0", 2, -EINVAL, "ip tuntap add plain0 mode tap multi_queue");

	fk.tap_exists = false;
	fk.fail_req = TUNSETIFF;
	fk.fail_errno = EPERM;
	create_fails("new0", 1, -EPERM, "run as root");

	fk.fail_req = VHOST_SET_OWNER;
	fk.fail_errno = EBUSY;
	create_fails("new1", 1, -EBUSY, "/dev/vhost-net");
	fk.fail_req = 0;
	create_fails("this-name-is-too-long", 1, -EINVAL, "not an interface name");
}

Test(virtio_net, a_kernel_without_version_1)
{
	fk.features = BIT(VIRTIO_NET_F_MRG_RXBUF);
	create_fails("old", 1, -ENOTSUP, "VIRTIO_F_VERSION_1");
}

/* ---- activate and reset ---- */

Test(virtio_net, activate_hands_the_rings_to_vhost)
{
	struct virtio_dev *v = create("t1", 1);
	int start = fk.n, vfd, tfd;
	struct call *c;

	v->driver_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CSUM) |
			     BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
			     BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_RING_F_EVENT_IDX) |
			     BIT(VIRTIO_NET_F_MAC);
	enable_queue(v, 0, 40, 50);
	enable_queue(v, 1, 41, 51);
	cr_assert_eq(v->ops->activate(v), 0);
	vfd = find(VHOST_SET_OWNER, 0, 0)->fd;
	tfd = find(TUNSETIFF, 0, 0)->fd;

	c = find(TUNSETOFFLOAD, 0, start);
	cr_assert_eq(c->a.ul, TUN_F_CSUM | TUN_F_TSO4, "offloads %#lx", c->a.ul);
	cr_assert_eq(c->fd, tfd);
	c = find(VHOST_SET_FEATURES, 0, start);
	cr_assert_eq(c->fd, vfd);
	cr_assert_eq(c->a.u64, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
			       BIT(VIRTIO_RING_F_EVENT_IDX),
		     "vhost gets only the ring/header features: %#llx",
		     (unsigned long long)c->a.u64);
	c = find(VHOST_SET_MEM_TABLE, 0, start);
	cr_assert_eq(c->a.mem.nregions, 1);
	cr_assert_eq(c->a.mem.r[0].guest_phys_addr, 0);
	cr_assert_eq(c->a.mem.r[0].memory_size, RAM_SIZE);
	cr_assert_eq(c->a.mem.r[0].userspace_addr, (uint64_t)(uintptr_t)ram);
	for (unsigned int r = 0; r < 2; r++) {
		c = find(VHOST_SET_VRING_NUM, (int)r, start);
		cr_assert_eq(c->a.st.index, r);
		cr_assert_eq(c->a.st.num, Q_SIZE);
		c = find(VHOST_SET_VRING_BASE, (int)r, start);
		cr_assert_eq(c->a.st.num, 0);
		c = find(VHOST_SET_VRING_ADDR, (int)r, start);
		cr_assert_eq(c->a.addr.index, r);
		cr_assert_eq(c->a.addr.desc_user_addr, (uint64_t)(uintptr_t)(ram + Q_GPA(r)));
		cr_assert_eq(c->a.addr.avail_user_addr,
			     (uint64_t)(uintptr_t)(ram + Q_GPA(r) + 0x100));
		cr_assert_eq(c->a.addr.used_user_addr,
			     (uint64_t)(uintptr_t)(ram + Q_GPA(r) + 0x200));
		c = find(VHOST_SET_VRING_KICK, (int)r, start);
		cr_assert_eq(c->a.file.fd, 40 + (int)r);
		c = find(VHOST_SET_VRING_CALL, (int)r, start);
		cr_assert_eq(c->a.file.fd, 50 + (int)r);
		c = find(VHOST_NET_SET_BACKEND, (int)r, start);
		cr_assert_eq(c->a.file.index, r);
		cr_assert_eq(c->a.file.fd, tfd);
	}
	/* The backend goes last: vhost starts moving packets only with rings in place. */
	cr_assert_eq(fk.calls[fk.n - 1].req, VHOST_NET_SET_BACKEND);
	cr_assert_eq(count(TUNSETQUEUE, start), 0, "a single queue is never detached");

	start = fk.n;
	v->ops->reset(v);
	for (unsigned int r = 0; r < 2; r++) {
		c = find(VHOST_NET_SET_BACKEND, (int)r, start);
		cr_assert_eq(c->a.file.fd, -1);
		cr_assert_eq(find(VHOST_GET_VRING_BASE, (int)r, start)->a.st.index, r);
		cr_assert_eq(find(VHOST_SET_VRING_KICK, (int)r, start)->a.file.fd, -1);
		cr_assert_eq(find(VHOST_SET_VRING_CALL, (int)r, start)->a.file.fd, -1);
	}
	/* Backends off before any vring is taken back. */
	cr_assert_eq(fk.calls[start].req, VHOST_NET_SET_BACKEND);
	cr_assert_eq(fk.calls[start + 1].req, VHOST_NET_SET_BACKEND);

	/* A second DRIVER_OK after the reset starts again from base 0. */
	start = fk.n;
	cr_assert_eq(v->ops->activate(v), 0);
	cr_assert_eq(count(VHOST_NET_SET_BACKEND, start), 2);
	cr_assert_eq(find(VHOST_SET_VRING_BASE, 0, start)->a.st.num, 0);
	virtio_net_destroy(v);	/* resets the active device first */
	cr_assert_eq(open_fds(), 0);
}

Test(virtio_net, the_memory_table_has_every_ram_region)
{
	static uint8_t high[2 * 4096] __attribute__((aligned(4096)));
	struct virtio_dev *v = create("t5", 1);
	struct call *c;

	/* RAM above 4 GiB is a second region with its own host mapping. */
	cr_assert_eq(guest_mem_add(&mem, 1ull << 32, sizeof(high), high), 0);
	v->driver_features = BIT(VIRTIO_F_VERSION_1);
	enable_queue(v, 0, 40, 50);
	enable_queue(v, 1, 41, 51);
	cr_assert_eq(v->ops->activate(v), 0);
	c = find(VHOST_SET_MEM_TABLE, 0, 0);
	cr_assert_eq(c->a.mem.nregions, 2);
	cr_assert_eq(c->a.mem.r[1].guest_phys_addr, 1ull << 32);
	cr_assert_eq(c->a.mem.r[1].memory_size, sizeof(high));
	cr_assert_eq(c->a.mem.r[1].userspace_addr, (uint64_t)(uintptr_t)high);
	virtio_net_destroy(v);
}

Test(virtio_net, no_guest_csum_no_tap_offloads)
{
	struct virtio_dev *v = create("t2", 1);
	int start = fk.n;

	/* TSO without CSUM is meaningless to the tap: nothing is handed up partial. */
	v->driver_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_TSO4);
	enable_queue(v, 0, 40, 50);
	enable_queue(v, 1, 41, 51);
	cr_assert_eq(v->ops->activate(v), 0);
	cr_assert_eq(find(TUNSETOFFLOAD, 0, start)->a.ul, 0);
	cr_assert_eq(find(VHOST_SET_FEATURES, 0, start)->a.u64, BIT(VIRTIO_F_VERSION_1));
	virtio_net_destroy(v);
}

Test(virtio_net, a_vhost_refusal_undoes_the_activation)
{
	struct virtio_dev *v = create("t3", 1);
	int start = fk.n;

	v->driver_features = BIT(VIRTIO_F_VERSION_1);
	enable_queue(v, 0, 40, 50);
	enable_queue(v, 1, 41, 51);
	fk.fail_req = VHOST_NET_SET_BACKEND;
	fk.fail_errno = EFAULT;
	cr_assert_eq(v->ops->activate(v), -EFAULT);
	fk.fail_req = 0;
	/* The rings were taken back: no eventfd of the transport stays with vhost. */
	cr_assert_eq(find(VHOST_SET_VRING_KICK, 2, start)->a.file.fd, -1);
	cr_assert_eq(find(VHOST_SET_VRING_CALL, 2, start)->a.file.fd, -1);
	start = fk.n;
	virtio_net_destroy(v);
	cr_assert_eq(count(VHOST_NET_SET_BACKEND, start), 0, "not active: nothing to stop");
	cr_assert_eq(open_fds(), 0);
}

Test(virtio_net, a_pair_with_a_disabled_queue_is_not_started)
{
	struct virtio_dev *v = create("t4", 1);
	int start = fk.n;

	v->driver_features = BIT(VIRTIO_F_VERSION_1);
	enable_queue(v, 0, 40, 50);
	cr_assert_eq(v->ops->activate(v), 0);
	cr_assert_eq(count(VHOST_NET_SET_BACKEND, start), 0);
	v->ops->reset(v);
	virtio_net_destroy(v);
}

/* ---- multiqueue and the control queue ---- */

static uint8_t cmd_pairs(struct virtio_dev *v, unsigned int pairs)
{
	uint8_t cmd[4] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, (uint8_t)pairs,
			   (uint8_t)(pairs >> 8) };

	return virtio_net_ctrl_command(v, cmd, sizeof(cmd));
}

static int detached(int fd, int from)
{
	int d = 0;

	for (int i = from; i < fk.n; i++)
		if (fk.calls[i].req == TUNSETQUEUE && fk.calls[i].fd == fd)
			d = fk.calls[i].a.ifr.ifr_flags == IFF_DETACH_QUEUE ? 1 : 0;
	return d;
}

Test(virtio_net, multiqueue_opens_a_tap_queue_and_vhost_per_pair)
{
	struct virtio_dev *v = create("mq0", 3);
	int start = fk.n, tap1, tap2;
	uint8_t cfg[10];

	cr_assert_str_eq(fk.order, "vvvttt");
	cr_assert_eq(v->nr_queues, 7, "three pairs and a control queue");
	cr_assert(v->features & BIT(VIRTIO_NET_F_MQ));
	cr_assert(v->features & BIT(VIRTIO_NET_F_CTRL_VQ));
	for (int i = 0; i < 3; i++)
		cr_assert(find(TUNSETIFF, i, 0)->a.ifr.ifr_flags & IFF_MULTI_QUEUE);
	cr_assert(find(TUNSETIFF, 0, 0)->a.ifr.ifr_flags & IFF_TUN_EXCL);
	cr_assert_not(find(TUNSETIFF, 1, 0)->a.ifr.ifr_flags & IFF_TUN_EXCL);
	v->ops->config_read(v, 8, cfg, 2);
	cr_assert_eq(cfg[0] | cfg[1] << 8, 3, "max_virtqueue_pairs");
	tap1 = find(TUNSETIFF, 1, 0)->fd;
	tap2 = find(TUNSETIFF, 2, 0)->fd;

	v->driver_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MQ) |
			     BIT(VIRTIO_NET_F_CTRL_VQ);
	for (unsigned int q = 0; q < 6; q++)
		enable_queue(v, q, 40 + (int)q, 50 + (int)q);
	cr_assert_eq(v->ops->activate(v), 0);
	cr_assert_eq(count(VHOST_NET_SET_BACKEND, start), 6);
	/* Each pair on its own vhost fd with its own tap queue. */
	for (int p = 0; p < 3; p++) {
		struct call *b = find(VHOST_NET_SET_BACKEND, 2 * p, start);

		cr_assert_eq(b->fd, find(VHOST_SET_OWNER, p, 0)->fd);
		cr_assert_eq(b->a.file.fd, find(TUNSETIFF, p, 0)->fd);
		cr_assert_eq(find(VHOST_SET_VRING_KICK, 2 * p + 1, start)->a.file.fd, 41 + 2 * p);
	}
	/* Only the first pair until the driver says otherwise. */
	cr_assert(detached(tap1, start) && detached(tap2, start));

	cr_assert_eq(cmd_pairs(v, 2), VIRTIO_NET_OK);
	cr_assert_not(detached(tap1, start));
	cr_assert(detached(tap2, start));
	cr_assert_eq(cmd_pairs(v, 3), VIRTIO_NET_OK);
	cr_assert_not(detached(tap2, start));
	cr_assert_eq(cmd_pairs(v, 1), VIRTIO_NET_OK);
	cr_assert(detached(tap1, start) && detached(tap2, start));
	start = fk.n;
	cr_assert_eq(cmd_pairs(v, 1), VIRTIO_NET_OK);
	cr_assert_eq(count(TUNSETQUEUE, start), 0, "no change, no ioctl");

	cr_assert_eq(cmd_pairs(v, 0), VIRTIO_NET_ERR);
	cr_assert_eq(cmd_pairs(v, 4), VIRTIO_NET_ERR);
	cr_assert_eq(cmd_pairs(v, 0x8000), VIRTIO_NET_ERR);
	{
		uint8_t rx[3] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
		uint8_t shortc[3] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2 };

		cr_assert_eq(virtio_net_ctrl_command(v, rx, 3), VIRTIO_NET_ERR);
		cr_assert_eq(virtio_net_ctrl_command(v, shortc, 3), VIRTIO_NET_ERR);
		cr_assert_eq(virtio_net_ctrl_command(v, rx, 1), VIRTIO_NET_ERR);
	}
	virtio_net_destroy(v);
	cr_assert_eq(open_fds(), 0);
}

Test(virtio_net, without_mq_the_control_queue_follows_the_first_pair)
{
	struct virtio_dev *v = create("mq1", 2);
	int start = fk.n;

	/* A driver that knows CTRL_VQ but not MQ: its control queue is queue 2. */
	v->driver_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_VQ);
	for (unsigned int q = 0; q < 3; q++)
		enable_queue(v, q, 40 + (int)q, 50 + (int)q);
	cr_assert_eq(v->ops->activate(v), 0);
	cr_assert_eq(count(VHOST_NET_SET_BACKEND, start), 2, "queue 2 is not pair 1's rx");
	cr_assert_eq(cmd_pairs(v, 2), VIRTIO_NET_ERR, "no MQ negotiated");
	virtio_net_destroy(v);
}

/* The driver side of the control queue, in the fake guest RAM. */
static void put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(ram + gpa, &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, ram + gpa, 2);
	return le16toh(v);
}

static void desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(ram + table + 16ull * i, &d, sizeof(d));
}

/* Posts VQ_PAIRS_SET pairs on control queue q and waits for the device's ack. */
static uint8_t ctrl_roundtrip(unsigned int q, int kick, uint16_t *avail, unsigned int pairs)
{
	uint64_t d = Q_GPA(q), buf = BUF_GPA + 0x100 * *avail, one = 1;
	uint16_t slot = (uint16_t)(*avail * 3 % Q_SIZE);

	ram[buf] = VIRTIO_NET_CTRL_MQ;
	ram[buf + 1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	put16(buf + 2, (uint16_t)pairs);
	ram[buf + 4] = 0xee;
	/* Header, data and ack in three descriptors, as Linux does. */
	desc(d, slot, buf, 2, VRING_DESC_F_NEXT, (uint16_t)((slot + 1) % Q_SIZE));
	desc(d, (uint16_t)((slot + 1) % Q_SIZE), buf + 2, 2, VRING_DESC_F_NEXT,
	     (uint16_t)((slot + 2) % Q_SIZE));
	desc(d, (uint16_t)((slot + 2) % Q_SIZE), buf + 4, 1, VRING_DESC_F_WRITE, 0);
	put16(d + 0x100 + 4 + 2 * (*avail % Q_SIZE), slot);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put16(d + 0x100 + 2, ++*avail);
	cr_assert_eq(write(kick, &one, 8), 8);
	for (int i = 0; i < 2000 && get16(d + 0x200 + 2) != *avail; i++)
		usleep(1000);
	cr_assert_eq(get16(d + 0x200 + 2), *avail, "the control thread never answered");
	return ram[buf + 4];
}

Test(virtio_net, the_control_thread_serves_a_driver)
{
	struct virtio_dev *v = create("mq2", 2);
	int kick = eventfd(0, EFD_NONBLOCK), call = eventfd(0, EFD_NONBLOCK), start;
	uint16_t avail = 0;
	uint64_t n;

	cr_assert(kick >= 0 && call >= 0);
	v->driver_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MQ) |
			     BIT(VIRTIO_NET_F_CTRL_VQ);
	for (unsigned int q = 0; q < 4; q++)
		enable_queue(v, q, 40 + (int)q, 50 + (int)q);
	enable_queue(v, 4, kick, call);
	cr_assert_eq(v->ops->activate(v), 0);
	start = fk.n;
	cr_assert_eq(ctrl_roundtrip(4, kick, &avail, 2), VIRTIO_NET_OK);
	cr_assert_eq(count(TUNSETQUEUE, start), 1, "pair 1's tap queue attached");
	cr_assert_eq(ctrl_roundtrip(4, kick, &avail, 5), VIRTIO_NET_ERR);
	cr_assert_eq(read(call, &n, 8), 8, "the driver was interrupted");
	v->ops->reset(v);	/* joins the thread */
	virtio_net_destroy(v);
	close(kick);
	close(call);
}

/* ---- MAC and name rules ---- */

Test(net_mac, parse)
{
	uint8_t m[6];
	const char *why;

	cr_assert_eq(net_mac_parse("52:54:00:AB:cd:0f", m, &why), 0);
	cr_assert_eq(memcmp(m, (uint8_t[]){ 0x52, 0x54, 0, 0xab, 0xcd, 0x0f }, 6), 0);
	cr_assert_eq(net_mac_parse("02-00-00-00-00-01", m, &why), 0);
	cr_assert_eq(net_mac_parse("02:00-00:00:00:01", m, &why), -1, "mixed separators");
	cr_assert_eq(net_mac_parse("02:00:00:00:00", m, &why), -1);
	cr_assert_eq(net_mac_parse("02:00:00:00:00:001", m, &why), -1);
	cr_assert_eq(net_mac_parse("02:00:00:00:0g:01", m, &why), -1);
	cr_assert_eq(net_mac_parse("2:0:0:0:0:1", m, &why), -1);
	cr_assert_eq(net_mac_parse("", m, &why), -1);
	cr_assert_eq(net_mac_parse("01:00:5e:00:00:01", m, &why), -1);
	cr_assert(strstr(why, "multicast"));
	cr_assert_eq(net_mac_parse("ff:ff:ff:ff:ff:ff", m, &why), -1);
	cr_assert_eq(net_mac_parse("00:00:00:00:00:00", m, &why), -1);
	cr_assert(strstr(why, "zeros"));
}

Test(net_mac, default_is_local_unicast_and_deterministic)
{
	uint8_t a[6], b[6], c[6];
	char s[18];

	net_mac_default("tap0", a);
	net_mac_default("tap0", b);
	net_mac_default("tap1", c);
	cr_assert_eq(a[0], 0x02, "locally administered, unicast");
	cr_assert_eq(memcmp(a, b, 6), 0, "the same name gives the same MAC");
	cr_assert_neq(memcmp(a, c, 6), 0);
	/* One letter apart changes more than one byte. */
	int diff = 0;
	for (int i = 1; i < 6; i++)
		diff += a[i] != c[i];
	cr_assert_geq(diff, 3, "%s", net_mac_str(c, s));
	cr_assert_eq(strlen(net_mac_str(a, s)), 17);
	cr_assert_eq(strncmp(s, "02:", 3), 0);
}

Test(net_mac, interface_names)
{
	cr_assert(net_ifname_ok("tap0"));
	cr_assert(net_ifname_ok("a-15-chars-name"));
	cr_assert_not(net_ifname_ok("a-16-chars-name!"));
	cr_assert_not(net_ifname_ok(""));
	cr_assert_not(net_ifname_ok("."));
	cr_assert_not(net_ifname_ok(".."));
	cr_assert_not(net_ifname_ok("a/b"));
	cr_assert_not(net_ifname_ok("a:b"));
	cr_assert_not(net_ifname_ok("a b"));
}
