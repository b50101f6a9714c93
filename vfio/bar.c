// SPDX-License-Identifier: MIT
/*
 * What is VFIO about a BAR. Sizes come from the VFIO regions, the read-only
 * type bits (I/O, 64-bit, prefetchable) from the device's own BAR registers;
 * the guest-visible registers live in the config shadow with the write mask
 * the PCI layer gives (devices/pci_dev.c), which also does decode, placement
 * and moves. Each BAR is cut into pieces: areas the kernel lets us mmap
 * become direct pieces (KVM memslots, no exits) except the pages holding
 * the MSI-X table and PBA, which we must see; everything else is trapped and
 * forwarded to the region with the guest's access size.
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

/*
 * Cuts the PBA's pages [pa, pb) out of every span and, when they lay whole
 * inside one, puts them back as a span of their own, its index in *pba.
 */
static unsigned int spans_isolate(struct span *s, unsigned int n, unsigned int max, uint64_t pa,
				  uint64_t pb, int *pba)
{
	bool inside = false;
	unsigned int k;

	for (k = 0; k < n; k++)
		inside |= s[k].a <= pa && pb <= s[k].b;
	n = spans_cut(s, n, max, pa, pb);
	if (!inside || !n || n == max)
		return n;
	for (k = 0; k < n && s[k].a < pa; k++)
		;
	memmove(&s[k + 1], &s[k], (n - k) * sizeof(s[0]));
	s[k] = (struct span){ pa, pb };
	*pba = (int)k;
	return n + 1;
}

/*
 * The mmap-able spans of BAR i, page-aligned inward, the MSI-X table's pages
 * cut out. The PBA's pages are cut out too, unless they lie in an mmap-able
 * span clear of the table: then they are a span of their own, whose index
 * goes to *pba (else -1), mapped or trapped as vfio_pba_update() decides.
 */
static unsigned int bar_direct_spans(struct vfio_pci_dev *d, unsigned int i, struct span *s,
				     unsigned int max, int *pba)
{
	const struct vfio_region *r = &d->regions[i];
	struct pci_bar *bar = &d->pci.bars[i];
	uint64_t pg = d->pci.page_size;
	unsigned int n = 0;

	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    (bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64))
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
	/* Drop spans emptied by the alignment or the cut. */
	for (unsigned int k = 0; k < n; k++)
		if (s[k].a >= s[k].b) {
			memmove(&s[k], &s[k + 1], (n - k - 1) * sizeof(s[0]));
			n--;
			k--;
		}
	*pba = -1;
	if (d->msix.cap && d->msix.pba_bar == i) {
		uint64_t pa = align_down(d->msix.pba_off, pg);
		uint64_t pb = align_up(d->msix.pba_off + msix_pba_size(&d->msix), pg);

		n = spans_isolate(s, n, max, pa, pb, pba);
	}
	return n;
}

/* Cuts BAR i into direct and trapped pieces covering [0, size) in order. */
static void bar_split(struct vfio_pci_dev *d, unsigned int i)
{
	struct pci_bar *bar = &d->pci.bars[i];
	struct span s[VFIO_BAR_MAX_SPANS];
	int pba;
	unsigned int n = bar_direct_spans(d, i, s, sizeof(s) / sizeof(s[0]), &pba);
	uint64_t pos = 0;

	/* At most VFIO_BAR_MAX_PIECES <= PCI_BAR_MAX_PIECES pieces (vfio_pci.h): none refused. */
	bar->nr_pieces = 0;
	for (unsigned int k = 0; k < n; k++) {
		if (s[k].a < pos)
			continue;	/* overlapping areas: keep the first */
		if (s[k].a > pos)
			pci_bar_add_piece(&d->pci, i, pos, s[k].a - pos, false);
		if ((int)k == pba)
			d->pba_piece = (int)bar->nr_pieces;
		pci_bar_add_piece(&d->pci, i, s[k].a, s[k].b - s[k].a, true);
		pos = s[k].b;
	}
	if (pos < bar->size)
		pci_bar_add_piece(&d->pci, i, pos, bar->size - pos, false);
	for (unsigned int k = 0; k < bar->nr_pieces; k++)
		trace(LOG_PCI, "%s: %s [%#llx, %#llx) %s%s", d->vdev.name, vfio_region_name(i),
		      (unsigned long long)bar->pieces[k].offset,
		      (unsigned long long)(bar->pieces[k].offset + bar->pieces[k].size),
		      bar->pieces[k].direct ? "mapped" : "trapped",
		      (int)k == d->pba_piece && i == d->msix.pba_bar ?
		      " (the PBA's page: mapped while no MSI-X vector is ours to show pending)" :
		      "");
}

