// SPDX-License-Identifier: MIT
/*
 * A bump allocator over one MMIO (or I/O) window. PCI requires a BAR to be
 * naturally aligned to its power-of-two size, so each allocation rounds the
 * cursor up to the size; the gap that leaves is lost, which is why callers
 * place the largest BARs first (then every later, smaller BAR is already
 * aligned and nothing is wasted).
 */
#include "devices/pci.h"

#include <errno.h>

void pci_window_init(struct pci_window *w, uint64_t base, uint64_t end)
{
	w->base = base;
	w->end = end;
	w->next = base;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr)
{
	if (!is_pow2(size))
		return -EINVAL;
	return pci_window_alloc_aligned(w, size, size, addr);
}

int pci_window_alloc_aligned(struct pci_window *w, uint64_t size, uint64_t align,
			     uint64_t *addr)
{
	uint64_t start;

	if (!size || !is_pow2(align))
		return -EINVAL;
	/* Round up without overflowing near the top of the address space. */
	if (w->next > UINT64_MAX - (align - 1))
		return -ENOSPC;
	start = (w->next + align - 1) & ~(align - 1);
	if (start < w->base || start >= w->end || w->end - start < size)
		return -ENOSPC;
	w->next = start + size;
	*addr = start;
	return 0;
}
