// SPDX-License-Identifier: MIT
/*
 * The BAR model against the H100: region info parsing, the mapped/trapped
 * split of BAR0 around the MSI-X table and PBA (both kernel styles),
 * placement in the layout's windows for several phys_bits, and remapping
 * when the guest reprograms a BAR or turns decode off.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "test_vfio_fake.h"
#include "vmm/layout.h"
#include "vmm/pci_host_vm.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static struct vfio_pci_dev dev;
static struct fake_vfio fake;
static struct fake_host host;

static void teardown(void)
{
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
}

struct want_piece {
	uint64_t a, b;
	bool direct;
};

static const struct want_piece h100_bar0[] = {
	{ 0, 0xb90000, true },
	{ 0xb90000, 0xb91000, false },	/* MSI-X table page */
	{ 0xb91000, 0xba0000, true },
	{ 0xba0000, 0xba1000, true },	/* PBA page: its own piece, mapped until MSI-X needs it */
	{ 0xba1000, 16 * MiB, true },
};

static void check_bar0_split(void)
{
	const struct pci_bar *b = &dev.pci.bars[0];

	cr_assert_eq(b->nr_pieces, 5, "BAR0 in %u pieces", b->nr_pieces);
	for (unsigned int i = 0; i < 5; i++) {
		cr_assert_eq(b->pieces[i].offset, h100_bar0[i].a, "piece %u", i);
		cr_assert_eq(b->pieces[i].offset + b->pieces[i].size, h100_bar0[i].b, "piece %u",
			     i);
		cr_assert_eq(b->pieces[i].direct, h100_bar0[i].direct, "piece %u", i);
	}
	cr_assert_eq(dev.pba_piece, 3, "the PBA's piece is %d", dev.pba_piece);
}

Test(vfio_bar, region_info_caps_parsed, .fini = teardown)
{
	fake_pci_init(&dev, &fake, &host, false);
	cr_assert(dev.regions[0].sparse);
	cr_assert_eq(dev.regions[0].nr_areas, 2);
	cr_assert_eq(dev.regions[0].areas[1].offset, 0xb91000);
	cr_assert_not(dev.regions[0].msix_mappable);
	cr_assert_not(dev.regions[2].sparse);
	cr_assert_eq(dev.regions[2].size, 128 * GiB);
	cr_assert_eq(dev.regions[4].size, 32 * MiB);
	cr_assert_eq(dev.regions[VFIO_PCI_CFG_INDEX].size, 4096);
}

Test(vfio_bar, region_parse_rejects_bad_chain)
{
	union {
		struct vfio_region_info info;
		uint8_t raw[128];
	} buf;
	struct vfio_info_cap_header *c = (void *)(buf.raw + sizeof(buf.info));
	struct vfio_region r;

	memset(&buf, 0, sizeof(buf));
	buf.info.flags = VFIO_REGION_INFO_FLAG_CAPS;
	buf.info.cap_offset = sizeof(buf.info);
	c->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
	c->next = sizeof(buf.info);	/* points at itself */
	cr_assert_eq(vfio_region_parse(&buf.info, sizeof(buf), &r), -EINVAL);
	c->next = 4000;			/* past the buffer */
	cr_assert_eq(vfio_region_parse(&buf.info, sizeof(buf), &r), -EINVAL);
	c->next = 0;
	cr_assert_eq(vfio_region_parse(&buf.info, sizeof(buf), &r), 0);
	cr_assert(r.msix_mappable);
}

Test(vfio_bar, h100_bar0_split_sparse_mmap, .fini = teardown)
{
	/* The kernel's sparse areas leave out only the table: the PBA's page is its own piece. */
	fake_pci_init(&dev, &fake, &host, false);
	check_bar0_split();
}

