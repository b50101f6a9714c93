// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/guest_mem.h"

#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define HIGH_GPA	(4 * GiB)
#define TOP_GPA		(UINT64_MAX - 0xfff)	/* a page ending exactly at 2^64 */

/* Low RAM [0, 1 MiB) and RAM above the 32-bit hole [4 GiB, 4 GiB + 1 MiB). */
static struct guest_mem mem;
static uint8_t *low, *high;

static void setup(void)
{
	memset(&mem, 0, sizeof(mem));
	low = aligned_alloc(4096, MiB);
	high = aligned_alloc(4096, MiB);
	cr_assert(low && high);
	cr_assert_eq(guest_mem_add(&mem, 0, MiB, low), 0);
	cr_assert_eq(guest_mem_add(&mem, HIGH_GPA, MiB, high), 0);
}

static void teardown(void)
{
	free(low);
	free(high);
}

TestSuite(guest_mem, .init = setup, .fini = teardown);

Test(guest_mem, region_boundaries)
{
	cr_assert_eq(guest_mem_ptr(&mem, 0, MiB), low, "a whole region");
	cr_assert_eq(guest_mem_ptr(&mem, 0, 1), low);
	cr_assert_eq(guest_mem_ptr(&mem, MiB - 1, 1), low + MiB - 1, "last byte");
	cr_assert_null(guest_mem_ptr(&mem, MiB - 1, 2), "one byte past the end");
	cr_assert_null(guest_mem_ptr(&mem, 0, MiB + 1));
	cr_assert_null(guest_mem_ptr(&mem, MiB, 1), "first byte after the region");
	cr_assert_eq(guest_mem_ptr(&mem, HIGH_GPA + 0x10, 0x20), high + 0x10);
	cr_assert_null(guest_mem_ptr(&mem, HIGH_GPA + MiB - 8, 16), "straddling the top of RAM");
	cr_assert_null(guest_mem_ptr(&mem, HIGH_GPA - 8, 16), "starting below a region");
}

Test(guest_mem, zero_length_only_inside_ram)
{
	cr_assert_eq(guest_mem_ptr(&mem, 0x1234, 0), low + 0x1234);
	cr_assert_eq(guest_mem_ptr(&mem, MiB - 1, 0), low + MiB - 1);
	cr_assert_null(guest_mem_ptr(&mem, MiB, 0), "the end is not inside");
	cr_assert_null(guest_mem_ptr(&mem, 0xc0000000, 0), "in the MMIO hole");
}

Test(guest_mem, hole_between_regions)
{
	/* 32-bit MMIO window, ECAM, IOAPIC, LAPIC: none of it is RAM. */
	cr_assert_null(guest_mem_ptr(&mem, 0xc0000000, 4));
	cr_assert_null(guest_mem_ptr(&mem, 0xe0000000, 4));
	cr_assert_null(guest_mem_ptr(&mem, 0xfec00000, 4));
	cr_assert_null(guest_mem_ptr(&mem, 0xfee00000, 4));
	cr_assert_null(guest_mem_ptr(&mem, 2 * MiB, 4), "just past low RAM");
	/* From low RAM across the whole hole into high RAM. */
	cr_assert_null(guest_mem_ptr(&mem, MiB - 4, HIGH_GPA - MiB + 8));
	cr_assert_null(guest_mem_ptr(&mem, HIGH_GPA + MiB, 4), "above the top of RAM");
	cr_assert_null(guest_mem_ptr(&mem, 1ULL << 46, 4), "in the 64-bit window");
}

Test(guest_mem, wrap_around_at_2_64)
{
	uint8_t *top = aligned_alloc(4096, 4096);

	/* gpa + len wraps to 0x800, which is inside low RAM: must still be refused. */
	cr_assert_null(guest_mem_ptr(&mem, 0x1000, UINT64_MAX - 0x7ff));
	cr_assert_null(guest_mem_ptr(&mem, 0, UINT64_MAX));
	cr_assert_null(guest_mem_ptr(&mem, UINT64_MAX, 2));
	cr_assert_null(guest_mem_ptr(&mem, UINT64_MAX - 0xf, 0x20));

	/* A region may end exactly at 2^64; its last byte is reachable, one more is not. */
	cr_assert_eq(guest_mem_add(&mem, TOP_GPA, 4096, top), 0);
	cr_assert_eq(guest_mem_ptr(&mem, UINT64_MAX, 1), top + 4095);
	cr_assert_eq(guest_mem_ptr(&mem, TOP_GPA, 4096), top);
	cr_assert_null(guest_mem_ptr(&mem, UINT64_MAX, 2));
	cr_assert_null(guest_mem_ptr(&mem, TOP_GPA, 4097));
	cr_assert_null(guest_mem_ptr(&mem, UINT64_MAX - 0xf, UINT64_MAX));
	free(top);
}

