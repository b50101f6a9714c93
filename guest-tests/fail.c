// SPDX-License-Identifier: MIT
/*
 * Negative control: the runner must report this guest as failing.
 * With "crash=triple" on the command line it ends in a triple fault
 * instead (an empty IDT, then int3: #GP, #DF, shutdown), which the VMM
 * reports as a guest crash, exit status 120; "crash=kvm-error" jumps
 * into unbacked MMIO space, which KVM cannot fetch instructions from (an
 * internal error, status 121); "crash=reboot" asks for a reset through
 * port 0xcf9 (the VM ends, status 0); "crash=hang" halts with interrupts
 * off until the VMM is stopped from outside (testbed scenario teardown).
 */
#include "lib/runtime.h"

static void triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = { 0, 0 };

	printf("fail: loading an empty IDT and raising int3: a triple fault\n");
	__asm__ volatile("lidt %0; int3" : : "m"(none) : "memory");
}

/* Near the top of the 32-bit PCI window: no RAM, no BAR placed there. */
#define UNBACKED_GPA	0xdff00000ul

static void kvm_error(void)
{
	printf("fail: jumping to unbacked address 0x%lx\n", UNBACKED_GPA);
	((void (*)(void))UNBACKED_GPA)();
}

int main(void)
{
	volatile int one = 1;
	const char *crash = cmdline_get(boot_info.cmdline, "crash");

	if (crash && !strncmp(crash, "triple", 6))
		triple_fault();
	if (crash && !strncmp(crash, "kvm-error", 9))
		kvm_error();
	if (crash && !strncmp(crash, "reboot", 6)) {
		printf("fail: reset through port 0xcf9\n");
		outb(0xcf9, 0x06);
	}
	if (crash && !strncmp(crash, "hang", 4)) {
		printf("fail: halting until stopped\n");
		for (;;) {
			irq_disable();
			cpu_halt();
		}
	}
	printf("fail: asserting 1 == 2 on purpose\n");
	ASSERT_EQ(one, 2);
	test_pass("fail");
}