Test(vfio_bar, h100_bar0_split_msix_mappable, .fini = teardown)
{
	fake_pci_init(&dev, &fake, &host, true);
	cr_assert(dev.regions[0].msix_mappable);
	check_bar0_split();
	cr_assert_eq(dev.pci.bars[2].nr_pieces, 1);
	cr_assert(dev.pci.bars[2].pieces[0].direct);
	cr_assert_eq(dev.pci.bars[2].pieces[0].size, 128 * GiB);
	cr_assert_eq(dev.pci.bars[4].nr_pieces, 1);
	/* The ROM is trapped whole, read-only. */
	cr_assert_eq(dev.pci.bars[VFIO_PCI_ROM_INDEX].nr_pieces, 1);
	cr_assert_not(dev.pci.bars[VFIO_PCI_ROM_INDEX].pieces[0].direct);
}

Test(vfio_bar, mmap_bars_maps_direct_pieces_only, .fini = teardown)
{
	fake_pci_init(&dev, &fake, &host, true);
	cr_assert_eq(vfio_pci_mmap_bars(&dev), 0);
	cr_assert_eq(fake.mmaps, 6);	/* 4 pieces of BAR0 (the PBA's page alone), BAR2, BAR4 */
	for (unsigned int i = 0; i < dev.pci.bars[0].nr_pieces; i++)
		cr_assert_eq(dev.pci.bars[0].pieces[i].hva != NULL, dev.pci.bars[0].pieces[i].direct);
	vfio_pci_munmap_bars(&dev);
	cr_assert_null(dev.pci.bars[2].pieces[0].hva);
}

static int place(unsigned int phys_bits, struct layout *l)
{
	struct pci_dev *devs[] = { &dev.pci };
	struct pci_window w32, w64;

	cr_assert_eq(layout_init(l, 2 * GiB, phys_bits), 0);
	pci_window_init(&w32, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
	pci_window_init(&w64, l->mmio64_base, l->mmio64_end);
	return pci_place_bars(devs, 1, &w32, &w64, NULL);
}

static void check_placement(const struct layout *l)
{
	static const unsigned int bars[] = { 0, 2, 4 };

	for (unsigned int i = 0; i < 3; i++) {
		const struct pci_bar *b = &dev.pci.bars[bars[i]];
		uint64_t a = vfio_bar_guest_addr(&dev, bars[i]);

		cr_assert_geq(a, l->mmio64_base, "BAR%u at %#llx", bars[i], (unsigned long long)a);
		cr_assert_leq(a + b->size, l->mmio64_end);
		cr_assert_eq(a & (b->size - 1), 0, "BAR%u not naturally aligned", bars[i]);
		for (unsigned int j = 0; j < i; j++) {
			uint64_t o = vfio_bar_guest_addr(&dev, bars[j]);

			cr_assert(a + b->size <= o || o + dev.pci.bars[bars[j]].size <= a,
				  "BAR%u overlaps BAR%u", bars[i], bars[j]);
		}
	}
	/* The ROM is a 32-bit BAR: it goes below 4 GiB. */
	cr_assert_geq(vfio_bar_guest_addr(&dev, VFIO_PCI_ROM_INDEX), LAYOUT_MMIO32_BASE);
	cr_assert_lt(vfio_bar_guest_addr(&dev, VFIO_PCI_ROM_INDEX),
		     LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
}

Test(vfio_bar, placement_phys_bits_40, .fini = teardown)
{
	struct layout l;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(40, &l), 0);
	check_placement(&l);
	/* Largest first: the 128 GiB aperture takes the first 128 GiB boundary. */
	cr_assert_eq(vfio_bar_guest_addr(&dev, 2), 128 * GiB);
	/* And the guest reads the address back from the BAR registers. */
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_3, 4), (128 * GiB) >> 32);
}

Test(vfio_bar, placement_phys_bits_46, .fini = teardown)
{
	struct layout l;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(46, &l), 0);
	check_placement(&l);
}

Test(vfio_bar, placement_phys_bits_36_fails_clearly, .fini = teardown)
{
	struct layout l;
	char msg[1024] = "";
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;
	size_t n;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_not_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = place(36, &l);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	cr_assert_eq(ret, -ENOSPC);
	rewind(tmp);
	n = fread(msg, 1, sizeof(msg) - 1, tmp);
	msg[n] = 0;
	fclose(tmp);
	cr_assert(strstr(msg, "BAR2"), "message: %s", msg);
	cr_assert(strstr(msg, "131072 MiB"), "message: %s", msg);
	cr_assert(strstr(msg, "phys_bits"), "message: %s", msg);
}

