// SPDX-License-Identifier: MIT
/*
 * The BAR model. Sizes come from the VFIO regions, the read-only type bits
 * (I/O, 64-bit, prefetchable) from the device's own BAR registers; the
 * guest-visible registers live in the config shadow with a write mask of
 * ~(size - 1), so BAR sizing (write all-ones, read back) needs no special
 * case. Each BAR is cut into pieces: areas the kernel lets us mmap become
 * direct pieces (KVM memslots, no exits) except the pages holding the
 * MSI-X table and PBA, which we must see; everything else is trapped and
 * forwarded to the region with the guest's access size.
 * Whenever the command register or a BAR register changes, the pieces are
 * moved to the new address through the host ops (memslot / bus range).
 */
#include "vfio/internal.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

struct span {
	uint64_t a, b;	/* [a, b) */
};

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint32_t bar_reg(unsigned int i)
{
	return i == VFIO_PCI_ROM_INDEX ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i;
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p)
		p <<= 1;
	return p;
}

/* Removes the page-aligned hole [ha, hb) from the spans in s. */
static unsigned int spans_cut(struct span *s, unsigned int n, unsigned int max, uint64_t ha,
			      uint64_t hb)
{
	for (unsigned int i = 0; i < n; i++) {
		if (hb <= s[i].a || ha >= s[i].b)
			continue;
		if (ha > s[i].a && hb < s[i].b) {
			if (n == max)
				return 0;	/* no room: the caller traps everything */
			memmove(&s[i + 2], &s[i + 1], (n - i - 1) * sizeof(s[0]));
			s[i + 1] = (struct span){ hb, s[i].b };
			s[i].b = ha;
			n++;
			i++;
		} else if (ha > s[i].a) {
			s[i].b = ha;
		} else if (hb < s[i].b) {
			s[i].a = hb;
		} else {
			memmove(&s[i], &s[i + 1], (n - i - 1) * sizeof(s[0]));
			n--;
			i--;
		}
	}
	return n;
}

static int cmp_span(const void *x, const void *y)
{
	const struct span *a = x, *b = y;

	return a->a < b->a ? -1 : a->a > b->a;
}

/* The mmap-able spans of BAR i, page-aligned inward, MSI-X pages cut out. */
static unsigned int bar_direct_spans(struct vfio_pci_dev *d, unsigned int i, struct span *s,
				     unsigned int max)
{
	const struct vfio_region *r = &d->regions[i];
	struct vfio_bar *bar = &d->bars[i];
	uint64_t pg = d->page_size;
	unsigned int n = 0;

	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    (bar->type != VFIO_BAR_MEM32 && bar->type != VFIO_BAR_MEM64))
		return 0;
	if (!r->sparse) {
		s[n++] = (struct span){ 0, bar->size };
	} else {
		for (unsigned int k = 0; k < r->nr_areas && n < max; k++) {
			uint64_t a = align_up(r->areas[k].offset, pg);
			uint64_t b = align_down(r->areas[k].offset + r->areas[k].size, pg);

			if (b > bar->size)
				b = align_down(bar->size, pg);
			if (a < b)
				s[n++] = (struct span){ a, b };
		}
	}
	for (unsigned int k = 0; k < n; k++) {
		s[k].a = align_up(s[k].a, pg);
		s[k].b = align_down(s[k].b, pg);
	}
	qsort(s, n, sizeof(s[0]), cmp_span);
	if (d->msix.cap && d->msix.table_bar == i)
		n = spans_cut(s, n, max, align_down(d->msix.table_off, pg),
			      align_up(d->msix.table_off + 16ull * d->msix.nr, pg));
	if (d->msix.cap && d->msix.pba_bar == i)
		n = spans_cut(s, n, max, align_down(d->msix.pba_off, pg),
			      align_up(d->msix.pba_off + 8ull * ((d->msix.nr + 63) / 64), pg));
	/* Drop spans emptied by the alignment. */
	for (unsigned int k = 0; k < n; k++)
		if (s[k].a >= s[k].b) {
			memmove(&s[k], &s[k + 1], (n - k - 1) * sizeof(s[0]));
			n--;
			k--;
		}
	return n;
}

