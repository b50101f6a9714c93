/* SPDX-License-Identifier: MIT */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The boot code identity-maps 0..4 TiB (GUEST_MAPPED_LIMIT). Anything above
 * (a 64-bit BAR the VMM placed that high) is mapped on demand: map_phys()
 * identity-maps [addr, addr + len) in 1 GiB pages when the CPU has them (CPUID 0x80000001 EDX.Page1GB), else in 2 MiB pages from a
 * small pool of page-directory pages. uncached adds PCD|PWT (for registers),
 * also to a range that is mapped already (the boot map is write-back above
 * 4 GiB): in 2 MiB steps, splitting a 1 GiB page the range covers only in part.
 * Cached requests leave mapped ranges as they are. False when the range is
 * beyond the CPU's physical address bits or the pool is used up.
 */
bool map_phys(uint64_t addr, uint64_t len, bool uncached);
/* The leaf page-table entry that maps addr (0 when none) and its page size. */
uint64_t page_leaf(uint64_t addr, uint64_t *size);
/* The CPU's physical address width (CPUID 0x80000008 EAX[7:0]; 36 without it). */
unsigned int phys_addr_bits(void);

#endif
