// SPDX-License-Identifier: MIT
/*
 * KVM memslot numbers (hostile-guest finding 1): a guest that turns decode
 * on and off, moves BARs or resets a device over and over must never run
 * the VM out of slot numbers, and the count is KVM's, not ours.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "vmm/memslots.h"

Test(memslots, lowest_free_first_and_reused)
{
	struct memslots s;

	cr_assert_eq(memslots_init(&s, 8), 0);
	cr_assert_eq(memslots_alloc(&s), 0);
	cr_assert_eq(memslots_alloc(&s), 1);
	cr_assert_eq(memslots_alloc(&s), 2);
	memslots_free(&s, 1);
	cr_assert_eq(memslots_alloc(&s), 1, "a freed number is handed out again");
	cr_assert_eq(memslots_alloc(&s), 3);
	memslots_destroy(&s);
}

Test(memslots, limit_is_the_count_given)
{
	struct memslots s;

	/* 509 (old KVM) and 32764 (6.x) are not multiples of 64: the tail word matters. */
	for (uint32_t nr = 509; nr <= 32764; nr += 32764 - 509) {
		cr_assert_eq(memslots_init(&s, nr), 0);
		for (uint32_t i = 0; i < nr; i++)
			cr_assert_eq(memslots_alloc(&s), (int)i);
		cr_assert_eq(memslots_alloc(&s), -ENOSPC, "slot %u of %u handed out", nr, nr);
		memslots_free(&s, nr - 1);
		cr_assert_eq(memslots_alloc(&s), (int)nr - 1);
		memslots_destroy(&s);
	}
}

Test(memslots, churn_never_runs_out)
{
	struct memslots s;
	int held[4];

	/* Two RAM slots stay; a BAR's 4 pieces come and go 100,000 times. */
	cr_assert_eq(memslots_init(&s, 32764), 0);
	cr_assert_eq(memslots_alloc(&s), 0);
	cr_assert_eq(memslots_alloc(&s), 1);
	for (int cycle = 0; cycle < 100000; cycle++) {
		for (int k = 0; k < 4; k++) {
			held[k] = memslots_alloc(&s);
			cr_assert_geq(held[k], 2, "cycle %d", cycle);
			cr_assert_lt(held[k], 6, "cycle %d: slot %d, numbers not reused", cycle,
				     held[k]);
		}
		for (int k = 0; k < 4; k++)
			memslots_free(&s, (uint32_t)held[k]);
	}
	cr_assert_eq(s.used, 2);
	memslots_destroy(&s);
}

Test(memslots, bad_free_is_ignored)
{
	struct memslots s;

	cr_assert_eq(memslots_init(&s, 4), 0);
	cr_assert_eq(memslots_alloc(&s), 0);
	memslots_free(&s, 3);		/* never handed out */
	memslots_free(&s, 100000);	/* out of range */
	cr_assert_eq(s.used, 1);
	memslots_free(&s, 0);
	memslots_free(&s, 0);		/* twice */
	cr_assert_eq(s.used, 0);
	cr_assert_eq(memslots_alloc(&s), 0);
	memslots_destroy(&s);
}