static void bar_add_piece(struct vfio_bar *bar, uint64_t a, uint64_t b, bool direct)
{
	/* Cannot happen (VFIO_BAR_MAX_PIECES); a wrong bound must not overwrite the BAR. */
	if (bar->nr_pieces == VFIO_BAR_MAX_PIECES)
		abort();
	bar->pieces[bar->nr_pieces++] = (struct vfio_bar_piece){
		.offset = a, .size = b - a, .direct = direct, .handle = -1,
	};
}

/* Cuts BAR i into direct and trapped pieces covering [0, size) in order. */
static void bar_split(struct vfio_pci_dev *d, unsigned int i)
{
	struct vfio_bar *bar = &d->bars[i];
	struct span s[VFIO_BAR_MAX_SPANS];
	unsigned int n = bar_direct_spans(d, i, s, sizeof(s) / sizeof(s[0]));
	uint64_t pos = 0;

	bar->nr_pieces = 0;
	for (unsigned int k = 0; k < n; k++) {
		if (s[k].a < pos)
			continue;	/* overlapping areas: keep the first */
		if (s[k].a > pos)
			bar_add_piece(bar, pos, s[k].a, false);
		bar_add_piece(bar, s[k].a, s[k].b, true);
		pos = s[k].b;
	}
	if (pos < bar->size)
		bar_add_piece(bar, pos, bar->size, false);
	for (unsigned int k = 0; k < bar->nr_pieces; k++)
		trace(LOG_PCI, "%s: %s [%#llx, %#llx) %s", d->vdev.name, vfio_region_name(i),
		      (unsigned long long)bar->pieces[k].offset,
		      (unsigned long long)(bar->pieces[k].offset + bar->pieces[k].size),
		      bar->pieces[k].direct ? "mapped" : "trapped");
}

