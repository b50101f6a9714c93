// SPDX-License-Identifier: MIT
/*
 * How guest RAM is cut into VFIO_IOMMU_MAP_DMA calls.
 *
 * type1 accepts any mapping whose IOVA, host address and size are
 * multiples of the IOMMU's smallest page; it then pins the pages and lets
 * the IOMMU driver use its large pages (iova_pgsizes) wherever the pinned
 * memory is physically contiguous and aligned. So a chunk's size does not
 * decide the IOMMU page size: the backing memory does. What the chunk
 * size does decide:
 *   - the number of MAP_DMA calls, and each call has a fixed cost that
 *     depends on the memory behind it: with THP or 4 KiB pages, 2 MiB
 *     chunks (512 calls per GiB) made the pin up to about 2x slower than
 *     1 GiB chunks in the testbed (THP on a loaded host, 4 KiB pages on a
 *     quieter one; THP on the quieter one showed no difference; see
 *     docs/benchmarks.md, issue 13 part 4), and a 1 TiB guest would have
 *     needed 524,288 calls;
 *   - how many of the container's dma_avail entries we use (65535 by
 *     default), so 4 KiB chunks are out;
 *   - how long we go between two checks for a stop (SIGTERM/SIGINT) and
 *     two progress steps: one chunk's fault + pin;
 *   - the unit of a later unmap (type1v2 never splits a mapping); guest
 *     RAM is only ever unmapped as a whole (at exit, or on a failed start),
 *     so this costs nothing.
 * So: chunks are powers of two aligned in IOVA to their size (so a huge
 * page stays mappable as one IOMMU page), the largest that fit up to a
 * cap of IOMMU_MAX_CHUNK (1 GiB, or the backing page if that is bigger);
 * smaller pieces appear only where the RAM's start or end is not aligned
 * to the cap. 1 GiB because it is the largest IOMMU page x86 has (a chunk
 * never has to be bigger to let the IOMMU use it), because bigger chunks
 * save nothing measurable (9 calls for 9 GiB), and because it keeps a stop
 * point and a progress step every GiB (a second or less of pinning on a
 * real host even with 4 KiB pages). Only when the chunks do not fit the
 * entry budget is the cap doubled until they do. Within a backing page the
 * host address must be aligned too, or the IOMMU could not use the page's
 * size; a chunk bigger than the backing page only needs its IOVA aligned.
 */
#include "iommu/dma_plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int iommu_check_iova(const struct iommu_info *info, uint64_t iova, uint64_t size,
		     const char *what, char *why, size_t len)
{
	uint64_t last = iova + size - 1;
	char usable[256] = "";
	size_t used = 0;

	if (!size || last < iova) {
		snprintf(why, len, "%s: empty or wrapping range at %#" PRIx64, what, iova);
		return -EINVAL;
	}
	if (!info->nr_ranges)
		return 0;
	for (unsigned int i = 0; i < info->nr_ranges; i++)
		if (iova >= info->ranges[i].start && last <= info->ranges[i].end)
			return 0;
	for (unsigned int i = 0; i < info->nr_ranges && used < sizeof(usable); i++)
		used += (size_t)snprintf(usable + used, sizeof(usable) - used, "%s[%#" PRIx64 "-%#"
					 PRIx64 "]", i ? " " : "", info->ranges[i].start,
					 info->ranges[i].end);
	snprintf(why, len, "%s [%#" PRIx64 "-%#" PRIx64 "] is not DMA-mappable: the host IOMMU "
		 "can only map IOVAs %s", what, iova, last, usable);
	return -ERANGE;
}

/* "give the guest N MiB less RAM" when RAM runs past the last usable IOVA. */
static void add_ram_hint(const struct iommu_info *info, const struct iommu_ram *r, char *why,
			 size_t len)
{
	const struct iommu_iova_range *last = &info->ranges[info->nr_ranges - 1];
	uint64_t end = r->gpa + r->size;
	size_t used = strlen(why);

	if (r->gpa < last->start || r->gpa > last->end || end - 1 <= last->end)
		return;
	snprintf(why + used, len - used, "; give the guest %" PRIu64 " MiB less RAM",
		 (end - last->end - 1 + (uint64_t)0xfffff) >> 20);
}

