/* SPDX-License-Identifier: MIT */
#ifndef HOST_MDEV_H
#define HOST_MDEV_H

#include <stddef.h>

#include "host/host.h"

/*
 * Mediated device instances (/sys/bus/mdev/devices/UUID): what `devices`
 * lists, `doctor` checks and an mdev_type alias picks. A vendor driver makes
 * them (echo UUID > /sys/class/mdev_bus/PARENT/mdev_supported_types/TYPE/create);
 * each sits in an IOMMU group of its own that VFIO emulates.
 */
struct host_mdev {
	char uuid[HOST_BDF_LEN];
	char type[64];		/* the mdev_type link's name, e.g. mgpu-h100 */
	char parent[64];	/* the parent device's name */
	char driver[64];	/* "" when unbound */
	int group;		/* -1: none */
};

/* Every instance, sorted by UUID; *out is malloc'd (NULL with n 0 when there are none). */
int host_mdev_list(const struct host_env *env, struct host_mdev **out, size_t *n);
/* One instance by UUID or /sys/bus/mdev/devices/UUID: 0, -EINVAL (not a UUID), -ENOENT. */
int host_mdev_read(const struct host_env *env, const char *arg, struct host_mdev *m);

#endif
