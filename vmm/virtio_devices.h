/* SPDX-License-Identifier: MIT */
#ifndef VMM_VIRTIO_DEVICES_H
#define VMM_VIRTIO_DEVICES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/cli.h"

struct vm;
struct virtio_dev;
struct virtio_pci;

#define VIRTIO_DEVICES_MAX	16

/*
 * The VM's virtio devices, each a device model on its own virtio-pci
 * function on the root bus. Two steps, because the backends belong to the
 * user and the transport to the VM:
 *
 *   open     before the VM exists: each device model opens its backend
 *            (--disk: the image, locked; --net: vhost-net and the tap;
 *            --vsock: vhost-vsock and the CID), so the user's mistakes and the host's missing modules
 *            are told before anything is built;
 *   attach   once the VM exists, before BAR placement: each device is
 *            wrapped by virtio_pci_init() and put on the root bus with
 *            pci_root_add(), like a passthrough device.
 *
 * release undoes both on every exit path after the vCPUs stopped and
 * before vm_destroy(): the transport resets each device (vhost lets go of
 * guest RAM and the eventfds), then the device closes its fds (a tap we
 * created goes with them).
 */
struct virtio_devices {
	unsigned int nr;
	struct virtio_dev *vdev[VIRTIO_DEVICES_MAX];
	void (*destroy[VIRTIO_DEVICES_MAX])(struct virtio_dev *vdev);	/* its model's */
	uint32_t class_code[VIRTIO_DEVICES_MAX];
	struct virtio_pci *vp[VIRTIO_DEVICES_MAX];	/* set by attach */
};

/*
 * Opens the --disk, --net and --vsock devices of o, disks first, each kind
 * in command-line order. All or
 * nothing: 0, or -errno with ONE line in err and nothing left open. The
 * composition root prints it and exits with VMM_EXIT_USAGE: each line names
 * what the command line asked for and the fix.
 */
int virtio_devices_open(const struct cli_opts *o, struct virtio_devices *vd, char *err,
			size_t errlen);

/*
 * A device model opened elsewhere (virtio-blk, say), with the function that
 * frees it (virtio_blk_destroy): vd owns it from here, even on -ENOSPC.
 */
int virtio_devices_add(struct virtio_devices *vd, struct virtio_dev *vdev, uint32_t class_code,
		       void (*destroy)(struct virtio_dev *vdev));

/* Each device on its transport, on vm's root bus; errors logged. */
int virtio_devices_attach(struct vm *vm, struct virtio_devices *vd);

/* --stats: per device, notify exits (0 when every kick went through an ioeventfd) and BAR0. */
void virtio_devices_print_stats(struct virtio_devices *vd, FILE *f);

/* Transports stopped and freed, devices destroyed; vd may be released twice. */
void virtio_devices_release(struct virtio_devices *vd);

#endif
