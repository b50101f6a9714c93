// SPDX-License-Identifier: MIT
/*
 * The pure half of DMA mapping: GET_INFO capability chain decoding, usable
 * IOVA checks against the testbed's real ranges, chunking, RLIMIT_MEMLOCK.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/vfio.h>
#include <string.h>

#include "iommu/dma_plan.h"
#include "iommu/type1_info.h"
#include "vmm/layout.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static char why[1024];

/* The testbed's type1v2 container, as NOTES.md measured it. */
static const struct iommu_info testbed = {
	.pgsizes = 0x40201000,
	.nr_ranges = 2,
	.ranges = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffffULL } },
	.has_dma_avail = true,
	.dma_avail = 65535,
};

/* A GET_INFO reply: fixed part, IOVA ranges, a migration cap, DMA avail. */
struct reply {
	uint8_t b[256];
	uint32_t len;
};

static uint32_t put_cap(struct reply *r, uint32_t off, uint16_t id, const void *body, uint32_t n)
{
	struct vfio_info_cap_header h = { .id = id, .version = 1, .next = 0 };

	memcpy(r->b + off, &h, sizeof(h));
	memcpy(r->b + off + sizeof(h), body, n);
	return off + (uint32_t)sizeof(h) + ((n + 7) & ~7u);
}

static void set_next(struct reply *r, uint32_t off, uint32_t next)
{
	memcpy(r->b + off + offsetof(struct vfio_info_cap_header, next), &next, sizeof(next));
}

static void build_reply(struct reply *r, bool dma_first)
{
	struct vfio_iommu_type1_info fixed = {
		.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
		.iova_pgsizes = 0x40201000,
	};
	struct { uint32_t nr, rsvd; uint64_t r[4]; } ranges = {
		2, 0, { 0, 0xfedfffff, 0xfef00000, 0x7fffffffffULL } };
	uint8_t migration[24] = { 0xff };
	uint32_t avail[2] = { 65535, 0 };
	uint32_t a, b, c, end;

	memset(r, 0, sizeof(*r));
	a = sizeof(fixed);
	if (dma_first) {
		b = put_cap(r, a, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, avail, 4);
		c = put_cap(r, b, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, migration, sizeof(migration));
		end = put_cap(r, c, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, &ranges, sizeof(ranges));
	} else {
		b = put_cap(r, a, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, &ranges, sizeof(ranges));
		c = put_cap(r, b, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, migration, sizeof(migration));
		end = put_cap(r, c, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, avail, 4);
	}
	set_next(r, a, b);
	set_next(r, b, c);
	fixed.argsz = end;
	fixed.cap_offset = a;
	memcpy(r->b, &fixed, sizeof(fixed));
	r->len = end;
}

static void assert_testbed_info(const struct iommu_info *info)
{
	cr_assert_eq(info->pgsizes, 0x40201000);
	cr_assert_eq(info->nr_ranges, 2);
	cr_assert_eq(info->ranges[0].start, 0);
	cr_assert_eq(info->ranges[0].end, 0xfedfffff);
	cr_assert_eq(info->ranges[1].start, 0xfef00000);
	cr_assert_eq(info->ranges[1].end, 0x7fffffffffULL);
	cr_assert(info->has_dma_avail);
	cr_assert_eq(info->dma_avail, 65535);
}

Test(iommu_info, chain_is_decoded)
{
	struct iommu_info info;
	struct reply r;

	build_reply(&r, false);
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), 0, "%s", why);
	assert_testbed_info(&info);
	build_reply(&r, true);
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), 0, "%s", why);
	assert_testbed_info(&info);
}

Test(iommu_info, no_caps_means_no_limits_known)
{
	struct iommu_info info;
	struct reply r;

	build_reply(&r, false);
	((struct vfio_iommu_type1_info *)r.b)->flags = VFIO_IOMMU_INFO_PGSIZES;
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), 0);
	cr_assert_eq(info.pgsizes, 0x40201000);
	cr_assert_eq(info.nr_ranges, 0);
	cr_assert_not(info.has_dma_avail);
}

