// SPDX-License-Identifier: MIT
/*
 * The PCI device model's BAR half: registers, decode, placement and the
 * mapped/trapped pieces, for every device kind (see pci_dev.h).
 *
 * A BAR register's write mask is ~(size - 1) over its address bits, so BAR
 * sizing (write all-ones, read back) needs no special case; the devices
 * keep the registers in their own config copies and hand us those bytes.
 * Whenever decode, a BAR register or the power state changes, each BAR's
 * pieces are taken off the buses at the old address and put back at the
 * new one through the host interface, with the device told before and after
 * (bar_moved), so anything that follows the BAR (P2P DMA mappings,
 * ioeventfds) moves with it.
 */
#include "devices/pci_dev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "util/log.h"

static const char *const bar_names[PCI_NR_BARS] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM",
};

const char *pci_bar_name(unsigned int i)
{
	return i < PCI_NR_BARS ? bar_names[i] : "BAR?";
}

uint32_t pci_bar_reg(unsigned int i)
{
	return i == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i;
}

static uint32_t hdr32(const uint8_t *hdr, uint32_t off)
{
	return hdr[off] | (uint32_t)hdr[off + 1] << 8 | (uint32_t)hdr[off + 2] << 16 |
	       (uint32_t)hdr[off + 3] << 24;
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p)
		p <<= 1;
	return p;
}

void pci_dev_init(struct pci_dev *dev, const struct pci_dev_ops *ops, void *opaque,
		  const char *name, const struct pci_host *host)
{
	long pg = sysconf(_SC_PAGESIZE);

	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->opaque = opaque;
	dev->name = name;
	dev->host = host;
	dev->page_size = pg > 0 ? (uint64_t)pg : 4096;
}

int pci_bar_add_piece(struct pci_dev *dev, unsigned int i, uint64_t off, uint64_t size,
		      bool direct)
{
	struct pci_bar *bar = &dev->bars[i];

	if (bar->nr_pieces == PCI_BAR_MAX_PIECES)
		return -E2BIG;
	bar->pieces[bar->nr_pieces++] = (struct pci_bar_piece){
		.offset = off, .size = size, .direct = direct, .handle = -1, .dev = dev,
		.bar = (uint8_t)i, .io = bar->type == PCI_BAR_IO,
	};
	return 0;
}

unsigned int pci_bar_init(struct pci_dev *dev, unsigned int i, enum pci_bar_type type,
			  uint64_t size, bool prefetch)
{
	struct pci_bar *bar = &dev->bars[i];

	*bar = (struct pci_bar){ .type = PCI_BAR_NONE };
	if (!size || type == PCI_BAR_NONE)
		return 1;
	if (type == PCI_BAR_ROM && size < 2048)
		size = 2048;
	if (type == PCI_BAR_MEM64 && i >= 5)
		type = PCI_BAR_MEM32;	/* a 64-bit BAR5 has no upper half */
	bar->type = type;
	bar->size = pow2_ceil(size);
	bar->prefetch = prefetch && (type == PCI_BAR_MEM32 || type == PCI_BAR_MEM64);
	switch (type) {
	case PCI_BAR_IO:
		bar->low_bits = PCI_BASE_ADDRESS_SPACE_IO;
		break;
	case PCI_BAR_MEM64:
		bar->low_bits = PCI_BASE_ADDRESS_MEM_TYPE_64;
		break;
	default:
		bar->low_bits = 0;
		break;
	}
	if (bar->prefetch)
		bar->low_bits |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	pci_bar_add_piece(dev, i, 0, bar->size, false);
	if (type == PCI_BAR_MEM64) {
		dev->bars[i + 1] = (struct pci_bar){ .type = PCI_BAR_NONE };
		return 2;
	}
	return 1;
}

