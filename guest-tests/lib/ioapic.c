// SPDX-License-Identifier: MIT
#include "io.h"
#include "ioapic.h"

#define IOREGSEL		0x00
#define IOWIN			0x10
#define RTE_MASKED		(1u << 16)
#define RTE_LEVEL		(1u << 15)
#define RTE_ACTIVE_LOW		(1u << 13)

uint32_t ioapic_read(uint8_t reg)
{
	mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOWIN);
}

void ioapic_write(uint8_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOWIN, v);
}

unsigned int ioapic_pins(void)
{
	return ((ioapic_read(IOAPIC_REG_VER) >> 16) & 0xff) + 1;
}

void ioapic_route(unsigned int pin, unsigned int vec, uint32_t apic_id, bool level,
		  bool active_low, bool masked)
{
	uint8_t reg = (uint8_t)(IOAPIC_REG_REDTBL + pin * 2);
	uint32_t lo = vec & 0xff;

	if (level)
		lo |= RTE_LEVEL;
	if (active_low)
		lo |= RTE_ACTIVE_LOW;
	if (masked)
		lo |= RTE_MASKED;
	/* Masked while the destination changes, the final low write unmasks. */
	ioapic_write(reg, RTE_MASKED);
	ioapic_write(reg + 1, (apic_id & 0xff) << 24);
	ioapic_write(reg, lo);
}

void ioapic_mask(unsigned int pin, bool masked)
{
	uint8_t reg = (uint8_t)(IOAPIC_REG_REDTBL + pin * 2);
	uint32_t lo = ioapic_read(reg);

	ioapic_write(reg, masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}
