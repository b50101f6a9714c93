// SPDX-License-Identifier: MIT
/*
 * The passthrough device (vfio/: config space virtualization, BARs and
 * their mapped/trapped pieces, MSI, MSI-X table and PBA, INTx, power
 * state, FLR) over the fake VFIO device built from a real H100 or H200 dump
 * (tests/fake/vfio_fake.c), opened as the VMM opens one
 * (vfio_passthrough_open_ops: init, VFIO reset, BAR mmaps; then INTx),
 * with the checking host of fuzz_host.c, driven by a hostile guest.
 *
 * Input: a setup byte (bit 0 H200, else H100; 1 MSI-X table mmap-able,
 * else sparse mmap around it; 2 VFIO cannot reset; 3 BAR0's sparse areas
 * come from the input; 4 --trace pci,irq,vfio; 5 a GPUDirect clique
 * capability; 6 VFIO_DEVICE_RESET fails), then operations, an operation
 * byte and its operands:
 *   0 config read (offset, size 1/2/4, naturally aligned)   1 config write
 *   2 config write to a register that matters (command, a BAR, PMCSR, MSI,
 *     MSI-X control, DevCtl, link control...) with an input value
 *   3 a guest access through the host's map (any mapped piece: trapped
 *     ones reach the device, memslots their host memory)
 *   4 the MSI-X table or PBA through BAR0, wherever the guest put it
 *   5 a trapped access straight to vfio_pci_bar_read/write (any BAR, offset)
 *   6 a BAR programmed to an address that matters (RAM, LAPIC, another
 *     BAR, the sizing pattern, the top of memory), decode on
 *   7 PMCSR power state         8 FLR (DevCtl Initiate FLR)
 *   9 the host's next map/route/irqfd call fails
 *  10 a vector's eventfd signalled (VFIO raising an interrupt)
 *  11 the peer-to-peer DMA hook set (--p2p)
 *  12 the device closed and opened again
 *
 * After every operation (besides the host's own checks on each call, see
 * fuzz_host.h) the target checks:
 *  - every BAR is wholly mapped where the guest's header (as the guest
 *    reads it) says, with decode on and the function not in D3hot, or not
 *    at all (fh_check_bars); the P2P DMA mappings are exactly memslots in
 *    place;
 *  - an attached MSI-X vector's route carries its table entry, unmasked,
 *    function not masked, MSI-X on; an unmasked valid entry with MSI-X on
 *    is attached (unless the host refused something this run); the
 *    guest's MSI-X enable in D0 means VFIO has the vectors;
 *  - an attached MSI vector's route is the capability's message, with the
 *    vector number in the low data bits; INTx is attached only in INTx
 *    mode; never two interrupt modes at once;
 *  - MSI-X table reads give what the guest wrote (a model table, reset by
 *    FLR); a PBA bit is set exactly for an enabled vector whose eventfd was
 *    signalled while detached;
 *  - the fake device's config space changed only in bits a guest may pass
 *    to the device (command's writable bits, status RW1C, power state, PCIe
 *    DevCtl/DevSta/DevCtl2 pass-through bits, AER, vendor-specific bodies):
 *    never an ID, BAR, header type, BIST, latency timer, capability
 *    pointer, MSI or MSI-X register, link control, or Initiate FLR.
 * At the end the device is closed: nothing may stay mapped, routed,
 * attached or registered, no eventfd open, the process's fd count as before.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "tests/fake/vfio_fake.h"
#include "tests/fuzz/fuzz_host.h"
#include "tests/fuzz/fuzz_input.h"
#include "util/log.h"
#include "vfio/pci_passthrough.h"

#define MAX_OPS		512
#define GIB		(1ull << 30)

static struct fake_vfio tmpl[2];	/* the H100 and H200 fixtures, loaded once */
static struct vfio_dev_ops ops;		/* the fake's, with BAR mmaps from the arena */
static uint8_t *arena;			/* reserved address space, PROT_NONE */
static uint64_t arena_used;
#define ARENA_SIZE	(1ull << 40)
static uint8_t allowed[2][PCI_CFG_SPACE_EXP_SIZE];	/* device bits a guest may change */
static const char *const models[2] = { "h100", "h200" };

