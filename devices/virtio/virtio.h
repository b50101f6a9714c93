/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_VIRTIO_H
#define DEVICES_VIRTIO_VIRTIO_H

/*
 * A virtio device, as the transport sees it and as a device model (blk,
 * later net and vsock) implements it. The device never sees PCI, KVM or
 * struct vm: the transport (virtio_pci.c) collects feature, status and
 * queue registers from the guest and, when the driver sets DRIVER_OK, hands
 * the device its queues already set up over the bounded guest-memory
 * accessor, each with
 *   kick_fd  an eventfd KVM signals when the guest writes the queue's
 *            notify address (an ioeventfd: no exit to our process), and
 *   call_fd  an eventfd whose signal reaches the guest as the queue's MSI-X
 *            vector (an irqfd) - or pends in the PBA while masked.
 * The device's own thread waits on the kick fds, walks the queues, does the
 * I/O and writes call_fd when virtq_needs_notify() says so. Nothing on that
 * path passes through a vCPU.
 *
 * Life cycle, driven by the guest through the transport:
 *   activate  DRIVER_OK with every enabled queue valid: start serving;
 *   reset     the driver wrote status 0 (or FLR, or the VM ends): stop
 *             serving and forget the queues; activate may come again.
 * A queue the device finds broken (virtq_pop() < 0) is reported with
 * virtio_dev_needs_reset(): the transport sets DEVICE_NEEDS_RESET and
 * raises a configuration-change interrupt, and the device stops using it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/guest_mem.h"
#include "devices/virtio/virtqueue.h"

#define VIRTIO_MAX_QUEUES	64

struct virtio_dev;

struct virtio_queue {
	struct virtq vq;	/* valid while the device is active and the queue enabled */
	bool enabled;
	int kick_fd;		/* -1 when none */
	int call_fd;		/* -1 when the queue has no MSI-X vector */
};

struct virtio_dev_ops {
	/* Start serving: queues[0..nr_queues) that are enabled are set up. 0 or -errno. */
	int (*activate)(struct virtio_dev *vdev);
	/* Stop serving (joins the I/O thread); the transport forgets the queues after. */
	void (*reset)(struct virtio_dev *vdev);
	/* Device-specific configuration (virtio-blk's capacity, ...): off + len <= config_size. */
	void (*config_read)(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vdev, uint32_t off, const void *data,
			     uint32_t len);
	/* Optional: the VM is going away for good; free what activate/init made. */
	void (*destroy)(struct virtio_dev *vdev);
};

struct virtio_dev {
	/* Filled by the device model before the transport takes it. */
	const struct virtio_dev_ops *ops;
	void *opaque;
	const char *name;
	uint16_t device_id;	/* VIRTIO_ID_* (virtio_ids.h): 2 for a block device */
	uint16_t nr_queues;
	uint16_t queue_max;	/* largest queue size the device accepts (power of 2) */
	uint32_t config_size;
	uint64_t features;	/* what the device offers; the transport adds VERSION_1 */

	/* Set by the transport. */
	uint64_t driver_features;	/* negotiated (FEATURES_OK) */
	const struct guest_mem *mem;
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	void *transport;
	void (*needs_reset)(struct virtio_dev *vdev);	/* see virtio_dev_needs_reset() */

	/*
	 * Set by whoever composes the VM (optional): the first thing every
	 * thread the device starts runs, before it touches a queue. vfio-vmm
	 * installs the I/O thread's seccomp filter there; nonzero is logged by
	 * the hook and the thread carries on under the filter it inherited.
	 */
	int (*thread_init)(void);
};

static inline void virtio_dev_thread_init(struct virtio_dev *vdev)
{
	if (vdev->thread_init)
		vdev->thread_init();
}

/* A queue broke (hostile or buggy driver): the device stops using it and tells the driver. */
static inline void virtio_dev_needs_reset(struct virtio_dev *vdev)
{
	if (vdev->needs_reset)
		vdev->needs_reset(vdev);
}

/* Signals the queue's interrupt (call_fd), if it has one. */
void virtio_queue_signal(struct virtio_queue *q);

#endif
