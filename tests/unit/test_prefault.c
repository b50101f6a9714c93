// SPDX-License-Identifier: MIT
/*
 * Multi-threaded prefault of guest RAM (issue 13, GPU-scale start): every
 * page of every range is resident afterwards, whatever the thread count,
 * the ranges' sizes or their number; nothing outside them is touched.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/prefault.h"

#define MiB	(1ull << 20)

static uint64_t resident(void *p, uint64_t size)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), n = size / pg, r = 0;
	unsigned char *v = calloc(n, 1);

	cr_assert_not_null(v);
	cr_assert_eq(mincore(p, size, v), 0);
	for (uint64_t i = 0; i < n; i++)
		r += v[i] & 1;
	free(v);
	return r * pg;
}

static void *anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

static void check(unsigned int threads)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	/* Two ranges like low and high RAM, with untouched guard areas around them. */
	uint8_t *a = anon(40 * MiB), *b = anon(24 * MiB + 3 * pg);
	struct prefault_range r[2] = { { a + MiB, 37 * MiB + pg }, { b, 24 * MiB + 3 * pg } };

	cr_assert_eq(resident(a, 40 * MiB), 0, "fresh memory is not resident");
	cr_assert_eq(prefault_ranges(r, 2, pg, threads), 0);
	cr_assert_eq(resident(r[0].hva, r[0].size), r[0].size, "%u threads: range 0", threads);
	cr_assert_eq(resident(r[1].hva, r[1].size), r[1].size, "%u threads: range 1", threads);
	cr_assert_eq(resident(a, MiB), 0, "the page before range 0 was touched");
	cr_assert_eq(resident(a + MiB + r[0].size, 40 * MiB - MiB - r[0].size), 0,
		     "pages after range 0 were touched");
	/* Prefault writes nothing the guest could see. */
	for (uint64_t off = 0; off < r[0].size; off += 4093)
		cr_assert_eq(((uint8_t *)r[0].hva)[off], 0);
	munmap(a, 40 * MiB);
	munmap(b, 24 * MiB + 3 * pg);
}

Test(prefault, one_thread)
{
	check(1);
}

Test(prefault, several_threads)
{
	check(4);
}

Test(prefault, more_threads_than_pages)
{
	check(300);
}

Test(prefault, default_threads_is_the_cpu_count)
{
	cr_assert_eq(prefault_default_threads(), (unsigned int)sysconf(_SC_NPROCESSORS_ONLN));
}
