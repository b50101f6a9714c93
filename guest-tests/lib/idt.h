/* SPDX-License-Identifier: MIT */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * All 256 vectors go through one assembly stub table to isr_dispatch(),
 * which calls the handler registered for the vector. Unhandled exceptions
 * and unexpected interrupts print the frame and fail the test, so a guest
 * bug ends the run quickly instead of hanging until the runner's timeout.
 */
#define IDT_VECTORS		256
#define IDT_FIRST_IRQ		32	/* below: CPU exceptions */

/* The layout pushed by isr.S; keep in sync with it. */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;	/* 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct irq_frame *frame);

void idt_init(void);
/* Replaces the handler for vec; NULL restores the failing default. */
void idt_set_handler(unsigned int vec, irq_handler_t handler);
/* Number of times vec was delivered since boot (any handler). */
uint64_t idt_count(unsigned int vec);
/*
 * Runs with interrupts on until vec has been delivered target times in all
 * (true) or `cycles` TSC cycles passed (false); interrupts are off again after.
 */
bool idt_wait_count(unsigned int vec, uint64_t target, uint64_t cycles);

#endif
