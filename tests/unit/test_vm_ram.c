// SPDX-License-Identifier: MIT
/*
 * Anonymous guest RAM (vm_map_anon_ram): it starts on a 2 MiB boundary, so
 * a transparent huge page has the same offset in guest and host addresses
 * (KVM and the IOMMU can map it whole), it is marked MADV_HUGEPAGE (THP in
 * "madvise" mode too), and the over-allocation used to align it is gone.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/vm.h"

#define MiB	(1ull << 20)

struct vma {
	uintptr_t start, end;
	char flags[512];
};

/* The VMA holding addr, from /proc/self/smaps. */
static struct vma find_vma(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	struct vma v = { 0 }, cur = { 0 };
	bool in = false;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		/* A VMA's first line; field lines ("AnonHugePages:") never parse twice. */
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			cur = (struct vma){ a, b, "" };
			in = addr >= a && addr < b;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(cur.flags, sizeof(cur.flags), "%s", line + 8);
			v = cur;
			break;
		}
	}
	fclose(f);
	cr_assert_neq(v.end, 0, "no VMA holds %#lx", (unsigned long)addr);
	return v;
}

static void check(uint64_t size)
{
	uint8_t *p = vm_map_anon_ram(size);
	struct vma v;

	cr_assert_not_null(p, "%llu MiB", (unsigned long long)(size / MiB));
	cr_assert_eq((uintptr_t)p & (2 * MiB - 1), 0, "%p is not 2 MiB aligned", (void *)p);
	v = find_vma((uintptr_t)p);
	cr_assert_eq(v.start, (uintptr_t)p, "the alignment slack before RAM is still mapped");
	cr_assert_eq(v.end, (uintptr_t)p + size, "the VMA is %#lx bytes, not %#llx",
		     (unsigned long)(v.end - v.start), (unsigned long long)size);
	cr_assert_not_null(strstr(v.flags, " hg"), "no MADV_HUGEPAGE (VmFlags:%s)", v.flags);
	p[0] = 1;
	p[size - 1] = 2;
	cr_assert_eq(p[0] + p[size - 1], 3);
	cr_assert_eq(munmap(p, size), 0);
}

Test(vm_ram, aligned_and_trimmed)
{
	check(2 * MiB);
	check(64 * MiB);
	check(3 * MiB);		/* not a whole number of huge pages */
	check(1ull << 30);
}

Test(vm_ram, many_in_a_row_all_aligned)
{
	/* Different mmap results each time: both trim paths get exercised. */
	for (int i = 0; i < 32; i++) {
		void *pad = mmap(NULL, (uint64_t)(i + 1) * 4096, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		cr_assert_neq(pad, MAP_FAILED);
		check(4 * MiB);
		munmap(pad, (uint64_t)(i + 1) * 4096);
	}
}
