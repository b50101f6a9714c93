/* SPDX-License-Identifier: MIT */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Config space through both mechanisms the VMM offers on bus 0:
 * CF8/CFC (legacy, first 256 bytes) and ECAM (all 4096 bytes). The plain
 * pci_cfg_* accessors use ECAM.
 */
#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_CF8_ADDR		0xcf8
#define PCI_CF8_DATA		0xcfc

#define PCI_BDF(bus, dev, fn)	((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))
#define PCI_BDF_BUS(bdf)	(((bdf) >> 8) & 0xff)
#define PCI_BDF_DEV(bdf)	(((bdf) >> 3) & 0x1f)
#define PCI_BDF_FN(bdf)		((bdf) & 0x7)

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_HEADER_TYPE		0x0e
#define PCI_SECONDARY_BUS	0x19	/* type-1 header */
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST	0x10

#define PCI_CAP_ID_PM		0x01
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_EXP		0x10
#define PCI_CAP_ID_MSIX		0x11
#define PCI_EXT_CAP_START	0x100

#define PCI_BAR_COUNT		6

uint32_t pci_cf8_read32(uint16_t bdf, uint16_t reg);
uint16_t pci_cf8_read16(uint16_t bdf, uint16_t reg);
uint8_t pci_cf8_read8(uint16_t bdf, uint16_t reg);
void pci_cf8_write32(uint16_t bdf, uint16_t reg, uint32_t v);
void pci_cf8_write16(uint16_t bdf, uint16_t reg, uint16_t v);
void pci_cf8_write8(uint16_t bdf, uint16_t reg, uint8_t v);

static inline uint64_t pci_ecam_addr(uint16_t bdf, uint16_t reg)
{
	return PCI_ECAM_BASE + ((uint64_t)bdf << 12) + (reg & 0xfff);
}

uint32_t pci_cfg_read32(uint16_t bdf, uint16_t reg);
uint16_t pci_cfg_read16(uint16_t bdf, uint16_t reg);
uint8_t pci_cfg_read8(uint16_t bdf, uint16_t reg);
void pci_cfg_write32(uint16_t bdf, uint16_t reg, uint32_t v);
void pci_cfg_write16(uint16_t bdf, uint16_t reg, uint16_t v);
void pci_cfg_write8(uint16_t bdf, uint16_t reg, uint8_t v);

bool pci_present(uint16_t bdf);
/*
 * Every function present on bus 0 and, behind each root port (a type-1
 * header on bus 0), device 0 of its secondary bus, right after the port:
 * the hierarchy vfio-vmm builds. Returns how many (at most max).
 */
#define PCI_SCAN_MAX		512
int pci_scan(uint16_t *bdfs, int max);
/* Finds a device by IDs on bus 0 or behind a root port; returns its bdf or -1. */
int pci_find_device(uint16_t vendor, uint16_t device);
/* The bridge on bus 0 whose secondary bus bdf is on; -1 for bus 0 or none. */
int pci_upstream_bridge(uint16_t bdf);
/* Config offset of the capability, 0 if absent. Walks are bounded against loops. */
uint16_t pci_find_cap(uint16_t bdf, uint8_t id);
uint16_t pci_find_ext_cap(uint16_t bdf, uint16_t id);

struct pci_bar {
	uint64_t addr;		/* as programmed, flag bits stripped */
	uint64_t size;		/* 0: not implemented */
	bool io;
	bool is64;		/* occupies this and the next BAR register */
	bool prefetch;
};

/*
 * Reads and sizes BAR idx (writes all-ones with decode disabled, then
 * restores). Returns the number of BAR registers it used (1 or 2).
 */
int pci_bar_probe(uint16_t bdf, unsigned int idx, struct pci_bar *bar);
void pci_bar_set(uint16_t bdf, unsigned int idx, const struct pci_bar *bar, uint64_t addr);
void pci_print_device(uint16_t bdf);

#endif
