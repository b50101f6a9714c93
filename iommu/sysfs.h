/* SPDX-License-Identifier: MIT */
#ifndef IOMMU_SYSFS_H
#define IOMMU_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#include "iommu/iommu.h"

/*
 * Device naming and group discovery through sysfs, before any /dev/vfio
 * file is opened. The root is a parameter so tests can build a fake tree.
 * On error these return -errno and leave a one-line message (naming the
 * device and the fix) in why; the caller logs it.
 */

/* Canonical "dddd:bb:dd.f" from "dddd:bb:dd.f" or "bb:dd.f"; -EINVAL if not one. */
int iommu_parse_bdf(const char *s, char *out, size_t len);
bool iommu_is_uuid(const char *s);

/* Syntax only: fills kind, name and path (no file access). */
int iommu_parse_device(const char *arg, const char *sysfs_root, struct iommu_dev_id *id,
		       char *why, size_t len);

/* The device exists, is bound to a VFIO driver, and has an IOMMU group. */
int iommu_resolve_group(struct iommu_dev_id *id, char *why, size_t len);

/* May this driver be bound to a group member while VFIO owns the group? */
bool iommu_driver_allowed(const char *driver);

/* Every member of the group leaves DMA to VFIO; else lists all offenders. */
int iommu_group_viable(const char *sysfs_root, int group, char *why, size_t len);

#endif
