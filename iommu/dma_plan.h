/* SPDX-License-Identifier: MIT */
#ifndef IOMMU_DMA_PLAN_H
#define IOMMU_DMA_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/iommu.h"

/*
 * The decisions behind mapping guest RAM, as pure functions so the tests
 * can check them without a kernel: which IOVAs are usable, how RAM is cut
 * into MAP_DMA chunks, and whether RLIMIT_MEMLOCK allows the pinning.
 * Errors return -errno with a one-line reason in why.
 */

/*
 * Guest RAM chunks go up to this (or the backing page, if bigger), and
 * beyond it only when the entry budget demands; see dma_plan.c.
 */
#define IOMMU_MAX_CHUNK		(1ULL << 30)

/* [iova, iova+size) lies inside one usable range of info; what names it. */
int iommu_check_iova(const struct iommu_info *info, uint64_t iova, uint64_t size,
		     const char *what, char *why, size_t len);

/* Every RAM region passes iommu_check_iova. */
int iommu_check_ram_layout(const struct iommu_info *info, const struct iommu_ram *ram, int nr,
			   char *why, size_t len);

/* MAP_DMA entries guest RAM may use, leaving some for extra (BAR) ranges. */
uint64_t iommu_ram_budget(const struct iommu_info *info);

/*
 * Size of the next chunk at (iova, hva) with rem bytes left: the largest
 * power of two <= cap that fits and is aligned (hva too, where the chunk
 * is within one backing page). 0 if not even min_page fits.
 */
uint64_t iommu_chunk_size(uint64_t iova, uint64_t hva, uint64_t rem, uint64_t min_page,
			  uint64_t backing, uint64_t cap);

struct dma_plan {
	uint64_t cap;		/* the largest chunk allowed */
	uint64_t min_page;	/* the IOMMU's smallest page */
	uint64_t backing;	/* the RAM's backing page size */
	uint64_t total;		/* bytes */
	uint64_t nr_chunks;
	uint64_t count[64];	/* count[n]: chunks of 2^n bytes */
};

/* Checks alignment and picks the chunk cap so the chunks fit budget. */
int iommu_plan_ram(const struct iommu_ram *ram, int nr, uint64_t pgsizes, uint64_t backing,
		   uint64_t budget, struct dma_plan *plan, char *why, size_t len);

/* "9 x 1 GiB" or "2 x 1 GiB + 2 x 2 MiB + 1 x 1 MiB", largest first. */
void iommu_fmt_chunks(const struct dma_plan *plan, char *buf, size_t len);
/* "4.0 GiB", "512.0 MiB", "12 KiB". */
void iommu_fmt_bytes(uint64_t bytes, char *buf, size_t len);
/* "mapping guest RAM for DMA: 42% (1.7 of 4.0 GiB)" */
void iommu_fmt_progress(uint64_t done, uint64_t total, char *buf, size_t len);

/* RLIM_INFINITY is UINT64_MAX here. */
struct memlock_state {
	uint64_t soft;
	uint64_t hard;
	uint64_t locked;	/* already locked by this process (VmLck) */
	bool cap_ipc_lock;	/* the kernel then skips the limit */
};

/* Reads VmLck and CapEff from /proc/self/status text. */
int iommu_parse_proc_status(const char *text, uint64_t *locked, bool *cap_ipc_lock);

/*
 * 0: pinning need more bytes is fine as is; 1: fine once the soft limit
 * is raised to *new_soft; -ENOMEM: impossible, why says what to set.
 */
int iommu_memlock_plan(const struct memlock_state *st, uint64_t need, uint64_t *new_soft,
		       char *why, size_t len);

#endif