static struct fake_vfio fv;
static struct fuzz_host host;
static struct vfio_passthrough *pt;
static struct vfio_pci_dev *d;
static unsigned int model;
static bool verbose;			/* FUZZ_VERBOSE: each operation on stderr */
static unsigned int writes, resets;	/* the fake's counts at the last config check */
static uint32_t tab[64][4];		/* model MSI-X table */

/* P2P DMA mappings the hook was given. */
static struct {
	bool used;
	uint64_t gpa, size;
	void *hva;
} dma[64];

/*
 * BAR mmaps: slices of one reservation made once, instead of a fresh
 * mapping of up to 256 GiB per open and an munmap per close (which cost
 * most of an execution). PROT_NONE: nothing in vfio-vmm may touch BAR
 * memory itself (KVM does, through the memslot), so a stray access
 * crashes here. When the arena runs out (many reopens in one input) the
 * mmap fails, and the device must trap that piece instead.
 */
static void *arena_mmap(void *h, const struct vfio_region *r, uint64_t off, uint64_t size)
{
	uint64_t at = arena_used;

	(void)h;
	(void)r;
	(void)off;
	if (size > ARENA_SIZE - at)
		return NULL;
	arena_used += (size + 4095) & ~4095ull;
	return arena + at;
}

static void arena_munmap(void *h, void *addr, uint64_t size)
{
	(void)h;
	FUZZ_CHECK((uint8_t *)addr >= arena && (uint8_t *)addr + size <= arena + arena_used,
		   "munmap of %p (%#llx bytes), never mapped", addr, (unsigned long long)size);
}

/* ---- the bits of config space a guest may change in the device ---- */

static void allow(unsigned int m, uint32_t off, uint32_t len, uint32_t mask)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SPACE_EXP_SIZE; i++)
		allowed[m][off + i] |= (uint8_t)(mask >> (8 * i));
}

static uint32_t le(const uint8_t *c, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)c[off + i] << (8 * i);
	return v;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * From the PCI and PCIe specs and what a guest must be able to do to its
 * own function, not from vfio/config.c's tables: walked over the fixture.
 */
static void allowed_init(unsigned int m)
{
	const uint8_t *c = tmpl[m].cfg;
	uint16_t ext[128];
	unsigned int n = 0;

	/* Command: I/O, memory, bus master, parity, SERR, INTx disable. Status: RW1C. */
	allow(m, PCI_COMMAND, 2, 0x0547);
	allow(m, PCI_STATUS, 2, 0xf900);
	for (uint8_t p = c[PCI_CAPABILITY_LIST] & ~3u, hops = 0; p >= 0x40 && hops < 48;
	     p = c[p + 1] & ~3u, hops++) {
		switch (c[p]) {
		case PCI_CAP_ID_PM:	/* power state, PME enable, PME status */
			allow(m, p + PCI_PM_CTRL, 2, 0x8103);
			break;
		case PCI_CAP_ID_EXP:	/* error reporting, relaxed ordering, ...; no FLR */
			allow(m, p + PCI_EXP_DEVCTL, 2, 0x0f1f);
			allow(m, p + PCI_EXP_DEVSTA, 2, 0x000f);
			allow(m, p + PCI_EXP_DEVCTL2, 2, 0x075f);
			break;
		case PCI_CAP_ID_VNDR:	/* the vendor's own layout: raw */
			for (uint32_t o = 2; o < c[p + 2]; o++)
				allow(m, p + o, 1, 0xff);
			break;
		}
	}
	for (uint32_t p = 0x100; p >= 0x100 && p + 4 <= PCI_CFG_SPACE_EXP_SIZE && n < 128;
	     p = (le(c, p, 4) >> 20) & ~3u)
		ext[n++] = (uint16_t)p;
	qsort(ext, n, sizeof(ext[0]), cmp_u16);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t p = ext[i], id = le(c, p, 2), end = i + 1 < n ? ext[i + 1] : 0x1000;

		if (id == PCI_EXT_CAP_ID_ERR) {
			for (uint32_t r = 4; r < PCI_ERR_CAP; r += 4)	/* status, mask, severity */
				allow(m, p + r, 4, ~0u);
			allow(m, p + PCI_ERR_CAP, 4, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
		} else if ((id == PCI_EXT_CAP_ID_VNDR || id == PCI_EXT_CAP_ID_DVSEC) &&
			   p + 8 <= 0x1000) {
			uint32_t len = le(c, p + 4, 4) >> 20;

			for (uint32_t o = p + 4; o < p + len && o < end; o++)
				allow(m, o, 1, 0xff);
		}
	}
}

