/* SPDX-License-Identifier: MIT */
#ifndef VMM_PVH_H
#define VMM_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/layout.h"

/*
 * PVH boot: an ELF kernel with a XEN_ELFNOTE_PHYS32_ENTRY note is loaded
 * at its physical addresses and entered in 32-bit mode with EBX pointing
 * at a struct hvm_start_info (memory map, command line, initrd, RSDP).
 */
#define PVH_START_MAGIC		0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

bool pvh_probe(const void *img, size_t len);

/*
 * Finds the PVH entry and checks every PT_LOAD segment fits in
 * [1 MiB, low_ram_end). Returns 0 with *entry, or a negative errno after
 * logging what is wrong with the file.
 */
int pvh_parse(const void *img, size_t len, uint64_t low_ram_end, uint32_t *entry);

/*
 * The end of the highest PT_LOAD segment, bss included (paddr + memsz), of a
 * file pvh_parse() accepted: where the kernel's memory ends.
 */
uint64_t pvh_kernel_end(const void *img);

/*
 * Where an initrd of len bytes goes: the top of low RAM, page aligned, and
 * wholly above kernel_end (pvh_kernel_end(); at least 1 MiB, so clear of the
 * boot structures and ACPI tables below it). 0 with *gpa, or -E2BIG when it
 * does not fit.
 */
int pvh_initrd_place(uint64_t low_ram_end, uint64_t kernel_end, uint64_t len, uint64_t *gpa);

/* Copies the PT_LOAD segments into ram (host pointer of guest physical 0). */
void pvh_load_segments(const void *img, uint8_t *ram);

/*
 * Writes hvm_start_info, the memmap (from layout_e820), the module list
 * (initrd) at LAYOUT_PVH_INFO_GPA. cmdline_gpa/initrd_gpa may be 0.
 */
int pvh_write_start_info(uint8_t *ram, const struct layout *l, uint64_t cmdline_gpa,
			 uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa);

#endif
