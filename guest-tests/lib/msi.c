// SPDX-License-Identifier: MIT
#include "io.h"
#include "msi.h"
#include "pci.h"

#define MSI_ADDR_LO	4
#define MSI_ADDR_HI	8
#define MSI_DATA_32	8	/* data offset without a 64-bit address */
#define MSI_DATA_64	12
#define MSI_MASK_32	12
#define MSI_MASK_64	16

int pci_msi_enable(uint16_t bdf, uint64_t addr, uint32_t data)
{
	uint16_t cap = pci_find_cap(bdf, PCI_CAP_ID_MSI), ctrl;
	bool is64;

	if (!cap)
		return -1;
	ctrl = pci_cfg_read16(bdf, cap + PCI_MSI_FLAGS);
	is64 = ctrl & PCI_MSI_FLAGS_64BIT;
	pci_cfg_write32(bdf, cap + MSI_ADDR_LO, (uint32_t)addr);
	if (is64)
		pci_cfg_write32(bdf, cap + MSI_ADDR_HI, (uint32_t)(addr >> 32));
	pci_cfg_write16(bdf, cap + (is64 ? MSI_DATA_64 : MSI_DATA_32), (uint16_t)data);
	if (ctrl & PCI_MSI_FLAGS_MASKBIT)
		pci_cfg_write32(bdf, cap + (is64 ? MSI_MASK_64 : MSI_MASK_32), 0);
	/* One vector: multiple message enable (QSIZE) stays 0. */
	ctrl &= ~PCI_MSI_FLAGS_QSIZE;
	pci_cfg_write16(bdf, cap + PCI_MSI_FLAGS, ctrl | PCI_MSI_FLAGS_ENABLE);
	return 0;
}

void pci_msi_disable(uint16_t bdf)
{
	uint16_t cap = pci_find_cap(bdf, PCI_CAP_ID_MSI), ctrl;

	if (!cap)
		return;
	ctrl = pci_cfg_read16(bdf, cap + PCI_MSI_FLAGS);
	pci_cfg_write16(bdf, cap + PCI_MSI_FLAGS, ctrl & ~PCI_MSI_FLAGS_ENABLE);
}

/* The programmed address of BAR idx (no sizing, so decode stays untouched). */
static uint64_t bar_addr(uint16_t bdf, unsigned int idx)
{
	uint16_t reg = PCI_BAR0 + idx * 4;
	uint32_t lo = pci_cfg_read32(bdf, reg);
	uint64_t addr = lo & ~0xfull;

	if ((lo & 0x7) == 0x4 && idx + 1 < PCI_BAR_COUNT)
		addr |= (uint64_t)pci_cfg_read32(bdf, reg + 4) << 32;
	return addr;
}

int pci_msix_probe(uint16_t bdf, struct msix_info *mx)
{
	uint16_t cap = pci_find_cap(bdf, PCI_CAP_ID_MSIX);
	uint32_t table, pba;

	if (!cap)
		return -1;
	table = pci_cfg_read32(bdf, cap + PCI_MSIX_TABLE);
	pba = pci_cfg_read32(bdf, cap + PCI_MSIX_PBA);
	mx->bdf = bdf;
	mx->cap = cap;
	mx->nr_vectors = (pci_cfg_read16(bdf, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
	mx->table = bar_addr(bdf, table & PCI_MSIX_BIR) + (table & ~PCI_MSIX_BIR);
	mx->pba = bar_addr(bdf, pba & PCI_MSIX_BIR) + (pba & ~PCI_MSIX_BIR);
	return 0;
}

static uint64_t entry_addr(const struct msix_info *mx, unsigned int idx)
{
	return mx->table + (uint64_t)idx * PCI_MSIX_ENTRY_SIZE;
}

void pci_msix_set_entry(const struct msix_info *mx, unsigned int idx, uint64_t addr,
			uint32_t data, bool masked)
{
	uint64_t e = entry_addr(mx, idx);

	/* Mask while the message changes so the device never sees half of it. */
	mmio_write32(e + 12, PCI_MSIX_ENTRY_CTRL_MASK);
	mmio_write32(e + 0, (uint32_t)addr);
	mmio_write32(e + 4, (uint32_t)(addr >> 32));
	mmio_write32(e + 8, data);
	mmio_write32(e + 12, masked ? PCI_MSIX_ENTRY_CTRL_MASK : 0);
}

void pci_msix_mask_entry(const struct msix_info *mx, unsigned int idx, bool masked)
{
	mmio_write32(entry_addr(mx, idx) + 12, masked ? PCI_MSIX_ENTRY_CTRL_MASK : 0);
}

bool pci_msix_pending(const struct msix_info *mx, unsigned int idx)
{
	return (mmio_read64(mx->pba + (idx / 64) * 8) >> (idx % 64)) & 1;
}

void pci_msix_enable(const struct msix_info *mx, bool enable)
{
	uint16_t ctrl = pci_cfg_read16(mx->bdf, mx->cap + PCI_MSIX_FLAGS);

	ctrl &= ~(PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
	if (enable)
		ctrl |= PCI_MSIX_FLAGS_ENABLE;
	pci_cfg_write16(mx->bdf, mx->cap + PCI_MSIX_FLAGS, ctrl);
}
