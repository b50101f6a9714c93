/* SPDX-License-Identifier: MIT */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/layout.h"

/*
 * ACPI tables for a Linux guest, built from the one memory map (layout.h):
 * RSDP, XSDT, FADT, FACS, MADT, MCFG and a hand-assembled DSDT. See
 * docs/boot.md for what Linux takes from each.
 *
 * Fixed-hardware contract with the power device (devices/ side):
 *   PM1a event block   0x600..0x603  (PM1_STS at 0x600, PM1_EN at 0x602, 16-bit)
 *   PM1a control block 0x604..0x605  (16-bit PM1_CNT)
 *   Reset register     0xcf9, 8-bit write of ACPI_RESET_VALUE
 * Only \_S5 is defined, with SLP_TYP = ACPI_S5_SLP_TYP, so Linux powers off by
 * writing (ACPI_S5_SLP_TYP << 10) | ACPI_PM1_SLP_EN to PM1_CNT (0x3400).
 * SMI_CMD is 0: the platform is always in ACPI mode, nothing to hand over.
 */
#define ACPI_PM1_EVT_PORT	LAYOUT_PM_PORT
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1_CNT_PORT	(LAYOUT_PM_PORT + 4)
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM1_SLP_EN		(1u << 13)
#define ACPI_PM1_SLP_TYP_SHIFT	10
#define ACPI_S5_SLP_TYP		5
#define ACPI_RESET_PORT		LAYOUT_RESET_PORT
#define ACPI_RESET_VALUE	0x06

/* Interrupt wiring as the MADT describes it to the guest. */
#define ACPI_IOAPIC_ID		0	/* what KVM's in-kernel IOAPIC reports */
#define ACPI_IOAPIC_PINS	24
#define ACPI_SCI_IRQ		9	/* ISA IRQ 9 -> GSI 9, level, active high */
#define ACPI_PCI_GSI_BASE	16	/* INTx lines use IOAPIC pins 16..23 */
#define ACPI_PCI_GSI_COUNT	8
#define ACPI_MAX_CPUS		255	/* xAPIC ids fit a byte; 0xff is broadcast */

/*
 * Builds all tables into buf, which the guest will see at buf_gpa.
 * Returns the bytes used and the RSDP's guest address (the start of buf, so
 * a legacy scan of 0xE0000..0xFFFFF finds it), -ENOSPC when size is too small,
 * -EINVAL for a bad nr_cpus or a layout the tables cannot express.
 */
int acpi_build(const struct layout *l, unsigned int nr_cpus, void *buf, size_t size,
	       uint64_t buf_gpa, uint64_t *rsdp_gpa);

/*
 * The INTx swizzle the DSDT's _PRT advertises for bus 0: INTx pin
 * (0 = INTA .. 3 = INTD, i.e. the config-space Interrupt Pin register minus
 * one) of device slot lands on IOAPIC GSI 16 + ((slot + pin) % 8), level
 * triggered, active low. The INTx code must raise exactly this GSI.
 */
unsigned int acpi_pci_intx_gsi(unsigned int slot, unsigned int pin);

#endif