Test(iommu_info, malformed_chains_are_refused)
{
	struct vfio_iommu_type1_info *fixed;
	struct iommu_info info;
	struct reply r;
	uint32_t first;

	build_reply(&r, false);
	fixed = (struct vfio_iommu_type1_info *)r.b;
	first = fixed->cap_offset;

	set_next(&r, first, first);	/* a loop */
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), -EINVAL);

	build_reply(&r, false);
	set_next(&r, first, 4000);	/* past the end */
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), -EINVAL);

	build_reply(&r, false);
	r.b[first + 8] = 200;		/* nr_iovas far beyond the buffer */
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), -EINVAL);

	build_reply(&r, false);		/* truncated: argsz says less than the chain */
	fixed->argsz = first + 12;
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), -EINVAL);

	cr_assert_eq(iommu_parse_type1_info(r.b, 10, &info, why, sizeof(why)), -EINVAL);

	build_reply(&r, false);
	fixed->iova_pgsizes = 0;
	cr_assert_eq(iommu_parse_type1_info(r.b, r.len, &info, why, sizeof(why)), -EINVAL);
}

static int check_layout(const struct iommu_info *info, uint64_t ram_size, unsigned int bits)
{
	struct iommu_ram ram[2];
	struct layout l;
	int nr = 0;

	cr_assert_eq(layout_init(&l, ram_size, bits), 0);
	ram[nr++] = (struct iommu_ram){ 0, NULL, l.low_ram_end };
	if (l.high_ram_end > LAYOUT_HIGH_RAM_BASE)
		ram[nr++] = (struct iommu_ram){ LAYOUT_HIGH_RAM_BASE, NULL,
						l.high_ram_end - LAYOUT_HIGH_RAM_BASE };
	return iommu_check_ram_layout(info, ram, nr, why, sizeof(why));
}

Test(iommu_iova, our_layout_never_touches_the_msi_hole)
{
	/* Low RAM stops at 3 GiB, so it never reaches 0xfee00000. */
	for (uint64_t sz = 64 * MiB; sz <= 508 * GiB; sz = sz * 2 + 4 * MiB)
		cr_assert_eq(check_layout(&testbed, sz, 46), 0, "%#llx: %s",
			     (unsigned long long)sz, why);
}

Test(iommu_iova, high_ram_past_the_iommu_limit_is_refused)
{
	/* High RAM ends exactly at 0x7fffffffff + 1: fits. */
	cr_assert_eq(check_layout(&testbed, 3 * GiB + 0x7f00000000ULL, 46), 0, "%s", why);
	/* 2 MiB more: refused, and the fix says by how much. */
	cr_assert_eq(check_layout(&testbed, 3 * GiB + 0x7f00000000ULL + 2 * MiB, 46), -ERANGE);
	cr_assert_str_eq(why, "guest RAM [0x100000000-0x80001fffff] is not DMA-mappable: the "
			 "host IOMMU can only map IOVAs [0-0xfedfffff] [0xfef00000-0x7fffffffff]; "
			 "give the guest 2 MiB less RAM");
	/* 3 GiB low + 597 GiB from 4 GiB up: ends at 601 GiB, 89 GiB past the limit. */
	cr_assert_eq(check_layout(&testbed, 600 * GiB, 46), -ERANGE);
	cr_assert(strstr(why, "give the guest 91136 MiB less RAM"), "%s", why);
}

Test(iommu_iova, ram_over_a_reserved_range_is_refused)
{
	struct iommu_ram cross = { 0xfe000000, NULL, 32 * MiB };

	cr_assert_eq(iommu_check_ram_layout(&testbed, &cross, 1, why, sizeof(why)), -ERANGE);
	cr_assert(strstr(why, "guest RAM [0xfe000000-0xffffffff] is not DMA-mappable"), "%s", why);
	cr_assert_null(strstr(why, "less RAM"), "a hole is not fixed by less RAM: %s", why);
}