static void enable_mem(void)
{
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
}

static void disable_mem(void)
{
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY);
}

Test(vfio_bar, decode_maps_every_piece_at_the_bar_address, .fini = teardown)
{
	struct layout l;
	uint64_t a0;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(40, &l), 0);
	cr_assert_eq(host.nr, 0, "nothing is mapped before decode is on");
	enable_mem();
	/* BAR0: 5 pieces, BAR2 and BAR4: 1 each; the ROM stays off (ROM enable clear). */
	cr_assert_eq(host.mapped, 7);
	a0 = vfio_bar_guest_addr(&dev, 0);
	for (unsigned int i = 0; i < host.nr; i++) {
		const struct fake_event *e = &host.ev[i];

		cr_assert_eq(e->ev, EV_MAP);
		if (e->bar == 0)
			cr_assert_eq(e->gpa, a0 + e->offset);
	}
	disable_mem();
	cr_assert_eq(host.mapped, 0);
	cr_assert_eq(fake_count(&host, EV_UNMAP, 0), 7);
}

Test(vfio_bar, reprogramming_moves_the_bar, .fini = teardown)
{
	struct layout l;
	unsigned int from;
	const struct fake_event *e;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(40, &l), 0);
	enable_mem();
	from = host.nr;
	/* Move BAR4 (32 MiB) to 0x3000000000 with decode on, low half then high. */
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, 0x30);
	cfg_wr(&dev, PCI_BASE_ADDRESS_4, 4, 0);
	e = fake_last(&host, EV_MAP);
	cr_assert_eq(e->bar, 4);
	cr_assert_eq(e->gpa, 0x3000000000ull);
	cr_assert_geq(fake_count(&host, EV_UNMAP, from), 1);
	cr_assert_eq(host.mapped, 7);
	/* Sizing with decode on unmaps and never maps the all-ones pattern. */
	from = host.nr;
	cfg_wr(&dev, PCI_BASE_ADDRESS_4, 4, ~0u);
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, ~0u);
	for (unsigned int i = from; i < host.nr; i++)
		if (host.ev[i].ev == EV_MAP)
			cr_assert_neq(host.ev[i].gpa, ~(32 * MiB - 1), "mapped the sizing pattern");
	cr_assert_eq(host.mapped, 6);
}

Test(vfio_bar, rom_readable_through_its_region, .fini = teardown)
{
	struct layout l;
	uint16_t sig = 0;
	const struct fake_event *e;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(40, &l), 0);
	enable_mem();
	cfg_wr(&dev, PCI_ROM_ADDRESS, 4, cfg_rd(&dev, PCI_ROM_ADDRESS, 4) | PCI_ROM_ADDRESS_ENABLE);
	e = fake_last(&host, EV_MAP);
	cr_assert_eq(e->bar, VFIO_PCI_ROM_INDEX);
	cr_assert_not(e->direct);
	vfio_pci_bar_read(&dev, VFIO_PCI_ROM_INDEX, 0, &sig, 2);
	cr_assert_eq(sig, 0xaa55);
	/* Writes to the ROM go nowhere. */
	vfio_pci_bar_write(&dev, VFIO_PCI_ROM_INDEX, 0, &(uint16_t){ 0 }, 2);
	cr_assert_eq(fake.rom[0], 0x55);
}

/* A trapped access as the host's bus handler makes it: through the piece that holds off. */
static struct pci_bar_piece *piece_at(unsigned int bar, uint64_t off)
{
	struct pci_bar *b = &dev.pci.bars[bar];

	for (unsigned int k = 0; k < b->nr_pieces; k++)
		if (off >= b->pieces[k].offset && off - b->pieces[k].offset < b->pieces[k].size)
			return &b->pieces[k];
	cr_assert_fail("no piece of BAR%u holds %#llx", bar, (unsigned long long)off);
	return NULL;
}