/* Type, size and write mask of BAR i from the device's register and region. */
static unsigned int bar_init_one(struct vfio_pci_dev *d, unsigned int i)
{
	struct vfio_bar *bar = &d->bars[i];
	uint32_t raw = cfg_get(d, bar_reg(i), 4);
	uint64_t size = d->regions[i].size, mask;

	bar->index = i;
	if (!size) {
		vfio_cfg_rule(d, bar_reg(i), 4, ~0u, 0, 0);
		cfg_set(d, bar_reg(i), 4, 0);
		return 1;
	}
	size = pow2_ceil(size);
	bar->size = size;
	mask = ~(size - 1);
	if (raw & PCI_BASE_ADDRESS_SPACE_IO) {
		bar->type = VFIO_BAR_IO;
		bar->low_bits = raw & ~PCI_BASE_ADDRESS_IO_MASK;
		vfio_cfg_rule(d, bar_reg(i), 4, ~0u, (uint32_t)mask & PCI_BASE_ADDRESS_IO_MASK, 0);
	} else {
		bar->low_bits = raw & ~PCI_BASE_ADDRESS_MEM_MASK;
		bar->prefetch = raw & PCI_BASE_ADDRESS_MEM_PREFETCH;
		bar->type = (raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64
				    ? VFIO_BAR_MEM64 : VFIO_BAR_MEM32;
		vfio_cfg_rule(d, bar_reg(i), 4, ~0u, (uint32_t)mask & PCI_BASE_ADDRESS_MEM_MASK, 0);
	}
	cfg_set(d, bar_reg(i), 4, bar->low_bits);
	if (bar->type == VFIO_BAR_MEM64 && i < 5) {
		vfio_cfg_rule(d, bar_reg(i + 1), 4, ~0u, (uint32_t)(mask >> 32), 0);
		cfg_set(d, bar_reg(i + 1), 4, 0);
		d->bars[i + 1].index = i + 1;
		return 2;
	}
	if (bar->type == VFIO_BAR_MEM64) {
		/* A 64-bit BAR5 has no upper half: treat it as 32-bit. */
		bar->type = VFIO_BAR_MEM32;
	}
	return 1;
}

static void rom_init(struct vfio_pci_dev *d)
{
	struct vfio_bar *bar = &d->bars[VFIO_PCI_ROM_INDEX];
	uint64_t size = d->regions[VFIO_PCI_ROM_INDEX].size;

	bar->index = VFIO_PCI_ROM_INDEX;
	cfg_set(d, PCI_ROM_ADDRESS, 4, 0);
	if (!size)
		return;
	bar->type = VFIO_BAR_ROM;
	bar->size = pow2_ceil(size < 2048 ? 2048 : size);
	vfio_cfg_rule(d, PCI_ROM_ADDRESS, 4, ~0u,
		      ((uint32_t)~(bar->size - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE,
		      0);
	bar_add_piece(bar, 0, bar->size, false);
}

int vfio_bars_init(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < 6; i += bar_init_one(d, i))
		;
	rom_init(d);
	for (unsigned int i = 0; i < 6; i++)
		if (d->bars[i].size)
			bar_split(d, i);
	return 0;
}

uint64_t vfio_bar_guest_addr(const struct vfio_pci_dev *d, unsigned int i)
{
	const struct vfio_bar *bar = &d->bars[i];
	uint32_t lo = cfg_get(d, bar_reg(i), 4);

	switch (bar->type) {
	case VFIO_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case VFIO_BAR_MEM32:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	case VFIO_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (uint64_t)cfg_get(d, bar_reg(i + 1), 4) << 32;
	case VFIO_BAR_ROM:
		return lo & PCI_ROM_ADDRESS_MASK;
	default:
		return 0;
	}
}

/* Should BAR i be on the guest's buses, and where? */
static bool bar_wanted(const struct vfio_pci_dev *d, unsigned int i, uint64_t *addr)
{
	const struct vfio_bar *bar = &d->bars[i];
	uint16_t cmd = cfg_get(d, PCI_COMMAND, 2);
	uint64_t a = vfio_bar_guest_addr(d, i), limit;

	if (!bar->size || bar->type == VFIO_BAR_NONE || d->cfg.d3)
		return false;
	if (bar->type == VFIO_BAR_IO) {
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		limit = 0x10000;
	} else {
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		if (bar->type == VFIO_BAR_ROM &&
		    !(cfg_get(d, PCI_ROM_ADDRESS, 4) & PCI_ROM_ADDRESS_ENABLE))
			return false;
		limit = bar->type == VFIO_BAR_MEM64 ? 0 : 1ull << 32;
	}
	/* 0 is "unassigned"; the all-ones sizing pattern is not an address either. */
	if (!a || a == (bar->type == VFIO_BAR_MEM64 ? ~(bar->size - 1)
						     : (uint32_t)~(bar->size - 1) &
						       (limit - 1)))
		return false;
	if (a + bar->size < a || (limit && a + bar->size > limit))
		return false;
	*addr = a;
	return true;
}

static void bar_unmap(struct vfio_pci_dev *d, struct vfio_bar *bar, unsigned int upto)
{
	for (unsigned int k = 0; k < upto; k++)
		d->host->bar_unmap(d->host_opaque, d, bar, &bar->pieces[k],
				   bar->mapped_addr + bar->pieces[k].offset);
}

static void bar_update(struct vfio_pci_dev *d, unsigned int i)
{
	struct vfio_bar *bar = &d->bars[i];
	uint64_t addr = 0;
	bool want = bar_wanted(d, i, &addr);
	unsigned int k;
	int ret = 0;

	if (bar->mapped && want && addr == bar->mapped_addr)
		return;
	if (bar->mapped) {
		trace(LOG_PCI, "%s: %s unmapped from %#llx", d->vdev.name, vfio_region_name(i),
		      (unsigned long long)bar->mapped_addr);
		bar_unmap(d, bar, bar->nr_pieces);
		bar->mapped = false;
	}
	if (!want)
		return;
	bar->mapped_addr = addr;
	for (k = 0; k < bar->nr_pieces; k++) {
		ret = d->host->bar_map(d->host_opaque, d, bar, &bar->pieces[k],
				       addr + bar->pieces[k].offset);
		if (ret)
			break;
	}
	if (ret) {
		log_warn_rl("%s: cannot map %s at %#llx (%s); it stays unmapped", d->vdev.name,
			 vfio_region_name(i), (unsigned long long)addr, strerror(-ret));
		bar_unmap(d, bar, k);
		return;
	}
	bar->mapped = true;
	trace(LOG_PCI, "%s: %s mapped at %#llx size %#llx (%u pieces)", d->vdev.name,
	      vfio_region_name(i), (unsigned long long)addr, (unsigned long long)bar->size,
	      bar->nr_pieces);
}

void vfio_bars_update(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < VFIO_PCI_NR_BARS; i++)
		bar_update(d, i);
}

void vfio_bars_unmap(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < VFIO_PCI_NR_BARS; i++) {
		struct vfio_bar *bar = &d->bars[i];

		if (bar->mapped)
			bar_unmap(d, bar, bar->nr_pieces);
		bar->mapped = false;
	}
}

