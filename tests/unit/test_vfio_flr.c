// SPDX-License-Identifier: MIT
/*
 * Guest-initiated Function Level Reset against the H100 (which has FLR in
 * DevCap): offered only when VFIO can reset the device and the device has
 * it; a guest FLR turns into exactly one reset op after our emulated state
 * went back to reset values (interrupts, decode, BARs, MSI-X table); with
 * nothing to offer the write changes nothing; a guest looping on it leaks
 * nothing.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "test_vfio_fake.h"

#define EXP		0x60
#define DEVCAP		(EXP + PCI_EXP_DEVCAP)
#define DEVCTL		(EXP + PCI_EXP_DEVCTL)
#define MSI_CAP		0x48
#define MSIX_CAP	0xb0
#define LTR_CAP		0x12c
#define INTX_GSI	10

static struct vfio_pci_dev dev;
static struct fake_vfio fake;
static struct fake_host host;

static void teardown(void)
{
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
}

/* A device over the fake after the caller changed it; INTx wired like the VMM does. */
static void start(bool no_reset, bool no_devcap_flr)
{
	fake_vfio_init(&fake, true);
	fake_host_init(&host);
	fake.no_reset = no_reset;
	if (no_devcap_flr)
		fake.cfg[DEVCAP + 3] &= ~(PCI_EXP_DEVCAP_FLR >> 24);
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cr_assert_eq((host.intx_gsi = INTX_GSI, vfio_pci_intx_setup(&dev)), 0);
}

static uint32_t dev_cfg(uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	memcpy(&v, fake.cfg + off, len);
	return v;
}

/* As Linux's pcie_flr(): read-modify-write of DevCtl with Initiate FLR set. */
static void guest_flr(void)
{
	cfg_wr(&dev, DEVCTL, 2, cfg_rd(&dev, DEVCTL, 2) | PCI_EXP_DEVCTL_BCR_FLR);
}

