// SPDX-License-Identifier: MIT
/*
 * Guest RAM as the memmap describes it: every RAM range is written and read
 * back at sample points, including RAM above 4 GiB. Guest code is slow on
 * the development host, so the test touches a bounded number of words
 * (stride grows with RAM size) plus the first and last word of each range,
 * where layout bugs show up. All writes happen before any read back, so two
 * guest addresses backed by the same host memory are caught as well.
 */
#include "lib/runtime.h"

#define PAGE_SIZE	4096ull
#define HIGH_RAM_BASE	(4ull << 30)
/*
 * Sample points per pass: ~1 s on the dev host, where the first touch of
 * each guest page costs ~50 us (host page fault).
 */
#define SAMPLE_BUDGET	16384
#define PATTERN		0x5a5aa5a5c3c33c3cull

struct range {
	uint64_t start, end;	/* [start, end), 8-byte aligned */
};

struct plan {
	struct range ranges[BOOT_MEMMAP_MAX * 2];
	unsigned int nr;
	uint64_t bytes;		/* total RAM to cover */
	uint64_t stride;	/* distance between sample points */
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void add_range(struct plan *p, uint64_t start, uint64_t end)
{
	start = align_up(start, 8);
	end &= ~7ull;
	if (end <= start || p->nr == sizeof(p->ranges) / sizeof(p->ranges[0]))
		return;
	p->ranges[p->nr++] = (struct range){ start, end };
	p->bytes += end - start;
}

/* RAM entries clipped to the identity map, minus our own image and stack. */
static void build_plan(struct plan *p)
{
	uint64_t img_start = (uint64_t)__image_start, img_end = (uint64_t)__image_end;
	uint64_t samples;
	unsigned int i;

	*p = (struct plan){ 0 };
	for (i = 0; i < boot_info.nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &boot_info.memmap[i];
		uint64_t start = e->addr, end = e->addr + e->size;

		if (e->type != HVM_MEMMAP_TYPE_RAM)
			continue;
		if (end > GUEST_MAPPED_LIMIT) {
			printf("RAM above the %lu GiB identity map is not tested\n",
			       GUEST_MAPPED_LIMIT >> 30);
			end = GUEST_MAPPED_LIMIT;
		}
		if (start < img_end && end > img_start) {
			add_range(p, start, img_start);
			add_range(p, img_end, end);
		} else {
			add_range(p, start, end);
		}
	}
	samples = p->bytes / PAGE_SIZE / SAMPLE_BUDGET + 1;
	p->stride = samples * PAGE_SIZE;
}

/* A value no other address shares, different per pass. */
static uint64_t pattern(uint64_t addr, bool invert)
{
	uint64_t v = addr ^ PATTERN;

	return invert ? ~v : v;
}

/*
 * Sample k of a range sits k strides in, at an offset that walks through
 * the page so different cache lines and words are covered.
 */
static uint64_t sample_addr(const struct range *r, uint64_t stride, uint64_t k)
{
	return r->start + k * stride + ((k * 0x238) & (PAGE_SIZE - 8));
}

static uint64_t for_each_sample(const struct plan *p, bool invert, bool check)
{
	uint64_t n = 0, k, a;
	unsigned int i;

	for (i = 0; i < p->nr; i++) {
		const struct range *r = &p->ranges[i];

		for (k = 0; (a = sample_addr(r, p->stride, k)) < r->end - 8; k++, n++) {
			if (check)
				ASSERT_EQ(mmio_read64(a), pattern(a, invert));
			else
				mmio_write64(a, pattern(a, invert));
		}
		/* The last word of the range, whatever the stride. */
		a = r->end - 8;
		if (check)
			ASSERT_EQ(mmio_read64(a), pattern(a, invert));
		else
			mmio_write64(a, pattern(a, invert));
		n++;
	}
	return n;
}

static uint64_t high_ram_bytes(const struct plan *p)
{
	uint64_t high = 0;
	unsigned int i;

	for (i = 0; i < p->nr; i++)
		if (p->ranges[i].start >= HIGH_RAM_BASE)
			high += p->ranges[i].end - p->ranges[i].start;
	return high;
}

#define GIB		(1ull << 30)
#define MIB2		(1ull << 21)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_UC		(PTE_PCD | PTE_PWT)
#define PTE_FRAME	0x000fffffffe00000ull	/* a 2 MiB page's frame */

/*
 * map_phys(uncached) over the boot map (no memory behind these addresses;
 * only page tables are read): one page in a write-back 1 GiB page splits
 * it, leaving the neighbouring 2 MiB cached; a whole GiB takes the bits on
 * its 1 GiB page; one page in the 2 MiB region (below 64 GiB) marks only
 * its 2 MiB. What a non-prefetchable BAR placed high needs.
 */
static void check_uncached_overrides(void)
{
	uint64_t a = 65 * GIB + 3 * MIB2 + 0x1000, e, size;

	if (phys_addr_bits() < 37 || pvh_ram_total() > 32 * GIB) {
		printf("memory: map_phys override not checked (%u address bits, %lu MiB RAM)\n",
		       phys_addr_bits(), pvh_ram_total() >> 20);
		return;
	}
	e = page_leaf(a, &size);
	ASSERT(e && size == GIB && !(e & PTE_UC));
	ASSERT(map_phys(a, 0x1000, true));
	e = page_leaf(a, &size);
	ASSERT(size == MIB2 && (e & PTE_UC) == PTE_UC);
	ASSERT_EQ(e & PTE_FRAME, a & ~(MIB2 - 1));
	e = page_leaf(a + MIB2, &size);
	ASSERT(size == MIB2 && !(e & PTE_UC));
	ASSERT_EQ(e & PTE_FRAME, (a & ~(MIB2 - 1)) + MIB2);
	/* Cached over a mapped range changes nothing. */
	ASSERT(map_phys(a + MIB2, 0x1000, false));
	e = page_leaf(a + MIB2, &size);
	ASSERT(!(e & PTE_UC));

	ASSERT(map_phys(66 * GIB, GIB, true));
	e = page_leaf(66 * GIB + 5 * MIB2, &size);
	ASSERT(size == GIB && (e & PTE_UC) == PTE_UC);
	e = page_leaf(67 * GIB, &size);
	ASSERT(size == GIB && !(e & PTE_UC));

	a = 40 * GIB + 7 * MIB2;
	ASSERT(map_phys(a + 0x10, 0x10, true));
	e = page_leaf(a, &size);
	ASSERT(size == MIB2 && (e & PTE_UC) == PTE_UC);
	e = page_leaf(a - MIB2, &size);
	ASSERT(size == MIB2 && !(e & PTE_UC));
	printf("memory: map_phys(uncached) over the boot map: split, whole GiB, 2 MiB region: ok\n");
}

int main(void)
{
	struct plan plan;
	uint64_t n, t0 = rdtsc();
	unsigned int i;

	build_plan(&plan);
	printf("memory: %lu MiB RAM in %u ranges, stride 0x%lx\n", plan.bytes >> 20, plan.nr,
	       plan.stride);
	for (i = 0; i < plan.nr; i++)
		printf("  range 0x%lx-0x%lx\n", plan.ranges[i].start, plan.ranges[i].end - 1);
	ASSERT(plan.nr > 0);
	/* The runtime's own RAM was cut out; what remains must not be nearly nothing. */
	ASSERT(plan.bytes >= pvh_ram_total() / 2);

	for_each_sample(&plan, false, false);
	for_each_sample(&plan, false, true);
	for_each_sample(&plan, true, false);
	n = for_each_sample(&plan, true, true);

	/* With more than 3 GiB, the VMM must have put the rest above the hole. */
	if (pvh_ram_total() > (3ull << 30))
		ASSERT(high_ram_bytes(&plan) > 0);
	printf("memory: %lu words x 2 patterns verified, above 4G: %lu MiB, %lu TSC cycles\n",
	       n, high_ram_bytes(&plan) >> 20, rdtsc() - t0);
	check_uncached_overrides();
	test_pass("memory");
}