int vfio_pci_mmap_bars(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < 6; i++) {
		struct vfio_bar *bar = &d->bars[i];

		for (unsigned int k = 0; k < bar->nr_pieces; k++) {
			struct vfio_bar_piece *p = &bar->pieces[k];

			if (!p->direct || p->hva)
				continue;
			p->hva = d->vdev.ops->region_mmap(d->vdev.h, &d->regions[i], p->offset,
							  p->size);
			if (!p->hva) {
				/* Still correct, only slower: every access exits. */
				log_warn("%s: mmap of %s [%#llx, +%#llx) failed (%s): trapping it",
					 d->vdev.name, vfio_region_name(i),
					 (unsigned long long)p->offset, (unsigned long long)p->size,
					 strerror(errno));
				p->direct = false;
			}
		}
	}
	return 0;
}

void vfio_pci_munmap_bars(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < 6; i++)
		for (unsigned int k = 0; k < d->bars[i].nr_pieces; k++) {
			struct vfio_bar_piece *p = &d->bars[i].pieces[k];

			if (p->hva)
				d->vdev.ops->region_munmap(d->vdev.h, p->hva, p->size);
			p->hva = NULL;
		}
}

void vfio_pci_bar_read(struct vfio_pci_dev *d, unsigned int i, uint64_t off, void *data,
		       uint32_t len)
{
	ssize_t n;

	__atomic_fetch_add(&d->trap_reads, 1, __ATOMIC_RELAXED);
	if (i < VFIO_PCI_NR_BARS)
		__atomic_fetch_add(&d->bars[i].trap_reads, 1, __ATOMIC_RELAXED);
	if (i >= VFIO_PCI_NR_BARS || off >= d->bars[i].size || d->bars[i].size - off < len) {
		memset(data, 0xff, len);
		return;
	}
	if (vfio_msix_owns(d, i, off, len)) {
		vfio_msix_read(d, i, off, data, len);
		return;
	}
	/* A ROM region may be smaller than the power-of-two BAR around it. */
	if (off + len > d->regions[i].size) {
		memset(data, 0xff, len);
		return;
	}
	n = d->vdev.ops->region_read(d->vdev.h, &d->regions[i], off, data, len);
	if (n != (ssize_t)len) {
		memset(data, 0xff, len);
		log_warn_rl("%s: %s read at %#llx len %u failed", d->vdev.name, vfio_region_name(i),
			 (unsigned long long)off, len);
	}
}

void vfio_pci_bar_write(struct vfio_pci_dev *d, unsigned int i, uint64_t off, const void *data,
			uint32_t len)
{
	ssize_t n;

	__atomic_fetch_add(&d->trap_writes, 1, __ATOMIC_RELAXED);
	if (i < VFIO_PCI_NR_BARS)
		__atomic_fetch_add(&d->bars[i].trap_writes, 1, __ATOMIC_RELAXED);
	if (i >= 6 || off >= d->bars[i].size || d->bars[i].size - off < len)
		return;		/* the ROM is read-only */
	if (vfio_msix_owns(d, i, off, len)) {
		vfio_msix_write(d, i, off, data, len);
		return;
	}
	n = d->vdev.ops->region_write(d->vdev.h, &d->regions[i], off, data, len);
	if (n != (ssize_t)len)
		log_warn_rl("%s: %s write at %#llx len %u failed", d->vdev.name, vfio_region_name(i),
			 (unsigned long long)off, len);
}

