// SPDX-License-Identifier: MIT
#include <stdarg.h>

#include "pt-common.h"

/* The VMM's ACPI _PRT rule (vmm/acpi.h: ACPI_PCI_GSI_BASE/COUNT). */
#define PT_INTX_GSI_BASE	16
#define PT_INTX_GSI_COUNT	8

static unsigned int checks_failed, checks_run;

static void check_line(const char *name, bool ok, const char *fmt, va_list ap)
{
	printf("CHECK %s: %s ", name, ok ? "ok" : "FAIL");
	vprintf(fmt, ap);
	puts("\n");
}

void pt_check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	checks_run++;
	if (!ok)
		checks_failed++;
	va_start(ap, fmt);
	check_line(name, ok, fmt, ap);
	va_end(ap);
}

void pt_check_known_bug(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_line(name, ok, fmt, ap);
	va_end(ap);
}

_Noreturn void pt_finish(const char *guest)
{
	if (checks_failed || !checks_run)
		test_fail("%s: %u of %u checks failed", guest, checks_failed, checks_run);
	test_pass(guest);
}

bool pt_open(uint16_t vendor, uint16_t device, const char *what, struct pt_dev *d)
{
	char name[48];
	int bdf = pci_find_device(vendor, device);

	if (bdf < 0) {
		d->bdf = -1;
		snprintf(name, sizeof(name), "%s.present", what);
		pt_check(name, false, "no %04x:%04x on bus 0 or behind a root port", vendor,
			 device);
		return false;
	}
	pt_open_at((uint16_t)bdf, what, d);
	return true;
}

void pt_open_at(uint16_t bdf, const char *what, struct pt_dev *d)
{
	char name[48];
	unsigned int i;
	uint16_t cmd;

	d->bdf = bdf;
	pci_print_device((uint16_t)d->bdf);
	for (i = 0; i < PCI_BAR_COUNT; i++)
		d->bar[i] = (struct pci_bar){ 0 };
	for (i = 0; i < PCI_BAR_COUNT;) {
		unsigned int used = (unsigned int)pci_bar_probe((uint16_t)d->bdf, i, &d->bar[i]);

		if (d->bar[i].size)
			printf("  BAR%u %s at 0x%lx size 0x%lx%s%s\n", i,
			       d->bar[i].io ? "I/O" : "mem", d->bar[i].addr, d->bar[i].size,
			       d->bar[i].is64 ? " 64-bit" : "",
			       d->bar[i].prefetch ? " prefetchable" : "");
		/* Above what the boot code maps (a GPU's BAR2): map it now, whole. */
		if (!d->bar[i].io && d->bar[i].size &&
		    d->bar[i].addr + d->bar[i].size > GUEST_MAPPED_LIMIT &&
		    !map_phys(d->bar[i].addr, d->bar[i].size, !d->bar[i].prefetch)) {
			snprintf(name, sizeof(name), "%s.mapped", what);
			pt_check(name, false, "BAR%u at 0x%lx size 0x%lx cannot be mapped (%u address bits)",
				 i, d->bar[i].addr, d->bar[i].size, phys_addr_bits());
		}
		i += used;
	}
	cmd = pci_cfg_read16((uint16_t)d->bdf, PCI_COMMAND);
	pci_cfg_write16((uint16_t)d->bdf, PCI_COMMAND,
			cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

unsigned int pt_intx_gsi(uint16_t bdf)
{
	unsigned int pin = pci_cfg_read8(bdf, PCI_INTERRUPT_PIN);
	int up = pci_upstream_bridge(bdf);

	/* Behind a root port: the PCI-to-PCI swizzle, then the port's slot on bus 0. */
	if (up >= 0) {
		pin = (pin - 1 + PCI_BDF_DEV(bdf)) % 4 + 1;
		bdf = (uint16_t)up;
	}
	return PT_INTX_GSI_BASE + (PCI_BDF_DEV(bdf) + pin - 1) % PT_INTX_GSI_COUNT;
}

bool edu_dma(uint64_t bar0, bool to_device, uint64_t addr, uint32_t dev_off, uint32_t len)
{
	uint64_t start;

	barrier();	/* the buffer's contents before the device reads them */
	/* The address registers take 64 bits only as one 8-byte access. */
	mmio_write64(bar0 + EDU_DMA_SRC, to_device ? addr : EDU_BUF + dev_off);
	mmio_write64(bar0 + EDU_DMA_DST, to_device ? EDU_BUF + dev_off : addr);
	mmio_write64(bar0 + EDU_DMA_COUNT, len);
	mmio_write64(bar0 + EDU_DMA_CMD, EDU_DMA_START | (to_device ? 0 : EDU_DMA_TO_RAM));
	/* edu runs a transfer from a 100 ms timer; the start bit clears when done. */
	start = rdtsc();
	while (mmio_read64(bar0 + EDU_DMA_CMD) & EDU_DMA_START)
		if (rdtsc() - start > PT_WAIT_CYCLES)
			return false;
	barrier();
	return true;
}

static uint8_t pattern_byte(uint32_t i, uint32_t seed)
{
	uint32_t x = (i + 1) * 2654435761u ^ seed * 40503u;

	return (uint8_t)(x >> 13);
}

void pt_pattern_fill(volatile uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = pattern_byte(i, seed);
}

long pt_pattern_bad(const volatile uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != pattern_byte(i, seed))
			return (long)i;
	return -1;
}