static void trap_rd(unsigned int bar, uint64_t off, void *data, uint32_t len)
{
	struct pci_bar_piece *p = piece_at(bar, off);

	pci_bar_trap_read(p, off - p->offset, data, len);
}

static void trap_wr(unsigned int bar, uint64_t off, const void *data, uint32_t len)
{
	struct pci_bar_piece *p = piece_at(bar, off);

	pci_bar_trap_write(p, off - p->offset, data, len);
}

Test(vfio_bar, trapped_accesses_reach_region_but_not_msix_table, .fini = teardown)
{
	uint32_t v = 0xdeadbeef, r = 0;

	fake_pci_init(&dev, &fake, &host, false);
	/* A register in the table's page but outside the table goes to the device. */
	trap_wr(0, 0xb90800, &v, 4);
	cr_assert_eq(memcmp(fake.bar0 + 0xb90800, &v, 4), 0);
	trap_rd(0, 0xb90800, &r, 4);
	cr_assert_eq(r, v);
	/* The table itself is ours. */
	trap_wr(0, 0xb90000, &v, 4);
	cr_assert_eq(*(uint32_t *)(fake.bar0 + 0xb90000), 0);
	r = 0;
	trap_rd(0, 0xb90000, &r, 4);
	cr_assert_eq(r, v);
	/* Accesses past the BAR's end fail safe. */
	r = 0;
	trap_rd(0, 16 * MiB - 2, &r, 4);
	cr_assert_eq(r, 0xffffffff);
	cr_assert_eq(dev.trap_reads, 3);
	/* --stats shows them per BAR too. */
	cr_assert_eq(dev.pci.bars[0].trap_reads, 3);
	cr_assert_eq(dev.pci.bars[0].trap_writes, 2);
	cr_assert_eq(dev.pci.bars[2].trap_reads + dev.pci.bars[2].trap_writes, 0);
}