/* Firmware's placement, then a driver's bring-up: decode, bus master, MSI-X vector 0. */
static void drive_device(void)
{
	struct pci_window w32, w64, io;
	struct pci_dev *devs[] = { &dev.pci };

	pci_window_init(&w32, 0x80000000ull, 0xe0000000ull);
	pci_window_init(&w64, 1ull << 37, 1ull << 40);
	pci_window_init(&io, 0xc000, 0x10000);
	cr_assert_eq(pci_place_bars(devs, 1, &w32, &w64, &io), 0);
	cfg_wr(&dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_wr(&dev, PCI_ROM_ADDRESS, 4, cfg_rd(&dev, PCI_ROM_ADDRESS, 4) | PCI_ROM_ADDRESS_ENABLE);
	cfg_wr(&dev, PCI_INTERRUPT_LINE, 1, 11);
	cfg_wr(&dev, MSIX_CAP + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	msix_entry_write(&dev, 0, 0, 0xfee00000);
	msix_entry_write(&dev, 0, 2, 0x41);
	msix_entry_write(&dev, 0, 3, 0);
	msix_entry_write(&dev, 5, 0, 0xfee01000);
	cr_assert_eq(host.mapped, 8, "BAR0 in 5 pieces, BAR2, BAR4, ROM");
	cr_assert_eq(host.routes, 1);
	cr_assert_eq(host.attached, 1, "vector 0 attached, INTx off");
	cr_assert(fake.cfg[PCI_COMMAND] & PCI_COMMAND_MASTER);
}

static const struct fake_set_irqs *last_set_irqs(uint32_t index)
{
	for (unsigned int i = fake.nr_calls; i-- > 0;)
		if (fake.calls[i].index == index)
			return &fake.calls[i];
	return NULL;
}

static unsigned int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int n = 0;

	cr_assert_not_null(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

Test(vfio_flr, offered_when_vfio_can_reset_and_device_has_it, .fini = teardown)
{
	uint32_t devcap;

	start(false, false);
	devcap = dev_cfg(DEVCAP, 4);
	cr_assert(devcap & PCI_EXP_DEVCAP_FLR, "the H100 has FLR");
	cr_assert(dev.cfg.flr);
	cr_assert_eq(cfg_rd(&dev, DEVCAP, 4), devcap, "the guest sees the device's DevCap");
	/* Read-only to the guest all the same. */
	cfg_wr(&dev, DEVCAP, 4, devcap & ~PCI_EXP_DEVCAP_FLR);
	cr_assert_eq(cfg_rd(&dev, DEVCAP, 4), devcap);
}

Test(vfio_flr, hidden_without_vfio_reset, .fini = teardown)
{
	start(true, false);
	cr_assert(dev_cfg(DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);
	cr_assert_not(dev.cfg.flr);
	cr_assert_eq(cfg_rd(&dev, DEVCAP, 4), dev_cfg(DEVCAP, 4) & ~PCI_EXP_DEVCAP_FLR);
}

Test(vfio_flr, hidden_when_device_lacks_it, .fini = teardown)
{
	start(false, true);
	cr_assert_not(dev.cfg.flr);
	cr_assert_eq(cfg_rd(&dev, DEVCAP, 4) & PCI_EXP_DEVCAP_FLR, 0);
	cr_assert_eq(cfg_rd(&dev, DEVCAP, 4), dev_cfg(DEVCAP, 4));
}

/* The whole of the guest-visible config space, and what the fakes saw, stay as they were. */
static void check_flr_changes_nothing(void)
{
	static uint32_t before[PCI_CFG_SPACE_EXP_SIZE / 4];
	uint8_t dev_before[PCI_CFG_SPACE_EXP_SIZE];
	unsigned int nr_ev, nr_calls, cfg_writes;

	drive_device();
	for (uint32_t o = 0; o < PCI_CFG_SPACE_EXP_SIZE; o += 4)
		before[o / 4] = cfg_rd(&dev, o, 4);
	memcpy(dev_before, fake.cfg, sizeof(dev_before));
	nr_ev = host.nr;
	nr_calls = fake.nr_calls;
	cfg_writes = fake.cfg_writes;
	guest_flr();
	cr_assert_eq(fake.resets, 0, "the reset op was called");
	for (uint32_t o = 0; o < PCI_CFG_SPACE_EXP_SIZE; o += 4)
		cr_assert_eq(cfg_rd(&dev, o, 4), before[o / 4], "config %#x changed", o);
	cr_assert_eq(memcmp(dev_before, fake.cfg, sizeof(dev_before)), 0);
	cr_assert_eq(host.nr, nr_ev, "the VM saw map/route/irqfd calls");
	cr_assert_eq(fake.nr_calls, nr_calls, "SET_IRQS was called");
	/* DevCtl's forwarded bits are written back unchanged; nothing else is. */
	cr_assert_leq(fake.cfg_writes, cfg_writes + 1);
	cr_assert_eq(msix_entry_read(&dev, 0, 3), 0, "vector 0 still unmasked");
	cr_assert_eq(host.mapped, 8);
	cr_assert_eq(host.attached, 1);
}

Test(vfio_flr, write_changes_nothing_without_vfio_reset, .fini = teardown)
{
	start(true, false);
	check_flr_changes_nothing();
}

Test(vfio_flr, write_changes_nothing_when_device_lacks_flr, .fini = teardown)
{
	start(false, true);
	check_flr_changes_nothing();
}

Test(vfio_flr, guest_flr_resets_our_state_then_the_device, .fini = teardown)
{
	uint16_t devctl0, devctl;
	const struct fake_set_irqs *s;
	unsigned int from;

	start(false, false);
	devctl0 = cfg_rd(&dev, DEVCTL, 2);
	drive_device();
	/* Max payload survives an FLR, max read request does not (the H100 starts at 256/4096). */
	cr_assert_eq(devctl0 & (PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ), 0x5020);
	cfg_wr(&dev, DEVCTL, 2, (devctl0 & ~(PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ)) |
	       0x40 | 0x2000);
	devctl = cfg_rd(&dev, DEVCTL, 2);
	cr_assert_eq(devctl & (PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ), 0x2040);
	from = host.nr;
	guest_flr();

	cr_assert_eq(fake.resets, 1, "the reset op, once");
	/* MSI-X: off in VFIO, no route, no irqfd but INTx's; the table masked and clear. */
	s = last_set_irqs(VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_eq(s->flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	cr_assert_eq(s->count, 0);
	cr_assert_eq(host.routes, 0);
	cr_assert_eq(fake_count(&host, EV_ROUTE_REMOVE, from), 1);
	cr_assert_eq(host.attached, 1);
	cr_assert_eq(fake_last(&host, EV_ATTACH)->gsi, INTX_GSI, "INTx as after reset");
	cr_assert_eq(dev.mode, VFIO_IRQ_INTX);
	cr_assert_eq(cfg_rd(&dev, MSIX_CAP + PCI_MSIX_FLAGS, 2) &
		     (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL), 0);
	for (unsigned int v = 0; v < 9; v++) {
		cr_assert_eq(msix_entry_read(&dev, v, 0), 0, "entry %u address", v);
		cr_assert_eq(msix_entry_read(&dev, v, 2), 0, "entry %u data", v);
		cr_assert_eq(msix_entry_read(&dev, v, 3), PCI_MSIX_ENTRY_CTRL_MASKBIT, "entry %u", v);
	}
	/* Command cleared, in our view and in the device; every BAR piece gone. */
	cr_assert_eq(cfg_rd(&dev, PCI_COMMAND, 2), 0);
	cr_assert_eq(fake.cfg[PCI_COMMAND] & (PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY), 0);
	cr_assert_eq(host.mapped, 0);
	cr_assert_eq(fake_count(&host, EV_UNMAP, from), 8);
	/* BARs read 0 plus their type bits; the ROM 0. */
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_0, 4), fake.cfg_orig[PCI_BASE_ADDRESS_0] & 0xf);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_1, 4), 0);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_2, 4), 0xc);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_3, 4), 0);
	cr_assert_eq(vfio_bar_guest_addr(&dev, 4), 0);
	cr_assert_eq(cfg_rd(&dev, PCI_ROM_ADDRESS, 4), 0);
	/* Sizing still works afterwards. */
	cfg_wr(&dev, PCI_BASE_ADDRESS_3, 4, ~0u);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_3, 4), 0xffffffe0);
	/* The rest: interrupt line, DevCtl max read request back; max payload kept; bit 15 reads 0. */
	cr_assert_eq(cfg_rd(&dev, PCI_INTERRUPT_LINE, 1), 0xff);
	devctl = cfg_rd(&dev, DEVCTL, 2);
	cr_assert_eq(devctl & PCI_EXP_DEVCTL_BCR_FLR, 0);
	cr_assert_eq(devctl & PCI_EXP_DEVCTL_PAYLOAD, 0x40);
	cr_assert_eq(devctl & PCI_EXP_DEVCTL_READRQ, devctl0 & PCI_EXP_DEVCTL_READRQ);
	cr_assert_eq(fake.cfg[DEVCTL + 1] & (PCI_EXP_DEVCTL_BCR_FLR >> 8), 0,
		     "Initiate FLR reached the device's config space");
	/* Identity and the capability chain are untouched. */
	cr_assert_eq(cfg_rd(&dev, PCI_VENDOR_ID, 4), 0x233010de);
	cr_assert_eq(cfg_rd(&dev, PCI_CAPABILITY_LIST, 1), 0x40);
	cr_assert_eq(cfg_rd(&dev, DEVCAP, 4), dev_cfg(DEVCAP, 4));

	/* A driver brings it up again exactly as the first time. */
	drive_device();
	cr_assert_eq(fake_last(&host, EV_ROUTE_ADD)->data, 0x41);
}

