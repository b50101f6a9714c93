// SPDX-License-Identifier: MIT
/* The smallest end-to-end check: PVH boot, long mode, serial, exit port. */
#include "lib/runtime.h"

#define EFLAGS_IF	(1u << 9)
#define CR0_PE		(1u << 0)
#define CR0_PG		(1u << 31)

int main(void)
{
	unsigned int i, ram_entries = 0;

	printf("Hello from vfio-vmm guest\n");
	printf("start info at 0x%lx version %u, cmdline \"%s\", rsdp 0x%lx\n",
	       boot_info.start_info_paddr, boot_info.version, boot_info.cmdline,
	       boot_info.rsdp_paddr);
	printf("memmap: %u entries, %lu MiB RAM, highest RAM address 0x%lx\n",
	       boot_info.nr_memmap, pvh_ram_total() >> 20, pvh_ram_end() - 1);
	pvh_print_memmap();

	printf("entry: cs 0x%x ds 0x%x ss 0x%x eflags 0x%x cr0 0x%x\n", entry_state.cs,
	       entry_state.ds, entry_state.ss, entry_state.eflags, entry_state.cr0);
	/* The PVH contract (vmm/layout.h): flat 0x08 code, 0x10 data, IF and paging off. */
	ASSERT_EQ(entry_state.cs, 0x08);
	ASSERT_EQ(entry_state.ds, 0x10);
	ASSERT_EQ(entry_state.ss, 0x10);
	ASSERT_EQ(entry_state.eflags & EFLAGS_IF, 0);
	ASSERT_EQ(entry_state.cr0 & (CR0_PE | CR0_PG), CR0_PE);

	for (i = 0; i < boot_info.nr_memmap; i++)
		if (boot_info.memmap[i].type == HVM_MEMMAP_TYPE_RAM)
			ram_entries++;
	ASSERT(ram_entries > 0);
	/* We run from this memory, so the VMM must have described it as RAM. */
	ASSERT(pvh_range_is_ram((uint64_t)__image_start,
				(uint64_t)(__image_end - __image_start)));
	test_pass("hello");
}
