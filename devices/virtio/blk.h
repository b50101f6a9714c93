/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <stddef.h>

#include "devices/disk.h"
#include "devices/virtio/virtio.h"

/*
 * virtio-blk (virtio 1.x, device id 2) over a raw image file or a host
 * block device. The transport drives it through struct virtio_dev_ops
 * (virtio.h); the I/O runs on one thread per device, through io_uring,
 * never on a vCPU.
 *
 * Threads:
 *   config_read/config_write  any thread, any time: the configuration
 *                             space never changes after create;
 *   activate/reset/destroy    the transport, serialised with each other
 *                             (e.g. under its lock), never from the I/O
 *                             thread; reset returns once the I/O thread
 *                             has finished every request in flight and
 *                             exited, so the queues are the transport's
 *                             again;
 *   needs_reset               called FROM the I/O thread when a queue
 *                             breaks; it must not call reset (that joins
 *                             the calling thread).
 */

/* The largest queue the device accepts, and data buffers per request. */
/* PCI class code the transport shows: mass storage, other (0x01/0x80). */
#define VIRTIO_BLK_PCI_CLASS	0x018000
#define VIRTIO_BLK_QUEUE_MAX	256
#define VIRTIO_BLK_SEG_MAX	126	/* + header and status: 128 descriptors */

/*
 * Opens o->path (O_RDONLY for readonly, O_DIRECT for direct), sizes it,
 * takes an OFD lock (read lock for readonly, else write lock) so that no
 * second VM writes the same image, probes discard/write-zeroes support and
 * sets up the io_uring. nr_queues is the default queue count (one per
 * vCPU); o->queues, when not 0, wins. On success *out is a device ready
 * for the transport. On failure returns -errno with ONE line in err naming
 * the problem and its fix (prefixed "--disk PATH: "), nothing logged and
 * nothing left open.
 */
int virtio_blk_create(const struct disk_opts *o, unsigned int nr_queues,
		      struct virtio_dev **out, char *err, size_t errlen);

/* Stops the device if it is active, releases the lock, closes and frees. */
void virtio_blk_destroy(struct virtio_dev *vdev);

#endif