/*
 * The emulated writable bytes furthest out: the LTR capability's latencies
 * (extended config space, 0x12c on the H100). An FLR restores them, though
 * it walks the shadow only up to the last such byte, not all 4 KiB.
 */
Test(vfio_flr, guest_flr_restores_ltr_in_extended_space, .fini = teardown)
{
	uint32_t ltr0;

	start(false, false);
	cr_assert_eq(cfg_rd(&dev, LTR_CAP, 2), PCI_EXT_CAP_ID_LTR);
	ltr0 = cfg_rd(&dev, LTR_CAP + PCI_LTR_MAX_SNOOP_LAT, 4);
	cfg_wr(&dev, LTR_CAP + PCI_LTR_MAX_SNOOP_LAT, 4, ltr0 ^ 0x10031003);
	cr_assert_eq(cfg_rd(&dev, LTR_CAP + PCI_LTR_MAX_SNOOP_LAT, 4), ltr0 ^ 0x10031003);
	cr_assert_eq(dev.cfg.flr_end, LTR_CAP + PCI_LTR_MAX_SNOOP_LAT + 4);
	guest_flr();
	cr_assert_eq(fake.resets, 1);
	cr_assert_eq(cfg_rd(&dev, LTR_CAP + PCI_LTR_MAX_SNOOP_LAT, 4), ltr0);
}