/*
 * 4 KiB compared after most operations: without ASan's checks on each load
 * too (fixed-size static arrays, constant bounds), which cost more than the
 * comparison itself.
 */
FUZZ_CHECKER __attribute__((no_sanitize("address")))
static void check_device_config(void)
{
	/* Only a config write or a reset changes the fake's config space. */
	if (fv.cfg_writes == writes && fv.resets == resets)
		return;
	writes = fv.cfg_writes;
	resets = fv.resets;
	for (uint32_t o = 0; o < PCI_CFG_SPACE_EXP_SIZE; o += 8) {
		uint64_t a, b, ok;

		memcpy(&a, fv.cfg + o, 8);
		memcpy(&b, fv.cfg_orig + o, 8);
		memcpy(&ok, allowed[model] + o, 8);
		if (!((a ^ b) & ~ok))
			continue;
		for (uint32_t i = o; i < o + 8; i++) {
			uint8_t changed = fv.cfg[i] ^ fv.cfg_orig[i];

			FUZZ_CHECK(!(changed & ~allowed[model][i]),
				   "the device's config byte %#x went %#04x -> %#04x: bits %#04x "
				   "must never reach it", i, fv.cfg_orig[i], fv.cfg[i],
				   changed & ~allowed[model][i]);
		}
	}
}

/* ---- guest view ---- */

FUZZ_CHECKER
static uint32_t cfg_read(uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	vfio_pci_cfg_read(d, off, &v, len);
	return v;
}

static void tab_reset(void);

/*
 * A guest config write. One that sets Initiate FLR (DevCtl bit 15) where
 * the guest sees DevCap FLR must become exactly one VFIO reset, with the
 * MSI-X table back to masked entries; no other write may reset the device.
 */