Test(iommu_iova, custom_ranges_are_respected)
{
	struct iommu_info info = { .pgsizes = 0x1000, .nr_ranges = 2,
		.ranges = { { 0x1000, 0x3fffffff }, { 0x80000000, 0xffffffffffULL } } };

	/* Page 0 reserved: RAM from 0 cannot be mapped. */
	cr_assert_eq(check_layout(&info, 512 * MiB, 46), -ERANGE);
	cr_assert(strstr(why, "[0-0x1fffffff]"), "%s", why);
	/* RAM crossing the 1-2 GiB hole. */
	info.ranges[0].start = 0;
	cr_assert_eq(check_layout(&info, 512 * MiB, 46), 0, "%s", why);
	cr_assert_eq(check_layout(&info, 2 * GiB, 46), -ERANGE);
	/* No ranges reported (pre-5.4 kernel): everything goes. */
	info.nr_ranges = 0;
	cr_assert_eq(check_layout(&info, 600 * GiB, 46), 0);
}

Test(iommu_iova, extra_ranges_checked_too)
{
	cr_assert_eq(iommu_check_iova(&testbed, 0xfee00000, 4 * KiB, "BAR", why, sizeof(why)),
		     -ERANGE);
	cr_assert(strstr(why, "BAR [0xfee00000-0xfee00fff]") == why, "%s", why);
	cr_assert_eq(iommu_check_iova(&testbed, 0x7000000000ULL, 16 * GiB, "BAR", why,
				      sizeof(why)), 0);
	cr_assert_eq(iommu_check_iova(&testbed, 0x10, 0, "BAR", why, sizeof(why)), -EINVAL);
	cr_assert_eq(iommu_check_iova(&testbed, ~0ULL - 10, 4096, "BAR", why, sizeof(why)),
		     -EINVAL);
}

Test(iommu_chunks, chunk_size_rules)
{
	/* Largest aligned power of two up to the cap. */
	cr_assert_eq(iommu_chunk_size(0, 0, 4 * GiB, 4 * KiB, 2 * MiB, 2 * MiB), 2 * MiB);
	cr_assert_eq(iommu_chunk_size(0, 0, 4 * GiB, 4 * KiB, GiB, GiB), GiB);
	/* Tail shorter than the cap. */
	cr_assert_eq(iommu_chunk_size(0, 0, 12 * KiB, 4 * KiB, 2 * MiB, 2 * MiB), 8 * KiB);
	/* IOVA only 64 KiB aligned. */
	cr_assert_eq(iommu_chunk_size(0x10000, 0x10000, GiB, 4 * KiB, 2 * MiB, 2 * MiB), 64 * KiB);
	/* Within a huge page the host address must be aligned as well... */
	cr_assert_eq(iommu_chunk_size(0, 0x1000, GiB, 4 * KiB, 2 * MiB, 2 * MiB), 4 * KiB);
	/* ...but not for chunks bigger than the backing page. */
	cr_assert_eq(iommu_chunk_size(0, 0x1000, GiB, 4 * KiB, 4 * KiB, 2 * MiB), 2 * MiB);
	/* Less than the IOMMU page left. */
	cr_assert_eq(iommu_chunk_size(0, 0, 512, 4 * KiB, 4 * KiB, 2 * MiB), 0);
}

static const struct iommu_ram ram4g[2] = {
	{ 0, (void *)0x7f0000000000ULL, 3 * GiB },
	{ 4 * GiB, (void *)0x7f00c0000000ULL, GiB },
};

