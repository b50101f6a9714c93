/* SPDX-License-Identifier: MIT */
/*
 * 256 interrupt entry stubs, each ISR_STUB_SIZE bytes apart so idt.c can
 * compute their addresses. Each pushes a dummy error code when the CPU does
 * not, then the vector, and joins isr_common which saves the GPRs in the
 * order of struct irq_frame (idt.h).
 */
#define ISR_STUB_SIZE	16

	.code64
	.text

	.altmacro
	.macro isr_stub vec
	.balign ISR_STUB_SIZE
	/* Vectors 8, 10-14, 17, 21, 29, 30 push an error code themselves. */
	.set has_err, (\vec == 8) || (\vec == 17) || (\vec == 21) || (\vec == 29)
	.set has_err, has_err || (\vec == 30) || ((\vec >= 10) && (\vec <= 14))
	.if !has_err
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
	.endm

	.balign ISR_STUB_SIZE
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	isr_stub %vec
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	/* The SysV ABI wants a 16-byte aligned stack at the call. */
	movq %rsp, %rbx
	andq $-16, %rsp
	cld
	call isr_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
