/* SPDX-License-Identifier: MIT */
/*
 * The smallest guest a VMM can start: a PVH entry that says PASS on the
 * serial port and writes 0 to the test exit port. bench/ times whole
 * `vfio-vmm run` (or QEMU) processes with it, so the guest's own share of
 * that time is a handful of exits and nothing else: no page tables, no
 * stack, no runtime. Under QEMU's isa-debug-exit the 0 becomes status 1.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define COM1_THR			0x3f8
#define TEST_EXIT_PORT			0xf4

	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 4
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_start32

	.section .text.boot, "ax", @progbits
	.code32
	.globl pvh_start32
pvh_start32:
	movl $msg, %esi
	movw $COM1_THR, %dx
1:	movb (%esi), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incl %esi
	jmp 1b
2:	xorl %eax, %eax
	outl %eax, $TEST_EXIT_PORT
3:	cli
	hlt
	jmp 3b

	.section .rodata
msg:	.asciz "PASS bench-nop\n"
