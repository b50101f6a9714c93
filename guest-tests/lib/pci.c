// SPDX-License-Identifier: MIT
#include "io.h"
#include "pci.h"
#include "serial.h"

#define CF8_ENABLE		0x80000000u
#define CAP_WALK_MAX		48	/* (256 - 64) / 4 */
#define EXT_CAP_WALK_MAX	960	/* (4096 - 256) / 4 */

#define BAR_IO			0x1
#define BAR_MEM_TYPE_MASK	0x6
#define BAR_MEM_TYPE_64		0x4
#define BAR_MEM_PREFETCH	0x8
#define BAR_IO_MASK		(~0x3ull)
#define BAR_MEM_MASK		(~0xfull)

static void cf8_select(uint16_t bdf, uint16_t reg)
{
	outl(PCI_CF8_ADDR, CF8_ENABLE | ((uint32_t)bdf << 8) | (reg & 0xfc));
}

uint32_t pci_cf8_read32(uint16_t bdf, uint16_t reg)
{
	cf8_select(bdf, reg);
	return inl(PCI_CF8_DATA);
}

uint16_t pci_cf8_read16(uint16_t bdf, uint16_t reg)
{
	cf8_select(bdf, reg);
	return inw(PCI_CF8_DATA + (reg & 2));
}

uint8_t pci_cf8_read8(uint16_t bdf, uint16_t reg)
{
	cf8_select(bdf, reg);
	return inb(PCI_CF8_DATA + (reg & 3));
}

void pci_cf8_write32(uint16_t bdf, uint16_t reg, uint32_t v)
{
	cf8_select(bdf, reg);
	outl(PCI_CF8_DATA, v);
}

void pci_cf8_write16(uint16_t bdf, uint16_t reg, uint16_t v)
{
	cf8_select(bdf, reg);
	outw(PCI_CF8_DATA + (reg & 2), v);
}

void pci_cf8_write8(uint16_t bdf, uint16_t reg, uint8_t v)
{
	cf8_select(bdf, reg);
	outb(PCI_CF8_DATA + (reg & 3), v);
}

uint32_t pci_cfg_read32(uint16_t bdf, uint16_t reg)
{
	return mmio_read32(pci_ecam_addr(bdf, reg & ~3));
}

uint16_t pci_cfg_read16(uint16_t bdf, uint16_t reg)
{
	return mmio_read16(pci_ecam_addr(bdf, reg & ~1));
}

uint8_t pci_cfg_read8(uint16_t bdf, uint16_t reg)
{
	return mmio_read8(pci_ecam_addr(bdf, reg));
}

void pci_cfg_write32(uint16_t bdf, uint16_t reg, uint32_t v)
{
	mmio_write32(pci_ecam_addr(bdf, reg & ~3), v);
}

void pci_cfg_write16(uint16_t bdf, uint16_t reg, uint16_t v)
{
	mmio_write16(pci_ecam_addr(bdf, reg & ~1), v);
}

void pci_cfg_write8(uint16_t bdf, uint16_t reg, uint8_t v)
{
	mmio_write8(pci_ecam_addr(bdf, reg), v);
}

bool pci_present(uint16_t bdf)
{
	return pci_cfg_read16(bdf, PCI_VENDOR_ID) != 0xffff;
}

/* The secondary bus of a PCI-to-PCI bridge at bdf (on bus 0), 0 when it is not one. */
static unsigned int bridge_secondary(uint16_t bdf)
{
	if ((pci_cfg_read8(bdf, PCI_HEADER_TYPE) & 0x7f) != 1)
		return 0;
	return pci_cfg_read8(bdf, PCI_SECONDARY_BUS);
}

int pci_scan(uint16_t *bdfs, int max)
{
	int n = 0;

	for (unsigned int devfn = 0; devfn < 256 && n < max; devfn++) {
		unsigned int sec;

		if (!pci_present((uint16_t)devfn))
			continue;
		bdfs[n++] = (uint16_t)devfn;
		/* A root port: its one device, at device 0 of its secondary bus. */
		sec = bridge_secondary((uint16_t)devfn);
		if (sec && n < max && pci_present(PCI_BDF(sec, 0, 0)))
			bdfs[n++] = PCI_BDF(sec, 0, 0);
	}
	return n;
}

int pci_find_device(uint16_t vendor, uint16_t device)
{
	uint16_t bdfs[PCI_SCAN_MAX];
	int n = pci_scan(bdfs, PCI_SCAN_MAX);

	for (int i = 0; i < n; i++) {
		uint32_t id = pci_cfg_read32(bdfs[i], PCI_VENDOR_ID);

		if (id == ((uint32_t)device << 16 | vendor))
			return bdfs[i];
	}
	return -1;
}

