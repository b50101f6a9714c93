/* SPDX-License-Identifier: MIT */
#ifndef VMM_PREFAULT_H
#define VMM_PREFAULT_H

/*
 * Guest RAM faulted in by several threads before VFIO_IOMMU_MAP_DMA pins
 * it. MAP_DMA faults every page it pins on the one thread that makes the
 * ioctl, and for a GPU guest's hundreds of GiB that single thread is the
 * start time; pages already present are only pinned. Each thread takes one
 * slice of RAM and asks the kernel to populate it (MADV_POPULATE_WRITE,
 * Linux 5.14+), or writes a byte per page where that is not available.
 */
#include <stdint.h>

struct prefault_range {
	void *hva;
	uint64_t size;
};

/*
 * Populates every range with up to threads threads (slices aligned to
 * page_size, the backing page size). 0 or -errno (logged once).
 */
int prefault_ranges(const struct prefault_range *r, unsigned int n, uint64_t page_size,
		    unsigned int threads);
/* Threads to use when the user did not say: the host's online CPUs. */
unsigned int prefault_default_threads(void);

#endif
