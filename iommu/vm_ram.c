// SPDX-License-Identifier: MIT
/*
 * The one place iommu/ meets struct vm: collect guest RAM as (gpa, hva,
 * size) pieces and map them. Kept apart so the unit tests, which link
 * iommu.c against a fake backend, need no VM.
 */
#include <errno.h>

#include "iommu/iommu.h"
#include "vmm/vm.h"

#define MAX_RAM_PIECES	8

struct ram_list {
	struct iommu_ram ram[MAX_RAM_PIECES];
	int nr;
};

static int add_piece(uint64_t gpa, void *hva, uint64_t size, void *arg)
{
	struct ram_list *l = arg;

	if (l->nr == MAX_RAM_PIECES)
		return -E2BIG;
	l->ram[l->nr++] = (struct iommu_ram){ gpa, hva, size };
	return 0;
}

int iommu_map_vm_ram(struct iommu *io, struct vm *vm)
{
	struct ram_list l = { .nr = 0 };
	int ret;

	ret = vm_for_each_ram(vm, add_piece, &l);
	if (ret)
		return ret;
	return iommu_map_ram(io, l.ram, l.nr, vm->ram_page_size ? vm->ram_page_size : 4096);
}
