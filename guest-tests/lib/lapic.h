/* SPDX-License-Identifier: MIT */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* xAPIC MMIO registers (the in-kernel KVM LAPIC at its default base). */
#define LAPIC_BASE		0xfee00000ULL
#define LAPIC_ID		0x020
#define LAPIC_VERSION		0x030
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ISR		0x100	/* 8 x 32-bit, 16 bytes apart */
#define LAPIC_TMR		0x180
#define LAPIC_IRR		0x200
#define LAPIC_ESR		0x280
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3e0

#define LAPIC_SVR_ENABLE	(1u << 8)
#define LAPIC_LVT_MASKED	(1u << 16)
#define LAPIC_TIMER_PERIODIC	(1u << 17)
#define LAPIC_ICR_PENDING	(1u << 12)
#define LAPIC_ICR_SELF		(1u << 18)	/* destination shorthand 01 */
#define LAPIC_SPURIOUS_VECTOR	0xff

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);

/* Enables the APIC (MSR and SVR), masks LINT0/1 and the timer, TPR 0. */
void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* True while vec is in service (ISR) or requested (IRR). */
bool lapic_in_service(unsigned int vec);
bool lapic_pending(unsigned int vec);

/* div_shift: divide by 2^div_shift (0..7). count 0 stops the timer. */
void lapic_timer_start(unsigned int vec, uint32_t count, unsigned int div_shift, bool periodic);
void lapic_timer_stop(void);

/* Fixed, edge, physical: an interrupt to ourselves through the ICR. */
void lapic_self_ipi(unsigned int vec);

/*
 * The MSI message that targets a LAPIC: what a passthrough device's MSI or
 * MSI-X entry must hold to raise vec on the CPU with this APIC ID.
 */
static inline uint64_t msi_address(uint32_t apic_id)
{
	return LAPIC_BASE | ((uint64_t)(apic_id & 0xff) << 12);
}

static inline uint32_t msi_data(unsigned int vec)
{
	return vec & 0xff;	/* fixed delivery, edge trigger */
}

#endif