Test(iommu_chunks, four_gib_in_2m_pages)
{
	struct dma_plan p;
	char s[128];

	/* Not one call per huge page: one per GiB. */
	cr_assert_eq(iommu_plan_ram(ram4g, 2, testbed.pgsizes, 2 * MiB,
				    iommu_ram_budget(&testbed), &p, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(p.total, 4 * GiB);
	cr_assert_eq(p.cap, GiB);
	cr_assert_eq(p.nr_chunks, 4);
	cr_assert_eq(p.count[30], 4);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "4 x 1 GiB");
}

/* The chunks of one region in order, as map_region will cut them; returns how many. */
static int walk(const struct iommu_ram *r, const struct dma_plan *p, uint64_t *out, int max)
{
	uint64_t off = 0, sz;
	int n = 0;

	while (off < r->size && n < max) {
		sz = iommu_chunk_size(r->gpa + off, (uintptr_t)r->hva + off, r->size - off,
				      p->min_page, p->backing, p->cap);
		cr_assert_neq(sz, 0, "no chunk at offset %#llx", (unsigned long long)off);
		out[n++] = sz;
		off += sz;
	}
	return n;
}

Test(iommu_chunks, nine_gib_of_small_or_thp_pages_in_nine_calls)
{
	/* The start-ram benchmark's 9 GiB guest: 3 GiB below the hole, 6 GiB from 4 GiB. */
	static const struct iommu_ram ram9g[2] = {
		{ 0, (void *)0x7f0000000000ULL, 3 * GiB },
		{ 4 * GiB, (void *)0x7f00c0000000ULL, 6 * GiB },
	};
	/* mmap's 4 KiB-aligned address: chunks bigger than a page need no host alignment. */
	struct iommu_ram odd[2] = { ram9g[0], ram9g[1] };
	struct dma_plan p;
	char s[128];

	odd[0].hva = (void *)0x7f0000003000ULL;
	odd[1].hva = (void *)0x7f00c0003000ULL;
	for (int i = 0; i < 3; i++) {
		uint64_t backing = i == 2 ? 4 * KiB : 2 * MiB;
		const struct iommu_ram *r = i == 1 ? odd : ram9g;

		cr_assert_eq(iommu_plan_ram(r, 2, testbed.pgsizes, backing,
					    iommu_ram_budget(&testbed), &p, why, sizeof(why)), 0,
			     "%s", why);
		cr_assert_eq(p.nr_chunks, 9, "case %d: %llu calls", i,
			     (unsigned long long)p.nr_chunks);
		iommu_fmt_chunks(&p, s, sizeof(s));
		cr_assert_str_eq(s, "9 x 1 GiB", "case %d", i);
	}
}

Test(iommu_chunks, unaligned_edges_get_the_small_pieces)
{
	/* From 3 MiB below 1 GiB to 2 MiB past 3 GiB. */
	struct iommu_ram r = { GiB - 3 * MiB, (void *)(0x7f0000000000ULL + GiB - 3 * MiB),
			       2 * GiB + 5 * MiB };
	static const uint64_t want[] = { MiB, 2 * MiB, GiB, GiB, 2 * MiB };
	uint64_t got[16];
	struct dma_plan p;
	char s[128];
	int n;

	cr_assert_eq(iommu_plan_ram(&r, 1, testbed.pgsizes, 4 * KiB, iommu_ram_budget(&testbed),
				    &p, why, sizeof(why)), 0, "%s", why);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "2 x 1 GiB + 2 x 2 MiB + 1 x 1 MiB");
	n = walk(&r, &p, got, 16);
	cr_assert_eq(n, 5);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "chunk %d: %#llx", i, (unsigned long long)got[i]);

	/* An edge 64 KiB off: pieces double up to the first GiB boundary, then GiBs. */
	r.gpa = 0x10000;
	r.hva = (void *)0x7f0000010000ULL;
	r.size = 2 * GiB - 0x10000;
	cr_assert_eq(iommu_plan_ram(&r, 1, testbed.pgsizes, 4 * KiB, iommu_ram_budget(&testbed),
				    &p, why, sizeof(why)), 0, "%s", why);
	n = walk(&r, &p, got, 16);
	cr_assert_eq(n, 15, "64 KiB .. 512 MiB, then one GiB");
	for (int i = 0; i < n - 1; i++)
		cr_assert_eq(got[i], (64 * KiB) << i, "chunk %d", i);
	cr_assert_eq(got[n - 1], GiB);
}

