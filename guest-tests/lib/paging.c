// SPDX-License-Identifier: MIT
#include "runtime.h"

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_PS		(1ull << 7)
#define PTE_ADDR	0x000ffffffffff000ull

#define GIB		(1ull << 30)
/* Page-table pages for on-demand mappings: PDPTs for PML4 slots past the first, PDs without 1 GiB pages. */
#define POOL_PAGES	64

static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned int pool_used;

static uint64_t *pool_alloc(void)
{
	uint64_t *p;

	if (pool_used >= POOL_PAGES)
		return NULL;
	p = pool[pool_used++];
	memset(p, 0, 4096);
	return p;
}

unsigned int phys_addr_bits(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000008)
		return 36;
	cpuid(0x80000008, 0, &a, &b, &c, &d);
	return a & 0xff;
}

static bool have_1g_pages(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	return d & (1u << 26);
}

static uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* Maps the 1 GiB at gib (aligned) unless its PDPT entry is present already. */
static bool map_gib(uint64_t gib, uint64_t attr, bool big)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & PTE_ADDR), *pdpt, *pd;
	unsigned int i4 = (unsigned int)(gib >> 39) & 511, i3 = (unsigned int)(gib >> 30) & 511;

	if (!(pml4[i4] & PTE_P)) {
		pdpt = pool_alloc();
		if (!pdpt)
			return false;
		pml4[i4] = (uint64_t)pdpt | PTE_P | PTE_RW;
	}
	pdpt = (uint64_t *)(pml4[i4] & PTE_ADDR);
	if (pdpt[i3] & PTE_P)
		return true;
	if (big) {
		pdpt[i3] = gib | attr | PTE_PS;
		return true;
	}
	pd = pool_alloc();
	if (!pd)
		return false;
	for (unsigned int i = 0; i < 512; i++)
		pd[i] = (gib + ((uint64_t)i << 21)) | attr | PTE_PS;
	pdpt[i3] = (uint64_t)pd | PTE_P | PTE_RW;
	return true;
}

bool map_phys(uint64_t addr, uint64_t len, bool uncached)
{
	uint64_t attr = PTE_P | PTE_RW | (uncached ? PTE_PCD | PTE_PWT : 0);
	uint64_t end = addr + len, g;
	bool big = have_1g_pages(), ok = true;

	if (!len)
		return true;
	if (end < addr || end > (1ull << phys_addr_bits()))
		return false;
	for (g = addr & ~(GIB - 1); g < end && ok; g += GIB)
		ok = map_gib(g, attr, big);
	write_cr3(read_cr3());	/* drop any cached paging-structure entries */
	return ok;
}