struct placement {
	struct vfio_pci_dev *d;
	unsigned int i;
};

static int cmp_placement(const void *x, const void *y)
{
	const struct placement *a = x, *b = y;
	uint64_t sa = a->d->bars[a->i].size, sb = b->d->bars[b->i].size;

	return sa > sb ? -1 : sa < sb;
}

static void bar_program(struct vfio_pci_dev *d, unsigned int i, uint64_t addr)
{
	struct vfio_bar *bar = &d->bars[i];

	if (bar->type == VFIO_BAR_ROM) {
		cfg_set(d, PCI_ROM_ADDRESS, 4, (uint32_t)addr);
		return;
	}
	cfg_set(d, bar_reg(i), 4, (uint32_t)addr | bar->low_bits);
	if (bar->type == VFIO_BAR_MEM64)
		cfg_set(d, bar_reg(i + 1), 4, addr >> 32);
}

static int place_one(struct placement *p, struct pci_window *w32, struct pci_window *w64,
		     struct pci_window *io)
{
	struct vfio_bar *bar = &p->d->bars[p->i];
	struct pci_window *w = bar->type == VFIO_BAR_MEM64 ? w64 :
			       bar->type == VFIO_BAR_IO ? io : w32;
	/* Give small memory BARs a page of their own, so a memslot never shares one. */
	uint64_t size = bar->type == VFIO_BAR_IO || bar->size >= p->d->page_size
				? bar->size : p->d->page_size;
	uint64_t addr;
	int ret;

	if (!w) {
		log_warn("%s: %s is an I/O BAR and there is no I/O window: left unassigned",
			 p->d->vdev.name, vfio_region_name(p->i));
		return 0;
	}
	ret = pci_window_alloc(w, size, &addr);
	if (ret) {
		log_err("%s: %s (%llu MiB%s%s) does not fit in the %s window [%#llx, %#llx)%s",
			p->d->vdev.name, vfio_region_name(p->i),
			(unsigned long long)(bar->size >> 20),
			bar->type == VFIO_BAR_MEM64 ? ", 64-bit" : "",
			bar->prefetch ? ", prefetchable" : "",
			w == w64 ? "64-bit MMIO" : w == io ? "I/O" : "32-bit MMIO",
			(unsigned long long)w->base, (unsigned long long)w->end,
			w == w64 ? ": the guest needs more physical address bits (phys_bits)"
				 : "");
		return ret;
	}
	bar_program(p->d, p->i, addr);
	/* Normally decode is still off here; if not, follow the move at once. */
	vfio_bars_update(p->d);
	trace(LOG_PCI, "%s: %s placed at %#llx size %#llx", p->d->vdev.name,
	      vfio_region_name(p->i), (unsigned long long)addr, (unsigned long long)bar->size);
	return 0;
}

int vfio_pci_place_bars(struct vfio_pci_dev **devs, unsigned int n, struct pci_window *w32,
			struct pci_window *w64, struct pci_window *io)
{
	struct placement *p = calloc((size_t)n * VFIO_PCI_NR_BARS + 1, sizeof(*p));
	unsigned int nr = 0;
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (unsigned int k = 0; k < n; k++)
		for (unsigned int i = 0; i < VFIO_PCI_NR_BARS; i++)
			if (devs[k]->bars[i].size && devs[k]->bars[i].type != VFIO_BAR_NONE)
				p[nr++] = (struct placement){ devs[k], i };
	qsort(p, nr, sizeof(p[0]), cmp_placement);
	for (unsigned int k = 0; k < nr && !ret; k++) {
		pthread_mutex_lock(&p[k].d->lock);
		ret = place_one(&p[k], w32, w64, io);
		pthread_mutex_unlock(&p[k].d->lock);
	}
	free(p);
	return ret;
}
