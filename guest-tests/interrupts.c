// SPDX-License-Identifier: MIT
/*
 * LAPIC interrupt delivery through the in-kernel irqchip: a self-IPI, a
 * one-shot and a periodic timer each reach their IDT handler, and EOI
 * clears the in-service bit so the next interrupt can arrive.
 */
#include "lib/runtime.h"

#define VEC_IPI		0x41
#define VEC_ONESHOT	0x50
#define VEC_PERIODIC	0x51

/* KVM's LAPIC bus runs at 1 GHz: div 16 x 62500 = 1 ms per tick. */
#define TIMER_DIV_SHIFT	4
#define TIMER_COUNT	62500
#define PERIODIC_TICKS	3

/* Generous: guest code is slow here, but a lost interrupt must still end the test. */
#define WAIT_TSC_CYCLES	(20ull * 1000 * 1000 * 1000)

static volatile bool in_service_seen;

static void ipi_handler(struct irq_frame *f)
{
	/* While we run, the LAPIC must show this vector in service. */
	in_service_seen = lapic_in_service((unsigned int)f->vector);
	lapic_eoi();
}

static void eoi_handler(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
}

static void spurious_handler(struct irq_frame *f)
{
	(void)f;	/* spurious interrupts take no EOI */
}

/* Spins with interrupts on until vec was delivered target times. */
static bool wait_cycles(unsigned int vec, uint64_t target, uint64_t cycles)
{
	uint64_t start = rdtsc();
	bool ok = false;

	irq_enable();
	while (rdtsc() - start < cycles) {
		if (idt_count(vec) >= target) {
			ok = true;
			break;
		}
		cpu_relax();
	}
	irq_disable();
	return ok;
}

static bool wait_for(unsigned int vec, uint64_t target)
{
	return wait_cycles(vec, target, WAIT_TSC_CYCLES);
}

static void test_self_ipi(void)
{
	lapic_self_ipi(VEC_IPI);
	/* Interrupts are off: the IPI must wait in IRR, not be lost. */
	ASSERT(lapic_pending(VEC_IPI));
	ASSERT_EQ(idt_count(VEC_IPI), 0);

	ASSERT(wait_for(VEC_IPI, 1));
	ASSERT(in_service_seen);
	ASSERT(!lapic_in_service(VEC_IPI));
	ASSERT(!lapic_pending(VEC_IPI));

	/* A second IPI proves the EOI really re-armed the vector. */
	lapic_self_ipi(VEC_IPI);
	ASSERT(wait_for(VEC_IPI, 2));
	ASSERT_EQ(idt_count(VEC_IPI), 2);
	printf("self-IPI: vector 0x%x delivered twice, EOI cleared ISR\n", VEC_IPI);
}

static void test_oneshot(void)
{
	uint64_t t0 = rdtsc(), dt;

	lapic_timer_start(VEC_ONESHOT, TIMER_COUNT, TIMER_DIV_SHIFT, false);
	ASSERT(wait_for(VEC_ONESHOT, 1));
	dt = rdtsc() - t0;
	/* One-shot: the counter stopped at 0 and no second tick follows. */
	ASSERT_EQ(lapic_read(LAPIC_TIMER_CUR), 0);
	ASSERT(!wait_cycles(VEC_ONESHOT, 2, 3 * dt));
	printf("one-shot timer: fired once after %lu TSC cycles\n", dt);
}

static void test_periodic(void)
{
	uint64_t base = idt_count(VEC_PERIODIC), after;

	lapic_timer_start(VEC_PERIODIC, TIMER_COUNT, TIMER_DIV_SHIFT, true);
	ASSERT(wait_for(VEC_PERIODIC, base + PERIODIC_TICKS));
	/* Periodic mode reloads the counter instead of stopping at 0. */
	ASSERT(lapic_read(LAPIC_TIMER_CUR) != 0);
	lapic_timer_stop();
	after = idt_count(VEC_PERIODIC);
	ASSERT(after >= base + PERIODIC_TICKS);
	printf("periodic timer: %lu ticks, then stopped\n", after - base);
}

int main(void)
{
	uint32_t ver;

	lapic_init();
	ver = lapic_read(LAPIC_VERSION);
	printf("LAPIC id %u version 0x%x, %u LVT entries\n", lapic_id(), ver & 0xff,
	       ((ver >> 16) & 0xff) + 1);
	/* Integrated xAPICs report 0x1X; 0xff would mean nothing is mapped there. */
	ASSERT_EQ(ver & 0xf0, 0x10);

	idt_set_handler(VEC_IPI, ipi_handler);
	idt_set_handler(VEC_ONESHOT, eoi_handler);
	idt_set_handler(VEC_PERIODIC, eoi_handler);
	idt_set_handler(LAPIC_SPURIOUS_VECTOR, spurious_handler);

	test_self_ipi();
	test_oneshot();
	test_periodic();
	lapic_write(LAPIC_ESR, 0);	/* latches the errors seen so far */
	ASSERT_EQ(lapic_read(LAPIC_ESR), 0);
	test_pass("interrupts");
}
