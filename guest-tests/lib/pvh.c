// SPDX-License-Identifier: MIT
#include "pvh.h"
#include "serial.h"
#include "string.h"

struct boot_info boot_info;

static void copy_cmdline(uint64_t paddr)
{
	const char *src = (const char *)paddr;
	unsigned int i;

	if (!paddr)
		return;
	for (i = 0; i + 1 < sizeof(boot_info.cmdline) && src[i]; i++)
		boot_info.cmdline[i] = src[i];
	boot_info.cmdline[i] = '\0';
}

int pvh_init(uint64_t start_info_paddr)
{
	const struct hvm_start_info *si = (const void *)start_info_paddr;
	const struct hvm_memmap_entry *mm;
	unsigned int i, n;

	boot_info.start_info_paddr = start_info_paddr;
	if (!si || si->magic != HVM_START_MAGIC) {
		printf("pvh: bad start info at %p (magic 0x%x)\n", (void *)si,
		       si ? si->magic : 0);
		return -1;
	}
	boot_info.version = si->version;
	boot_info.rsdp_paddr = si->rsdp_paddr;
	copy_cmdline(si->cmdline_paddr);
	if (si->version < 1 || !si->memmap_paddr) {
		printf("pvh: start info version %u has no memory map\n", si->version);
		return -1;
	}

	n = si->memmap_entries;
	if (n > BOOT_MEMMAP_MAX) {
		printf("pvh: %u memmap entries, keeping %u\n", n, BOOT_MEMMAP_MAX);
		n = BOOT_MEMMAP_MAX;
	}
	mm = (const void *)si->memmap_paddr;
	for (i = 0; i < n; i++)
		boot_info.memmap[i] = mm[i];
	boot_info.nr_memmap = n;
	return 0;
}

uint64_t pvh_ram_total(void)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < boot_info.nr_memmap; i++)
		if (boot_info.memmap[i].type == HVM_MEMMAP_TYPE_RAM)
			total += boot_info.memmap[i].size;
	return total;
}

uint64_t pvh_ram_end(void)
{
	uint64_t end = 0;
	unsigned int i;

	for (i = 0; i < boot_info.nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &boot_info.memmap[i];

		if (e->type == HVM_MEMMAP_TYPE_RAM && e->addr + e->size > end)
			end = e->addr + e->size;
	}
	return end;
}

bool pvh_range_is_ram(uint64_t addr, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < boot_info.nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &boot_info.memmap[i];

		if (e->type == HVM_MEMMAP_TYPE_RAM && addr >= e->addr &&
		    addr + len <= e->addr + e->size)
			return true;
	}
	return false;
}

const char *pvh_memmap_type_name(uint32_t type)
{
	switch (type) {
	case 1:
		return "RAM";
	case 2:
		return "reserved";
	case 3:
		return "ACPI";
	case 4:
		return "NVS";
	case 5:
		return "unusable";
	default:
		return "?";
	}
}

void pvh_print_memmap(void)
{
	unsigned int i;

	for (i = 0; i < boot_info.nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &boot_info.memmap[i];

		printf("  memmap[%u] 0x%016lx-0x%016lx %s\n", i, e->addr, e->addr + e->size - 1,
		       pvh_memmap_type_name(e->type));
	}
}
