/* SPDX-License-Identifier: MIT */
#ifndef VMM_DISKS_H
#define VMM_DISKS_H

#include <stddef.h>

#include "vmm/cli.h"

struct virtio_dev;

/* The --disk devices of a VM, in command-line order. */
struct disks {
	unsigned int nr;
	struct virtio_dev *devs[CLI_MAX_DISKS];
};

/*
 * Opens every --disk as a virtio-blk device with nr_cpus queues (at most
 * DISK_MAX_QUEUES) unless the disk says queues=N. All or nothing: 0, or a
 * negative errno with ONE line in err and nothing left open or locked.
 * The errors are the user's (a path, a lock), so the composition root
 * prints err and exits with VMM_EXIT_USAGE (2). Nothing is logged.
 */
int disks_open(const struct disk_opts *opts, unsigned int n, unsigned int nr_cpus,
	       struct disks *d, char *err, size_t errlen);

/* Destroys them (after the transport is done with them); d can be closed twice. */
void disks_close(struct disks *d);

#endif