/* A synthetic variant: BAR4 an I/O BAR, BAR5 a 32-bit memory BAR. */
Test(vfio_bar, io_and_mem32_bars, .fini = teardown)
{
	struct pci_dev *devs[] = { &dev.pci };
	struct pci_window w32, w64, io;
	const struct fake_event *e;
	uint32_t v = 0;

	fake_vfio_init(&fake, false);
	fake_host_init(&host);
	memset(fake.cfg + PCI_BASE_ADDRESS_4, 0, 8);
	fake.cfg[PCI_BASE_ADDRESS_4] = PCI_BASE_ADDRESS_SPACE_IO;
	fake.sizes[4] = 32;
	fake.sizes[5] = 64 << 10;
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "synth", &host.pci), 0);
	cr_assert_eq(dev.pci.bars[4].type, PCI_BAR_IO);
	cr_assert_eq(dev.pci.bars[5].type, PCI_BAR_MEM32);
	cfg_wr(&dev, PCI_BASE_ADDRESS_4, 4, ~0u);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_4, 4), 0xffffffe1);
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, ~0u);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_5, 4), 0xffff0000);

	pci_window_init(&w32, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
	pci_window_init(&w64, 1ull << 36, 1ull << 40);
	pci_window_init(&io, 0xc000, 0x10000);
	cr_assert_eq(pci_place_bars(devs, 1, &w32, &w64, &io), 0);
	cr_assert_eq(vfio_bar_guest_addr(&dev, 4), 0xc000);
	cr_assert_geq(vfio_bar_guest_addr(&dev, 5), LAYOUT_MMIO32_BASE);
	cr_assert_lt(vfio_bar_guest_addr(&dev, 5), 1ull << 32);

	/* I/O decode alone maps only the I/O BAR, trapped. */
	cfg_wr(&dev, PCI_COMMAND, 2, PCI_COMMAND_IO);
	cr_assert_eq(host.mapped, 1);
	e = fake_last(&host, EV_MAP);
	cr_assert_eq(e->bar, 4);
	cr_assert_eq(e->gpa, 0xc000);
	cr_assert_not(e->direct);
	/* Accesses are forwarded with the guest's size. */
	vfio_pci_bar_read(&dev, 4, 4, &v, 2);
	cr_assert_eq(v, 0x5a5a);
	cfg_wr(&dev, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	e = fake_last(&host, EV_MAP);
	cr_assert_eq(e->bar, 5);
	cr_assert(e->direct);
}

/*
 * Finding 4 of the hostile-guest run: the host's region layout decides how
 * many pieces a BAR has. Eight sparse areas, one split by the MSI-X table
 * page and another by the PBA page (a piece of its own), with trapped gaps
 * before, between and after them, make 21 pieces; the old bound (20) let the
 * last one overwrite the BAR's mapped/mapped_addr.
 */
static void eight_areas(struct fake_vfio *f)
{
	static const uint64_t a[8][2] = {
		{ 0x001000, 0x100000 }, { 0x200000, 0x300000 }, { 0x400000, 0x500000 },
		{ 0x600000, 0x700000 }, { 0x800000, 0x900000 },
		{ 0xb80000, 0xb98000 },	/* holds the MSI-X table page 0xb90000 */
		{ 0xb9c000, 0xbb0000 },	/* holds the PBA page 0xba0000 */
		{ 0xc00000, 0xd00000 },
	};

	f->nr_areas = 8;
	for (unsigned int k = 0; k < 8; k++) {
		f->areas[k].offset = a[k][0];
		f->areas[k].size = a[k][1] - a[k][0];
	}
}

Test(vfio_bar, eight_sparse_areas_split_twice_fit, .fini = teardown)
{
	const struct pci_bar *b = &dev.pci.bars[0];
	struct layout l;
	uint64_t pos = 0, direct = 0;

	fake_vfio_init(&fake, false);
	fake_host_init(&host);
	eight_areas(&fake);
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cr_assert_eq(b->nr_pieces, 21, "BAR0 in %u pieces", b->nr_pieces);
	cr_assert_eq(b->nr_pieces, VFIO_BAR_MAX_PIECES, "the worst case is the bound");
	cr_assert_not(b->mapped, "a piece overwrote the BAR's state");
	cr_assert_eq(b->mapped_addr, 0, "a piece overwrote the BAR's state");
	cr_assert_eq(b->trap_reads, 0);
	/*
	 * In order, without gaps, alternating trapped and mapped but for the
	 * PBA's page (piece 16) between its area's two halves; table cut out.
	 */
	cr_assert_eq(dev.pba_piece, 16);
	for (unsigned int k = 0; k < b->nr_pieces; k++) {
		const struct pci_bar_piece *p = &b->pieces[k];
		unsigned int j = k < 16 ? k : k > 17 ? k - 2 : 15;

		cr_assert_eq(p->offset, pos, "piece %u", k);
		cr_assert_eq(p->direct, j % 2 == 1, "piece %u", k);
		cr_assert(!p->direct || p->offset + p->size <= 0xb90000 ||
			  p->offset >= 0xb91000, "piece %u maps the MSI-X table", k);
		cr_assert(p->offset + p->size <= 0xba0000 || p->offset >= 0xba1000 ||
			  (k == 16 && p->offset == 0xba0000 && p->size == 0x1000),
			  "piece %u holds the PBA's page with more", k);
		pos += p->size;
		direct += p->direct ? p->size : 0;
	}
	cr_assert_eq(pos, FAKE_BAR0_SIZE);
	cr_assert_eq(direct, 0xff000 + 4 * 0x100000 + 0x17000 + 0x14000 + 0x100000);
	/* All 21 go on the bus with decode on, and come off again. */
	cr_assert_eq(place(40, &l), 0);
	enable_mem();
	cr_assert_eq(fake_count(&host, EV_MAP, 0), 21 + 2, "BAR0's 21 pieces, BAR2, BAR4");
	cr_assert(b->mapped);
	cr_assert_eq(b->mapped_addr, vfio_bar_guest_addr(&dev, 0));
	disable_mem();
	cr_assert_eq(host.mapped, 0);
}

Test(vfio_bar, more_sparse_areas_than_handled_is_refused_clearly)
{
	struct vfio_pci_dev d;
	char msg[1024] = "";
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;
	size_t n;

	fake_vfio_init(&fake, false);
	fake_host_init(&host);
	fake.nr_areas = VFIO_MAX_MMAP_AREAS + 1;
	for (unsigned int k = 0; k < fake.nr_areas; k++) {
		fake.areas[k].offset = 0x100000ull * k;
		fake.areas[k].size = 0x80000;
	}
	cr_assert_not_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = vfio_pci_init(&d, &fake_vfio_ops, &fake, "h100", &host.pci);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fake_vfio_free(&fake);
	cr_assert_eq(ret, -E2BIG);
	rewind(tmp);
	n = fread(msg, 1, sizeof(msg) - 1, tmp);
	msg[n] = 0;
	fclose(tmp);
	cr_assert(strstr(msg, "BAR0 is split into more than 8 mmap-able areas"), "message: %s", msg);
	cr_assert_eq(strchr(msg, '\n'), msg + n - 1, "one line: %s", msg);
}

/*
 * Finding 2 of the hostile-guest run: a guest put the device in D3hot and
 * read a directly mapped BAR page; vfio-pci had zapped the mmap, KVM_RUN
 * failed with EFAULT and the VM ended. In D3hot the BARs leave the buses.
 */
#define H100_PMCSR	(0x40 + PCI_PM_CTRL)

static void set_power(unsigned int state)
{
	cfg_wr(&dev, H100_PMCSR, 2, (cfg_rd(&dev, H100_PMCSR, 2) & ~PCI_PM_CTRL_STATE_MASK) | state);
}

Test(vfio_bar, d3hot_takes_bars_off_the_buses, .fini = teardown)
{
	struct layout l;
	uint64_t a2;
	uint32_t bar5;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(40, &l), 0);
	enable_mem();
	cr_assert_eq(host.mapped, 7);
	a2 = vfio_bar_guest_addr(&dev, 2);
	bar5 = cfg_rd(&dev, PCI_BASE_ADDRESS_5, 4);
	set_power(3);
	cr_assert_eq(fake.cfg[H100_PMCSR] & PCI_PM_CTRL_STATE_MASK, 3,
		     "the power state reaches the device");
	cr_assert_eq(host.mapped, 0, "%d pieces still mapped in D3hot", host.mapped);
	/* Decode toggles and BAR moves in D3hot map nothing. */
	disable_mem();
	enable_mem();
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, 0x30);
	cr_assert_eq(host.mapped, 0);
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, bar5);
	/* Back to D0: everything where the guest left it. */
	set_power(0);
	cr_assert_eq(host.mapped, 7);
	cr_assert_eq(vfio_bar_guest_addr(&dev, 2), a2);
}

