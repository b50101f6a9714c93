// SPDX-License-Identifier: MIT
#include "vmm/layout.h"

#include <errno.h>

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int layout_init(struct layout *l, uint64_t ram_size, unsigned int phys_bits)
{
	uint64_t limit;

	if (ram_size < 16 * MiB || phys_bits < 36 || phys_bits > 52)
		return -EINVAL;
	limit = 1ULL << phys_bits;

	l->ram_size = ram_size;
	l->phys_bits = phys_bits;
	if (ram_size <= LAYOUT_LOW_RAM_MAX) {
		l->low_ram_end = ram_size;
		l->high_ram_end = LAYOUT_HIGH_RAM_BASE;
	} else {
		l->low_ram_end = LAYOUT_LOW_RAM_MAX;
		l->high_ram_end = LAYOUT_HIGH_RAM_BASE + (ram_size - LAYOUT_LOW_RAM_MAX);
	}
	/*
	 * The 64-bit window starts at the first GiB boundary above RAM and
	 * runs to the CPU's limit; BARs are naturally aligned inside it, so a
	 * 128 GiB BAR lands on a 128 GiB boundary.
	 */
	l->mmio64_base = align_up(l->high_ram_end, GiB);
	l->mmio64_end = limit;
	if (l->mmio64_base >= l->mmio64_end)
		return -EINVAL;
	return 0;
}

int layout_e820(const struct layout *l, struct e820_entry *out, int max)
{
	struct e820_entry e[] = {
		{ 0, LAYOUT_EBDA_GPA, E820_RAM },
		{ LAYOUT_EBDA_GPA, 0x100000 - LAYOUT_EBDA_GPA, E820_RESERVED },
		{ 0x100000, l->low_ram_end - 0x100000, E820_RAM },
		/* Linux wants ECAM reserved before it trusts MCFG. */
		{ LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE, E820_RESERVED },
		{ LAYOUT_HIGH_RAM_BASE, l->high_ram_end - LAYOUT_HIGH_RAM_BASE, E820_RAM },
	};
	int n = 0;

	for (unsigned int i = 0; i < sizeof(e) / sizeof(e[0]) && n < max; i++)
		if (e[i].size)
			out[n++] = e[i];
	return n;
}
