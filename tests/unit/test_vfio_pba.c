// SPDX-License-Identifier: MIT
/*
 * The H100's PBA page (BAR0+0xba0000, a page of its own, the table at
 * +0xb90000): mapped while the PBA a guest should see is the device's own,
 * trapped at once when a vector of ours could be pending (masked, function
 * mask), mapped back only on a trapped access to it. The fake host records
 * every map and unmap, so the order of a switch (new mapping first) shows.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "test_vfio_fake.h"
#include "vmm/layout.h"

#define MSIX_CAP	0xb0
#define PBA		0xba0000ull
#define NR_VECTORS	9

static struct vfio_pci_dev dev;
static struct fake_vfio fake;
static struct fake_host host;

static void teardown(void)
{
	vfio_pci_munmap_bars(&dev);
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
}

/* As at boot: BARs mmapped, placed, decode on. */
static void setup_mapped(void)
{
	struct pci_dev *devs[] = { &dev.pci };
	struct pci_window w32, w64;
	struct layout l;

	fake_pci_init(&dev, &fake, &host, true);
	cr_assert_eq(vfio_pci_mmap_bars(&dev), 0);
	cr_assert_eq(layout_init(&l, 1ull << 30, 40), 0);
	pci_window_init(&w32, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
	pci_window_init(&w64, l.mmio64_base, l.mmio64_end);
	cr_assert_eq(pci_place_bars(devs, 1, &w32, &w64, NULL), 0);
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
	cr_assert(dev.pci.bars[0].mapped);
}

static struct pci_bar_piece *pba_piece(void)
{
	cr_assert_geq(dev.pba_piece, 0, "the PBA's page is not a piece of its own");
	return &dev.pci.bars[0].pieces[dev.pba_piece];
}

static void msix_ctrl(uint16_t bits)
{
	cfg_wr(&dev, MSIX_CAP + PCI_MSIX_FLAGS, 2, bits);
}

static uint64_t pba_read(void)
{
	uint64_t v = ~0ull;

	vfio_pci_bar_read(&dev, 0, PBA, &v, 8);
	return v;
}

static int vector_fd(unsigned int v)
{
	for (unsigned int i = fake.nr_calls; i-- > 0;)
		if (fake.calls[i].index == VFIO_PCI_MSIX_IRQ_INDEX && fake.calls[i].count)
			return fake.calls[i].fds[v];
	cr_assert_fail("no MSI-X SET_IRQS");
	return -1;
}

/* Map and unmap events of the PBA's page since from. */
static unsigned int pba_events(unsigned int from, const struct fake_event **ev, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = from; i < host.nr; i++)
		if ((host.ev[i].ev == EV_MAP || host.ev[i].ev == EV_UNMAP) && host.ev[i].bar == 0 &&
		    host.ev[i].offset == PBA && n < max)
			ev[n++] = &host.ev[i];
	return n;
}

/* One switch since from: the new mapping went in, then the old one came out. */
static void check_switch(unsigned int from, bool to_direct)
{
	const struct fake_event *ev[4];
	unsigned int n = pba_events(from, ev, 4);

	cr_assert_eq(n, 2, "%u map/unmap events on the PBA's page", n);
	cr_assert_eq(ev[0]->ev, EV_MAP, "the old mapping went first");
	cr_assert_eq(ev[0]->direct, to_direct);
	cr_assert_eq(ev[0]->size, 0x1000);
	cr_assert_eq(ev[1]->ev, EV_UNMAP);
	cr_assert_eq(ev[1]->direct, !to_direct);
	cr_assert_eq(pba_piece()->direct, to_direct);
}

static void unmask_all(void)
{
	for (unsigned int v = 0; v < NR_VECTORS; v++) {
		msix_entry_write(&dev, v, 0, 0xfee00000);
		msix_entry_write(&dev, v, 2, 0x40 + v);
		msix_entry_write(&dev, v, 3, 0);
	}
}