int pci_upstream_bridge(uint16_t bdf)
{
	if (PCI_BDF_BUS(bdf) == 0)
		return -1;
	for (unsigned int devfn = 0; devfn < 256; devfn++)
		if (pci_present((uint16_t)devfn) &&
		    bridge_secondary((uint16_t)devfn) == PCI_BDF_BUS(bdf))
			return (int)devfn;
	return -1;
}

uint16_t pci_find_cap(uint16_t bdf, uint8_t id)
{
	uint8_t pos;
	int i;

	if (!(pci_cfg_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = pci_cfg_read8(bdf, PCI_CAP_PTR) & ~3;
	for (i = 0; pos >= 0x40 && i < CAP_WALK_MAX; i++) {
		if (pci_cfg_read8(bdf, pos) == id)
			return pos;
		pos = pci_cfg_read8(bdf, pos + 1) & ~3;
	}
	return 0;
}

uint16_t pci_find_ext_cap(uint16_t bdf, uint16_t id)
{
	uint16_t pos = PCI_EXT_CAP_START;
	int i;

	for (i = 0; pos >= PCI_EXT_CAP_START && i < EXT_CAP_WALK_MAX; i++) {
		uint32_t hdr = pci_cfg_read32(bdf, pos);

		if (hdr == 0 || hdr == 0xffffffff)
			return 0;
		if ((hdr & 0xffff) == id)
			return pos;
		pos = (hdr >> 20) & 0xffc;
	}
	return 0;
}

/* All-ones sizing of one BAR register; the original value is restored. */
static uint32_t bar_size_mask(uint16_t bdf, uint16_t reg, uint32_t orig)
{
	uint32_t mask;

	pci_cfg_write32(bdf, reg, 0xffffffff);
	mask = pci_cfg_read32(bdf, reg);
	pci_cfg_write32(bdf, reg, orig);
	return mask;
}

int pci_bar_probe(uint16_t bdf, unsigned int idx, struct pci_bar *bar)
{
	uint16_t reg = PCI_BAR0 + idx * 4;
	uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	uint32_t lo = pci_cfg_read32(bdf, reg), hi = 0, mlo, mhi = 0xffffffff;
	uint64_t mask;

	*bar = (struct pci_bar){ 0 };
	bar->io = lo & BAR_IO;
	bar->is64 = !bar->io && (lo & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64 &&
		    idx + 1 < PCI_BAR_COUNT;
	bar->prefetch = !bar->io && (lo & BAR_MEM_PREFETCH);

	/* Decode off while the BAR briefly claims all-ones. */
	pci_cfg_write16(bdf, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	mlo = bar_size_mask(bdf, reg, lo);
	if (bar->is64) {
		hi = pci_cfg_read32(bdf, reg + 4);
		mhi = bar_size_mask(bdf, reg + 4, hi);
	}
	pci_cfg_write16(bdf, PCI_COMMAND, cmd);

	mask = ((uint64_t)mhi << 32) | (mlo & (bar->io ? BAR_IO_MASK : BAR_MEM_MASK));
	if (bar->io)
		mask |= 0xffffffffffff0000ull;	/* I/O BARs decode 16 bits at most */
	if (mlo != 0 && mlo != 0xffffffff)
		bar->size = ~mask + 1;
	bar->addr = (((uint64_t)hi << 32) | lo) & (bar->io ? BAR_IO_MASK : BAR_MEM_MASK);
	return bar->is64 ? 2 : 1;
}

void pci_bar_set(uint16_t bdf, unsigned int idx, const struct pci_bar *bar, uint64_t addr)
{
	uint16_t reg = PCI_BAR0 + idx * 4;
	uint32_t flags = pci_cfg_read32(bdf, reg) & (bar->io ? 0x3 : 0xf);

	pci_cfg_write32(bdf, reg, (uint32_t)addr | flags);
	if (bar->is64)
		pci_cfg_write32(bdf, reg + 4, (uint32_t)(addr >> 32));
}

void pci_print_device(uint16_t bdf)
{
	uint32_t id = pci_cfg_read32(bdf, PCI_VENDOR_ID);
	uint32_t class = pci_cfg_read32(bdf, PCI_REVISION) >> 8;

	printf("%02x:%02x.%x %04x:%04x class %06x hdr %02x\n", PCI_BDF_BUS(bdf),
	       PCI_BDF_DEV(bdf), PCI_BDF_FN(bdf), id & 0xffff, id >> 16, class,
	       pci_cfg_read8(bdf, PCI_HEADER_TYPE));
}
