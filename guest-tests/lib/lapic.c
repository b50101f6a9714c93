// SPDX-License-Identifier: MIT
#include "io.h"
#include "lapic.h"

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_ENABLE	(1ull << 11)
#define ICR_SPINS		100000

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	/* ESR latches on a write; a zero write first is the documented idiom. */
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ESR, 0);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static bool vec_bit(uint32_t base, unsigned int vec)
{
	return (lapic_read(base + (vec / 32) * 0x10) >> (vec % 32)) & 1;
}

bool lapic_in_service(unsigned int vec)
{
	return vec_bit(LAPIC_ISR, vec & 0xff);
}

bool lapic_pending(unsigned int vec)
{
	return vec_bit(LAPIC_IRR, vec & 0xff);
}

void lapic_timer_start(unsigned int vec, uint32_t count, unsigned int div_shift, bool periodic)
{
	/* The divide register encodes 2^n as bits 3,1:0; n = 0 is the 0b1011 special. */
	static const uint8_t div_codes[8] = { 0xb, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa };

	lapic_write(LAPIC_TIMER_DIV, div_codes[div_shift & 7]);
	lapic_write(LAPIC_LVT_TIMER, (vec & 0xff) | (periodic ? LAPIC_TIMER_PERIODIC : 0));
	lapic_write(LAPIC_TIMER_INIT, count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
}

void lapic_self_ipi(unsigned int vec)
{
	int i;

	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, LAPIC_ICR_SELF | (vec & 0xff));
	for (i = 0; i < ICR_SPINS && (lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_PENDING); i++)
		cpu_relax();
}