Test(iommu_chunks, a_tebibyte_in_gibs_and_the_budget_still_holds)
{
	struct iommu_ram r = { 4 * GiB, (void *)0x7e0000000000ULL, 1024 * GiB };
	uint64_t budget = iommu_ram_budget(&testbed);
	struct dma_plan p;
	char s[128];

	cr_assert_eq(iommu_plan_ram(&r, 1, testbed.pgsizes, 4 * KiB, budget, &p, why,
				    sizeof(why)), 0, "%s", why);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "1024 x 1 GiB");
	/* 64 TiB in GiBs would need 65536 entries, more than the 65279 allowed. */
	r.gpa = 0;
	r.size = 64 * 1024 * GiB;
	cr_assert_eq(iommu_plan_ram(&r, 1, 0x40201000, 2 * MiB, budget, &p, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(p.cap, 2 * GiB);
	cr_assert_leq(p.nr_chunks, budget);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "32768 x 2 GiB");
}

Test(iommu_chunks, four_gib_in_1g_pages)
{
	struct dma_plan p;
	char s[128];

	cr_assert_eq(iommu_plan_ram(ram4g, 2, testbed.pgsizes, GiB, 65000, &p, why, sizeof(why)), 0);
	cr_assert_eq(p.nr_chunks, 4);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "4 x 1 GiB");
}

Test(iommu_chunks, small_pages_are_batched_and_tails_kept)
{
	/* 4 KiB pages, an odd host address and a 12 KiB tail. */
	struct iommu_ram r = { 0, (void *)0x7f0000003000ULL, 256 * MiB + 12 * KiB };
	struct dma_plan p;
	char s[128];

	cr_assert_eq(iommu_plan_ram(&r, 1, testbed.pgsizes, 4 * KiB, 65000, &p, why, sizeof(why)), 0);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "1 x 256 MiB + 1 x 8 KiB + 1 x 4 KiB");
	cr_assert_eq(p.total, r.size);
}

Test(iommu_chunks, budget_grows_the_chunks)
{
	struct dma_plan p;
	char s[128];

	/* 4 x 1 GiB do not fit 3 entries; with a 2 GiB cap, 2 + 1 + 1 GiB do. */
	cr_assert_eq(iommu_plan_ram(ram4g, 2, testbed.pgsizes, 2 * MiB, 3, &p, why, sizeof(why)), 0);
	cr_assert_eq(p.cap, 2 * GiB);
	cr_assert_eq(p.nr_chunks, 3);
	iommu_fmt_chunks(&p, s, sizeof(s));
	cr_assert_str_eq(s, "1 x 2 GiB + 2 x 1 GiB");

	/* A misaligned huge-page mapping would need 4 KiB chunks: GiBs need no host alignment. */
	struct iommu_ram odd = { 0, (void *)0x7f0000001000ULL, 4 * GiB };

	cr_assert_eq(iommu_plan_ram(&odd, 1, testbed.pgsizes, 2 * MiB, 65279, &p, why,
				    sizeof(why)), 0);
	cr_assert_eq(p.cap, GiB);
	cr_assert_eq(p.count[30], 4);

	cr_assert_eq(iommu_plan_ram(ram4g, 2, testbed.pgsizes, 2 * MiB, 0, &p, why, sizeof(why)),
		     -ENOSPC);
	cr_assert(strstr(why, "dma_entry_limit"), "%s", why);
}

Test(iommu_chunks, budget_leaves_room_for_bars)
{
	struct iommu_info none = { .pgsizes = 0x1000 };
	struct iommu_info tiny = { .pgsizes = 0x1000, .has_dma_avail = true, .dma_avail = 100 };

	cr_assert_eq(iommu_ram_budget(&testbed), 65535 - 256);
	cr_assert_eq(iommu_ram_budget(&none), 65535 - 256);
	cr_assert_eq(iommu_ram_budget(&tiny), 75);
}

