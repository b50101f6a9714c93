/* SPDX-License-Identifier: MIT */
#ifndef IOMMU_TYPE1_INFO_H
#define IOMMU_TYPE1_INFO_H

#include <stddef.h>

#include "iommu/iommu.h"

/*
 * Decodes a VFIO_IOMMU_GET_INFO reply (struct vfio_iommu_type1_info and
 * its capability chain, len bytes) into info. Pure: no ioctl. -EINVAL
 * with a reason in why for a malformed reply.
 */
int iommu_parse_type1_info(const void *buf, size_t len, struct iommu_info *info,
			   char *why, size_t wlen);

#endif
