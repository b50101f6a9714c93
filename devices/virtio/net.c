// SPDX-License-Identifier: MIT
/*
 * virtio-net over vhost-net and a tap (see net.h): the tap and vhost fds
 * opened at VM setup, what the guest is offered and sees in its
 * configuration, the vrings handed to vhost at DRIVER_OK and taken back at
 * reset, and the control queue's thread when there are several pairs.
 *
 * What can go wrong at create is the user's or the host's (a module not
 * loaded, a tap name taken by something else, permissions) and is
 * answered with one line naming the fix. What can go wrong later is
 * driven by the guest (its rings, its control commands, how often it
 * resets) and is logged rate-limited.
 */
#include "devices/virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "util/errbuf.h"
#include "util/log.h"

#define BIT(n)			(1ull << (n))
#define VNET_HDR_LEN		12	/* struct virtio_net_hdr_v1 (VERSION_1, MRG_RXBUF) */
#define CONFIG_SIZE		10	/* mac, status, max_virtqueue_pairs */
#define CTRL_SEGS		8
#define CTRL_CMD_MAX		64

/* Ours and the tap's: the kernel moves these through the vnet header. */
#define NET_FEATURES	(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |          \
			 BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |     \
			 BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |       \
			 BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS))
/* vhost-net's, offered only when it has them; passed on with VHOST_SET_FEATURES. */
#define VHOST_PASS	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |          \
			 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_NET_F_MRG_RXBUF))

struct net_pair {
	int tap_fd;
	int vhost_fd;
	bool started;		/* vrings and backend are vhost's */
	bool attached;		/* the tap queue takes packets */
};

struct virtio_net {
	struct virtio_dev vdev;
	const struct vhost_sys *sys;
	char ifname[IFNAMSIZ];
	char name[32];
	bool tap_created;
	uint8_t mac[6];
	uint8_t config[CONFIG_SIZE];
	unsigned int pairs;
	uint64_t vhost_features;
	struct net_pair p[NET_MAX_QUEUE_PAIRS];

	/* While active. */
	bool active;
	bool mq;		/* VIRTIO_NET_F_MQ negotiated */
	int ctrl_idx;		/* the control queue's index, -1 without one */
	pthread_t ctrl;
	bool ctrl_running;
	int stop_fd;		/* wakes the control thread to exit */
};

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
	return (struct virtio_net *)vdev->opaque;
}

/* ---- create: vhost-net and the tap ---- */

static int open_vhost(struct virtio_net *n, struct net_pair *p, char *err, size_t errlen)
{
	int fd = vhost_open(n->sys, "/dev/vhost-net", &n->vhost_features);

	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		return errbuf_set(err, errlen, fd, "no /dev/vhost-net: load it with 'modprobe vhost_net'");
	if (fd == -EACCES || fd == -EPERM)
		return errbuf_set(err, errlen, fd,
			    "/dev/vhost-net: permission denied; run as root or give this user access to it");
	if (fd < 0)
		return errbuf_set(err, errlen, fd, "/dev/vhost-net: %s", strerror(-fd));
	p->vhost_fd = fd;
	if (!(n->vhost_features & BIT(VIRTIO_F_VERSION_1)))
		return errbuf_set(err, errlen, -ENOTSUP,
			    "/dev/vhost-net: this kernel's vhost-net lacks VIRTIO_F_VERSION_1 (Linux 4.0 or later has it)");
	return 0;
}

static int tun_setiff(struct virtio_net *n, int fd, short flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->ifname);
	ifr.ifr_flags = flags;
	return vhost_ioctl(n->sys, fd, TUNSETIFF, &ifr);
}

/* The one line for a TUNSETIFF that said no. */
static int tap_error(struct virtio_net *n, int ret, bool existed, char *err, size_t errlen)
{
	const char *t = n->ifname;

	switch (-ret) {
	case EPERM:
	case EACCES:
		return errbuf_set(err, errlen, ret,
			    "--net tap=%s: not allowed to %s the tap; run as root, or create it for "
			    "this user first: ip tuntap add %s mode tap user USER%s", t,
			    existed ? "attach to" : "create", t, n->pairs > 1 ? " multi_queue" : "");
	case EBUSY:
		return errbuf_set(err, errlen, ret,
			    "--net tap=%s: the tap is in use by another process; stop it or pick another tap",
			    t);
	case EINVAL:
		if (existed && n->pairs > 1)
			return errbuf_set(err, errlen, ret,
				    "--net tap=%s: exists but is not a multi-queue tap; recreate it "
				    "with 'ip tuntap add %s mode tap multi_queue', or use queues=1", t, t);
		if (existed)
			return errbuf_set(err, errlen, ret,
				    "--net tap=%s: an interface of that name exists and is not a tap; "
				    "pick another name", t);
		break;
	}
	return errbuf_set(err, errlen, ret, "--net tap=%s: cannot %s the tap: %s", t,
		    existed ? "attach to" : "create", strerror(-ret));
}