Test(vfio_flr, guest_flr_disables_msi, .fini = teardown)
{
	start(false, false);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_DATA_64, 2, 0x40);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_MASK_64, 4, 1u << 1);
	cfg_wr(&dev, MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (1 << 4));
	cr_assert_eq(dev.mode, VFIO_IRQ_MSI);
	cr_assert_eq(host.routes, 1);
	guest_flr();
	cr_assert_eq(fake.resets, 1);
	cr_assert_eq(host.routes, 0);
	cr_assert_eq(host.attached, 1, "only INTx");
	cr_assert_eq(dev.mode, VFIO_IRQ_INTX);
	cr_assert_eq(last_set_irqs(VFIO_PCI_MSI_IRQ_INDEX)->count, 0);
	cr_assert_eq(cfg_rd(&dev, MSI_CAP + PCI_MSI_FLAGS, 2) &
		     (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE), 0);
	cr_assert_eq(cfg_rd(&dev, MSI_CAP + PCI_MSI_ADDRESS_LO, 4), 0);
	cr_assert_eq(cfg_rd(&dev, MSI_CAP + PCI_MSI_DATA_64, 2), 0);
	cr_assert_eq(cfg_rd(&dev, MSI_CAP + PCI_MSI_MASK_64, 4), 0);
}

/* With FLR as the only byte of a 4-byte write, and as a 1-byte write of DevCtl's top. */
Test(vfio_flr, any_access_size_initiates, .fini = teardown)
{
	uint32_t v;

	start(false, false);
	v = cfg_rd(&dev, DEVCTL, 4) | PCI_EXP_DEVCTL_BCR_FLR;
	cfg_wr(&dev, DEVCTL, 4, v);
	cr_assert_eq(fake.resets, 1);
	cfg_wr(&dev, DEVCTL + 1, 1, PCI_EXP_DEVCTL_BCR_FLR >> 8);
	cr_assert_eq(fake.resets, 2);
	/* Other bytes with bit 15's value do not. */
	cfg_wr(&dev, DEVCTL, 1, 0x80);
	cfg_wr(&dev, DEVCTL + 2, 2, 0x8000);
	cr_assert_eq(fake.resets, 2);
}

/* A hostile guest: FLR in a loop, between bring-ups; nothing leaks, nothing half-done. */
Test(vfio_flr, flr_loop_leaks_nothing, .fini = teardown)
{
	unsigned int fds;

	start(false, false);
	fake.reset_ret = -EAGAIN;	/* every reset fails: warned once, state still reset */
	drive_device();
	guest_flr();
	fds = open_fds();
	for (unsigned int i = 0; i < 300; i++) {
		if (i % 3 == 0)
			drive_device();
		if (i % 5 == 0)
			cfg_wr(&dev, MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
		guest_flr();
		cr_assert_eq(host.mapped, 0);
		cr_assert_eq(host.routes, 0);
		cr_assert_eq(host.attached, 1);
		cr_assert_eq(dev.mode, VFIO_IRQ_INTX);
	}
	cr_assert_eq(fake.resets, 301);
	cr_assert(dev.cfg.flr_failed);
	cr_assert_eq(open_fds(), fds, "eventfds leaked");
}
