// SPDX-License-Identifier: MIT
#include "virtio_driver.h"

#include <criterion/criterion.h>
#include <endian.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

void vdrv_init(struct vdrv *d, struct virtio_dev *vdev)
{
	memset(d, 0, sizeof(*d));
	d->ram = aligned_alloc(4096, VDRV_RAM_SIZE);
	cr_assert(d->ram);
	memset(d->ram, 0, VDRV_RAM_SIZE);
	cr_assert_eq(guest_mem_add(&d->mem, 0, VDRV_RAM_SIZE, d->ram), 0);
	d->brk = VDRV_BUF_BASE;
	d->vdev = vdev;
	vdev->mem = &d->mem;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->queues[i].kick_fd = vdev->queues[i].call_fd = -1;
}

static void close_fds(struct vdrv *d)
{
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtio_queue *q = &d->vdev->queues[i];

		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
		q->kick_fd = q->call_fd = -1;
	}
}

void vdrv_fini(struct vdrv *d)
{
	close_fds(d);
	free(d->ram);
	d->ram = NULL;
}

void *vdrv_host(struct vdrv *d, uint64_t gpa)
{
	cr_assert(gpa < VDRV_RAM_SIZE);
	return d->ram + gpa;
}

void vdrv_setup_queues(struct vdrv *d, unsigned int n, uint16_t size, uint64_t features)
{
	cr_assert(n <= VDRV_MAX_QUEUES && size <= 256);
	close_fds(d);
	memset(d->ram, 0, VDRV_BUF_BASE);
	d->nr_queues = n;
	d->vdev->driver_features = features;
	for (unsigned int i = 0; i < n; i++) {
		struct vdrv_queue *q = &d->q[i];
		struct virtio_queue *vq = &d->vdev->queues[i];
		uint64_t base = VDRV_QUEUE_AREA + (uint64_t)i * VDRV_QUEUE_STRIDE;

		memset(q, 0, sizeof(*q));
		q->size = size;
		q->desc_gpa = base;
		q->avail_gpa = base + 4096;
		q->used_gpa = base + 8192;
		cr_assert_eq(virtq_setup(&vq->vq, &d->mem, size, q->desc_gpa, q->avail_gpa,
					 q->used_gpa, features), 0);
		vq->enabled = true;
		/* A blocking kick fd, as KVM's ioeventfd may be; the call fd non-blocking. */
		vq->kick_fd = eventfd(0, EFD_CLOEXEC);
		vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		cr_assert(vq->kick_fd >= 0 && vq->call_fd >= 0);
	}
}

uint64_t vdrv_alloc_aligned(struct vdrv *d, uint32_t len, uint32_t align)
{
	uint64_t gpa = (d->brk + align - 1) & ~(uint64_t)(align - 1);

	d->brk = (gpa + len + 15) & ~15ULL;
	cr_assert(d->brk <= VDRV_RAM_SIZE, "test guest RAM exhausted");
	memset(d->ram + gpa, 0, len);
	return gpa;
}

uint64_t vdrv_alloc(struct vdrv *d, uint32_t len)
{
	return vdrv_alloc_aligned(d, len, 16);
}

static void put_desc(struct vdrv *d, uint64_t table, uint16_t i, const struct vdrv_buf *b,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc v = {
		.addr = htole64(b ? b->gpa : 0), .len = htole32(b ? b->len : 0),
		.flags = htole16(flags | (b && b->writable ? VRING_DESC_F_WRITE : 0)),
		.next = htole16(next),
	};

	memcpy(vdrv_host(d, table + 16ULL * i), &v, sizeof(v));
}

uint16_t vdrv_post(struct vdrv *d, unsigned int qi, const struct vdrv_buf *bufs,
		   unsigned int n, bool indirect)
{
	struct vdrv_queue *q = &d->q[qi];
	uint16_t head = q->next_desc, idx;

	cr_assert(n >= 1 && qi < d->nr_queues);
	if (indirect) {
		uint64_t table = vdrv_alloc(d, 16 * n);
		struct vdrv_buf t = { .gpa = table, .len = 16 * n };

		for (unsigned int i = 0; i < n; i++)
			put_desc(d, table, (uint16_t)i, &bufs[i],
				 i + 1 < n ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
		put_desc(d, q->desc_gpa, head, &t, VRING_DESC_F_INDIRECT, 0);
		q->next_desc = (uint16_t)((head + 1) % q->size);
	} else {
		for (unsigned int i = 0; i < n; i++) {
			uint16_t cur = (uint16_t)((head + i) % q->size);
			uint16_t next = (uint16_t)((cur + 1) % q->size);

			put_desc(d, q->desc_gpa, cur, &bufs[i], i + 1 < n ? VRING_DESC_F_NEXT : 0,
				 next);
		}
		q->next_desc = (uint16_t)((head + n) % q->size);
	}
	idx = q->avail_idx;
	*(uint16_t *)vdrv_host(d, q->avail_gpa + 4 + 2ULL * (idx % q->size)) = htole16(head);
	q->avail_idx++;
	/* The ring entry before the index that publishes it. */
	__atomic_store_n((uint16_t *)vdrv_host(d, q->avail_gpa + 2), htole16(q->avail_idx),
			 __ATOMIC_RELEASE);
	return head;
}

void vdrv_kick(struct vdrv *d, unsigned int qi)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	cr_assert_eq(write(d->vdev->queues[qi].kick_fd, &one, sizeof(one)), 8);
}

uint16_t vdrv_used_idx(struct vdrv *d, unsigned int qi)
{
	return le16toh(__atomic_load_n((uint16_t *)vdrv_host(d, d->q[qi].used_gpa + 2),
				       __ATOMIC_ACQUIRE));
}

void vdrv_used_elem(struct vdrv *d, unsigned int qi, uint16_t n, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem e;

	memcpy(&e, vdrv_host(d, d->q[qi].used_gpa + 4 + 8ULL * (n % d->q[qi].size)), sizeof(e));
	*id = le32toh(e.id);
	*len = le32toh(e.len);
}

void vdrv_set_used_event(struct vdrv *d, unsigned int qi, uint16_t v)
{
	struct vdrv_queue *q = &d->q[qi];

	__atomic_store_n((uint16_t *)vdrv_host(d, q->avail_gpa + 4 + 2ULL * q->size), htole16(v),
			 __ATOMIC_RELAXED);
}

void vdrv_set_avail_flags(struct vdrv *d, unsigned int qi, uint16_t flags)
{
	__atomic_store_n((uint16_t *)vdrv_host(d, d->q[qi].avail_gpa), htole16(flags),
			 __ATOMIC_RELAXED);
}

bool vdrv_signalled(struct vdrv *d, unsigned int qi)
{
	uint64_t v;

	return read(d->vdev->queues[qi].call_fd, &v, sizeof(v)) == sizeof(v);
}

bool vdrv_wait_used(struct vdrv *d, unsigned int qi, uint16_t want)
{
	struct pollfd p = { .fd = d->vdev->queues[qi].call_fd, .events = POLLIN };

	for (;;) {
		uint16_t used = vdrv_used_idx(d, qi);

		if ((int16_t)(used - want) >= 0)
			return true;
		/* Interrupt me at the next one; then look again before sleeping. */
		vdrv_set_used_event(d, qi, used);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (used != vdrv_used_idx(d, qi))
			continue;
		if (poll(&p, 1, VDRV_TIMEOUT_MS) != 1)
			return false;
		vdrv_signalled(d, qi);
	}
}