/*
 * Queue q of the tap. The first one is asked for with IFF_TUN_EXCL, which
 * creates the tap or fails with EBUSY when the name exists: so we know,
 * without a race, whether the tap is ours to lose.
 */
static int open_tap_queue(struct virtio_net *n, unsigned int q, char *err, size_t errlen)
{
	short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (n->pairs > 1 ? IFF_MULTI_QUEUE : 0);
	bool existed = q > 0 && !n->tap_created;
	int fd, ret, hdr = VNET_HDR_LEN, off = 0;

	fd = n->sys->open(n->sys->ctx, "/dev/net/tun", O_RDWR);
	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		return errbuf_set(err, errlen, fd, "no /dev/net/tun: load it with 'modprobe tun'");
	if (fd < 0)
		return errbuf_set(err, errlen, fd, "/dev/net/tun: %s", strerror(-fd));
	n->p[q].tap_fd = fd;
	if (q == 0) {
		ret = tun_setiff(n, fd, flags | IFF_TUN_EXCL);
		if (!ret)
			n->tap_created = true;
		existed = ret == -EBUSY;
		if (existed)
			ret = tun_setiff(n, fd, flags);
		/* One pair on a tap made multi_queue: take one queue of it. */
		if (existed && ret == -EINVAL && n->pairs == 1) {
			flags |= IFF_MULTI_QUEUE;
			ret = tun_setiff(n, fd, flags);
		}
	} else {
		ret = tun_setiff(n, fd, flags);
	}
	if (ret < 0)
		return tap_error(n, ret, existed, err, errlen);
	ret = vhost_ioctl(n->sys, fd, TUNSETVNETHDRSZ, &hdr);
	/* No offloads until a driver accepts them (activate). */
	if (!ret)
		ret = vhost_ioctl(n->sys, fd, TUNSETOFFLOAD, (void *)(uintptr_t)off);
	if (ret < 0)
		return errbuf_set(err, errlen, ret, "--net tap=%s: setting up the tap: %s", n->ifname,
			    strerror(-ret));
	n->p[q].attached = true;
	trace(LOG_VHOST, "%s: queue %u: TUNSETIFF TAP|NO_PI|VNET_HDR%s (%s), TUNSETVNETHDRSZ %d",
	      n->ifname, q, flags & IFF_MULTI_QUEUE ? "|MULTI_QUEUE" : "",
	      n->tap_created ? "created, not persistent" : "existed", hdr);
	return 0;
}

static void close_all(struct virtio_net *n)
{
	for (unsigned int i = 0; i < NET_MAX_QUEUE_PAIRS; i++) {
		if (n->p[i].vhost_fd >= 0)
			n->sys->close(n->sys->ctx, n->p[i].vhost_fd);
		if (n->p[i].tap_fd >= 0)
			n->sys->close(n->sys->ctx, n->p[i].tap_fd);
		n->p[i].vhost_fd = n->p[i].tap_fd = -1;
	}
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	n->stop_fd = -1;
}

/* ---- configuration space ---- */

static void config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, to_net(vdev)->config + off, len);	/* the transport bounds off + len */
}

static void config_write(struct virtio_dev *vdev, uint32_t off, const void *data, uint32_t len)
{
	/* Read-only for a VERSION_1 driver (the MAC changes only by a control command). */
	(void)vdev;
	(void)off;
	(void)data;
	(void)len;
}

/* ---- the control queue ---- */

/* Which tap queues take packets: the first `want` pairs'. Pair 0 is never detached. */
static int set_pairs(struct virtio_net *n, unsigned int want)
{
	int ret = 0;

	for (unsigned int i = 1; i < n->pairs; i++) {
		struct net_pair *p = &n->p[i];
		bool on = i < want;
		struct ifreq ifr;
		int r;

		if (p->attached == on)
			continue;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		r = vhost_ioctl(n->sys, p->tap_fd, TUNSETQUEUE, &ifr);
		trace(LOG_VHOST, "%s: queue %u: TUNSETQUEUE %s: %s", n->ifname, i,
		      on ? "ATTACH" : "DETACH", r < 0 ? strerror(-r) : "ok");
		if (r < 0) {
			log_warn_rl("%s: %s tap queue %u: %s", n->name, on ? "attaching" : "detaching",
				    i, strerror(-r));
			ret = r;
			continue;
		}
		p->attached = on;
	}
	return ret;
}

