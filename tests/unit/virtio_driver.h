/* SPDX-License-Identifier: MIT */
#ifndef TESTS_UNIT_VIRTIO_DRIVER_H
#define TESTS_UNIT_VIRTIO_DRIVER_H

/*
 * A virtio driver played by a unit test, for driving a device model exactly
 * as the transport would: one malloc'd "guest RAM" behind a struct
 * guest_mem, split queues laid out in it and virtq_setup()'d into
 * vdev->queues[] with real kick and call eventfds, buffers from a bump
 * allocator, chains posted as a driver posts them, and waits on the call
 * eventfd (the queue's interrupt) with a timeout.
 */
#include <stdbool.h>
#include <stdint.h>

#include "devices/guest_mem.h"
#include "devices/virtio/virtio.h"

#define VDRV_RAM_SIZE		(16u << 20)
#define VDRV_QUEUE_AREA		0x10000u	/* queue i's rings at + i * 16 KiB */
#define VDRV_QUEUE_STRIDE	0x4000u
#define VDRV_BUF_BASE		0x200000u	/* buffers and indirect tables */
#define VDRV_MAX_QUEUES		16
#define VDRV_TIMEOUT_MS		5000

struct vdrv_queue {
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx;	/* the driver's avail->idx */
	uint16_t next_desc;	/* descriptors handed out round robin */
};

struct vdrv {
	uint8_t *ram;
	struct guest_mem mem;
	uint64_t brk;		/* next free buffer address */
	struct virtio_dev *vdev;
	unsigned int nr_queues;
	struct vdrv_queue q[VDRV_MAX_QUEUES];
};

/* One buffer of a chain. */
struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/* RAM, and vdev->mem pointing at it. */
void vdrv_init(struct vdrv *d, struct virtio_dev *vdev);
/* Closes the eventfds and frees RAM (after the device's reset). */
void vdrv_fini(struct vdrv *d);

/*
 * Lays out queues 0..n of size entries, virtq_setup()s them with
 * features (as negotiated: vdev->driver_features is set to it too),
 * enabled, with fresh kick and call eventfds. Again after a reset: fresh
 * rings, indices from 0.
 */
void vdrv_setup_queues(struct vdrv *d, unsigned int n, uint16_t size, uint64_t features);

/* A zeroed buffer in guest RAM, 16-byte (or align-byte) aligned; its host view. */
uint64_t vdrv_alloc(struct vdrv *d, uint32_t len);
uint64_t vdrv_alloc_aligned(struct vdrv *d, uint32_t len, uint32_t align);
void *vdrv_host(struct vdrv *d, uint64_t gpa);

/* Posts a chain (through an indirect table when indirect) and returns its head. */
uint16_t vdrv_post(struct vdrv *d, unsigned int qi, const struct vdrv_buf *bufs,
		   unsigned int n, bool indirect);
/* Writes the queue's kick eventfd (the guest's notify, as KVM's ioeventfd does). */
void vdrv_kick(struct vdrv *d, unsigned int qi);

uint16_t vdrv_used_idx(struct vdrv *d, unsigned int qi);
void vdrv_used_elem(struct vdrv *d, unsigned int qi, uint16_t n, uint32_t *id, uint32_t *len);

/*
 * Waits, as a driver does, until used->idx reaches want: asks for an
 * interrupt at the next completion (used_event, with EVENT_IDX), then
 * sleeps on the call eventfd. false on timeout. Every wake-up must be an
 * interrupt: a device that never signals times out here.
 */
bool vdrv_wait_used(struct vdrv *d, unsigned int qi, uint16_t want);

/* Driver-side interrupt suppression: used_event (EVENT_IDX), avail flags (otherwise). */
void vdrv_set_used_event(struct vdrv *d, unsigned int qi, uint16_t v);
void vdrv_set_avail_flags(struct vdrv *d, unsigned int qi, uint16_t flags);
/* Whether the call eventfd was signalled since the last wait (clears it). */
bool vdrv_signalled(struct vdrv *d, unsigned int qi);

#endif
