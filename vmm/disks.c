// SPDX-License-Identifier: MIT
/*
 * --disk at VM setup: every image opened, sized and locked before the
 * guest exists, so a mistake is reported before anything is built.
 */
#include "vmm/disks.h"

#include "devices/virtio/blk.h"

int disks_open(const struct disk_opts *opts, unsigned int n, unsigned int nr_cpus,
	       struct disks *d, char *err, size_t errlen)
{
	unsigned int queues = nr_cpus < DISK_MAX_QUEUES ? nr_cpus : DISK_MAX_QUEUES;
	int ret;

	d->nr = 0;
	if (n > CLI_MAX_DISKS)
		n = CLI_MAX_DISKS;
	for (unsigned int i = 0; i < n; i++) {
		ret = virtio_blk_create(&opts[i], queues ? queues : 1, &d->devs[i], err, errlen);
		if (ret) {
			disks_close(d);
			return ret;
		}
		d->nr++;
	}
	return 0;
}

void disks_close(struct disks *d)
{
	while (d->nr)
		virtio_blk_destroy(d->devs[--d->nr]);
}