Test(vfio_bar, d3hot_refused_by_the_device_keeps_bars, .fini = teardown)
{
	struct layout l;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert_eq(place(40, &l), 0);
	enable_mem();
	/* D1 is no D3: the BARs stay (the H100 supports neither, the fake takes it). */
	set_power(1);
	cr_assert_eq(host.mapped, 7);
	set_power(0);
	cr_assert_eq(host.mapped, 7);
}

Test(vfio_bar, flr_from_d3hot_returns_to_d0, .fini = teardown)
{
	struct layout l;

	fake_pci_init(&dev, &fake, &host, false);
	cr_assert(dev.cfg.flr, "the H100 fake offers FLR");
	cr_assert_eq(place(40, &l), 0);
	enable_mem();
	set_power(3);
	cr_assert_eq(host.mapped, 0);
	cfg_wr(&dev, dev.cfg.exp_cap + PCI_EXP_DEVCTL, 2,
	       cfg_rd(&dev, dev.cfg.exp_cap + PCI_EXP_DEVCTL, 2) | PCI_EXP_DEVCTL_BCR_FLR);
	cr_assert_eq(fake.resets, 1);
	cr_assert_not(dev.cfg.d3, "VFIO's reset puts the device in D0");
	/* Decode is off after the FLR; turning it on maps the BARs again. */
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, 0x20);
	cfg_wr(&dev, PCI_BASE_ADDRESS_4, 4, 0);
	enable_mem();
	cr_assert_geq(host.mapped, 1);
}

