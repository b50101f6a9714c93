/* SPDX-License-Identifier: MIT */
#ifndef GUEST_IOAPIC_H
#define GUEST_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* The in-kernel KVM IOAPIC: INTx of emulated and passthrough devices (GSI = pin). */
#define IOAPIC_BASE		0xfec00000ULL
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_REDTBL	0x10	/* two 32-bit registers per pin */

uint32_t ioapic_read(uint8_t reg);
void ioapic_write(uint8_t reg, uint32_t v);
unsigned int ioapic_pins(void);
/* Fixed delivery, physical destination apic_id; PCI INTx is level/active-low. */
void ioapic_route(unsigned int pin, unsigned int vec, uint32_t apic_id, bool level,
		  bool active_low, bool masked);
void ioapic_mask(unsigned int pin, bool masked);

#endif
