// SPDX-License-Identifier: MIT
#include "runtime.h"

_Noreturn void runtime_main(uint64_t start_info_paddr);

_Noreturn void runtime_main(uint64_t start_info_paddr)
{
	serial_init();
	idt_init();
	/* Without a memory map no test can trust its environment. */
	if (pvh_init(start_info_paddr) < 0)
		test_fail("boot: no valid PVH start info");
	test_exit((uint32_t)main());
}