int iommu_check_ram_layout(const struct iommu_info *info, const struct iommu_ram *ram, int nr,
			   char *why, size_t len)
{
	int ret;

	for (int i = 0; i < nr; i++) {
		ret = iommu_check_iova(info, ram[i].gpa, ram[i].size, "guest RAM", why, len);
		if (ret == -ERANGE)
			add_ram_hint(info, &ram[i], why, len);
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t iommu_ram_budget(const struct iommu_info *info)
{
	/* The kernel's default vfio_iommu_type1.dma_entry_limit. */
	uint64_t avail = info->has_dma_avail ? info->dma_avail : 65535;
	uint64_t reserve = avail / 4 < 256 ? avail / 4 : 256;

	return avail - reserve;
}

uint64_t iommu_chunk_size(uint64_t iova, uint64_t hva, uint64_t rem, uint64_t min_page,
			  uint64_t backing, uint64_t cap)
{
	for (uint64_t s = cap; s >= min_page && s; s >>= 1) {
		if (s > rem || (iova & (s - 1)))
			continue;
		if (s <= backing && (hva & (s - 1)))
			continue;
		return s;
	}
	return 0;
}

static int check_region(const struct iommu_ram *r, uint64_t min_page, char *why, size_t len)
{
	if (((r->gpa | (uintptr_t)r->hva | r->size) & (min_page - 1)) || !r->size) {
		snprintf(why, len, "guest RAM at %#" PRIx64 " (%#" PRIx64 " bytes at host %p) is "
			 "not aligned to the IOMMU page size %#" PRIx64, r->gpa, r->size, r->hva,
			 min_page);
		return -EINVAL;
	}
	return 0;
}

/* Counts the chunks for one cap; false if alignment made a chunk impossible. */
static bool count_chunks(const struct iommu_ram *ram, int nr, struct dma_plan *p)
{
	memset(p->count, 0, sizeof(p->count));
	p->nr_chunks = 0;
	for (int i = 0; i < nr; i++) {
		uint64_t off = 0, s;

		while (off < ram[i].size) {
			s = iommu_chunk_size(ram[i].gpa + off, (uintptr_t)ram[i].hva + off,
					     ram[i].size - off, p->min_page, p->backing, p->cap);
			if (!s)
				return false;
			p->count[__builtin_ctzll(s)]++;
			p->nr_chunks++;
			off += s;
		}
	}
	return true;
}

int iommu_plan_ram(const struct iommu_ram *ram, int nr, uint64_t pgsizes, uint64_t backing,
		   uint64_t budget, struct dma_plan *plan, char *why, size_t len)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	if (!pgsizes || !backing || (backing & (backing - 1))) {
		snprintf(why, len, "bad page sizes: IOMMU %#" PRIx64 ", RAM backing %#" PRIx64,
			 pgsizes, backing);
		return -EINVAL;
	}
	plan->min_page = pgsizes & -pgsizes;
	plan->backing = backing;
	if (backing < plan->min_page) {
		snprintf(why, len, "guest RAM pages (%#" PRIx64 ") are smaller than the IOMMU's "
			 "smallest page (%#" PRIx64 ")", backing, plan->min_page);
		return -EINVAL;
	}
	for (int i = 0; i < nr; i++) {
		ret = check_region(&ram[i], plan->min_page, why, len);
		if (ret)
			return ret;
		plan->total += ram[i].size;
	}
	for (plan->cap = backing > IOMMU_MAX_CHUNK ? backing : IOMMU_MAX_CHUNK; plan->cap;
	     plan->cap <<= 1) {
		if (!count_chunks(ram, nr, plan))
			break;
		if (plan->nr_chunks <= budget)
			return 0;
	}
	snprintf(why, len, "guest RAM needs more than the %" PRIu64 " DMA mappings the host "
		 "allows (vfio_iommu_type1.dma_entry_limit)", budget);
	return -ENOSPC;
}

void iommu_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ULL << 30))
		snprintf(buf, len, "%.1f GiB", (double)bytes / (1ULL << 30));
	else if (bytes >= (1ULL << 20))
		snprintf(buf, len, "%.1f MiB", (double)bytes / (1ULL << 20));
	else
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
}

static void fmt_pow2(unsigned int shift, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

	snprintf(buf, len, "%llu %s", 1ULL << (shift % 10), unit[shift / 10]);
}

void iommu_fmt_chunks(const struct dma_plan *plan, char *buf, size_t len)
{
	size_t used = 0;
	char sz[32];

	buf[0] = '\0';
	for (int n = 63; n >= 0 && used < len; n--) {
		if (!plan->count[n])
			continue;
		fmt_pow2((unsigned int)n, sz, sizeof(sz));
		used += (size_t)snprintf(buf + used, len - used, "%s%" PRIu64 " x %s",
					 used ? " + " : "", plan->count[n], sz);
	}
}

void iommu_fmt_progress(uint64_t done, uint64_t total, char *buf, size_t len)
{
	unsigned int pct = total ? (unsigned int)(done * 100.0 / (double)total) : 100;

	snprintf(buf, len, "mapping guest RAM for DMA: %3u%% (%.1f of %.1f GiB)", pct,
		 (double)done / (1ULL << 30), (double)total / (1ULL << 30));
}

int iommu_parse_proc_status(const char *text, uint64_t *locked, bool *cap_ipc_lock)
{
	const char *vm = strstr(text, "\nVmLck:"), *cap = strstr(text, "\nCapEff:");
	unsigned long long kib, caps;

	if (!vm || !cap || sscanf(vm + 7, "%llu", &kib) != 1 || sscanf(cap + 8, "%llx", &caps) != 1)
		return -EINVAL;
	*locked = kib << 10;
	*cap_ipc_lock = caps & (1ULL << 14);	/* CAP_IPC_LOCK */
	return 0;
}

int iommu_memlock_plan(const struct memlock_state *st, uint64_t need, uint64_t *new_soft,
		       char *why, size_t len)
{
	uint64_t total = st->locked + need;
	uint64_t kib = (total + 1023) >> 10;
	char sz[32];

	*new_soft = st->soft;
	/* type1 only enforces the limit on tasks without CAP_IPC_LOCK. */
	if (st->cap_ipc_lock || st->soft >= total)
		return 0;
	if (st->hard >= total) {
		*new_soft = st->hard;
		return 1;
	}
	iommu_fmt_bytes(need, sz, sizeof(sz));
	snprintf(why, len, "pinning %s of guest RAM for DMA needs a locked-memory limit of %" PRIu64
		 " KiB%s, but the hard limit is %" PRIu64 " KiB: raise it (ulimit -l %" PRIu64
		 " as root, or LimitMEMLOCK=%" PRIu64 " in a systemd unit) or run with CAP_IPC_LOCK",
		 sz, kib, st->locked ? " (including what is already locked)" : "", st->hard >> 10,
		 kib, kib << 10);
	return -ENOMEM;
}