/* ---- both fixtures: the H100 and the H200 (256 GiB BAR2) ---- */

static void check_gpu_bar_bits(const char *model, uint64_t bar2)
{
	static const unsigned int bars[] = { 0, 2, 4 };
	struct layout l;

	fake_pci_init_model(&dev, &fake, &host, model, false);
	cr_assert_eq(dev.pci.bars[2].size, bar2, "%s BAR2 is %llu GiB", model,
		     (unsigned long long)(dev.pci.bars[2].size >> 30));
	for (unsigned int i = 0; i < 3; i++) {
		const struct pci_bar *b = &dev.pci.bars[bars[i]];
		uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bars[i];

		cr_assert_eq(b->type, PCI_BAR_MEM64, "%s BAR%u not 64-bit", model, bars[i]);
		cr_assert(b->prefetch, "%s BAR%u lost its prefetchable bit", model, bars[i]);
		/* Sizing reads back the mask with the type bits: 64-bit (0x4) | prefetch (0x8). */
		cfg_wr(&dev, reg, 4, ~0u);
		cr_assert_eq(cfg_rd(&dev, reg, 4), ((uint32_t)~(b->size - 1) & ~0xfu) | 0xc,
			     "%s BAR%u sizing", model, bars[i]);
		cfg_wr(&dev, reg + 4, 4, ~0u);
		cr_assert_eq(cfg_rd(&dev, reg + 4, 4), (uint32_t)(~(b->size - 1) >> 32));
		cfg_wr(&dev, reg, 4, 0);
		cfg_wr(&dev, reg + 4, 4, 0);
	}
	/* And after placement: the address, with the same bits. */
	cr_assert_eq(place(46, &l), 0);
	check_placement(&l);
	for (unsigned int i = 0; i < 3; i++)
		cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_0 + 4 * bars[i], 4) & 0xf, 0xc);
	cr_assert_eq(vfio_bar_guest_addr(&dev, 2) & (bar2 - 1), 0, "BAR2 not naturally aligned");
	cr_assert_geq(vfio_bar_guest_addr(&dev, 2), l.mmio64_base);
}

Test(vfio_bar, h100_bars_keep_64bit_and_prefetchable, .fini = teardown)
{
	check_gpu_bar_bits("h100", 128 * GiB);
}

Test(vfio_bar, h200_bars_keep_64bit_and_prefetchable, .fini = teardown)
{
	check_gpu_bar_bits("h200", 256 * GiB);
	cr_assert_eq(cfg_rd(&dev, PCI_DEVICE_ID, 2), 0x2335);
}

#define NR_GPUS 8

static struct vfio_pci_dev gpus[NR_GPUS];
static struct fake_vfio gpu_fakes[NR_GPUS];

static void gpus_teardown(void)
{
	for (unsigned int i = 0; i < NR_GPUS; i++) {
		vfio_pci_exit(&gpus[i]);
		fake_vfio_free(&gpu_fakes[i]);
	}
}

