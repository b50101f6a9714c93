// SPDX-License-Identifier: MIT
/*
 * Bounded guest RAM access. Every comparison is written as a subtraction
 * from a value already known to be in range, never as "gpa + len <= end":
 * the guest chooses gpa and len, and that sum can wrap past 2^64 to a small
 * number that looks like it is inside RAM.
 */
#include "devices/guest_mem.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define PAGE_MASK_4K	0xfffULL

int guest_mem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, void *hva)
{
	unsigned int i;

	if (!size || gpa > UINT64_MAX - (size - 1))
		return -EINVAL;
	if (!hva || (((uintptr_t)hva ^ gpa) & PAGE_MASK_4K))
		return -EINVAL;
	for (i = 0; i < m->nr; i++) {
		const struct guest_mem_region *r = &m->r[i];

		/* Compare last bytes: a region may end exactly at 2^64. */
		if (gpa <= r->gpa + (r->size - 1) && r->gpa <= gpa + (size - 1))
			return -EEXIST;
	}
	if (m->nr == GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	m->r[m->nr].gpa = gpa;
	m->r[m->nr].size = size;
	m->r[m->nr].hva = hva;
	m->nr++;
	return 0;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < m->nr && i < GUEST_MEM_MAX_REGIONS; i++) {
		const struct guest_mem_region *r = &m->r[i];
		uint64_t off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		if (off >= r->size)
			continue;
		/* Regions never overlap: the one holding gpa decides. */
		if (len > r->size - off)
			return NULL;
		return r->hva + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len)
{
	const void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	if (len)	/* buf may be NULL for an empty copy */
		memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	if (len)
		memcpy(p, buf, len);
	return 0;
}
