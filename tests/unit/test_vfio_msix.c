// SPDX-License-Identifier: MIT
/*
 * Interrupt emulation against the H100 (9 MSI-X vectors, MSI with 16
 * vectors and per-vector masking, INTx pin A): guest actions on the MSI-X
 * table and the MSI capability, and the VFIO SET_IRQS calls and KVM route /
 * irqfd calls they must turn into (recorded by the fakes).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "test_vfio_fake.h"

#define MSIX_CAP	0xb0
#define MSI_CAP		0x48
#define TABLE		FAKE_MSIX_TABLE
#define PBA		0xba0000
#define INTX_GSI	10

static struct vfio_pci_dev dev;
static struct fake_vfio fake;
static struct fake_host host;

static void setup(void)
{
	fake_pci_init(&dev, &fake, &host, true);
	cr_assert_eq((host.intx_gsi = INTX_GSI, vfio_pci_intx_setup(&dev)), 0);
}

static void teardown(void)
{
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
}

TestSuite(vfio_irq, .init = setup, .fini = teardown);

static void msix_ctrl(uint16_t bits)
{
	cfg_wr(&dev, MSIX_CAP + PCI_MSIX_FLAGS, 2, bits);
}

static const struct fake_set_irqs *last_set_irqs(uint32_t index)
{
	for (unsigned int i = fake.nr_calls; i-- > 0;)
		if (fake.calls[i].index == index)
			return &fake.calls[i];
	return NULL;
}

Test(vfio_irq, intx_wired_with_resample)
{
	const struct fake_event *e = fake_last(&host, EV_ATTACH);

	cr_assert_not_null(e);
	cr_assert_eq(e->gsi, INTX_GSI);
	cr_assert_geq(e->resample_fd, 0, "INTx needs a resample eventfd");
	cr_assert_eq(fake.nr_calls, 2);
	cr_assert_eq(fake.calls[0].flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	cr_assert_eq(fake.calls[0].fds[0], e->fd);
	cr_assert_eq(fake.calls[1].flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK);
	cr_assert_eq(fake.calls[1].fds[0], e->resample_fd);
}

Test(vfio_irq, msix_table_starts_masked_and_is_emulated)
{
	for (unsigned int v = 0; v < 9; v++)
		cr_assert_eq(msix_entry_read(&dev, v, 3), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	msix_entry_write(&dev, 3, 0, 0xfee01000);
	msix_entry_write(&dev, 3, 2, 0x4049);
	cr_assert_eq(msix_entry_read(&dev, 3, 0), 0xfee01000);
	cr_assert_eq(msix_entry_read(&dev, 3, 2), 0x4049);
	/* A 64-bit access covers address low and high. */
	{
		uint64_t q = 0;

		vfio_pci_bar_read(&dev, 0, TABLE + 16 * 3, &q, 8);
		cr_assert_eq(q, 0xfee01000ull);
	}
	cr_assert_eq(*(uint32_t *)(fake.bar0 + TABLE + 48), 0, "device table written");
	cr_assert_eq(host.routes, 0, "no route while MSI-X is disabled");
}