/* Eight H200s on one fake host, placed as vm_place_pci_bars places them. */
static int place_gpus(unsigned int phys_bits, uint64_t ram, struct layout *l, char *msg,
		      size_t msglen)
{
	struct pci_dev *devs[NR_GPUS];
	struct pci_window w32, w64;
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;
	size_t n;

	fake_host_init(&host);
	for (unsigned int i = 0; i < NR_GPUS; i++) {
		fake_vfio_init_model(&gpu_fakes[i], "h200", false);
		cr_assert_eq(vfio_pci_init(&gpus[i], &fake_vfio_ops, &gpu_fakes[i], "h200",
					   &host.pci), 0);
		devs[i] = &gpus[i].pci;
	}
	cr_assert_eq(layout_init(l, ram, phys_bits), 0);
	pci_window_init(&w32, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
	pci_window_init(&w64, l->mmio64_base, l->mmio64_end);
	cr_assert_not_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = vm_place_bars(l, devs, NR_GPUS, &w32, &w64, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(msg, 1, msglen - 1, tmp);
	msg[n] = 0;
	fclose(tmp);
	return ret;
}

static void check_gpus_placed(const struct layout *l)
{
	static const unsigned int bars[] = { 0, 2, 4 };

	/* The window ends where the guest's CPUID says addresses end. */
	cr_assert_eq(l->mmio64_end, 1ull << l->phys_bits);
	for (unsigned int g = 0; g < NR_GPUS; g++) {
		for (unsigned int i = 0; i < 3; i++) {
			uint64_t a = vfio_bar_guest_addr(&gpus[g], bars[i]);
			uint64_t size = gpus[g].pci.bars[bars[i]].size;

			cr_assert_geq(a, l->mmio64_base, "GPU %u BAR%u below the window", g, bars[i]);
			cr_assert_geq(a, l->high_ram_end, "GPU %u BAR%u over RAM", g, bars[i]);
			cr_assert_leq(a + size, l->mmio64_end, "GPU %u BAR%u past the window", g,
				      bars[i]);
			cr_assert_eq(a & (size - 1), 0, "GPU %u BAR%u not naturally aligned", g,
				     bars[i]);
			for (unsigned int h = 0; h < NR_GPUS; h++)
				for (unsigned int j = 0; j < 3; j++) {
					uint64_t o = vfio_bar_guest_addr(&gpus[h], bars[j]);
					uint64_t os = gpus[h].pci.bars[bars[j]].size;

					if (h == g && j == i)
						continue;
					cr_assert(a + size <= o || o + os <= a,
						  "GPU %u BAR%u overlaps GPU %u BAR%u", g, bars[i], h,
						  bars[j]);
				}
		}
	}
}

Test(vfio_bar, eight_h200s_fit_with_46_address_bits, .fini = gpus_teardown)
{
	struct layout l;
	char msg[1024];

	cr_assert_eq(place_gpus(46, 2 * GiB, &l, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(msg[0], 0, "placement complained: %s", msg);
	check_gpus_placed(&l);
	/* Largest first: the eight BAR2s take the first eight 256 GiB boundaries. */
	for (unsigned int g = 0; g < NR_GPUS; g++)
		cr_assert_eq(vfio_bar_guest_addr(&gpus[g], 2), (g + 1) * 256 * GiB);
}

Test(vfio_bar, eight_h200s_fit_with_42_address_bits_and_1tib_ram, .fini = gpus_teardown)
{
	struct layout l;
	char msg[1024];

	/* 42 bits is 4 TiB: 1 TiB of RAM below, 2 TiB of BARs naturally aligned above it. */
	cr_assert_eq(place_gpus(42, 1024 * GiB, &l, msg, sizeof(msg)), 0, "%s", msg);
	check_gpus_placed(&l);
}

Test(vfio_bar, eight_h200s_refused_whole_with_40_address_bits, .fini = gpus_teardown)
{
	struct layout l;
	char msg[1024];

	cr_assert_eq(place_gpus(40, 2 * GiB, &l, msg, sizeof(msg)), -ENOSPC);
	/* One line with the numbers: devices, GiB, the window, the bits it takes. */
	cr_assert_eq(strchr(msg, '\n'), msg + strlen(msg) - 1, "not one line: %s", msg);
	cr_assert(strstr(msg, "8 devices need 2048.3 GiB of 64-bit MMIO above 0x100000000"),
		  "message: %s", msg);
	cr_assert(strstr(msg, "(up to 0x24018000000 with each BAR naturally aligned)"), "message: %s", msg);
	cr_assert(strstr(msg, "40 physical address bits end the window at 0x10000000000 (1020 GiB)"),
		  "message: %s", msg);
	cr_assert(strstr(msg, "use fewer devices or a host with more address bits (42 needed)"),
		  "message: %s", msg);
	/* Nothing half-done: no BAR of any GPU got an address. */
	for (unsigned int g = 0; g < NR_GPUS; g++)
		for (unsigned int i = 0; i < PCI_NR_BARS; i++)
			cr_assert_eq(vfio_bar_guest_addr(&gpus[g], i), 0, "GPU %u BAR%u placed", g, i);
}