uint32_t pci_bar_reg_mask(const struct pci_dev *dev, uint32_t reg)
{
	unsigned int i = reg == PCI_ROM_ADDRESS ? PCI_ROM_BAR : (reg - PCI_BASE_ADDRESS_0) / 4;
	const struct pci_bar *bar;
	uint64_t mask;

	if (reg != PCI_ROM_ADDRESS && (reg < PCI_BASE_ADDRESS_0 || reg > PCI_BASE_ADDRESS_5))
		return 0;
	bar = &dev->bars[i];
	/* The upper half of a 64-bit BAR: the address bits above 4 GiB. */
	if (bar->type == PCI_BAR_NONE && i > 0 && i < PCI_ROM_BAR &&
	    dev->bars[i - 1].type == PCI_BAR_MEM64)
		return (uint32_t)(~(dev->bars[i - 1].size - 1) >> 32);
	mask = ~(bar->size - 1);
	switch (bar->type) {
	case PCI_BAR_IO:
		return (uint32_t)mask & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
	case PCI_BAR_MEM64:
		return (uint32_t)mask & PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BAR_ROM:
		return ((uint32_t)mask & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE;
	default:
		return 0;
	}
}

uint64_t pci_bar_addr(const struct pci_dev *dev, unsigned int i, const uint8_t *hdr)
{
	uint32_t lo = hdr32(hdr, pci_bar_reg(i));

	switch (dev->bars[i].type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) |
		       (uint64_t)hdr32(hdr, pci_bar_reg(i + 1)) << 32;
	case PCI_BAR_ROM:
		return lo & PCI_ROM_ADDRESS_MASK;
	default:
		return 0;
	}
}

/* Should BAR i be on the guest's buses, and where? */
static bool bar_wanted(const struct pci_dev *dev, unsigned int i, const uint8_t *hdr,
		       uint64_t *addr)
{
	const struct pci_bar *bar = &dev->bars[i];
	uint16_t cmd = hdr[PCI_COMMAND] | hdr[PCI_COMMAND + 1] << 8;
	uint64_t a = pci_bar_addr(dev, i, hdr), limit;

	if (!bar->size || bar->type == PCI_BAR_NONE)
		return false;
	if (bar->type == PCI_BAR_IO) {
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		limit = 0x10000;
	} else {
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		if (bar->type == PCI_BAR_ROM &&
		    !(hdr32(hdr, PCI_ROM_ADDRESS) & PCI_ROM_ADDRESS_ENABLE))
			return false;
		limit = bar->type == PCI_BAR_MEM64 ? 0 : 1ull << 32;
	}
	/* 0 is "unassigned"; the all-ones sizing pattern is not an address either. */
	if (!a || a == (bar->type == PCI_BAR_MEM64 ? ~(bar->size - 1)
						    : (uint32_t)~(bar->size - 1) & (limit - 1)))
		return false;
	if (a + bar->size < a || (limit && a + bar->size > limit))
		return false;
	*addr = a;
	return true;
}

static void bar_unmap(struct pci_dev *dev, unsigned int i, unsigned int upto)
{
	struct pci_bar *bar = &dev->bars[i];

	for (unsigned int k = 0; k < upto; k++)
		dev->host->ops->bar_unmap(dev->host->opaque, &bar->pieces[k],
					  bar->mapped_addr + bar->pieces[k].offset);
}

static void bar_update(struct pci_dev *dev, unsigned int i, const uint8_t *hdr, bool quiesced)
{
	struct pci_bar *bar = &dev->bars[i];
	uint64_t addr = 0;
	bool want = !quiesced && bar_wanted(dev, i, hdr, &addr);
	unsigned int k;
	int ret = 0;

	if (bar->mapped && want && addr == bar->mapped_addr)
		return;
	if (bar->mapped) {
		trace(LOG_PCI, "%s: %s unmapped from %#llx", dev->name, pci_bar_name(i),
		      (unsigned long long)bar->mapped_addr);
		if (dev->ops->bar_moved)
			dev->ops->bar_moved(dev, i, false, bar->mapped_addr);
		bar_unmap(dev, i, bar->nr_pieces);
		bar->mapped = false;
	}
	if (!want)
		return;
	bar->mapped_addr = addr;
	for (k = 0; k < bar->nr_pieces; k++) {
		ret = dev->host->ops->bar_map(dev->host->opaque, &bar->pieces[k],
					      addr + bar->pieces[k].offset);
		if (ret)
			break;
	}
	if (ret) {
		/* The guest chose the address (over RAM, another BAR...): its problem, logged once. */
		log_warn_rl("%s: cannot map %s at %#llx (%s); it stays unmapped", dev->name,
			    pci_bar_name(i), (unsigned long long)addr,
			    ret == -ENOSPC ? "no free KVM memslot" : strerror(-ret));
		bar_unmap(dev, i, k);
		return;
	}
	bar->mapped = true;
	trace(LOG_PCI, "%s: %s mapped at %#llx size %#llx (%u pieces)", dev->name,
	      pci_bar_name(i), (unsigned long long)addr, (unsigned long long)bar->size,
	      bar->nr_pieces);
	if (dev->ops->bar_moved)
		dev->ops->bar_moved(dev, i, true, addr);
}

