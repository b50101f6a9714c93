/* SPDX-License-Identifier: MIT */
#ifndef GUEST_PVH_H
#define GUEST_PVH_H

#include <stdbool.h>
#include <stdint.h>

/* The PVH boot ABI (Xen's arch/x86/hvm/start_info.h, version 1). */
#define HVM_START_MAGIC		0x336ec578
#define HVM_MEMMAP_TYPE_RAM	1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* The boot code identity-maps this much (start.S); nothing above it is reachable. */
#define GUEST_MAPPED_LIMIT	(4096ul << 30)
#define BOOT_MEMMAP_MAX		32

/*
 * What the guest learned at boot, copied out of the start info so tests may
 * overwrite low memory (the memory test does).
 */
struct boot_info {
	uint64_t start_info_paddr;
	uint32_t version;
	uint64_t rsdp_paddr;
	char cmdline[256];
	unsigned int nr_memmap;
	struct hvm_memmap_entry memmap[BOOT_MEMMAP_MAX];
};

extern struct boot_info boot_info;

/* CPU state at the PVH entry point, saved by start.S before it changes any. */
struct entry_state {
	uint16_t cs, ds, ss, pad;
	uint32_t eflags;
	uint32_t cr0;
};

extern struct entry_state entry_state;

/* Validates and copies the start info; -1 (after printing why) on a bad one. */
int pvh_init(uint64_t start_info_paddr);
/* Sum of the RAM entries, and the end of the highest RAM entry. */
uint64_t pvh_ram_total(void);
uint64_t pvh_ram_end(void);
/* True if [addr, addr+len) lies inside one RAM entry. */
bool pvh_range_is_ram(uint64_t addr, uint64_t len);
const char *pvh_memmap_type_name(uint32_t type);
void pvh_print_memmap(void);

#endif
