/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_VSOCK_H
#define DEVICES_VIRTIO_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/vhost.h"
#include "devices/virtio/virtio.h"

/*
 * virtio-vsock (virtio 1.x, device id 19) whose data plane is the kernel's
 * vhost-vsock: the guest gets a context id (CID) and reaches host sockets
 * bound to AF_VSOCK (CID 2) and host processes reach it at its CID, with
 * no exit and no thread of ours on the path.
 *
 * Queues: rx (0) and tx (1) are vhost-vsock's vrings from DRIVER_OK on
 * (VHOST_VSOCK_SET_RUNNING 1; 0 at reset). The event queue (2) stays with
 * us and is never used: its only event, TRANSPORT_RESET, is for a VM that
 * migrated, which ours do not.
 *
 * The CID is claimed at create (VHOST_VSOCK_SET_GUEST_CID) and held for as
 * long as the vhost fd is open, so a second VM asking for it is told at
 * setup, and the CID is free again however this process ends.
 */

/* Guest CIDs vhost-vsock accepts: 0-2 are reserved, 2^32-1 is VMADDR_CID_ANY. */
#define VSOCK_CID_MIN	3u
#define VSOCK_CID_MAX	0xfffffffeu

#define VIRTIO_VSOCK_QUEUE_MAX	256

/*
 * Opens /dev/vhost-vsock and claims cid (sys NULL: the real system calls).
 * On failure: -errno, ONE line in err naming the problem and its fix, nothing
 * left open.
 */
int virtio_vsock_create(uint32_t cid, const struct vhost_sys *sys, struct virtio_dev **out,
			char *err, size_t errlen);
void virtio_vsock_destroy(struct virtio_dev *vdev);

#endif