Test(vfio_pba, own_page_mapped_from_the_start, .fini = teardown)
{
	const struct fake_event *ev[4];

	setup_mapped();
	cr_assert(pba_piece()->direct);
	cr_assert_not_null(pba_piece()->hva);
	cr_assert_eq(pba_piece()->offset, PBA);
	cr_assert_eq(pba_piece()->size, 0x1000);
	cr_assert_eq(pba_events(0, ev, 4), 1);
	cr_assert(ev[0]->direct, "the PBA's page went on the bus trapped");
}

Test(vfio_pba, masked_vector_traps_it_and_its_interrupt_shows, .fini = teardown)
{
	uint64_t one = 1;
	unsigned int from;

	setup_mapped();
	from = host.nr;
	/* Enabled with every entry masked, as from reset: any of them could be pending. */
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	check_switch(from, false);
	cr_assert_eq(dev.pba_traps, 1);
	cr_assert_eq(pba_read(), 0);
	cr_assert_not(pba_piece()->direct, "mapped back with every vector masked");
	/* The device fires vector 2 while masked: the trapped read shows it. */
	cr_assert_eq(write(vector_fd(2), &one, 8), 8);
	cr_assert_eq(pba_read(), 1u << 2);
}

Test(vfio_pba, unmasked_vector_does_not_linger_and_the_page_maps_back, .fini = teardown)
{
	uint64_t one = 1;
	unsigned int from;
	const struct fake_event *ev[4];

	setup_mapped();
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(write(vector_fd(2), &one, 8), 8);
	cr_assert_eq(pba_read(), 1u << 2);
	/* Unmasking all: the irqfd delivers vector 2; no switch until the PBA is read. */
	from = host.nr;
	unmask_all();
	cr_assert_eq(host.attached, NR_VECTORS);
	cr_assert_eq(pba_events(from, ev, 4), 0, "the PBA's page moved on an unmask");
	cr_assert_not(pba_piece()->direct);
	cr_assert_eq(pba_read(), 0, "vector 2's bit lingers after its unmask");
	check_switch(from, true);
	cr_assert_eq(dev.pba_maps, 1);
}

/*
 * Signalled while masked, delivered on the unmask, masked again: the
 * interrupt was delivered once and is not pending any more. (KVM's irqfd
 * injects a signal that predates its assign without consuming it; the
 * fake host consumes nothing, so the vector layer must drain it.)
 */
