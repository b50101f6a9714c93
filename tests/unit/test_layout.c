// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>

#include "vmm/layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint64_t e820_ram_total(const struct e820_entry *e, int n)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			t += e[i].size;
	return t;
}

Test(layout, small_ram_stays_below_hole)
{
	struct layout l;
	struct e820_entry e[16];
	int n;

	cr_assert_eq(layout_init(&l, 256 * MiB, 40), 0);
	cr_assert_eq(l.low_ram_end, 256 * MiB);
	cr_assert_eq(l.high_ram_end, LAYOUT_HIGH_RAM_BASE);
	cr_assert_eq(l.mmio64_base, 4 * GiB);
	cr_assert_eq(l.mmio64_end, 1ULL << 40);
	n = layout_e820(&l, e, 16);
	/* The EBDA..1 MiB hole is reserved, so RAM is what remains of 256M. */
	cr_assert_eq(e820_ram_total(e, n), 256 * MiB - (0x100000 - LAYOUT_EBDA_GPA));
	for (int i = 0; i < n; i++)
		cr_assert(e[i].type != E820_RAM || e[i].addr + e[i].size <= LAYOUT_MMIO32_BASE);
}

Test(layout, big_ram_relocated_above_4g)
{
	struct layout l;
	struct e820_entry e[16];
	bool ecam_reserved = false, high = false;
	int n;

	cr_assert_eq(layout_init(&l, 6 * GiB, 46), 0);
	cr_assert_eq(l.low_ram_end, 3 * GiB);
	cr_assert_eq(l.high_ram_end, 7 * GiB);
	cr_assert_eq(l.mmio64_base, 7 * GiB);
	n = layout_e820(&l, e, 16);
	for (int i = 0; i < n; i++) {
		/* No RAM may overlap the 32-bit hole. */
		cr_assert(e[i].type != E820_RAM || e[i].addr + e[i].size <= LAYOUT_MMIO32_BASE ||
			  e[i].addr >= LAYOUT_HIGH_RAM_BASE);
		if (e[i].type == E820_RESERVED && e[i].addr == LAYOUT_ECAM_BASE &&
		    e[i].size == LAYOUT_ECAM_SIZE)
			ecam_reserved = true;
		if (e[i].type == E820_RAM && e[i].addr == 4 * GiB && e[i].size == 3 * GiB)
			high = true;
	}
	cr_assert(ecam_reserved);
	cr_assert(high);
	cr_assert_eq(e820_ram_total(e, n), 6 * GiB - (0x100000 - LAYOUT_EBDA_GPA));
}

Test(layout, window_rounded_to_gib_and_errors)
{
	struct layout l;

	cr_assert_eq(layout_init(&l, 3 * GiB + 5 * MiB, 40), 0);
	cr_assert_eq(l.mmio64_base, 5 * GiB);
	cr_assert_eq(layout_init(&l, 1 * MiB, 40), -EINVAL);
	/* 64 GiB of RAM cannot fit under a 36-bit (64 GiB) address limit. */
	cr_assert_eq(layout_init(&l, 64 * GiB, 36), -EINVAL);
}

Test(layout, ecam_address)
{
	cr_assert_eq(layout_ecam_addr(0, 0), LAYOUT_ECAM_BASE);
	cr_assert_eq(layout_ecam_addr(0, 0x08), LAYOUT_ECAM_BASE + 0x8000);
	cr_assert_eq(layout_ecam_addr(1, 0), LAYOUT_ECAM_BASE + 0x100000);
}

Test(layout, phys_bits_from_cpuid)
{
	/* MAXPHYADDR 46, virtual 57: 46. */
	cr_assert_eq(layout_phys_bits(0x392e), 46);
	/* 52 bits, but KVM says its 4-level EPT maps 48 (GuestPhysBits, 23:16): 48. */
	cr_assert_eq(layout_phys_bits(0x303034), 48);
	/* GuestPhysBits never raises the limit. */
	cr_assert_eq(layout_phys_bits(0x34302e), 46);
	cr_assert_eq(layout_phys_bits(0), 36);
}
