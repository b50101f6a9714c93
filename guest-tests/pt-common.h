/* SPDX-License-Identifier: MIT */
#ifndef GUEST_PT_COMMON_H
#define GUEST_PT_COMMON_H

/*
 * Helpers shared by the passthrough guests (pt-*.c), which drive real
 * devices assigned through VFIO in the nested testbed. Unlike the other
 * guests they report one line per check,
 *     CHECK <name>: ok <detail>      or      CHECK <name>: FAIL <detail>
 * and go on with the next check, so the testbed scenario can turn each line
 * into its own PASS/FAIL from one VMM run. pt_finish() then ends the guest
 * through the test port: PASS <guest> only when every check passed.
 */
#include "lib/runtime.h"

/* Generous bounds: a lost interrupt or a stuck device must end the check, not the run. */
#define PT_WAIT_CYCLES		(10ull * 1000 * 1000 * 1000)

struct pt_dev {
	int bdf;			/* -1: not found */
	struct pci_bar bar[PCI_BAR_COUNT];
};

void pt_check(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(__printf__, 3, 4)));
_Noreturn void pt_finish(const char *guest);
/*
 * A check that finds a VMM bug already reported and not fixed yet: the same
 * line as pt_check(), but a FAIL does not fail the guest. The scenario
 * reports it as a known bug, and fails once the check passes (then it
 * becomes a plain pt_check()).
 */
void pt_check_known_bug(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(__printf__, 3, 4)));

/*
 * Finds vendor:device on bus 0, prints its header and BARs (as the VMM
 * placed them), maps memory BARs above the boot mapping (map_phys) and turns
 * on memory and I/O decode and bus mastering.
 * False (with a failed check named "<what>.present") when absent.
 */
bool pt_open(uint16_t vendor, uint16_t device, const char *what, struct pt_dev *d);
/* The same for the function at bdf (one of several alike). */
void pt_open_at(uint16_t bdf, const char *what, struct pt_dev *d);

/*
 * The IOAPIC pin of a function's INTx: what the ACPI _PRT says (vmm/acpi.c,
 * acpi_pci_intx_gsi): pins 16-23, rotated by slot. A tiny guest has no AML
 * interpreter, so it applies the same rule.
 */
unsigned int pt_intx_gsi(uint16_t bdf);

/* edu (QEMU's teaching device, 1234:11e8): BAR0 registers. */
#define EDU_IDENT		0x00
#define EDU_LIVENESS		0x04
#define EDU_FACTORIAL		0x08
#define EDU_STATUS		0x20
#define EDU_STATUS_BUSY		0x01
#define EDU_STATUS_IRQ_FACT	0x80
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_START		0x01
#define EDU_DMA_TO_RAM		0x02
#define EDU_DMA_IRQ		0x04
#define EDU_BUF			0x40000	/* its 4 KiB buffer, in its DMA space */

/*
 * One edu DMA between its buffer (offset dev_off) and the bus address
 * addr, which is a guest physical address: the VMM maps guest RAM (and
 * with --p2p the BARs) into the IOMMU at IOVA = GPA. QEMU 7.2's edu aborts
 * on a transfer of exactly 4096 bytes, so len stays below it. False when
 * the device never finished.
 */
bool edu_dma(uint64_t bar0, bool to_device, uint64_t addr, uint32_t dev_off, uint32_t len);

/* A pattern derived from seed and offset; pt_pattern_bad gives the first mismatch or -1. */
void pt_pattern_fill(volatile uint8_t *p, uint32_t len, uint32_t seed);
long pt_pattern_bad(const volatile uint8_t *p, uint32_t len, uint32_t seed);

#endif