static void cfg_write(uint32_t off, uint32_t len, uint32_t v)
{
	uint32_t at = d->cfg.exp_cap + PCI_EXP_DEVCTL + 1;
	unsigned int before = fv.resets;
	bool flr = d->cfg.exp_cap && off <= at && at < off + len && (v >> (8 * (at - off)) & 0x80) &&
		   (cfg_read(d->cfg.exp_cap + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);

	vfio_pci_cfg_write(d, off, &v, len);
	FUZZ_CHECK(fv.resets == before + flr, "config write %#x len %u value %#x: %u VFIO resets, "
		   "%s", off, len, v, fv.resets - before, flr ? "an FLR" : "no FLR");
	if (flr)
		tab_reset();
}

FUZZ_CHECKER
static bool in_d3(void)
{
	return d->cfg.pm_cap &&
	       (cfg_read(d->cfg.pm_cap + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK) == 3;
}

FUZZ_CHECKER
/* The header registers BAR decode depends on: command, the six BARs, the ROM BAR. */
static void guest_header(uint8_t *hdr)
{
	static const uint8_t regs[] = {
		PCI_COMMAND, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_2,
		PCI_BASE_ADDRESS_3, PCI_BASE_ADDRESS_4, PCI_BASE_ADDRESS_5, PCI_ROM_ADDRESS,
	};

	memset(hdr, 0, 0x40);
	for (unsigned int i = 0; i < sizeof(regs); i++) {
		uint32_t v = cfg_read(regs[i], 4);

		memcpy(hdr + regs[i], &v, 4);
	}
}

/* ---- the model MSI-X table ---- */

FUZZ_CHECKER
static void tab_reset(void)
{
	memset(tab, 0, sizeof(tab));
	for (unsigned int i = 0; i < 64; i++)
		tab[i][3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

FUZZ_CHECKER
static uint64_t tab_size(void)
{
	return 16ull * d->msix.nr;
}

/* Every BAR access the target makes comes through here, so the table model follows. */
FUZZ_CHECKER
static void bar_note(unsigned int bar, uint64_t off, const void *data, uint32_t len)
{
	const struct msix *x = &d->msix;

	if (!x->cap || bar != x->table_bar || off < x->table_off || off - x->table_off >= tab_size() ||
	    tab_size() - (off - x->table_off) < len)
		return;
	memcpy((uint8_t *)tab + (off - x->table_off), data, len);
}

/* After a read of BAR bar at off: the table and PBA bytes must be the model's. */
FUZZ_CHECKER
static void bar_check_read(unsigned int bar, uint64_t off, const uint8_t *data, uint32_t len)
{
	const struct msix *x = &d->msix;

	if (!x->cap)
		return;
	if (bar == x->table_bar && off >= x->table_off && off - x->table_off < tab_size() &&
	    tab_size() - (off - x->table_off) >= len) {
		FUZZ_CHECK(!memcmp(data, (uint8_t *)tab + (off - x->table_off), len),
			   "MSI-X table read at +%#llx len %u differs from what the guest wrote",
			   (unsigned long long)(off - x->table_off), len);
		return;
	}
	if (bar != x->pba_bar || off < x->pba_off || off - x->pba_off >= msix_pba_size(x) ||
	    msix_pba_size(x) - (off - x->pba_off) < len)
		return;
	for (uint32_t b = 0; b < 8 * len; b++) {
		uint64_t v = (off - x->pba_off) * 8 + b;
		bool bit = data[b / 8] & (1u << (b % 8)), want = false;

		if (v < x->nr && x->enabled && !x->vec[v].attached && x->vec[v].fd >= 0) {
			struct pollfd p = { .fd = x->vec[v].fd, .events = POLLIN };

			want = poll(&p, 1, 0) == 1;
		}
		FUZZ_CHECK(bit == want, "PBA bit %llu reads %d; vector %s", (unsigned long long)v,
			   bit, want ? "signalled while masked" : "not pending");
	}
}

static void bar_access(unsigned int bar, uint64_t off, void *data, uint32_t len, bool write)
{
	if (verbose)
		fprintf(fuzz_stderr, "  BAR%u %s +%#llx len %u\n", bar, write ? "write" : "read",
			(unsigned long long)off, len);
	if (write) {
		vfio_pci_bar_write(d, bar, off, data, len);
		if (bar < 6 && off < d->pci.bars[bar].size && d->pci.bars[bar].size - off >= len)
			bar_note(bar, off, data, len);
	} else {
		vfio_pci_bar_read(d, bar, off, data, len);
		bar_check_read(bar, off, data, len);
	}
}

/* A guest access through the host's map: a trapped piece goes through bar_access. */
static void guest_access(const struct fh_map *m, uint64_t off, void *data, uint32_t len,
			 bool write)
{
	if (m->slot) {
		fh_access(&host, m->io, m->gpa + off, data, len, write);
		return;
	}
	bar_access(m->p->bar, m->p->offset + off, data, len, write);
}

/* ---- interrupt checks ---- */

FUZZ_CHECKER
static void check_irqs(bool d3)
{
	const struct msix *x = &d->msix;
	unsigned int msix_on = 0, msi_on = 0;
	uint16_t ctrl = x->cap ? cfg_read(x->cap + PCI_MSIX_FLAGS, 2) : 0;

	for (unsigned int i = 0; x->cap && x->vec && i < x->nr; i++) {
		const struct pci_vector *v = &x->vec[i];
		uint64_t addr = tab[i][0] | (uint64_t)tab[i][1] << 32;
		bool active = x->enabled && !(ctrl & PCI_MSIX_FLAGS_MASKALL) && !(tab[i][3] & 1) &&
			      (addr >> 20) == 0xfee;

		if (v->attached) {
			const struct fh_route *r = fh_route(&host, v->gsi);

			msix_on++;
			FUZZ_CHECK(active, "MSI-X vector %u attached but masked or invalid", i);
			FUZZ_CHECK(r && r->irqfd == v->fd, "MSI-X vector %u: no route with its irqfd",
				   i);
			FUZZ_CHECK(r->addr == addr && r->data == tab[i][2],
				   "MSI-X vector %u: route %#llx/%#x, entry %#llx/%#x", i,
				   (unsigned long long)r->addr, r->data, (unsigned long long)addr,
				   tab[i][2]);
		} else {
			FUZZ_CHECK(!active || host.failed, "MSI-X vector %u active but not attached",
				   i);
		}
	}
	if (x->cap) {
		FUZZ_CHECK(!(ctrl & PCI_MSIX_FLAGS_ENABLE) || d3 || host.failed || x->enabled,
			   "MSI-X enabled by the guest in D0, but VFIO has no vectors");
		FUZZ_CHECK((ctrl & PCI_MSIX_FLAGS_ENABLE) || !x->enabled,
			   "MSI-X vectors kept with the guest's enable bit clear");
	}
	if (d->msi.cap) {
		uint32_t cap = d->msi.cap, mask = 0, data;
		uint16_t mc = cfg_read(cap + PCI_MSI_FLAGS, 2);
		bool is64 = mc & PCI_MSI_FLAGS_64BIT;
		uint64_t addr = cfg_read(cap + PCI_MSI_ADDRESS_LO, 4);
		unsigned int nr = 1u << ((mc & PCI_MSI_FLAGS_QSIZE) >> 4);

		if (is64)
			addr |= (uint64_t)cfg_read(cap + PCI_MSI_ADDRESS_HI, 4) << 32;
		data = cfg_read(cap + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2);
		if (mc & PCI_MSI_FLAGS_MASKBIT)
			mask = cfg_read(cap + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 4);
		for (unsigned int i = 0; i < VFIO_MSI_MAX_VECTORS; i++) {
			const struct pci_vector *v = &d->msi.vec[i];
			const struct fh_route *r;

			if (!v->attached)
				continue;
			msi_on++;
			r = fh_route(&host, v->gsi);
			FUZZ_CHECK(mc & PCI_MSI_FLAGS_ENABLE, "MSI vector %u attached, MSI off", i);
			FUZZ_CHECK(i < nr && !(mask & (1u << i)), "MSI vector %u attached but masked "
				   "or past the %u enabled", i, nr);
			FUZZ_CHECK(r && r->irqfd == v->fd, "MSI vector %u: no route with its irqfd", i);
			FUZZ_CHECK(r->addr == addr && r->data == ((data & ~(nr - 1)) | i),
				   "MSI vector %u: route %#llx/%#x, capability %#llx/%#x", i,
				   (unsigned long long)r->addr, r->data, (unsigned long long)addr,
				   data);
		}
	}
	FUZZ_CHECK(!(msix_on && msi_on), "MSI and MSI-X vectors attached at once");
	if (host.intx_fd >= 0) {
		FUZZ_CHECK(d->mode == VFIO_IRQ_INTX && !msix_on && !msi_on && !x->enabled,
			   "INTx attached in mode %d", d->mode);
		FUZZ_CHECK(host.intx_fd == d->intx.fd, "INTx irqfd is not the device's eventfd");
	}
}

/* ---- the P2P DMA hook ---- */

FUZZ_CHECKER
static const struct fh_map *slot_at(uint64_t gpa, void *hva, uint64_t size)
{
	for (unsigned int i = 0; i < host.nr_maps; i++) {
		const struct fh_map *m = &host.maps[i];

		if (m->slot && m->gpa == gpa && m->p->hva == hva && m->size == size)
			return m;
	}
	return NULL;
}

static int dma_hook(void *opaque, bool map, uint64_t gpa, void *hva, uint64_t size)
{
	(void)opaque;
	for (unsigned int i = 0; i < 64; i++) {
		if (!dma[i].used || dma[i].gpa != gpa)
			continue;
		FUZZ_CHECK(!map, "P2P: IOVA %#llx mapped twice", (unsigned long long)gpa);
		FUZZ_CHECK(dma[i].hva == hva && dma[i].size == size,
			   "P2P: IOVA %#llx unmapped with another piece", (unsigned long long)gpa);
		dma[i].used = false;
		return 0;
	}
	if (!map)
		return -ENOENT;	/* as iommu_unmap_extra: a map that had failed */
	FUZZ_CHECK(slot_at(gpa, hva, size), "P2P: IOVA %#llx mapped, no memslot there",
		   (unsigned long long)gpa);
	for (unsigned int i = 0; i < 64; i++)
		if (!dma[i].used) {
			dma[i].used = true;
			dma[i].gpa = gpa;
			dma[i].hva = hva;
			dma[i].size = size;
			return 0;
		}
	return -ENOSPC;
}

FUZZ_CHECKER
static void check_dma(void)
{
	for (unsigned int i = 0; i < 64; i++)
		FUZZ_CHECK(!dma[i].used || slot_at(dma[i].gpa, dma[i].hva, dma[i].size),
			   "P2P: IOVA %#llx still mapped, its memslot gone",
			   (unsigned long long)dma[i].gpa);
}

FUZZ_CHECKER
static void check_all(void)
{
	uint8_t hdr[0x40];
	bool d3 = in_d3();

	guest_header(hdr);
	fh_check_bars(&host, &d->pci, hdr, d3);
	check_irqs(d3);
	check_dma();
	check_device_config();
}

/* ---- operations ---- */

static uint32_t pick_len(struct fuzz_in *in, uint32_t *off)
{
	static const uint32_t lens[] = { 1, 2, 4 };
	uint32_t len = lens[fuzz_u8(in) % 3];

	*off &= ~(len - 1);
	return len;
}

/* The registers worth hitting on purpose: offsets into config space. */
static uint32_t reg_pick(uint8_t sel)
{
	uint32_t regs[] = {
		PCI_COMMAND, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_2,
		PCI_BASE_ADDRESS_3, PCI_BASE_ADDRESS_4, PCI_BASE_ADDRESS_5, PCI_ROM_ADDRESS,
		PCI_LATENCY_TIMER, PCI_BIST, PCI_INTERRUPT_LINE,
		d->cfg.pm_cap + PCI_PM_CTRL,
		d->msi.cap + PCI_MSI_FLAGS, d->msi.cap + PCI_MSI_ADDRESS_LO,
		d->msi.cap + PCI_MSI_ADDRESS_HI, d->msi.cap + PCI_MSI_DATA_64,
		d->msi.cap + PCI_MSI_MASK_64,
		d->msix.cap + PCI_MSIX_FLAGS, d->msix.cap + PCI_MSIX_TABLE,
		d->cfg.exp_cap + PCI_EXP_DEVCTL, d->cfg.exp_cap + PCI_EXP_LNKCTL,
		d->cfg.exp_cap + PCI_EXP_DEVCTL2, 0x2a4 + 8, 0x1b8 + 4,
	};

	return regs[sel % (sizeof(regs) / sizeof(regs[0]))];
}

static uint64_t addr_pick(struct fuzz_in *in, unsigned int bar)
{
	const struct pci_bar *b = &d->pci.bars[bar < PCI_NR_BARS ? bar : 0];
	uint64_t other = d->pci.bars[fuzz_u8(in) % PCI_NR_BARS].mapped_addr;

	switch (fuzz_u8(in) % 12) {
	case 0: return 0;
	case 1: return 0x100000;			/* low RAM */
	case 2: return 2 * GIB - b->size;		/* the top of low RAM */
	case 3: return 0xc0000000;
	case 4: return 0xfee00000;			/* the LAPIC */
	case 5: return ~0ull;				/* sizing */
	case 6: return 4 * GIB;				/* high RAM */
	case 7: return 1ull << 40;
	case 8: return 4 * GIB - b->size;
	case 9: return other;
	case 10: return other + b->size / 2;
	default: return fuzz_u64(in);
	}
}

static void op_place(struct fuzz_in *in)
{
	unsigned int bar = fuzz_u8(in) % PCI_NR_BARS;
	uint64_t a = addr_pick(in, bar);
	uint32_t reg = bar == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar;

	cfg_write(reg, 4, (uint32_t)a | (bar == PCI_ROM_BAR));
	if (d->pci.bars[bar].type == PCI_BAR_MEM64)
		cfg_write(reg + 4, 4, (uint32_t)(a >> 32));
	cfg_write(PCI_COMMAND, 2, cfg_read(PCI_COMMAND, 2) | PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
}

/*
 * The PBA's page is still mapped although the host refused (on purpose) a
 * call: vfio_pba_update() could not trap it when a vector was masked, so a
 * read through the map reaches the device's own PBA, not the emulated one.
 * vfio-vmm says so (rate-limited) and tries again at the next mask change;
 * the pending bits are then not what this check can hold it to.
 */
static bool pba_left_mapped(void)
{
	return host.failed && d->pba_piece >= 0 &&
	       d->pci.bars[d->msix.pba_bar].pieces[d->pba_piece].direct;
}

static void op_msix_bar(struct fuzz_in *in)
{
	const struct msix *x = &d->msix;
	static const uint32_t lens[] = { 1, 2, 4, 8 };
	uint8_t sel = fuzz_u8(in);
	uint32_t len = lens[sel & 3];
	bool write = sel & 4, pba = sel & 8, via_map = sel & 16;
	uint64_t off = fuzz_u16(in), data = fuzz_u64(in);
	const struct pci_bar *b;

	if (!x->cap)
		return;
	off = (pba ? x->pba_off + off % 16 : x->table_off + off % (tab_size() + 16)) & ~(uint64_t)(len - 1);
	b = &d->pci.bars[pba ? x->pba_bar : x->table_bar];
	if (via_map && b->mapped) {
		uint8_t buf[8];
		uint64_t gpa = b->mapped_addr + off;
		const struct fh_map *m;

		memcpy(buf, &data, 8);
		m = fh_access(&host, false, gpa, buf, len, write);
		/*
		 * Trapped: it went through vfio_pci_bar_* at the piece's offset;
		 * follow the model too. A memslot took it when the guest placed
		 * a mapped BAR over this one: the table never saw the access.
		 */
		if (!m || m->slot || m->p->dev != &d->pci)
			return;
		off = m->p->offset + (gpa - m->gpa);
		if (write)
			bar_note(m->p->bar, off, buf, len);
		else if (!pba || !pba_left_mapped())
			bar_check_read(m->p->bar, off, buf, len);
		return;
	}
	bar_access(pba ? x->pba_bar : x->table_bar, off, &data, len, write);
}

static void op_signal(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	struct pci_vector *v = NULL;
	uint64_t one = 1;

	if (sel & 0x80) {
		if (d->msi.nr)
			v = &d->msi.vec[sel % d->msi.nr];
	} else if (d->msix.vec && d->msix.nr) {
		v = &d->msix.vec[sel % d->msix.nr];
	}
	if (!v || v->fd < 0)
		return;
	FUZZ_CHECK(write(v->fd, &one, 8) == 8, "eventfd write");
	/* An attached irqfd: KVM takes the signal at once. */
	if (v->attached)
		FUZZ_CHECK(read(v->fd, &one, 8) == 8, "eventfd read");
}

static void close_device(void)
{
	vfio_passthrough_close(pt);
	pt = NULL;
	d = NULL;
}

static bool open_device(uint8_t setup)
{
	/* vfio-pci puts a function in D0 when it is opened (vfio_pci_core_enable). */
	for (uint8_t p = fv.cfg[PCI_CAPABILITY_LIST], hops = 0; p && hops < 48;
	     p = fv.cfg[p + 1], hops++)
		if (fv.cfg[p] == PCI_CAP_ID_PM)
			fv.cfg[p + PCI_PM_CTRL] &= ~PCI_PM_CTRL_STATE_MASK;
	if (vfio_passthrough_open_ops(&ops, &fv, models[model], &host.pci, &pt))
		return false;
	d = vfio_passthrough_dev(pt);
	vfio_pci_intx_setup(d);
	if (setup & 0x20)
		vfio_pci_add_gpudirect_clique(d, setup >> 1 & 15);
	tab_reset();
	return true;
}

static void run_ops(struct fuzz_in *in, uint8_t setup)
{
	for (unsigned int n = 0; n < MAX_OPS && fuzz_more(in); n++) {
		uint8_t op = fuzz_u8(in) % 13;
		uint32_t off, len, v;
		uint64_t buf;

		if (verbose)
			fprintf(fuzz_stderr, "op %u: %u\n", n, op);

		switch (op) {
		case 0:
		case 1:
			off = fuzz_u16(in) % (PCI_CFG_SPACE_EXP_SIZE + 8);
			len = pick_len(in, &off);
			if (op == 0)
				cfg_read(off, len);
			else
				cfg_write(off, len, fuzz_u32(in));
			break;
		case 2:
			off = reg_pick(fuzz_u8(in));
			v = fuzz_u32(in);
			len = pick_len(in, &off);
			cfg_write(off, len, v);
			break;
		case 3: {
			const struct fh_map *m = fh_map_nth(&host, fuzz_u8(in));
			uint8_t sel = fuzz_u8(in);
			uint64_t o = fuzz_u32(in);

			buf = fuzz_u64(in);
			len = 1 + (sel & 7);
			if (m)
				guest_access(m, o % m->size, &buf, len, sel & 8);
			break;
		}
		case 4:
			op_msix_bar(in);
			break;
		case 5: {
			uint8_t sel = fuzz_u8(in);
			uint64_t o = sel & 0x80 ? fuzz_u64(in) : fuzz_u32(in);

			buf = fuzz_u64(in);
			bar_access(sel % 8, o, &buf, 1 + (sel >> 3 & 7), sel & 0x40);
			break;
		}
		case 6:
			op_place(in);
			break;
		case 7:
			if (d->cfg.pm_cap)
				cfg_write(d->cfg.pm_cap + PCI_PM_CTRL, 2,
					  (cfg_read(d->cfg.pm_cap + PCI_PM_CTRL, 2) & ~3u) |
					  (fuzz_u8(in) & 3));
			break;
		case 8:
			if (d->cfg.exp_cap) {
				cfg_write(d->cfg.exp_cap + PCI_EXP_DEVCTL, 2,
					  cfg_read(d->cfg.exp_cap + PCI_EXP_DEVCTL, 2) |
					  PCI_EXP_DEVCTL_BCR_FLR);
			}
			break;
		case 9:
			host.fail[fuzz_u8(in) % FH_NR_FAIL] = true;
			host.failed = true;
			break;
		case 10:
			op_signal(in);
			break;
		case 11:
			if (!d->dma_hook)	/* once, as assign.c does with --p2p */
				vfio_pci_set_dma_hook(d, dma_hook, NULL);
			break;
		case 12:
			close_device();
			check_dma();
			fh_check_empty(&host, "close in the middle");
			if (!open_device(setup))
				return;
			break;
		}
		check_all();
	}
}

static void setup_areas(struct fuzz_in *in)
{
	fv.nr_areas = fuzz_u8(in) % (VFIO_MAX_MMAP_AREAS + 2);
	for (unsigned int k = 0; k < fv.nr_areas; k++) {
		fv.areas[k].offset = (uint64_t)(fuzz_u16(in) & 0x1fff) << 12;
		fv.areas[k].size = (uint64_t)(fuzz_u16(in) & 0x1fff) << 12;
	}
}

/*
 * A 16 MB quarantine instead of ASan's 256: an input allocates far less, so
 * a use after free inside one input is still caught, and the allocator
 * reuses warm pages (1.5x the executions here).
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	verbose = getenv("FUZZ_VERBOSE");
	ops = fake_vfio_ops;
	ops.region_mmap = arena_mmap;
	ops.region_munmap = arena_munmap;
	arena = mmap(NULL, ARENA_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		     -1, 0);
	if (arena == MAP_FAILED) {
		fprintf(fuzz_stderr, "fuzz_passthrough: cannot reserve the BAR arena\n");
		exit(1);
	}
	for (unsigned int m = 0; m < 2; m++) {
		/* BAR0's backing (trapped accesses) stays for the whole run. */
		if (fake_vfio_load(&tmpl[m], FUZZ_FIXTURES, models[m], false)) {
			fprintf(fuzz_stderr, "fuzz_passthrough: fixtures not found in %s\n",
				FUZZ_FIXTURES);
			exit(1);
		}
		allowed_init(m);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t setup = fuzz_u8(&in);
	struct guest_mem ram = { .nr = 2, .r = { { 0, 2 * GIB, NULL }, { 4 * GIB, 2 * GIB, NULL } } };
	int fds = fh_fd_count();

	model = setup & 1;
	fv = tmpl[model];
	fv.msix_mappable = setup & 2;
	fv.no_reset = setup & 4;
	fv.reset_ret = setup & 0x40 ? -EIO : 0;
	if (setup & 8)
		setup_areas(&in);
	arena_used = 0;
	writes = resets = ~0u;
	log_enabled = setup & 0x10 ? LOG_PCI | LOG_IRQ | LOG_VFIO : 0;
	fh_init(&host, &ram);
	memset(dma, 0, sizeof(dma));

	if (open_device(setup)) {
		check_all();
		run_ops(&in, setup);
		if (pt)
			close_device();
	} else {
		/* Refused (a layout past VFIO_MAX_MMAP_AREAS): nothing may be left behind. */
		FUZZ_CHECK(setup & 8, "the %s fixture did not open", models[model]);
	}
	check_dma();
	fh_check_empty(&host, "after close");
	FUZZ_CHECK(fh_fd_count() == fds, "%d file descriptors before, %d after", fds,
		   fh_fd_count());
	log_enabled = 0;
	return 0;
}