uint8_t virtio_net_ctrl_command(struct virtio_dev *vdev, const uint8_t *cmd, size_t len)
{
	struct virtio_net *n = to_net(vdev);
	unsigned int want;

	if (len < 2)
		return VIRTIO_NET_ERR;
	if (cmd[0] != VIRTIO_NET_CTRL_MQ || cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    len != 4 || !n->mq) {
		trace(LOG_VHOST, "%s: control command class %u cmd %u (%zu bytes): not supported",
		      n->name, cmd[0], cmd[1], len);
		return VIRTIO_NET_ERR;
	}
	want = (unsigned int)cmd[2] | (unsigned int)cmd[3] << 8;
	trace(LOG_VHOST, "%s: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET %u", n->name, want);
	/* Only pairs that were started: the driver enabled both of their queues. */
	if (want < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || want > n->pairs || !n->p[want - 1].started)
		return VIRTIO_NET_ERR;
	return set_pairs(n, want) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/* Serves one request: the readable part is the command, the first writable byte the ack. */
static void ctrl_request(struct virtio_net *n, struct virtq *q, struct virtq_req *req)
{
	uint8_t cmd[CTRL_CMD_MAX], ack = VIRTIO_NET_ERR;
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < req->nr_readable; i++) {
		size_t l = req->segs[i].len;

		if (len + l > sizeof(cmd)) {
			len = SIZE_MAX;
			break;
		}
		memcpy(cmd + len, req->segs[i].hva, l);
		len += l;
	}
	if (len != SIZE_MAX)
		ack = virtio_net_ctrl_command(&n->vdev, cmd, len);
	if (req->nr_writable) {
		*(volatile uint8_t *)req->segs[req->nr_readable].hva = ack;
		virtq_push(q, req->head, 1);
	} else {
		virtq_push(q, req->head, 0);
	}
}

/* Pops until empty. false when the queue broke (the device then needs a reset). */
static bool ctrl_drain(struct virtio_net *n, struct virtio_queue *vq)
{
	struct virtq_seg segs[CTRL_SEGS];
	struct virtq_req req = { .segs = segs, .max_segs = CTRL_SEGS };
	bool ok = true;
	int r;

	while ((r = virtq_pop(&vq->vq, &req)) != VIRTQ_POP_EMPTY) {
		if (r < 0) {
			log_warn_rl("%s: control queue: %s", n->name, virtq_err_str(r));
			virtio_dev_needs_reset(&n->vdev);
			ok = false;
			break;
		}
		if (r == VIRTQ_POP_REJECTED)
			virtq_push(&vq->vq, req.head, 0);
		else
			ctrl_request(n, &vq->vq, &req);
	}
	if (virtq_needs_notify(&vq->vq))
		virtio_queue_signal(vq);
	return ok;
}