/* Maps or unmaps p as direct or trapped, whatever p->direct says now. */
static int piece_op(struct pci_dev *dev, struct pci_bar_piece *p, uint64_t gpa, bool map,
		    bool direct)
{
	bool was = p->direct;
	int ret = 0;

	p->direct = direct;
	if (map)
		ret = dev->host->ops->bar_map(dev->host->opaque, p, gpa);
	else
		dev->host->ops->bar_unmap(dev->host->opaque, p, gpa);
	p->direct = was;
	return ret;
}

int pci_bar_piece_switch(struct pci_dev *dev, unsigned int i, unsigned int k, bool direct)
{
	struct pci_bar *bar = &dev->bars[i];
	struct pci_bar_piece *p;
	uint64_t gpa;
	int ret;

	if (i >= PCI_NR_BARS || k >= bar->nr_pieces)
		return -EINVAL;
	p = &bar->pieces[k];
	if (direct && !p->hva)
		return -EINVAL;
	if (p->direct == direct)
		return 0;
	gpa = bar->mapped_addr + p->offset;
	if (bar->mapped) {
		/*
		 * A memslot hides a bus range under it, and a bus range only
		 * sees exits: with both in place for a moment, every access
		 * still lands somewhere.
		 */
		ret = piece_op(dev, p, gpa, true, direct);
		if (ret)
			return ret;
		piece_op(dev, p, gpa, false, !direct);
	}
	p->direct = direct;
	trace(LOG_PCI, "%s: %s [%#llx, %#llx) now %s", dev->name, pci_bar_name(i),
	      (unsigned long long)p->offset, (unsigned long long)(p->offset + p->size),
	      direct ? "mapped" : "trapped");
	return 0;
}

void pci_dev_update_bars(struct pci_dev *dev, const uint8_t *hdr, bool quiesced)
{
	for (unsigned int i = 0; i < PCI_NR_BARS; i++)
		bar_update(dev, i, hdr, quiesced);
}

void pci_dev_unmap_bars(struct pci_dev *dev)
{
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];

		if (bar->mapped) {
			if (dev->ops->bar_moved)
				dev->ops->bar_moved(dev, i, false, bar->mapped_addr);
			bar_unmap(dev, i, bar->nr_pieces);
		}
		bar->mapped = false;
	}
}

void pci_bar_trap_read(struct pci_bar_piece *p, uint64_t off, void *data, uint32_t len)
{
	struct pci_dev *dev = p->dev;

	__atomic_fetch_add(&dev->bars[p->bar].trap_reads, 1, __ATOMIC_RELAXED);
	dev->ops->bar_read(dev, p->bar, p->offset + off, data, len);
}

void pci_bar_trap_write(struct pci_bar_piece *p, uint64_t off, const void *data, uint32_t len)
{
	struct pci_dev *dev = p->dev;

	__atomic_fetch_add(&dev->bars[p->bar].trap_writes, 1, __ATOMIC_RELAXED);
	dev->ops->bar_write(dev, p->bar, p->offset + off, data, len);
}

static const char *const bar_type_names[] = {
	[PCI_BAR_NONE] = "none", [PCI_BAR_IO] = "io", [PCI_BAR_MEM32] = "mem32",
	[PCI_BAR_MEM64] = "mem64", [PCI_BAR_ROM] = "rom",
};

/*
 * A BAR whose mapped share is all of it and whose counts stay 0 is proof
 * that the guest's accesses went straight to the device.
 */
