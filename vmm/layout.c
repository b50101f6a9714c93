// SPDX-License-Identifier: MIT
#include "vmm/layout.h"

#include <errno.h>
#include <stdio.h>

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

unsigned int layout_phys_bits(uint32_t eax)
{
	unsigned int bits = eax & 0xff, guest = (eax >> 16) & 0xff;

	if (!bits)
		return 36;
	return guest && guest < bits ? guest : bits;
}

/* The fewest address bits whose limit holds end (exclusive). */
static unsigned int bits_for(uint64_t end)
{
	unsigned int b = 32;

	while (b < 64 && (1ULL << b) < end)
		b++;
	return b;
}

int layout_check_mmio64(const struct layout *l, unsigned int nr_devs, uint64_t total,
			uint64_t need_end, char *err, size_t errlen)
{
	unsigned int need_bits = bits_for(need_end);
	char bits[32];

	if (need_end <= l->mmio64_end)
		return 0;
	if (need_bits > 52)
		snprintf(bits, sizeof(bits), "more than 52");
	else
		snprintf(bits, sizeof(bits), "%u", need_bits);
	snprintf(err, errlen,
		 "%u device%s need %llu.%llu GiB of 64-bit MMIO above %#llx (up to %#llx with each BAR "
		 "naturally aligned), but %u physical address bits end the window at %#llx "
		 "(%llu GiB); use fewer devices or a host with more address bits (%s needed)",
		 nr_devs, nr_devs == 1 ? "" : "s", (unsigned long long)(total / GiB),
		 (unsigned long long)(total % GiB * 10 / GiB), (unsigned long long)l->mmio64_base,
		 (unsigned long long)need_end, l->phys_bits, (unsigned long long)l->mmio64_end,
		 (unsigned long long)((l->mmio64_end - l->mmio64_base) / GiB), bits);
	return -ENOSPC;
}
