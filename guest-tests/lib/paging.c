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

#define PTE_CACHE	(PTE_PCD | PTE_PWT)
#define MIB2		(1ull << 21)

/* The PDPT entry of addr, with a PDPT allocated for its PML4 slot if need be. */
static uint64_t *pdpt_entry(uint64_t addr)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & PTE_ADDR), *pdpt;
	unsigned int i4 = (unsigned int)(addr >> 39) & 511;

	if (!(pml4[i4] & PTE_P)) {
		pdpt = pool_alloc();
		if (!pdpt)
			return NULL;
		pml4[i4] = (uint64_t)pdpt | PTE_P | PTE_RW;
	}
	pdpt = (uint64_t *)(pml4[i4] & PTE_ADDR);
	return &pdpt[(addr >> 30) & 511];
}

/*
 * Makes [lo, hi) inside the mapped GiB at *e uncached, in 2 MiB steps: a
 * 1 GiB page the range covers takes the bits itself, one it covers in part
 * is split into 2 MiB pages first (same address and attributes), so the rest
 * of that GiB keeps its caching. Entries below 2 MiB (4 KiB tables) are left.
 */
static bool uncache_in_gib(uint64_t *e, uint64_t gib, uint64_t lo, uint64_t hi)
{
	uint64_t *pd;

	if (*e & PTE_PS) {
		if (lo == gib && hi == gib + GIB) {
			*e |= PTE_CACHE;
			return true;
		}
		pd = pool_alloc();
		if (!pd)
			return false;
		for (unsigned int i = 0; i < 512; i++)
			pd[i] = ((*e & PTE_ADDR & ~(GIB - 1)) + ((uint64_t)i << 21)) |
				(*e & ~PTE_ADDR);
		*e = (uint64_t)pd | PTE_P | PTE_RW;
	}
	pd = (uint64_t *)(*e & PTE_ADDR);
	for (uint64_t a = lo & ~(MIB2 - 1); a < hi; a += MIB2) {
		uint64_t *pde = &pd[(a >> 21) & 511];

		if ((*pde & PTE_P) && (*pde & PTE_PS))
			*pde |= PTE_CACHE;
	}
	return true;
}

/*
 * Maps the 1 GiB at gib (aligned) unless its PDPT entry is present already;
 * a present one gets [lo, hi) uncached when attr asks for it.
 */
static bool map_gib(uint64_t gib, uint64_t lo, uint64_t hi, uint64_t attr, bool big)
{
	uint64_t *e = pdpt_entry(gib), *pd;

	if (!e)
		return false;
	if (*e & PTE_P)
		return (attr & PTE_CACHE) ? uncache_in_gib(e, gib, lo, hi) : true;
	if (big) {
		*e = gib | attr | PTE_PS;
		return true;
	}
	pd = pool_alloc();
	if (!pd)
		return false;
	for (unsigned int i = 0; i < 512; i++)
		pd[i] = (gib + ((uint64_t)i << 21)) | attr | PTE_PS;
	*e = (uint64_t)pd | PTE_P | PTE_RW;
	return true;
}

uint64_t page_leaf(uint64_t addr, uint64_t *size)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & PTE_ADDR), *t, e;

	e = pml4[(addr >> 39) & 511];
	if (!(e & PTE_P))
		return 0;
	t = (uint64_t *)(e & PTE_ADDR);
	e = t[(addr >> 30) & 511];
	*size = GIB;
	if (!(e & PTE_P) || (e & PTE_PS))
		return e;
	t = (uint64_t *)(e & PTE_ADDR);
	e = t[(addr >> 21) & 511];
	*size = MIB2;
	if (!(e & PTE_P) || (e & PTE_PS))
		return e;
	t = (uint64_t *)(e & PTE_ADDR);
	*size = 4096;
	return t[(addr >> 12) & 511];
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
		ok = map_gib(g, g > addr ? g : addr, g + GIB < end ? g + GIB : end, attr, big);
	write_cr3(read_cr3());	/* drop any cached paging-structure entries */
	return ok;
}
