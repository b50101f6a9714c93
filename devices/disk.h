/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_DISK_H
#define DEVICES_DISK_H

#include <stdbool.h>

/*
 * What the user asked for one disk (--disk), as plain data: the CLI fills
 * it without touching the file, and the block device model opens the file
 * at VM setup. Shared by vmm/ and devices/, so it holds no device state.
 */
#define DISK_SERIAL_MAX	20	/* virtio-blk GET_ID: 20 bytes, zero padded */
#define DISK_MAX_QUEUES	64	/* = VIRTIO_MAX_QUEUES */

struct disk_opts {
	const char *path;	/* raw image file or block device */
	bool readonly;		/* open O_RDONLY, offer VIRTIO_BLK_F_RO, take a read lock */
	bool direct;		/* O_DIRECT: bypass the host page cache */
	const char *serial;	/* NULL: derived from the path's basename */
	unsigned int queues;	/* 0: the caller's default (one per vCPU) */
};

#endif