Test(iommu_chunks, bad_alignment_and_pages_refused)
{
	struct iommu_ram r = { 0x1001, (void *)0x7f0000000000ULL, 2 * MiB };
	struct dma_plan p;

	cr_assert_eq(iommu_plan_ram(&r, 1, 0x1000, 4 * KiB, 100, &p, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "not aligned to the IOMMU page size 0x1000"), "%s", why);
	r.gpa = 0;
	cr_assert_eq(iommu_plan_ram(&r, 1, 0x10000, 4 * KiB, 100, &p, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "smaller than the IOMMU's smallest page"), "%s", why);
	cr_assert_eq(iommu_plan_ram(&r, 1, 0x1000, 3 * KiB, 100, &p, why, sizeof(why)), -EINVAL);
}

Test(iommu_format, sizes_and_progress)
{
	char s[128];

	iommu_fmt_bytes(4 * GiB, s, sizeof(s));
	cr_assert_str_eq(s, "4.0 GiB");
	iommu_fmt_bytes(512 * MiB, s, sizeof(s));
	cr_assert_str_eq(s, "512.0 MiB");
	iommu_fmt_bytes(12 * KiB, s, sizeof(s));
	cr_assert_str_eq(s, "12 KiB");
	iommu_fmt_progress(GiB + GiB / 2, 6 * GiB, s, sizeof(s));
	cr_assert_str_eq(s, "mapping guest RAM for DMA:  25% (1.5 of 6.0 GiB)");
	iommu_fmt_progress(6 * GiB, 6 * GiB, s, sizeof(s));
	cr_assert_str_eq(s, "mapping guest RAM for DMA: 100% (6.0 of 6.0 GiB)");
}

Test(iommu_memlock, proc_status_parsed)
{
	static const char text[] = "\nName:\tvfio-vmm\nVmLck:\t    2048 kB\nCapInh:\t0\n"
				   "CapEff:\t000001ffffffffff\n";
	static const char nocap[] = "\nVmLck:\t0 kB\nCapEff:\t0000000000000000\n";
	uint64_t locked;
	bool cap;

	cr_assert_eq(iommu_parse_proc_status(text, &locked, &cap), 0);
	cr_assert_eq(locked, 2 * MiB);
	cr_assert(cap);
	cr_assert_eq(iommu_parse_proc_status(nocap, &locked, &cap), 0);
	cr_assert_eq(locked, 0);
	cr_assert_not(cap);
	cr_assert_eq(iommu_parse_proc_status("\nName:\tx\n", &locked, &cap), -EINVAL);
}

Test(iommu_memlock, plan_decisions)
{
	struct memlock_state st = { .soft = 64 * KiB, .hard = 64 * KiB };
	uint64_t soft;

	/* CAP_IPC_LOCK: the kernel does not look at the limit. */
	st.cap_ipc_lock = true;
	cr_assert_eq(iommu_memlock_plan(&st, 4 * GiB, &soft, why, sizeof(why)), 0);
	st.cap_ipc_lock = false;

	st.soft = 8 * GiB;
	st.hard = 8 * GiB;
	cr_assert_eq(iommu_memlock_plan(&st, 4 * GiB, &soft, why, sizeof(why)), 0);
	cr_assert_eq(soft, 8 * GiB);

	st.soft = 64 * KiB;
	cr_assert_eq(iommu_memlock_plan(&st, 4 * GiB, &soft, why, sizeof(why)), 1);
	cr_assert_eq(soft, 8 * GiB);
	st.hard = UINT64_MAX;
	cr_assert_eq(iommu_memlock_plan(&st, 4 * GiB, &soft, why, sizeof(why)), 1);
	cr_assert_eq(soft, UINT64_MAX);

	/* What is already locked counts too. */
	st.hard = 4 * GiB;
	st.locked = GiB;
	cr_assert_eq(iommu_memlock_plan(&st, 4 * GiB, &soft, why, sizeof(why)), -ENOMEM);
	cr_assert(strstr(why, "pinning 4.0 GiB of guest RAM for DMA needs a locked-memory limit "
			 "of 5242880 KiB") == why, "%s", why);
	cr_assert(strstr(why, "ulimit -l 5242880"), "%s", why);
	cr_assert(strstr(why, "LimitMEMLOCK=5368709120"), "%s", why);
	cr_assert(strstr(why, "hard limit is 4194304 KiB"), "%s", why);
}
