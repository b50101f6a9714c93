// SPDX-License-Identifier: MIT
#include "idt.h"
#include "io.h"
#include "serial.h"
#include "test.h"

#define ISR_STUB_SIZE	16
#define SEL_CODE64	0x08
#define GATE_INTERRUPT	0x8e	/* present, DPL 0, 64-bit interrupt gate */

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char isr_stubs[];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static irq_handler_t handlers[IDT_VECTORS];
static volatile uint64_t counts[IDT_VECTORS];

static const char *const exception_names[IDT_FIRST_IRQ] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault", "coproc overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved", "#MF x87", "#AC alignment",
	"#MC machine check", "#XM SIMD", "#VE virtualization", "#CP control protection",
};

static void set_gate(unsigned int vec, uint64_t addr)
{
	struct idt_gate *g = &idt[vec];

	g->offset_lo = (uint16_t)addr;
	g->selector = SEL_CODE64;
	g->ist = 0;
	g->type_attr = GATE_INTERRUPT;
	g->offset_mid = (uint16_t)(addr >> 16);
	g->offset_hi = (uint32_t)(addr >> 32);
	g->reserved = 0;
}

void idt_init(void)
{
	struct idt_ptr p = { .limit = sizeof(idt) - 1, .base = (uint64_t)idt };
	unsigned int vec;

	for (vec = 0; vec < IDT_VECTORS; vec++)
		set_gate(vec, (uint64_t)isr_stubs + vec * ISR_STUB_SIZE);
	__asm__ volatile("lidt %0" : : "m"(p));
}

void idt_set_handler(unsigned int vec, irq_handler_t handler)
{
	if (vec < IDT_VECTORS)
		handlers[vec] = handler;
}

uint64_t idt_count(unsigned int vec)
{
	return vec < IDT_VECTORS ? counts[vec] : 0;
}

bool idt_wait_count(unsigned int vec, uint64_t target, uint64_t cycles)
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

static _Noreturn void unhandled(struct irq_frame *f)
{
	uint64_t cr2;
	const char *name = "interrupt";

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (f->vector < IDT_FIRST_IRQ && exception_names[f->vector])
		name = exception_names[f->vector];
	printf("unhandled vector %lu (%s) error 0x%lx\n", f->vector, name, f->error_code);
	printf("  rip 0x%lx cs 0x%lx rflags 0x%lx rsp 0x%lx cr2 0x%lx\n", f->rip, f->cs,
	       f->rflags, f->rsp, cr2);
	printf("  rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx rsi 0x%lx rdi 0x%lx\n", f->rax,
	       f->rbx, f->rcx, f->rdx, f->rsi, f->rdi);
	test_fail("unexpected vector %lu", f->vector);
}

void isr_dispatch(struct irq_frame *f);

void isr_dispatch(struct irq_frame *f)
{
	unsigned int vec = (unsigned int)f->vector;

	counts[vec]++;
	if (!handlers[vec])
		unhandled(f);
	handlers[vec](f);
}