/* Type and size of BAR i from the device's register and region; the shadow follows. */
static unsigned int bar_init_one(struct vfio_pci_dev *d, unsigned int i)
{
	uint32_t reg = pci_bar_reg(i), raw = cfg_get(d, reg, 4);
	enum pci_bar_type type = PCI_BAR_MEM32;
	struct pci_bar *bar = &d->pci.bars[i];
	unsigned int n;

	if (raw & PCI_BASE_ADDRESS_SPACE_IO)
		type = PCI_BAR_IO;
	else if ((raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
		type = PCI_BAR_MEM64;
	n = pci_bar_init(&d->pci, i, type, d->regions[i].size,
			 !(raw & PCI_BASE_ADDRESS_SPACE_IO) && (raw & PCI_BASE_ADDRESS_MEM_PREFETCH));
	vfio_cfg_rule(d, reg, 4, ~0u, pci_bar_reg_mask(&d->pci, reg), 0);
	cfg_set(d, reg, 4, bar->low_bits);
	if (n == 2) {
		vfio_cfg_rule(d, pci_bar_reg(i + 1), 4, ~0u,
			      pci_bar_reg_mask(&d->pci, pci_bar_reg(i + 1)), 0);
		cfg_set(d, pci_bar_reg(i + 1), 4, 0);
	}
	return n;
}

static void rom_init(struct vfio_pci_dev *d)
{
	pci_bar_init(&d->pci, PCI_ROM_BAR, PCI_BAR_ROM, d->regions[VFIO_PCI_ROM_INDEX].size, false);
	vfio_cfg_rule(d, PCI_ROM_ADDRESS, 4, ~0u, pci_bar_reg_mask(&d->pci, PCI_ROM_ADDRESS), 0);
	cfg_set(d, PCI_ROM_ADDRESS, 4, 0);
}

int vfio_bars_init(struct vfio_pci_dev *d)
{
	d->pba_piece = -1;
	for (unsigned int i = 0; i < 6; i += bar_init_one(d, i))
		;
	rom_init(d);
	for (unsigned int i = 0; i < 6; i++)
		if (d->pci.bars[i].size)
			bar_split(d, i);
	return 0;
}

uint64_t vfio_bar_guest_addr(const struct vfio_pci_dev *d, unsigned int i)
{
	return pci_bar_addr(&d->pci, i, d->cfg.shadow);
}

void vfio_bars_update(struct vfio_pci_dev *d)
{
	pci_dev_update_bars(&d->pci, d->cfg.shadow, d->cfg.d3);
}

void vfio_bars_unmap(struct vfio_pci_dev *d)
{
	pci_dev_unmap_bars(&d->pci);
}

static bool is_pba_piece(const struct vfio_pci_dev *d, unsigned int i, unsigned int k)
{
	return d->pba_piece >= 0 && i == d->msix.pba_bar && k == (unsigned int)d->pba_piece;
}

int vfio_pci_mmap_bars(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < 6; i++) {
		struct pci_bar *bar = &d->pci.bars[i];

		for (unsigned int k = 0; k < bar->nr_pieces; k++) {
			struct pci_bar_piece *p = &bar->pieces[k];

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
				if (is_pba_piece(d, i, k))
					d->pba_piece = -1;
			}
		}
	}
	return 0;
}

void vfio_pci_munmap_bars(struct vfio_pci_dev *d)
{
	for (unsigned int i = 0; i < 6; i++)
		for (unsigned int k = 0; k < d->pci.bars[i].nr_pieces; k++) {
			struct pci_bar_piece *p = &d->pci.bars[i].pieces[k];

			if (p->hva)
				d->vdev.ops->region_munmap(d->vdev.h, p->hva, p->size);
			p->hva = NULL;
		}
}

/*
 * Keeps the PBA's page mapped only while the PBA a guest should see is the
 * device's own (msix_pba_emulated() false), d->lock held. Trapping happens
 * at once, after anything that can leave a vector detached: a masked
 * vector's pending bit must show on the very next read. Mapping back waits
 * for may_map, which only a trapped access to that page passes, so a guest
 * that masks and unmasks around each interrupt but never reads the PBA
 * (Linux in normal operation) changes no memslot for it.
 */
void vfio_pba_update(struct vfio_pci_dev *d, bool may_map)
{
	unsigned int i = d->msix.pba_bar;
	bool trap;
	int ret;

	/* Not mmapped (yet, or it failed): trapped, and nothing to switch. */
	if (d->pba_piece < 0 || !d->pci.bars[i].pieces[d->pba_piece].hva)
		return;
	trap = msix_pba_emulated(&d->msix);
	if (trap != d->pci.bars[i].pieces[d->pba_piece].direct || (!trap && !may_map))
		return;
	ret = pci_bar_piece_switch(&d->pci, i, (unsigned int)d->pba_piece, !trap);
	if (ret) {
		log_warn_rl("%s: cannot %s the PBA's page of %s: %s", d->vdev.name,
			    trap ? "trap" : "map", vfio_region_name(i), strerror(-ret));
		return;
	}
	if (trap)
		d->pba_traps++;
	else
		d->pba_maps++;
}

