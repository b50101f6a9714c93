/* SPDX-License-Identifier: MIT */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The guest physical memory map, in one place. Everything that describes
 * memory to the guest (e820, PVH memmap, ACPI MCFG/_CRS) derives from here.
 *
 *   0            .. low_ram_end    RAM (at most 3 GiB)
 *   0xC0000000   .. 0xDFFFFFFF     32-bit MMIO window for BARs
 *   0xE0000000   .. 0xEFFFFFFF     PCI ECAM (buses 0-255, 1 MiB each)
 *   0xFEC00000                     IOAPIC
 *   0xFEE00000                     LAPIC
 *   4 GiB        .. high_ram_end   RAM above the hole (if RAM > 3 GiB)
 *   mmio64_base  .. mmio64_end     64-bit MMIO window, up to the CPU's
 *                                  physical address limit: the same bits
 *                                  the guest's CPUID reports (eight H200s,
 *                                  2 TiB of BARs, need 42)
 *
 * Low fixed structures used by the boot code live below 1 MiB, see the
 * LAYOUT_*_GPA constants.
 */
#define LAYOUT_LOW_RAM_MAX	0xC0000000ULL
#define LAYOUT_MMIO32_BASE	0xC0000000ULL
#define LAYOUT_MMIO32_SIZE	0x20000000ULL
#define LAYOUT_ECAM_BASE	0xE0000000ULL
#define LAYOUT_ECAM_SIZE	0x10000000ULL
#define LAYOUT_ECAM_BUSES	256
#define LAYOUT_IOAPIC_BASE	0xFEC00000ULL
#define LAYOUT_LAPIC_BASE	0xFEE00000ULL
#define LAYOUT_HIGH_RAM_BASE	0x100000000ULL

/* Fixed boot structures in low memory. */
#define LAYOUT_GDT_GPA		0x00000500ULL
#define LAYOUT_PVH_INFO_GPA	0x00006000ULL	/* hvm_start_info + memmap */
#define LAYOUT_ZERO_PAGE_GPA	0x00007000ULL	/* Linux boot_params */
#define LAYOUT_PML4_GPA		0x00009000ULL	/* identity page tables */
#define LAYOUT_PDPT_GPA		0x0000A000ULL
#define LAYOUT_PD_GPA		0x0000B000ULL	/* 4 pages: first 4 GiB */
#define LAYOUT_CMDLINE_GPA	0x00020000ULL
#define LAYOUT_CMDLINE_MAX	0x00010000ULL
#define LAYOUT_EBDA_GPA		0x0009FC00ULL
#define LAYOUT_ACPI_GPA		0x000E0000ULL	/* RSDP + tables, 128 KiB */
#define LAYOUT_ACPI_SIZE	0x00020000ULL
#define LAYOUT_KERNEL_GPA	0x00100000ULL	/* bzImage protected-mode code */

/* Test exit port: a 32-bit write of V ends the VMM with exit status V & 0xff. */
#define LAYOUT_TEST_EXIT_PORT	0x0f4
/* Power-off / reset port (ACPI FADT reset register & PM1a control). */
#define LAYOUT_PM_PORT		0x600
#define LAYOUT_RESET_PORT	0xcf9

struct layout {
	uint64_t ram_size;	/* total guest RAM */
	uint64_t low_ram_end;	/* end of RAM below the 32-bit hole */
	uint64_t high_ram_end;	/* end of RAM above 4 GiB (== 4 GiB if none) */
	uint64_t mmio64_base;
	uint64_t mmio64_end;	/* exclusive */
	unsigned int phys_bits;
};

/* -EINVAL when RAM is too small or does not fit under the address limit. */
int layout_init(struct layout *l, uint64_t ram_size, unsigned int phys_bits);

/*
 * The guest's physical address bits from KVM's CPUID leaf 0x80000008 EAX:
 * bits 7:0 (MAXPHYADDR), lowered to bits 23:16 when KVM fills them (newer
 * kernels report there what its two-dimensional paging can really map,
 * e.g. 48 with 4-level EPT on a 52-bit host). 36 when the leaf is empty.
 */
unsigned int layout_phys_bits(uint32_t cpuid_80000008_eax);

/*
 * Do BARs ending at need_end (exclusive; from pci_mmio64_need) fit in the
 * 64-bit window? 0 if so; else -ENOSPC and one line in err naming the
 * numbers (devices, GiB, the window's end, the address bits it would take).
 */
int layout_check_mmio64(const struct layout *l, unsigned int nr_devs, uint64_t total,
			uint64_t need_end, char *err, size_t errlen);

enum e820_type { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3 };

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Fills up to max entries, returns the count. */
int layout_e820(const struct layout *l, struct e820_entry *out, int max);

/* ECAM address of a function's config space (bus 0 only in practice). */
static inline uint64_t layout_ecam_addr(unsigned int bus, unsigned int devfn)
{
	return LAYOUT_ECAM_BASE + ((uint64_t)bus << 20) + ((uint64_t)devfn << 12);
}

#endif
