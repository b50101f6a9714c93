/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_BLK_PRIV_H
#define DEVICES_VIRTIO_BLK_PRIV_H

/*
 * Shared by blk.c (the backing file, features, configuration space, life
 * cycle) and blk_io.c (the I/O thread). Not for other users.
 */
#include <liburing.h>
#include <linux/virtio_blk.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/virtio.h"

/* Requests in flight per device; each holds its descriptors' segments. */
#define BLK_NR_REQS		128
#define BLK_MAX_SEGS		(VIRTIO_BLK_SEG_MAX + 2)
/* Ranges in one discard or write-zeroes request, and sectors per range. */
#define BLK_DWZ_MAX_SEG		16
#define BLK_DWZ_MAX_SECTORS	(1u << 22)	/* 2 GiB */
/* Ring entries: every op the device can have outstanding, with room. */
#define BLK_RING_ENTRIES	256

/* Per queue, as the I/O thread sees it. */
struct blk_queue {
	bool usable;		/* enabled and set up at activate */
	bool dead;		/* broke (virtq_pop < 0): never touched again */
	bool kick_armed;	/* a read of kick_fd is in the ring */
	bool touched;		/* pushed this pass: ask virtq_needs_notify */
	uint64_t kick_val;	/* where that read lands */
};

struct blk_req {
	struct blk_req *next_free;
	uint16_t qidx;
	uint16_t head;
	uint32_t type;
	uint8_t *status;	/* the request's last writable byte */
	uint32_t used_len;	/* reported in the used ring on success */

	/* readv/writev: what is left to move, from off */
	uint64_t off;
	struct iovec *iov;	/* into iov_store; advanced after a short transfer */
	unsigned int iovcnt;

	/* discard / write zeroes: one fallocate (or ioctl) per range, in turn */
	unsigned int nr_ranges, cur_range;
	struct { uint64_t off, len; bool unmap; } ranges[BLK_DWZ_MAX_SEG];
	bool punching;		/* the range in flight is a PUNCH_HOLE */

	struct virtq_req vreq;
	struct virtq_seg segs[BLK_MAX_SEGS];
	struct iovec iov_store[BLK_MAX_SEGS];
};

struct virtio_blk {
	struct virtio_dev vdev;		/* first: container_of by cast */
	char name[80];			/* "virtio-blk PATH", for logs */

	/* the backing, fixed at create */
	int fd;
	bool readonly, is_blkdev;
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t blk_size;		/* logical block size */
	bool can_discard, can_write_zeroes;
	bool no_zero_range;		/* a file system without ZERO_RANGE: punch */
	char serial[DISK_SERIAL_MAX];
	struct virtio_blk_config config;	/* little endian, as the guest reads it */

	/* the I/O thread */
	struct io_uring ring;
	int stop_fd;			/* eventfd: reset asks the thread to finish */
	uint64_t stop_val;
	bool active;
	pthread_t thread;
	bool dsync;			/* FLUSH not negotiated: writes are write-through */
	bool stopping;
	unsigned int ops_pending;	/* SQEs whose CQE has not come yet */
	unsigned int rr;		/* queue the next pass starts at */
	struct blk_queue q[VIRTIO_MAX_QUEUES];
	struct blk_req *reqs;		/* BLK_NR_REQS */
	struct blk_req *free_reqs;
};

static inline struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
	return (struct virtio_blk *)vdev;
}

/* blk_io.c */
int blk_io_start(struct virtio_blk *b);
void blk_io_stop(struct virtio_blk *b);

#endif