/* A trapped access to the PBA's page may be the time to map it back. */
static void pba_access(struct vfio_pci_dev *d, unsigned int i, uint64_t off)
{
	const struct pci_bar_piece *p;

	if (d->pba_piece < 0 || i != d->msix.pba_bar)
		return;
	p = &d->pci.bars[i].pieces[d->pba_piece];
	if (off < p->offset || off - p->offset >= p->size)
		return;
	pthread_mutex_lock(&d->lock);
	vfio_pba_update(d, true);
	pthread_mutex_unlock(&d->lock);
}

void vfio_pci_bar_read(struct vfio_pci_dev *d, unsigned int i, uint64_t off, void *data,
		       uint32_t len)
{
	ssize_t n;

	__atomic_fetch_add(&d->trap_reads, 1, __ATOMIC_RELAXED);
	if (i >= VFIO_PCI_NR_BARS || off >= d->pci.bars[i].size || d->pci.bars[i].size - off < len) {
		memset(data, 0xff, len);
		return;
	}
	if (msix_owns(&d->msix, i, off, len)) {
		vfio_msix_read(d, i, off, data, len);
		pba_access(d, i, off);
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
	pba_access(d, i, off);
}

void vfio_pci_bar_write(struct vfio_pci_dev *d, unsigned int i, uint64_t off, const void *data,
			uint32_t len)
{
	ssize_t n;

	__atomic_fetch_add(&d->trap_writes, 1, __ATOMIC_RELAXED);
	if (i >= 6 || off >= d->pci.bars[i].size || d->pci.bars[i].size - off < len)
		return;		/* the ROM is read-only */
	if (msix_owns(&d->msix, i, off, len)) {
		vfio_msix_write(d, i, off, data, len);
		return;
	}
	n = d->vdev.ops->region_write(d->vdev.h, &d->regions[i], off, data, len);
	if (n != (ssize_t)len)
		log_warn_rl("%s: %s write at %#llx len %u failed", d->vdev.name, vfio_region_name(i),
			 (unsigned long long)off, len);
	pba_access(d, i, off);
}

/*
 * The PCI layer tells us a BAR appeared or is about to go; with --p2p its
 * directly mapped pieces follow as DMA targets (peers stop reaching a piece
 * before the guest does). Called with d->lock held (config write path).
 */
void vfio_pci_bar_moved(struct vfio_pci_dev *d, unsigned int i, bool on, uint64_t addr)
{
	struct pci_bar *bar = &d->pci.bars[i];

	if (!d->dma_hook)
		return;
	for (unsigned int k = 0; k < bar->nr_pieces; k++) {
		struct pci_bar_piece *p = &bar->pieces[k];
		int ret;

		/* The PBA's page comes and goes (vfio_pba_update()): no peer DMAs there. */
		if (!p->direct || !p->hva || (on && p->handle < 0) || is_pba_piece(d, i, k))
			continue;
		ret = d->dma_hook(d->dma_opaque, on, addr + p->offset, p->hva, p->size);
		/* -EINTR: the VMM is stopping, and iommu/ said so. */
		if (ret && on && ret != -EINTR)
			log_warn_rl("%s: %s +%#llx at %#llx is not a DMA target for peers: %s",
				    d->vdev.name, vfio_region_name(i), (unsigned long long)p->offset,
				    (unsigned long long)(addr + p->offset), strerror(-ret));
	}
}

int vfio_pci_set_dma_hook(struct vfio_pci_dev *d, vfio_dma_fn fn, void *opaque)
{
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	d->dma_hook = fn;
	d->dma_opaque = opaque;
	/* Pieces already on the guest's bus (decode on before boot) become targets now. */
	for (unsigned int i = 0; fn && i < VFIO_PCI_NR_BARS && !ret; i++) {
		struct pci_bar *bar = &d->pci.bars[i];

		for (unsigned int k = 0; bar->mapped && k < bar->nr_pieces && !ret; k++) {
			struct pci_bar_piece *p = &bar->pieces[k];

			if (p->direct && p->hva && p->handle >= 0 && !is_pba_piece(d, i, k))
				ret = fn(opaque, true, bar->mapped_addr + p->offset, p->hva,
					 p->size);
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (ret && ret != -EINTR)
		log_err("%s: BARs for peer-to-peer DMA: %s", d->vdev.name, strerror(-ret));
	return ret;
}
