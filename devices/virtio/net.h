/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_NET_H
#define DEVICES_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "devices/net.h"
#include "devices/virtio/vhost.h"
#include "devices/virtio/virtio.h"

/*
 * virtio-net (virtio 1.x, device id 1) whose data plane is the kernel's
 * vhost-net over a tap. Our process sets it up and steps aside: at
 * DRIVER_OK each queue pair's vrings, with the transport's kick ioeventfds
 * and MSI-X irqfds, go to a vhost-net fd whose backend is one queue of
 * the tap; packets then move between the guest's buffers and the tap in
 * the kernel, and no vCPU exit or thread of ours sees them.
 *
 * Queues: receiveq1, transmitq1, ..., receiveqN, transmitqN (one vhost-net
 * fd and one tap queue per pair, the tap made with IFF_MULTI_QUEUE when N
 * > 1), then with N > 1 a control queue, served by a small thread of ours:
 * it understands VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET only, attaching the tap
 * queues of the pairs the driver uses and detaching the others (so that
 * the tap does not steer packets to queues no one fills).
 *
 * Features offered: CSUM, GUEST_CSUM, GUEST_TSO4/6, HOST_TSO4/6, MAC,
 * STATUS; MRG_RXBUF, EVENT_IDX and INDIRECT_DESC when vhost-net has them;
 * MQ and CTRL_VQ with more than one pair. The tap's offloads
 * (TUNSETOFFLOAD) follow what the driver accepted, at each DRIVER_OK.
 * Configuration: mac, status (always LINK_UP), max_virtqueue_pairs.
 *
 * The tap: opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, 12-byte headers
 * (struct virtio_net_hdr_v1, as VERSION_1 has it). When it does not exist
 * it is created, and never made persistent: the kernel removes it when our
 * last queue fd closes, whatever way the process ends (even SIGKILL). A
 * tap that existed is attached to and left as it was found otherwise. A
 * tap we create is left down, as `ip tuntap add` leaves one: the host side
 * (an address, a bridge) is the administrator's.
 *
 * Threads as in virtio-blk: config_read/write from any thread; activate,
 * reset and destroy from the transport, serialised; reset joins the
 * control queue's thread.
 */

#define VIRTIO_NET_QUEUE_MAX	256

/*
 * Opens vhost-net and the tap as o asks (sys NULL: the real system calls).
 * vhost-net first, so that a host without it creates no tap. On success
 * *out is a device ready for the transport. On failure: -errno, ONE line
 * in err naming the problem and its fix, nothing left open or created.
 */
int virtio_net_create(const struct net_opts *o, const struct vhost_sys *sys,
		      struct virtio_dev **out, char *err, size_t errlen);

/* Stops the device if it is active, closes everything (a tap we created goes with it). */
void virtio_net_destroy(struct virtio_dev *vdev);

/* The MAC the guest sees, and whether we created the tap (for messages and tests). */
void virtio_net_mac(struct virtio_dev *vdev, uint8_t mac[6]);
bool virtio_net_created_tap(struct virtio_dev *vdev);

/*
 * One control-queue command (class, command, data as the driver wrote
 * them, concatenated): VIRTIO_NET_OK or VIRTIO_NET_ERR. What the control
 * thread does per request; exported for tests.
 */
uint8_t virtio_net_ctrl_command(struct virtio_dev *vdev, const uint8_t *cmd, size_t len);

#endif