void pci_dev_print_bars(const struct pci_dev *dev, const uint8_t *hdr, FILE *f)
{
	for (unsigned int b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &dev->bars[b];
		uint64_t mapped = 0, trapped = 0;

		if (!bar->size || bar->type == PCI_BAR_NONE)
			continue;
		for (unsigned int k = 0; k < bar->nr_pieces; k++) {
			if (bar->pieces[k].direct && bar->pieces[k].hva)
				mapped += bar->pieces[k].size;
			else
				trapped += bar->pieces[k].size;
		}
		fprintf(f, "    %-4s %-5s at 0x%llx size 0x%llx: mapped 0x%llx, trapped 0x%llx; "
			"%llu trapped reads, %llu trapped writes\n",
			pci_bar_name(b), bar_type_names[bar->type],
			(unsigned long long)pci_bar_addr(dev, b, hdr), (unsigned long long)bar->size,
			(unsigned long long)mapped, (unsigned long long)trapped,
			(unsigned long long)bar->trap_reads, (unsigned long long)bar->trap_writes);
	}
}

/* ---- placement ---- */

struct placement {
	struct pci_dev *dev;
	unsigned int i;
};

static int cmp_placement(const void *x, const void *y)
{
	const struct placement *a = x, *b = y;
	uint64_t sa = a->dev->bars[a->i].size, sb = b->dev->bars[b->i].size;

	return sa > sb ? -1 : sa < sb;
}

static void cfg_write32(struct pci_dev *dev, uint32_t off, uint32_t v)
{
	dev->ops->cfg_write(dev, off, &v, 4);
}

/* As firmware does it: through config space, so the device's own rules apply. */
static void bar_program(struct pci_dev *dev, unsigned int i, uint64_t addr)
{
	const struct pci_bar *bar = &dev->bars[i];

	cfg_write32(dev, pci_bar_reg(i), (uint32_t)addr | (bar->type == PCI_BAR_ROM ? 0 :
							      bar->low_bits));
	if (bar->type == PCI_BAR_MEM64)
		cfg_write32(dev, pci_bar_reg(i + 1), (uint32_t)(addr >> 32));
}

/* Give small memory BARs a page of their own, so a memslot never shares one. */
static uint64_t placed_size(const struct pci_dev *dev, const struct pci_bar *bar)
{
	if (!bar->size || bar->type == PCI_BAR_NONE)
		return 0;
	return bar->type == PCI_BAR_IO || bar->size >= dev->page_size ? bar->size
								      : dev->page_size;
}

uint64_t pci_bar_placed_size(const struct pci_dev *dev, unsigned int i)
{
	return i < PCI_NR_BARS ? placed_size(dev, &dev->bars[i]) : 0;
}

bool pci_bar_in_pref_window(const struct pci_bar *bar)
{
	return bar->type == PCI_BAR_MEM64 && bar->prefetch;
}

/*
 * On the root bus every 64-bit BAR goes above 4 GiB. Behind a bridge only
 * 64-bit prefetchable ones can (the bridge's memory window is 32-bit); the
 * rest share its memory window below 4 GiB.
 */
static struct pci_window *window_for(const struct pci_bar *bar, bool bridged,
				     struct pci_window *w32, struct pci_window *w64,
				     struct pci_window *io)
{
	if (bar->type == PCI_BAR_IO)
		return io;
	if (bar->type == PCI_BAR_MEM64 && (!bridged || bar->prefetch))
		return w64;
	return w32;
}

static int place_one(struct placement *p, bool bridged, struct pci_window *w32,
		     struct pci_window *w64, struct pci_window *io)
{
	struct pci_bar *bar = &p->dev->bars[p->i];
	struct pci_window *w = window_for(bar, bridged, w32, w64, io);
	uint64_t size = placed_size(p->dev, bar);
	uint64_t addr;
	int ret;