Test(vfio_irq, msix_enable_unmask_mask_disable)
{
	const struct fake_set_irqs *s;
	const struct fake_event *e;
	unsigned int from;
	int gsi, fd0;

	/* Enable with everything masked: VFIO gets 9 eventfds, INTx goes away. */
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	s = last_set_irqs(VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_not_null(s);
	cr_assert_eq(s->flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	cr_assert_eq(s->count, 9);
	s = last_set_irqs(VFIO_PCI_INTX_IRQ_INDEX);
	cr_assert_eq(s->flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	cr_assert_eq(host.attached, 0);
	cr_assert_eq(host.routes, 0);
	fd0 = last_set_irqs(VFIO_PCI_MSIX_IRQ_INDEX)->fds[0];

	/* Program and unmask vector 0: one route with its message, one irqfd on its eventfd. */
	msix_entry_write(&dev, 0, 0, 0xfee00000);
	msix_entry_write(&dev, 0, 1, 0);
	msix_entry_write(&dev, 0, 2, 0x41);
	cr_assert_eq(host.routes, 0, "still masked");
	msix_entry_write(&dev, 0, 3, 0);
	e = fake_last(&host, EV_ROUTE_ADD);
	cr_assert_not_null(e);
	cr_assert_eq(e->addr, 0xfee00000);
	cr_assert_eq(e->data, 0x41);
	gsi = e->gsi;
	e = fake_last(&host, EV_ATTACH);
	cr_assert_eq(e->gsi, gsi);
	cr_assert_eq(e->fd, fd0);
	cr_assert_eq(e->resample_fd, -1);
	cr_assert_eq(host.attached, 1);

	/* Mask: irqfd detached, route kept. Unmask: re-attached, no new route. */
	from = host.nr;
	msix_entry_write(&dev, 0, 3, 1);
	cr_assert_eq(fake_count(&host, EV_DETACH, from), 1);
	cr_assert_eq(host.attached, 0);
	cr_assert_eq(host.routes, 1);
	msix_entry_write(&dev, 0, 3, 0);
	cr_assert_eq(host.attached, 1);
	cr_assert_eq(fake_count(&host, EV_ROUTE_ADD, from), 0);

	/* New data while unmasked: the route follows. */
	msix_entry_write(&dev, 0, 2, 0x42);
	e = fake_last(&host, EV_ROUTE_UPDATE);
	cr_assert_not_null(e);
	cr_assert_eq(e->gsi, gsi);
	cr_assert_eq(e->data, 0x42);

	/* Function mask detaches everything; clearing it re-attaches. */
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cr_assert_eq(host.attached, 0);
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(host.attached, 1);

	/* Disable: detach, route removed, VFIO index off, INTx back. */
	from = host.nr;
	msix_ctrl(0);
	cr_assert_eq(fake_count(&host, EV_ROUTE_REMOVE, from), 1);
	cr_assert_eq(host.routes, 0);
	s = last_set_irqs(VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_eq(s->flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	cr_assert_eq(s->count, 0);
	e = fake_last(&host, EV_ATTACH);
	cr_assert_eq(e->gsi, INTX_GSI, "INTx not restored");
	cr_assert_eq(host.attached, 1);
}

Test(vfio_irq, msix_invalid_message_gets_no_route)
{
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	msix_entry_write(&dev, 5, 3, 0);	/* unmasked, address still 0 */
	cr_assert_eq(host.routes, 0);
	msix_entry_write(&dev, 5, 0, 0xfee00000);
	cr_assert_eq(host.routes, 1);
	cr_assert_eq(host.attached, 1);
}

Test(vfio_irq, msix_pba_shows_pending_masked_vector)
{
	uint64_t one = 1, pba = 0;
	int fd2;

	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	fd2 = last_set_irqs(VFIO_PCI_MSIX_IRQ_INDEX)->fds[2];
	vfio_pci_bar_read(&dev, 0, PBA, &pba, 8);
	cr_assert_eq(pba, 0);
	/* The device fires vector 2 while it is masked: VFIO signals its eventfd. */
	cr_assert_eq(write(fd2, &one, 8), 8);
	vfio_pci_bar_read(&dev, 0, PBA, &pba, 8);
	cr_assert_eq(pba, 1u << 2);
	/* Unmasking attaches the irqfd, which delivers it: no longer ours to show. */
	msix_entry_write(&dev, 2, 0, 0xfee00000);
	msix_entry_write(&dev, 2, 3, 0);
	vfio_pci_bar_read(&dev, 0, PBA, &pba, 8);
	cr_assert_eq(pba, 0);
}

Test(vfio_irq, msi_multiple_vectors_and_masking)
{
	const struct fake_set_irqs *s;
	unsigned int from = host.nr;
	uint16_t ctrl = cfg_rd(&dev, MSI_CAP + PCI_MSI_FLAGS, 2);

	cr_assert(ctrl & PCI_MSI_FLAGS_64BIT);
	cr_assert(ctrl & PCI_MSI_FLAGS_MASKBIT);
	cr_assert_eq((ctrl & PCI_MSI_FLAGS_QMASK) >> 1, 4, "16 vectors capable");
	cfg_wr(&dev, MSI_CAP + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_ADDRESS_HI, 4, 0);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_DATA_64, 2, 0x40);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_MASK_64, 4, 1u << 1);
	/* MME = 2: four vectors. */
	cfg_wr(&dev, MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
	s = last_set_irqs(VFIO_PCI_MSI_IRQ_INDEX);
	cr_assert_eq(s->count, 4);
	cr_assert_eq(s->flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	/* Vectors 0, 2, 3 routed with data | vector; 1 is masked. */
	cr_assert_eq(fake_count(&host, EV_ROUTE_ADD, from), 3);
	for (unsigned int i = from; i < host.nr; i++)
		if (host.ev[i].ev == EV_ROUTE_ADD)
			cr_assert_neq(host.ev[i].data, 0x41);
	cr_assert_eq(fake_last(&host, EV_ROUTE_ADD)->data, 0x43);
	cr_assert_eq(host.attached, 3, "INTx off, three MSI irqfds");
	/* Unmask vector 1. */
	cfg_wr(&dev, MSI_CAP + PCI_MSI_MASK_64, 4, 0);
	cr_assert_eq(fake_last(&host, EV_ROUTE_ADD)->data, 0x41);
	cr_assert_eq(host.attached, 4);
	/* Disable: all gone, INTx back. */
	cfg_wr(&dev, MSI_CAP + PCI_MSI_FLAGS, 2, 0);
	cr_assert_eq(host.routes, 0);
	cr_assert_eq(host.attached, 1);
	cr_assert_eq(fake_last(&host, EV_ATTACH)->gsi, INTX_GSI);
}

Test(vfio_irq, msi_mme_clamped_to_capability)
{
	/* MME 7 (128 vectors) is more than the 16 the device offers. */
	cfg_wr(&dev, MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (7 << 4));
	cr_assert_eq((cfg_rd(&dev, MSI_CAP + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE) >> 4, 4);
	cr_assert_eq(last_set_irqs(VFIO_PCI_MSI_IRQ_INDEX)->count, 16);
}

Test(vfio_irq, exit_tears_everything_down)
{
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	msix_entry_write(&dev, 0, 0, 0xfee00000);
	msix_entry_write(&dev, 0, 3, 0);
	cr_assert_eq(host.routes, 1);
	vfio_pci_exit(&dev);
	cr_assert_eq(host.routes, 0);
	cr_assert_eq(host.attached, 0);
	cr_assert_eq(host.mapped, 0);
	/* Bring it back so the suite's teardown has a device to exit. */
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
}

/*
 * Found by the hostile guest: MSI-X enabled while the device is in D3hot.
 * vfio-pci refuses to set vectors up then (the fake answers as L1's did,
 * EINVAL), so the enable waits for D0 and happens there; before the fix
 * the guest's enable bit stayed set with nothing behind it and vector 0
 * never reached the guest.
 */
#define H100_PMCSR	(0x40 + PCI_PM_CTRL)

Test(vfio_irq, msix_enabled_in_d3hot_works_after_d0)
{
	const struct fake_set_irqs *s;

	msix_entry_write(&dev, 0, 0, 0xfee00000);
	msix_entry_write(&dev, 0, 2, 0x62);
	msix_entry_write(&dev, 0, 3, 0);
	cfg_wr(&dev, H100_PMCSR, 2, 3);
	cr_assert(dev.cfg.d3);
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(host.attached, 1, "only INTx's irqfd while in D3hot");
	cr_assert_eq(host.routes, 0);
	cfg_wr(&dev, H100_PMCSR, 2, 0);
	s = last_set_irqs(VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_not_null(s, "MSI-X never enabled in VFIO after D0");
	cr_assert_eq(s->count, 9);
	cr_assert_eq(host.routes, 1, "vector 0 has no route after D0");
	cr_assert_eq(fake_last(&host, EV_ROUTE_ADD)->data, 0x62);
	cr_assert_eq(fake_last(&host, EV_ATTACH)->fd, s->fds[0], "vector 0's irqfd");
	cr_assert_eq(dev.mode, VFIO_IRQ_MSIX);
}

Test(vfio_irq, msi_enabled_in_d3hot_works_after_d0)
{
	uint8_t cap = dev.msi.cap;

	cr_assert_neq(cap, 0, "the H100 has MSI");
	cfg_wr(&dev, cap + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	cfg_wr(&dev, cap + (dev.msi.is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, 0x51);
	cfg_wr(&dev, H100_PMCSR, 2, 3);
	cfg_wr(&dev, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	cr_assert_eq(host.routes, 0);
	cfg_wr(&dev, H100_PMCSR, 2, 0);
	cr_assert_eq(dev.mode, VFIO_IRQ_MSI, "MSI never enabled after D0");
	cr_assert_eq(host.routes, 1);
	cr_assert_eq(fake_last(&host, EV_ROUTE_ADD)->data, 0x51);
}
