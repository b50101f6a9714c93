/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_VHOST_H
#define DEVICES_VIRTIO_VHOST_H

/*
 * What a device model whose data plane is a vhost kernel driver
 * (vhost-net, vhost-vsock) asks of it: ownership, features, the guest RAM
 * table, and the vrings, handed over at DRIVER_OK and taken back at reset.
 *
 * A queue's kick fd (the transport's KVM ioeventfd on the notify address)
 * becomes the vring's kick, its call fd (the MSI-X vector's eventfd, an
 * irqfd) the vring's call. From then on the kernel moves the data: a guest
 * notify wakes the vhost worker without an exit, and the worker's signal
 * reaches the guest as an MSI without passing through us.
 *
 * vhost reads the rings and buffers through our process's own mappings
 * (the owner's mm, fixed by VHOST_SET_OWNER): the memory table says which
 * guest-physical range is at which host virtual address, and the ring
 * addresses are host virtual addresses. Both come from the guest_mem
 * table, that is only from RAM the guest was given: vhost itself checks
 * each buffer the guest names against the table.
 *
 * The system calls go through struct vhost_sys so that unit tests can
 * record them (and play a kernel that says no); vhost_sys_real makes them.
 * Functions return 0 (or an fd) or -errno and log nothing: the caller
 * knows whether a guest or the user caused it and words the one line.
 */
#include <stdint.h>

#include "devices/guest_mem.h"
#include "devices/virtio/virtio.h"

struct vhost_sys {
	int (*open)(void *ctx, const char *path, int flags);	/* fd or -errno */
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);	/* >= 0 or -errno */
	void (*close)(void *ctx, int fd);
	void *ctx;
};

extern const struct vhost_sys vhost_sys_real;

static inline int vhost_ioctl(const struct vhost_sys *s, int fd, unsigned long req, void *arg)
{
	return s->ioctl(s->ctx, fd, req, arg);
}

/* open(path, O_RDWR), VHOST_SET_OWNER, VHOST_GET_FEATURES: the fd, or -errno and nothing open. */
int vhost_open(const struct vhost_sys *s, const char *path, uint64_t *features);
int vhost_set_features(const struct vhost_sys *s, int fd, uint64_t features);
/* VHOST_SET_MEM_TABLE: one vhost region per guest_mem region. */
int vhost_set_mem_table(const struct vhost_sys *s, int fd, const struct guest_mem *mem);
/*
 * Hands vring idx the queue q (set up by the transport): VHOST_SET_VRING_NUM
 * (its size), _BASE (0: a queue starts at index 0 after DRIVER_OK), _ADDR
 * (host addresses of the three rings), _KICK (q->kick_fd) and _CALL
 * (q->call_fd, -1 for none). -EFAULT when a ring is not in mem (the
 * transport checked that already).
 */
int vhost_vring_start(const struct vhost_sys *s, int fd, unsigned int idx,
		      const struct virtio_queue *q, const struct guest_mem *mem);
/*
 * Takes vring idx back: VHOST_GET_VRING_BASE (where vhost stopped, into
 * *base when not NULL), then _KICK and _CALL unbound, so the kernel holds
 * none of the transport's eventfds past a reset. Every step is tried.
 */
int vhost_vring_stop(const struct vhost_sys *s, int fd, unsigned int idx, uint16_t *base);

#endif