	if (!w) {
		log_warn("%s: %s is an I/O BAR and there is no I/O window: left unassigned",
			 p->dev->name, pci_bar_name(p->i));
		return 0;
	}
	ret = pci_window_alloc(w, size, &addr);
	if (ret) {
		log_err("%s: %s (%llu MiB%s%s) does not fit in the %s window [%#llx, %#llx)%s",
			p->dev->name, pci_bar_name(p->i), (unsigned long long)(bar->size >> 20),
			bar->type == PCI_BAR_MEM64 ? ", 64-bit" : "",
			bar->prefetch ? ", prefetchable" : "",
			w == w64 ? "64-bit MMIO" : w == io ? "I/O" : "32-bit MMIO",
			(unsigned long long)w->base, (unsigned long long)w->end,
			w == w64 ? ": the guest needs more physical address bits (phys_bits)"
				 : "");
		return ret;
	}
	bar_program(p->dev, p->i, addr);
	trace(LOG_PCI, "%s: %s placed at %#llx size %#llx", p->dev->name, pci_bar_name(p->i),
	      (unsigned long long)addr, (unsigned long long)bar->size);
	return 0;
}

/* Every implemented BAR of every device, largest first: the order they are placed in. */
static struct placement *placement_order(struct pci_dev **devs, unsigned int n, unsigned int *nr)
{
	struct placement *p = calloc((size_t)n * PCI_NR_BARS + 1, sizeof(*p));

	*nr = 0;
	if (!p)
		return NULL;
	for (unsigned int k = 0; k < n; k++)
		for (unsigned int i = 0; i < PCI_NR_BARS; i++)
			if (devs[k]->bars[i].size && devs[k]->bars[i].type != PCI_BAR_NONE)
				p[(*nr)++] = (struct placement){ devs[k], i };
	qsort(p, *nr, sizeof(p[0]), cmp_placement);
	return p;
}

/*
 * The same walk as pci_place_bars over the 64-bit BARs alone, without
 * programming anything: where the last one would end when the window
 * starts at base. Lets the caller refuse a configuration whole, with the
 * numbers, before any BAR has an address.
 */
int pci_mmio64_need(struct pci_dev **devs, unsigned int n, uint64_t base,
		    struct pci_mmio64_need *need)
{
	unsigned int nr;
	struct placement *p = placement_order(devs, n, &nr);
	uint64_t next = base;

	if (!p)
		return -ENOMEM;
	*need = (struct pci_mmio64_need){ .end = base };
	for (unsigned int k = 0; k < n; k++)
		for (unsigned int i = 0; i < PCI_NR_BARS; i++)
			if (devs[k]->bars[i].type == PCI_BAR_MEM64 && devs[k]->bars[i].size) {
				need->nr_devs++;
				break;
			}
	for (unsigned int k = 0; k < nr; k++) {
		const struct pci_bar *bar = &p[k].dev->bars[p[k].i];
		uint64_t size = placed_size(p[k].dev, bar), start;

		if (bar->type != PCI_BAR_MEM64)
			continue;
		need->total += size;
		start = next > UINT64_MAX - (size - 1) ? UINT64_MAX : (next + size - 1) & ~(size - 1);
		if (start > UINT64_MAX - size) {
			need->end = UINT64_MAX;
			break;
		}
		next = start + size;
		need->end = next;
	}
	free(p);
	return 0;
}

int pci_place_bars(struct pci_dev **devs, unsigned int n, struct pci_window *w32,
		   struct pci_window *w64, struct pci_window *io)
{
	unsigned int nr;
	struct placement *p = placement_order(devs, n, &nr);
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (unsigned int k = 0; k < nr && !ret; k++)
		ret = place_one(&p[k], false, w32, w64, io);
	free(p);
	return ret;
}

int pci_place_bars_bridged(struct pci_dev *dev, struct pci_window *mem, struct pci_window *pref,
			   struct pci_window *io)
{
	unsigned int nr;
	struct placement *p = placement_order(&dev, 1, &nr);
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (unsigned int k = 0; k < nr && !ret; k++)
		ret = place_one(&p[k], true, mem, pref, io);
	free(p);
	return ret;
}

uint8_t pci_dev_intx_root(const struct pci_dev *dev, uint8_t pin, uint8_t *root_pin)
{
	/* Bounded: a hierarchy here is one root port deep, a loop must not hang us. */
	for (unsigned int depth = 0; dev->upstream && depth < 8; depth++) {
		if (pin >= 1 && pin <= 4)
			pin = (uint8_t)((pin - 1 + ((dev->devfn >> 3) & 0x1f)) % 4 + 1);
		dev = dev->upstream;
	}
	*root_pin = pin;
	return dev->devfn;
}
