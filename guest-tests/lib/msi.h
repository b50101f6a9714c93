/* SPDX-License-Identifier: MIT */
#ifndef GUEST_MSI_H
#define GUEST_MSI_H

#include <stdbool.h>
#include <stdint.h>

/*
 * MSI and MSI-X programming for guests that drive a (passthrough) device.
 * Messages come from msi_address()/msi_data() in lapic.h; the vector needs
 * an IDT handler that ends with lapic_eoi().
 */
#define PCI_MSI_FLAGS		2	/* message control, from the cap */
#define PCI_MSI_FLAGS_ENABLE	0x0001
#define PCI_MSI_FLAGS_QSIZE	0x0070
#define PCI_MSI_FLAGS_64BIT	0x0080
#define PCI_MSI_FLAGS_MASKBIT	0x0100

#define PCI_MSIX_FLAGS		2
#define PCI_MSIX_FLAGS_QSIZE	0x07ff
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_TABLE		4
#define PCI_MSIX_PBA		8
#define PCI_MSIX_BIR		0x7
#define PCI_MSIX_ENTRY_SIZE	16
#define PCI_MSIX_ENTRY_CTRL_MASK 0x1

/* Single-vector MSI; -1 if the device has no MSI capability. */
int pci_msi_enable(uint16_t bdf, uint64_t addr, uint32_t data);
void pci_msi_disable(uint16_t bdf);

struct msix_info {
	uint16_t bdf;
	uint16_t cap;		/* config offset of the capability */
	unsigned int nr_vectors;
	uint64_t table;		/* guest physical address of the table */
	uint64_t pba;
};

/* Reads the capability and the BARs holding table and PBA (BARs must be programmed). */
int pci_msix_probe(uint16_t bdf, struct msix_info *mx);
void pci_msix_set_entry(const struct msix_info *mx, unsigned int idx, uint64_t addr,
			uint32_t data, bool masked);
void pci_msix_mask_entry(const struct msix_info *mx, unsigned int idx, bool masked);
bool pci_msix_pending(const struct msix_info *mx, unsigned int idx);
/* Enables MSI-X with the function mask cleared, or disables it. */
void pci_msix_enable(const struct msix_info *mx, bool enable);

#endif
