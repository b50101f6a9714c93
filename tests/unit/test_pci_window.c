// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>

#include "devices/pci.h"

Test(pci_window, natural_alignment_and_packing)
{
	struct pci_window w;
	uint64_t a, b, c;

	pci_window_init(&w, 0x100000000ull, 0x10000000000ull);
	cr_assert_eq(pci_window_alloc(&w, 16 << 20, &a), 0);
	cr_assert_eq(a, 0x100000000ull);
	/* 128 GiB cannot start at 4 GiB + 16 MiB: it moves to the next 128 GiB boundary. */
	cr_assert_eq(pci_window_alloc(&w, 128ull << 30, &b), 0);
	cr_assert_eq(b, 128ull << 30);
	cr_assert_eq(pci_window_alloc(&w, 4096, &c), 0);
	cr_assert_eq(c, b + (128ull << 30));
}

Test(pci_window, largest_first_wastes_nothing)
{
	struct pci_window w;
	uint64_t a;
	uint64_t sizes[] = { 1 << 24, 1 << 22, 1 << 22, 1 << 20, 4096 };
	uint64_t total = 0;

	pci_window_init(&w, 0xc0000000, 0xe0000000);
	for (unsigned int i = 0; i < 5; i++) {
		cr_assert_eq(pci_window_alloc(&w, sizes[i], &a), 0);
		cr_assert_eq(a, 0xc0000000 + total);
		total += sizes[i];
	}
}

Test(pci_window, errors)
{
	struct pci_window w;
	uint64_t a = 0x1234;

	pci_window_init(&w, 0xc0000000, 0xe0000000);
	cr_assert_eq(pci_window_alloc(&w, 3 << 20, &a), -EINVAL);
	cr_assert_eq(pci_window_alloc(&w, 0, &a), -EINVAL);
	cr_assert_eq(pci_window_alloc(&w, 1ull << 30, &a), -ENOSPC);
	cr_assert_eq(a, 0x1234, "address written on failure");
	cr_assert_eq(pci_window_alloc(&w, 256 << 20, &a), 0);
	cr_assert_eq(pci_window_alloc(&w, 256 << 20, &a), 0);
	cr_assert_eq(pci_window_alloc(&w, 4096, &a), -ENOSPC);
	/* Near the top of the address space the rounding must not wrap. */
	pci_window_init(&w, UINT64_MAX - 0xfff, UINT64_MAX);
	cr_assert_eq(pci_window_alloc(&w, 1ull << 32, &a), -ENOSPC);
}

/* A bridge window: any size, aligned to the largest BAR inside it. */
Test(pci_window, aligned_allocations_of_any_size)
{
	struct pci_window w;
	uint64_t a = 0;

	pci_window_init(&w, 0xc0100000, 0xe0000000);
	cr_assert_eq(pci_window_alloc_aligned(&w, 48 << 20, 16 << 20, &a), 0);
	cr_assert_eq(a, 0xc1000000);
	cr_assert_eq(pci_window_alloc_aligned(&w, 1 << 20, 1 << 20, &a), 0);
	cr_assert_eq(a, 0xc4000000, "right after the 48 MiB");
	cr_assert_eq(pci_window_alloc_aligned(&w, 1 << 20, 3 << 20, &a), -EINVAL);
	cr_assert_eq(pci_window_alloc_aligned(&w, 0, 1 << 20, &a), -EINVAL);
	cr_assert_eq(pci_window_alloc_aligned(&w, 1ull << 30, 1 << 20, &a), -ENOSPC);
	pci_window_init(&w, UINT64_MAX - 0xfff, UINT64_MAX);
	cr_assert_eq(pci_window_alloc_aligned(&w, 4096, 1ull << 32, &a), -ENOSPC);
}