/* Decision (see guest_mem.h): adjacent regions are separate host mappings, so no straddling. */
Test(guest_mem, straddling_adjacent_regions_refused)
{
	struct guest_mem m = { 0 };
	uint8_t *a = aligned_alloc(4096, 0x10000), *b = aligned_alloc(4096, 0x10000);
	uint8_t buf[32] = { 0 };

	cr_assert_eq(guest_mem_add(&m, 0, 0x10000, a), 0);
	cr_assert_eq(guest_mem_add(&m, 0x10000, 0x10000, b), 0);
	cr_assert_eq(guest_mem_ptr(&m, 0xfff0, 0x10), a + 0xfff0, "up to the seam");
	cr_assert_eq(guest_mem_ptr(&m, 0x10000, 0x10), b, "from the seam");
	cr_assert_null(guest_mem_ptr(&m, 0xfff0, 0x20));
	cr_assert_eq(guest_mem_read(&m, 0xfff0, buf, sizeof(buf)), -EFAULT);
	cr_assert_eq(guest_mem_write(&m, 0xfff0, buf, sizeof(buf)), -EFAULT);
	free(a);
	free(b);
}

Test(guest_mem, read_write)
{
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8] = { 0 };

	cr_assert_eq(guest_mem_write(&mem, HIGH_GPA + 0x100, buf, sizeof(buf)), 0);
	cr_assert_arr_eq(high + 0x100, buf, sizeof(buf));
	cr_assert_eq(guest_mem_read(&mem, HIGH_GPA + 0x100, back, sizeof(back)), 0);
	cr_assert_arr_eq(back, buf, sizeof(buf));

	memset(back, 0xaa, sizeof(back));
	cr_assert_eq(guest_mem_read(&mem, MiB - 4, back, sizeof(back)), -EFAULT);
	cr_assert_eq(back[0], 0xaa, "nothing copied on failure");
	cr_assert_eq(guest_mem_write(&mem, 0xc0000000, buf, sizeof(buf)), -EFAULT);
	cr_assert_eq(guest_mem_read(&mem, UINT64_MAX - 3, back, sizeof(back)), -EFAULT);
	cr_assert_eq(guest_mem_read(&mem, 0x10, NULL, 0), 0, "empty copy inside RAM");
	cr_assert_eq(guest_mem_read(&mem, MiB, NULL, 0), -EFAULT, "empty copy outside RAM");
}

Test(guest_mem, add_refuses_bad_regions)
{
	struct guest_mem m = { 0 };
	uint8_t *p = aligned_alloc(4096, 4 * 4096);

	cr_assert_eq(guest_mem_add(&m, 0, 0, p), -EINVAL, "size 0");
	cr_assert_eq(guest_mem_add(&m, UINT64_MAX - 0xfff, 0x2000, p), -EINVAL, "wraps");
	cr_assert_eq(guest_mem_add(&m, 0x1000, 0x1000, p + 8), -EINVAL, "hva misaligned vs gpa");
	cr_assert_eq(guest_mem_add(&m, 0x1000, 0x1000, NULL), -EINVAL);
	cr_assert_eq(m.nr, 0);

	cr_assert_eq(guest_mem_add(&m, 0x10000, 0x2000, p), 0);
	cr_assert_eq(guest_mem_add(&m, 0x11000, 0x2000, p), -EEXIST, "overlaps the end");
	cr_assert_eq(guest_mem_add(&m, 0xf000, 0x2000, p), -EEXIST, "overlaps the start");
	cr_assert_eq(guest_mem_add(&m, 0x0, 0x100000, p), -EEXIST, "covers it");
	cr_assert_eq(guest_mem_add(&m, 0xf000, 0x1000, p), 0, "adjacent below is fine");
	cr_assert_eq(guest_mem_add(&m, 0x12000, 0x1000, p), 0, "adjacent above is fine");
	cr_assert_eq(guest_mem_add(&m, TOP_GPA, 0x1000, p), 0, "ending at 2^64");
	cr_assert_eq(guest_mem_add(&m, UINT64_MAX - 0x1fff, 0x1000, p), -ENOSPC);
	cr_assert_eq(m.nr, GUEST_MEM_MAX_REGIONS);
	free(p);
}
