/* SPDX-License-Identifier: MIT */
#ifndef VMM_BZIMAGE_H
#define VMM_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/layout.h"

/*
 * The Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst).
 * We skip the real-mode setup code entirely: the protected-mode part of the
 * bzImage goes to guest RAM, a boot_params "zero page" describes the machine,
 * and the boot CPU starts in long mode at load address + 0x200 with RSI
 * pointing at the zero page. See docs/boot.md.
 */
#define BZIMAGE_MIN_VERSION	0x020c	/* 2.12: XLF_KERNEL_64 is defined */
#define BZIMAGE_ENTRY64_OFFSET	0x200

/* What the setup header says, decoded; sizes in bytes. */
struct bzimage_info {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	size_t setup_size;	/* boot sector + real-mode setup, to skip */
	size_t kernel_size;	/* the protected-mode part we load */
	size_t header_end;	/* end of the setup header in the file */
	uint32_t kernel_alignment;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;	/* longest command line, without the NUL */
	uint64_t pref_address;
	uint32_t init_size;	/* memory the kernel needs from its runtime start */
};

/* True if buf starts like a bzImage (boot flag 0xAA55 and "HdrS"). */
bool bzimage_probe(const void *buf, size_t len);

/*
 * Decodes and validates the setup header. -ENOEXEC for something that is not
 * a usable 64-bit bzImage (too old, no 64-bit entry, truncated); the reason
 * is logged.
 */
int bzimage_parse(const void *kernel, size_t kernel_len, struct bzimage_info *info);

/*
 * Loads a bzImage for a 64-bit entry into guest RAM.
 *   ram          host pointer for guest physical 0; low RAM is contiguous
 *   ram_low_end  end of the RAM backed at ram (normally l->low_ram_end)
 *   l            the memory map: the zero page's e820 table comes from it
 *   initrd       may be NULL (initrd_len 0); cmdline may be NULL
 *   rsdp_gpa     goes to boot_params.acpi_rsdp_addr (0: Linux scans for it)
 * Writes the kernel at LAYOUT_KERNEL_GPA (or at its pref_address if it is not
 * relocatable), the initrd page-aligned at the top of low RAM below
 * initrd_addr_max, the command line at LAYOUT_CMDLINE_GPA and the zero page
 * at LAYOUT_ZERO_PAGE_GPA. Returns 0 and the entry: *entry_rip is the 64-bit
 * entry point, *zero_page_gpa goes in RSI. Errors (logged): -ENOEXEC bad
 * image, -ENOMEM kernel or initrd does not fit, -E2BIG command line too long.
 */
int bzimage_load(void *ram, uint64_t ram_low_end, const struct layout *l, const void *kernel,
		 size_t kernel_len, const void *initrd, size_t initrd_len, const char *cmdline,
		 uint64_t rsdp_gpa, uint64_t *entry_rip, uint64_t *zero_page_gpa);

#endif
