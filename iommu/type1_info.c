// SPDX-License-Identifier: MIT
/*
 * Decoding VFIO_IOMMU_GET_INFO. The fixed struct gives the IOMMU page sizes;
 * since Linux 5.4 a chain of capabilities follows it in the same buffer:
 * each starts with {id, version, next}, where next is an offset from the
 * start of the buffer (0 ends the chain). We read the usable IOVA ranges
 * (the gaps are the host's reserved regions, e.g. the MSI doorbell window
 * at 0xfee00000) and how many more mappings the container allows.
 *
 * The buffer comes from the kernel, but the parser still refuses offsets
 * that point outside it or backwards, so a bad chain cannot loop or read
 * past the end (and a synthetic buffer in the tests can prove it).
 */
#include "iommu/type1_info.h"

#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static int parse_iova_ranges(const uint8_t *buf, size_t len, uint32_t off,
			     struct iommu_info *info, char *why, size_t wlen)
{
	struct vfio_iommu_type1_info_cap_iova_range cap;
	struct vfio_iova_range r;
	size_t need;

	if (len - off < sizeof(cap)) {
		snprintf(why, wlen, "IOVA range capability at %u is truncated", off);
		return -EINVAL;
	}
	memcpy(&cap, buf + off, sizeof(cap));
	need = sizeof(cap) + (size_t)cap.nr_iovas * sizeof(r);
	if (need > len - off) {
		snprintf(why, wlen, "IOVA range capability claims %u ranges, buffer holds fewer",
			 cap.nr_iovas);
		return -EINVAL;
	}
	if (cap.nr_iovas > IOMMU_MAX_IOVA_RANGES)
		log_warn("IOMMU reports %u usable IOVA ranges; using the first %d",
			 cap.nr_iovas, IOMMU_MAX_IOVA_RANGES);
	info->nr_ranges = 0;
	for (uint32_t i = 0; i < cap.nr_iovas && i < IOMMU_MAX_IOVA_RANGES; i++) {
		memcpy(&r, buf + off + sizeof(cap) + i * sizeof(r), sizeof(r));
		if (r.end < r.start || (i && r.start <= info->ranges[i - 1].end)) {
			snprintf(why, wlen, "IOVA range %u [%#llx-%#llx] is empty or out of order",
				 i, (unsigned long long)r.start, (unsigned long long)r.end);
			return -EINVAL;
		}
		info->ranges[i].start = r.start;
		info->ranges[i].end = r.end;
		info->nr_ranges++;
	}
	return 0;
}

static int parse_dma_avail(const uint8_t *buf, size_t len, uint32_t off,
			   struct iommu_info *info, char *why, size_t wlen)
{
	struct vfio_iommu_type1_info_dma_avail cap;

	if (len - off < sizeof(cap)) {
		snprintf(why, wlen, "DMA-avail capability at %u is truncated", off);
		return -EINVAL;
	}
	memcpy(&cap, buf + off, sizeof(cap));
	info->has_dma_avail = true;
	info->dma_avail = cap.avail;
	return 0;
}

static int parse_cap(const uint8_t *buf, size_t len, uint32_t off, const struct vfio_info_cap_header *h,
		     struct iommu_info *info, char *why, size_t wlen)
{
	switch (h->id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
		return parse_iova_ranges(buf, len, off, info, why, wlen);
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
		return parse_dma_avail(buf, len, off, info, why, wlen);
	default:
		/* Migration and future capabilities: not ours to use. */
		trace(LOG_IOMMU, "GET_INFO: skipping capability id %u v%u at %u", h->id, h->version,
		      off);
		return 0;
	}
}

int iommu_parse_type1_info(const void *data, size_t len, struct iommu_info *info,
			   char *why, size_t wlen)
{
	const uint8_t *buf = data;
	struct vfio_iommu_type1_info fixed;
	struct vfio_info_cap_header h;
	uint32_t off, prev = 0;
	int ret;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(fixed)) {
		snprintf(why, wlen, "GET_INFO reply is %zu bytes, shorter than its header", len);
		return -EINVAL;
	}
	memcpy(&fixed, buf, sizeof(fixed));
	if (!(fixed.flags & VFIO_IOMMU_INFO_PGSIZES) || !fixed.iova_pgsizes) {
		snprintf(why, wlen, "the IOMMU reports no page sizes");
		return -EINVAL;
	}
	info->pgsizes = fixed.iova_pgsizes;
	if (fixed.argsz < len)
		len = fixed.argsz;
	if (!(fixed.flags & VFIO_IOMMU_INFO_CAPS))
		return 0;

	for (off = fixed.cap_offset; off; off = h.next) {
		if (off < sizeof(fixed) || off <= prev || off % 4 || len - sizeof(h) < off) {
			snprintf(why, wlen, "capability offset %u is outside the %zu-byte reply or "
				 "goes backwards", off, len);
			return -EINVAL;
		}
		memcpy(&h, buf + off, sizeof(h));
		ret = parse_cap(buf, len, off, &h, info, why, wlen);
		if (ret)
			return ret;
		prev = off;
	}
	return 0;
}
