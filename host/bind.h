/* SPDX-License-Identifier: MIT */
#ifndef HOST_BIND_H
#define HOST_BIND_H

#include <stddef.h>
#include <sys/types.h>

#include "host/host.h"

/*
 * Moving PCI functions to vfio-pci and back. bind records the driver it
 * took the device from in <run_dir>/<bdf>.driver; unbind gives the device
 * back to that driver. Both are idempotent: binding a device already on
 * vfio-pci, or unbinding one that is not, changes nothing and says so.
 * They return 0 or -errno; msg holds one line either way (what was done,
 * or what went wrong and the fix).
 */
int host_bind(const struct host_env *env, const char *dev, char *msg, size_t len);
int host_unbind(const struct host_env *env, const char *dev, char *msg, size_t len);

/* The functions of dev's IOMMU group that bind --group moves (no bridges). */
int host_group_bindable(const struct host_env *env, const char *dev,
			char (*out)[HOST_BDF_LEN], size_t max, size_t *n, char *msg, size_t len);

/*
 * A process other than us with /dev/vfio/<group> open: its pid (and comm),
 * 0 when none, -errno if proc cannot be read.
 */
pid_t host_group_user(const struct host_env *env, int group, char *comm, size_t len);

/* Per-device locks, held by a running VMM: see lock.c. */
pid_t host_lock_holder(const struct host_env *env, const char *bdf);

#endif