static void *ctrl_thread(void *arg)
{
	struct virtio_net *n = arg;
	struct virtio_queue *vq = &n->vdev.queues[n->ctrl_idx];
	struct pollfd pfd[2] = {
		{ .fd = n->stop_fd, .events = POLLIN },
		{ .fd = vq->kick_fd, .events = POLLIN },
	};
	unsigned int nfds = 2;
	uint64_t v;

	pthread_setname_np(pthread_self(), "net-ctrl");
	virtio_dev_thread_init(&n->vdev);
	/* A driver may have queued a command before its first kick reached us. */
	if (!ctrl_drain(n, vq))
		nfds = 1;
	for (;;) {
		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err_rl("%s: control queue: poll: %s", n->name, strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		if (nfds > 1 && (pfd[1].revents & POLLIN)) {
			if (read(vq->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn_rl("%s: control queue kick: %s", n->name, strerror(errno));
			if (!ctrl_drain(n, vq))
				nfds = 1;	/* broken: wait for the reset */
		}
	}
	return NULL;
}

/* ---- activate and reset ---- */

static void stop_pair(struct virtio_net *n, unsigned int i)
{
	struct net_pair *p = &n->p[i];
	struct vhost_vring_file none = { .fd = VHOST_FILE_UNBIND };
	uint16_t base[2] = { 0, 0 };

	for (unsigned int v = 0; v < 2; v++) {
		int r;

		none.index = v;
		r = vhost_ioctl(n->sys, p->vhost_fd, VHOST_NET_SET_BACKEND, &none);
		if (r < 0)
			log_warn_rl("%s: pair %u vring %u: VHOST_NET_SET_BACKEND -1: %s", n->name, i,
				    v, strerror(-r));
	}
	for (unsigned int v = 0; v < 2; v++)
		if (vhost_vring_stop(n->sys, p->vhost_fd, v, &base[v]) < 0)
			log_warn_rl("%s: pair %u vring %u: taking it back from vhost failed", n->name,
				    i, v);
	trace(LOG_VHOST, "%s: pair %u stopped: backend -1, rx at %u, tx at %u", n->name, i,
	      base[0], base[1]);
	p->started = false;
}

static int start_pair(struct virtio_net *n, unsigned int i, uint64_t features)
{
	struct net_pair *p = &n->p[i];
	struct virtio_dev *v = &n->vdev;
	int ret;

	ret = vhost_set_features(n->sys, p->vhost_fd, features);
	if (!ret)
		ret = vhost_set_mem_table(n->sys, p->vhost_fd, v->mem);
	for (unsigned int r = 0; r < 2 && !ret; r++)
		ret = vhost_vring_start(n->sys, p->vhost_fd, r, &v->queues[2 * i + r], v->mem);
	for (unsigned int r = 0; r < 2 && !ret; r++) {
		struct vhost_vring_file b = { .index = r, .fd = p->tap_fd };

		ret = vhost_ioctl(n->sys, p->vhost_fd, VHOST_NET_SET_BACKEND, &b);
		trace(LOG_VHOST, "%s: pair %u vring %u: VHOST_NET_SET_BACKEND tap fd %d: %s",
		      n->name, i, r, p->tap_fd, ret < 0 ? strerror(-ret) : "ok");
	}
	if (ret) {
		log_warn_rl("%s: handing queue pair %u to vhost-net: %s", n->name, i,
			    strerror(-ret));
		stop_pair(n, i);
		return ret;
	}
	p->started = true;
	return 0;
}

/* What the tap may hand the guest: only what its driver said it takes. */
static unsigned int tap_offloads(uint64_t f)
{
	unsigned int off = 0;

	if (!(f & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	off |= TUN_F_CSUM;
	if (f & BIT(VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (f & BIT(VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	return off;
}

static void net_reset(struct virtio_dev *vdev);

static int net_activate(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	uint64_t f = vdev->driver_features;
	unsigned int usable, off = tap_offloads(f);
	int ret;

	n->mq = f & BIT(VIRTIO_NET_F_MQ);
	usable = n->mq ? n->pairs : 1;
	n->ctrl_idx = -1;
	if (f & BIT(VIRTIO_NET_F_CTRL_VQ))
		n->ctrl_idx = (int)(2 * usable);	/* after the pairs the driver knows of */
	n->active = true;
	ret = vhost_ioctl(n->sys, n->p[0].tap_fd, TUNSETOFFLOAD, (void *)(uintptr_t)off);
	trace(LOG_VHOST, "%s: TUNSETOFFLOAD %#x (features %#llx): %s", n->ifname, off,
	      (unsigned long long)f, ret < 0 ? strerror(-ret) : "ok");
	if (ret < 0) {
		log_warn_rl("%s: TUNSETOFFLOAD %#x: %s", n->name, off, strerror(-ret));
		goto fail;
	}
	for (unsigned int i = 0; i < usable; i++) {
		/* A pair runs when the driver enabled both of its queues. */
		if (!vdev->queues[2 * i].enabled || !vdev->queues[2 * i + 1].enabled)
			continue;
		ret = start_pair(n, i, f & n->vhost_features & VHOST_PASS);
		if (ret)
			goto fail;
	}
	/* Until VQ_PAIRS_SET says otherwise only the first pair is used (spec 5.1.6.5.5). */
	set_pairs(n, 1);
	if (n->ctrl_idx >= 0 && vdev->queues[n->ctrl_idx].enabled) {
		ret = -pthread_create(&n->ctrl, NULL, ctrl_thread, n);
		if (ret) {
			log_warn_rl("%s: starting the control queue's thread: %s", n->name,
				    strerror(-ret));
			goto fail;
		}
		n->ctrl_running = true;
	}
	return 0;
fail:
	net_reset(vdev);
	return ret;
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	uint64_t one = 1;

	if (n->ctrl_running) {
		if (write(n->stop_fd, &one, sizeof(one)) < 0)
			log_err("%s: stopping the control queue's thread: %s", n->name,
				strerror(errno));
		pthread_join(n->ctrl, NULL);
		if (read(n->stop_fd, &one, sizeof(one)) < 0)
			one = 0;
		n->ctrl_running = false;
	}
	for (unsigned int i = 0; i < n->pairs; i++)
		if (n->p[i].started)
			stop_pair(n, i);
	n->active = false;
	n->mq = false;
}

static const struct virtio_dev_ops net_ops = {
	.activate = net_activate,
	.reset = net_reset,
	.config_read = config_read,
	.config_write = config_write,
};

int virtio_net_create(const struct net_opts *o, const struct vhost_sys *sys,
		      struct virtio_dev **out, char *err, size_t errlen)
{
	struct virtio_net *n;
	char mac[18];
	int ret;

	if (!net_ifname_ok(o->tap))
		return errbuf_set(err, errlen, -EINVAL,
			    "--net tap=%s: not an interface name (1 to %d characters, no '/', ':' or spaces)",
			    o->tap, NET_IFNAME_MAX);
	if (o->queues > NET_MAX_QUEUE_PAIRS)
		return errbuf_set(err, errlen, -EINVAL, "--net tap=%s: queues=%u: at most %d", o->tap,
			    o->queues, NET_MAX_QUEUE_PAIRS);
	n = calloc(1, sizeof(*n));
	if (!n)
		return errbuf_set(err, errlen, -ENOMEM, "--net tap=%s: out of memory", o->tap);
	n->sys = sys ? sys : &vhost_sys_real;
	n->stop_fd = -1;
	for (unsigned int i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		n->p[i] = (struct net_pair){ .tap_fd = -1, .vhost_fd = -1 };
	snprintf(n->ifname, sizeof(n->ifname), "%s", o->tap);
	snprintf(n->name, sizeof(n->name), "virtio-net %s", o->tap);
	n->pairs = o->queues ? o->queues : 1;
	if (o->mac_set)
		memcpy(n->mac, o->mac, 6);
	else
		net_mac_default(o->tap, n->mac);

	/* vhost-net first: a host without it gets its one line and no tap. */
	for (unsigned int i = 0; i < n->pairs; i++) {
		ret = open_vhost(n, &n->p[i], err, errlen);
		if (ret)
			goto err;
	}
	for (unsigned int i = 0; i < n->pairs; i++) {
		ret = open_tap_queue(n, i, err, errlen);
		if (ret)
			goto err;
	}
	n->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (n->stop_fd < 0) {
		ret = errbuf_set(err, errlen, -errno, "--net tap=%s: eventfd: %s", o->tap, strerror(errno));
		goto err;
	}

	memcpy(n->config, n->mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP;
	n->config[7] = 0;
	n->config[8] = (uint8_t)n->pairs;
	n->config[9] = (uint8_t)(n->pairs >> 8);

	n->vdev = (struct virtio_dev){
		.ops = &net_ops,
		.opaque = n,
		.name = n->name,
		.device_id = VIRTIO_ID_NET,
		.nr_queues = (uint16_t)(2 * n->pairs + (n->pairs > 1)),
		.queue_max = VIRTIO_NET_QUEUE_MAX,
		.config_size = CONFIG_SIZE,
		.features = NET_FEATURES | (n->vhost_features & VHOST_PASS &
					    ~BIT(VIRTIO_F_VERSION_1)),
	};
	if (n->pairs > 1)
		n->vdev.features |= BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_VQ);
	log_info("%s: mac %s, %u queue pair%s, tap %s", n->name, net_mac_str(n->mac, mac),
		 n->pairs, n->pairs == 1 ? "" : "s",
		 n->tap_created ? "created (removed when the VM ends)" : "existed (left in place)");
	*out = &n->vdev;
	return 0;
err:
	close_all(n);
	free(n);
	return ret;
}

void virtio_net_destroy(struct virtio_dev *vdev)
{
	struct virtio_net *n;

	if (!vdev)
		return;
	n = to_net(vdev);
	if (n->active)
		net_reset(vdev);
	/* The last queue fd of a tap we created takes the tap with it: never persistent. */
	close_all(n);
	free(n);
}

void virtio_net_mac(struct virtio_dev *vdev, uint8_t mac[6])
{
	memcpy(mac, to_net(vdev)->mac, 6);
}

bool virtio_net_created_tap(struct virtio_dev *vdev)
{
	return to_net(vdev)->tap_created;
}