Test(vfio_pba, delivered_interrupt_is_not_pending_after_the_next_mask, .fini = teardown)
{
	uint64_t one = 1, n;

	setup_mapped();
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(write(vector_fd(2), &one, 8), 8);
	cr_assert_eq(pba_read(), 1u << 2);
	unmask_all();
	msix_entry_write(&dev, 2, 3, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	cr_assert_eq(pba_read(), 0, "vector 2 shows pending again after its delivery");
	cr_assert_eq(read(vector_fd(2), &n, 8), -1, "the delivered signal is still counted");
	/* A new signal while masked is pending as before. */
	cr_assert_eq(write(vector_fd(2), &one, 8), 8);
	cr_assert_eq(pba_read(), 1u << 2);
}

Test(vfio_pba, mask_and_function_mask_trap_at_once, .fini = teardown)
{
	unsigned int from;

	setup_mapped();
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	unmask_all();
	pba_read();
	cr_assert(pba_piece()->direct);
	/* One entry masked. */
	from = host.nr;
	msix_entry_write(&dev, 5, 3, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	check_switch(from, false);
	msix_entry_write(&dev, 5, 3, 0);
	pba_read();
	cr_assert(pba_piece()->direct);
	/* The function mask. */
	from = host.nr;
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	check_switch(from, false);
	/* An entry with no valid message delivers nothing either: still ours. */
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	msix_entry_write(&dev, 7, 0, 0);
	pba_read();
	cr_assert_not(pba_piece()->direct, "mapped with vector 7 unable to deliver");
	cr_assert_eq(dev.pba_traps, 3, "enable, mask, function mask: %llu",
		     (unsigned long long)dev.pba_traps);
}

Test(vfio_pba, mask_unmask_without_pba_reads_switches_once, .fini = teardown)
{
	unsigned int from;
	const struct fake_event *ev[4];

	setup_mapped();
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	unmask_all();
	pba_read();
	from = host.nr;
	/* A guest masking around every interrupt: one switch, not one per mask. */
	for (unsigned int i = 0; i < 10; i++) {
		msix_entry_write(&dev, 0, 3, PCI_MSIX_ENTRY_CTRL_MASKBIT);
		msix_entry_write(&dev, 0, 3, 0);
	}
	cr_assert_eq(pba_events(from, ev, 4), 2);
	cr_assert_eq(dev.pba_traps, 2);
	cr_assert_eq(dev.pba_maps, 1);
}

Test(vfio_pba, msix_disabled_or_decode_off_maps_it_back, .fini = teardown)
{
	setup_mapped();
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_not(pba_piece()->direct);
	msix_ctrl(0);
	/* No vectors at all: a read of the page (any byte of it) maps it. */
	{
		uint32_t v = 0;

		vfio_pci_bar_read(&dev, 0, PBA + 0x800, &v, 4);
	}
	cr_assert(pba_piece()->direct);
	/* Decode off and on again: it comes back as it is now. */
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY);
	cr_assert_eq(host.mapped, 0);
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
	cr_assert_eq(fake_last(&host, EV_MAP)->bar, 4);
	cr_assert_not(pba_piece()->direct);
	cr_assert_eq(pba_read(), 0);
}

static unsigned int dma_calls, dma_pba_calls;

static int record_dma(void *opaque, bool map, uint64_t gpa, void *hva, uint64_t size)
{
	(void)opaque;
	(void)map;
	(void)hva;
	(void)size;
	dma_calls++;
	dma_pba_calls += gpa == vfio_bar_guest_addr(&dev, 0) + PBA;
	return 0;
}

Test(vfio_pba, never_a_peer_dma_target, .fini = teardown)
{
	setup_mapped();
	cr_assert_eq(vfio_pci_set_dma_hook(&dev, record_dma, NULL), 0);
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY);
	cfg_wr(&dev, PCI_COMMAND, 2, cfg_rd(&dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
	cr_assert_gt(dma_calls, 0);
	cr_assert_eq(dma_pba_calls, 0, "the PBA's page is a DMA target");
}

Test(vfio_pba, sharing_the_table_page_stays_trapped, .fini = teardown)
{
	uint32_t pba_reg = 0xb90800;	/* BAR0, in the table's page */

	fake_vfio_init(&fake, true);
	memcpy(&fake.cfg[MSIX_CAP + PCI_MSIX_PBA], &pba_reg, 4);
	fake_host_init(&host);
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cr_assert_eq(dev.pba_piece, -1);
	for (unsigned int k = 0; k < dev.pci.bars[0].nr_pieces; k++) {
		const struct pci_bar_piece *p = &dev.pci.bars[0].pieces[k];

		if (p->offset <= 0xb90800 && 0xb90800 - p->offset < p->size)
			cr_assert_not(p->direct);
	}
	cr_assert_eq(dev.pci.bars[0].nr_pieces, 3);
}

Test(vfio_pba, outside_the_mmap_areas_stays_trapped, .fini = teardown)
{
	fake_vfio_init(&fake, false);
	fake.nr_areas = 3;
	fake.areas[0].offset = 0;
	fake.areas[0].size = 0xb90000;
	fake.areas[1].offset = 0xb91000;
	fake.areas[1].size = PBA - 0xb91000;
	fake.areas[2].offset = PBA + 0x1000;
	fake.areas[2].size = FAKE_BAR0_SIZE - PBA - 0x1000;
	fake_host_init(&host);
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cr_assert_eq(dev.pba_piece, -1);
	cr_assert_eq(dev.pci.bars[0].nr_pieces, 5);
	cr_assert_eq(dev.pci.bars[0].pieces[3].offset, PBA);
	cr_assert_not(dev.pci.bars[0].pieces[3].direct);
}
