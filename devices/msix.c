// SPDX-License-Identifier: MIT
/*
 * MSI-X table and PBA emulation (see msix.h). The PBA a guest reads is the
 * device's own bits ORed with the vectors we have masked whose eventfd was
 * signalled meanwhile.
 */
#include "devices/msix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "util/log.h"

#define ENTRY_DWORDS	(PCI_MSIX_ENTRY_SIZE / 4)

uint64_t msix_pba_size(const struct msix *x)
{
	return 8ull * ((x->nr + 63) / 64);
}

int msix_init(struct msix *x, uint8_t cap, unsigned int nr, uint32_t table_reg,
	      uint32_t pba_reg, const uint64_t *bar_size, const char *name)
{
	memset(x, 0, sizeof(*x));
	x->cap = cap;
	x->nr = nr;
	x->table_bar = table_reg & PCI_MSIX_TABLE_BIR;
	x->table_off = table_reg & PCI_MSIX_TABLE_OFFSET;
	x->pba_bar = pba_reg & PCI_MSIX_PBA_BIR;
	x->pba_off = pba_reg & PCI_MSIX_PBA_OFFSET;
	if (x->table_bar > 5 || x->pba_bar > 5 ||
	    x->table_off + 16ull * x->nr > bar_size[x->table_bar] ||
	    x->pba_off + msix_pba_size(x) > bar_size[x->pba_bar]) {
		log_err("%s: MSI-X table (BAR%u+%#llx) or PBA (BAR%u+%#llx) lies outside its BAR",
			name, x->table_bar, (unsigned long long)x->table_off, x->pba_bar,
			(unsigned long long)x->pba_off);
		x->cap = 0;
		return -EINVAL;
	}
	x->table = calloc(x->nr, PCI_MSIX_ENTRY_SIZE);
	x->vec = calloc(x->nr, sizeof(*x->vec));
	if (!x->table || !x->vec) {
		msix_free(x);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < x->nr; i++)
		pci_vector_init(&x->vec[i]);
	msix_reset(x);
	return 0;
}

void msix_free(struct msix *x)
{
	free(x->table);
	free(x->vec);
	x->table = NULL;
	x->vec = NULL;
}

void msix_reset(struct msix *x)
{
	if (!x->table)
		return;
	memset(x->table, 0, (size_t)x->nr * PCI_MSIX_ENTRY_SIZE);
	/* Vectors come out of reset masked. */
	for (unsigned int i = 0; i < x->nr; i++)
		x->table[i * ENTRY_DWORDS + 3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

static bool hits(uint64_t off, uint32_t len, uint64_t start, uint64_t size)
{
	return off >= start && off - start < size && size - (off - start) >= len;
}

bool msix_owns(const struct msix *x, unsigned int bar, uint64_t off, uint32_t len)
{
	if (!x->cap || !x->table)
		return false;
	if (bar == x->table_bar && off < x->table_off + 16ull * x->nr && off + len > x->table_off)
		return true;
	return bar == x->pba_bar && off < x->pba_off + msix_pba_size(x) && off + len > x->pba_off;
}

bool msix_vector_active(const struct msix *x, unsigned int i, uint64_t *addr, uint32_t *data)
{
	const uint32_t *e = &x->table[i * ENTRY_DWORDS];

	*addr = e[0] | (uint64_t)e[1] << 32;
	*data = e[2];
	return x->enabled && !x->maskall && !(e[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) &&
	       pci_msi_addr_valid(*addr);
}

static void sync_one(struct pci_dev *dev, struct msix *x, unsigned int i)
{
	uint64_t addr;
	uint32_t data;
	bool active = msix_vector_active(x, i, &addr, &data);

	pci_vector_sync(dev, &x->vec[i], active, addr, data, "MSI-X", i);
}

void msix_sync_all(struct pci_dev *dev, struct msix *x)
{
	for (unsigned int i = 0; i < x->nr; i++)
		sync_one(dev, x, i);
}

bool msix_pba_emulated(const struct msix *x)
{
	if (!x->enabled || !x->vec)
		return false;
	for (unsigned int i = 0; i < x->nr; i++)
		if (x->vec[i].fd >= 0 && !x->vec[i].attached)
			return true;
	return false;
}

void msix_read(const struct msix *x, unsigned int bar, uint64_t off, void *data, uint32_t len,
	       const uint8_t *dev_bits)
{
	if (bar == x->table_bar && hits(off, len, x->table_off, 16ull * x->nr)) {
		memcpy(data, (const uint8_t *)x->table + (off - x->table_off), len);
	} else if (bar == x->pba_bar && hits(off, len, x->pba_off, msix_pba_size(x)) && len <= 8) {
		uint8_t buf[8] = { 0 };
		uint64_t rel = off - x->pba_off;

		if (dev_bits)
			memcpy(buf, dev_bits, len);
		for (uint32_t b = 0; b < len * 8; b++) {
			uint64_t v = rel * 8 + b;

			if (v < x->nr && x->enabled && pci_vector_pending(&x->vec[v]))
				buf[b / 8] |= 1u << (b % 8);
		}
		memcpy(data, buf, len);
	} else {
		memset(data, 0xff, len);	/* straddles the table's edge */
	}
}

void msix_write(struct pci_dev *dev, struct msix *x, unsigned int bar, uint64_t off,
		const void *data, uint32_t len)
{
	uint64_t rel = off - x->table_off;

	if (bar != x->table_bar || !hits(off, len, x->table_off, 16ull * x->nr))
		return;
	memcpy((uint8_t *)x->table + rel, data, len);
	if (trace_on(LOG_IRQ)) {
		const uint32_t *e = &x->table[rel / 16 * ENTRY_DWORDS];

		log_trace(LOG_IRQ, "%s: MSI-X entry %llu: addr %#llx data %#x ctrl %#x", dev->name,
			  (unsigned long long)(rel / 16),
			  (unsigned long long)(e[0] | (uint64_t)e[1] << 32), e[2], e[3]);
	}
	if (x->enabled)
		for (uint64_t i = rel / 16; i <= (rel + len - 1) / 16; i++)
			sync_one(dev, x, (unsigned int)i);
}
