// SPDX-License-Identifier: MIT
/*
 * The virtio-pci transport as a driver meets it, against the recording
 * fake host (the same one the passthrough tests use: the host interface is
 * one) and a fake device model that records activate, reset and config
 * accesses: identity and capabilities, BAR sizing and placement, feature
 * negotiation, queue setup to DRIVER_OK with kick ioeventfds and call
 * vectors, refusal of rings outside RAM, reset, BAR moves, MSI-X through
 * the BAR, the PCI_CFG window, and hostile register traffic.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "devices/virtio/virtio_pci.h"
#include "test_vfio_fake.h"

#define RAM_SIZE	(1u << 20)
#define BAR_ADDR	0xc0000000u
#define FAKE_FEATURES	((1ull << 9) | (1ull << 28))	/* FLUSH, INDIRECT_DESC */

struct fake_dev {
	struct virtio_dev vdev;
	uint8_t config[16];
	unsigned int activates, resets, config_writes;
	uint32_t max_config_off;
	uint16_t seen_queues;		/* queues enabled at the last activate */
	int activate_ret;
};

static struct fake_dev fd_;
static struct fake_host host;
static struct virtio_pci vp;
static struct guest_mem mem;
static uint8_t *ram;

static int fake_activate(struct virtio_dev *v)
{
	struct fake_dev *f = v->opaque;

	f->activates++;
	f->seen_queues = 0;
	for (unsigned int i = 0; i < v->nr_queues; i++)
		if (v->queues[i].enabled)
			f->seen_queues |= 1u << i;
	return f->activate_ret;
}

static void fake_reset(struct virtio_dev *v)
{
	((struct fake_dev *)v->opaque)->resets++;
}

static void fake_cfg_read(struct virtio_dev *v, uint32_t off, void *data, uint32_t len)
{
	struct fake_dev *f = v->opaque;

	cr_assert_leq(off + len, sizeof(f->config));
	memcpy(data, f->config + off, len);
}

static void fake_cfg_write(struct virtio_dev *v, uint32_t off, const void *data, uint32_t len)
{
	struct fake_dev *f = v->opaque;

	f->config_writes++;
	if (off + len > f->max_config_off)
		f->max_config_off = off + len;
	if (off + len <= sizeof(f->config))
		memcpy(f->config + off, data, len);
}

static const struct virtio_dev_ops fake_ops = {
	.activate = fake_activate,
	.reset = fake_reset,
	.config_read = fake_cfg_read,
	.config_write = fake_cfg_write,
};

static void setup(void)
{
	memset(&fd_, 0, sizeof(fd_));
	fd_.vdev = (struct virtio_dev){
		.ops = &fake_ops, .opaque = &fd_, .name = "vblk", .device_id = 2,
		.nr_queues = 2, .queue_max = 256, .config_size = sizeof(fd_.config),
		.features = FAKE_FEATURES,
	};
	for (unsigned int i = 0; i < sizeof(fd_.config); i++)
		fd_.config[i] = (uint8_t)(0xa0 + i);
	ram = aligned_alloc(4096, RAM_SIZE);
	cr_assert_not_null(ram);
	memset(&mem, 0, sizeof(mem));
	cr_assert_eq(guest_mem_add(&mem, 0, RAM_SIZE, ram), 0);
	fake_host_init(&host);
	host.pci.mem = &mem;
	cr_assert_eq(virtio_pci_init(&vp, &fd_.vdev, 0x010000, &host.pci), 0);
}

static void teardown(void)
{
	virtio_pci_exit(&vp);
	free(ram);
}

TestSuite(virtio_pci, .init = setup, .fini = teardown);

static uint32_t vcfg_rd(uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	vp.pci.ops->cfg_read(&vp.pci, off, &v, len);
	return v;
}

static void vcfg_wr(uint32_t off, uint32_t len, uint32_t v)
{
	vp.pci.ops->cfg_write(&vp.pci, off, &v, len);
}

static uint64_t bar_rd(uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	vp.pci.ops->bar_read(&vp.pci, 0, off, &v, len);
	return v;
}

static void bar_wr(uint32_t off, uint32_t len, uint64_t v)
{
	vp.pci.ops->bar_write(&vp.pci, 0, off, &v, len);
}

/* Finds the vendor capability of a type; 0 if none. */
static uint8_t find_cap(uint8_t type)
{
	for (uint8_t p = vcfg_rd(PCI_CAPABILITY_LIST, 1), hops = 0; p && hops < 48;
	     p = vcfg_rd(p + 1, 1), hops++)
		if (vcfg_rd(p, 1) == PCI_CAP_ID_VNDR && vcfg_rd(p + 3, 1) == type)
			return p;
	return 0;
}

static void place_and_enable(void)
{
	struct pci_window w32, w64;
	struct pci_dev *devs[] = { &vp.pci };

	pci_window_init(&w32, BAR_ADDR, BAR_ADDR + 0x10000000);
	pci_window_init(&w64, 1ull << 40, 1ull << 41);
	cr_assert_eq(pci_place_bars(devs, 1, &w32, &w64, NULL), 0);
	vcfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

Test(virtio_pci, identity_and_capabilities)
{
	static const struct { uint8_t type; uint32_t off, len; } want[] = {
		{ VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON, sizeof(struct virtio_pci_common_cfg) },
		{ VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY, 2 * VPCI_NOTIFY_MULT },
		{ VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR, 1 },
		{ VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE, 16 },
	};
	uint8_t notify, x = 0;

	cr_assert_eq(vcfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
	cr_assert_eq(vcfg_rd(PCI_DEVICE_ID, 2), 0x1042, "modern id 0x1040 + device id 2");
	cr_assert_geq(vcfg_rd(PCI_REVISION_ID, 1), 1, "revision 1: no legacy interface");
	cr_assert_eq(vcfg_rd(PCI_CLASS_REVISION, 4) >> 8, 0x010000);
	cr_assert_eq(vcfg_rd(PCI_HEADER_TYPE, 1), 0);
	cr_assert(vcfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint8_t c = find_cap(want[i].type);

		cr_assert_neq(c, 0, "no capability of type %u", want[i].type);
		cr_assert_eq(vcfg_rd(c + 4, 1), 0, "BAR0");
		cr_assert_eq(vcfg_rd(c + 8, 4), want[i].off, "type %u offset", want[i].type);
		cr_assert_eq(vcfg_rd(c + 12, 4), want[i].len, "type %u length", want[i].type);
	}
	notify = find_cap(VIRTIO_PCI_CAP_NOTIFY_CFG);
	cr_assert_eq(vcfg_rd(notify + 16, 4), VPCI_NOTIFY_MULT);
	cr_assert_neq(find_cap(VIRTIO_PCI_CAP_PCI_CFG), 0, "the spec's MUST");
	for (uint8_t p = vcfg_rd(PCI_CAPABILITY_LIST, 1), hops = 0; p && hops < 48;
	     p = vcfg_rd(p + 1, 1), hops++)
		if (vcfg_rd(p, 1) == PCI_CAP_ID_MSIX)
			x = p;
	cr_assert_neq(x, 0, "no MSI-X");
	cr_assert_eq((vcfg_rd(x + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1, 3,
		     "a vector per queue and one for config");
	cr_assert_eq(vcfg_rd(x + PCI_MSIX_TABLE, 4), VPCI_MSIX_TABLE);
	cr_assert_eq(vcfg_rd(x + PCI_MSIX_PBA, 4), VPCI_MSIX_PBA);
	/* Read-only identity. */
	vcfg_wr(PCI_VENDOR_ID, 4, 0);
	cr_assert_eq(vcfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
}

Test(virtio_pci, bar_sizing_placement_and_decode)
{
	vcfg_wr(PCI_BASE_ADDRESS_0, 4, ~0u);
	cr_assert_eq(vcfg_rd(PCI_BASE_ADDRESS_0, 4), (uint32_t)~(VPCI_BAR_SIZE - 1));
	vcfg_wr(PCI_BASE_ADDRESS_1, 4, ~0u);
	cr_assert_eq(vcfg_rd(PCI_BASE_ADDRESS_1, 4), 0, "BAR1 unimplemented");
	place_and_enable();
	cr_assert_eq(vcfg_rd(PCI_BASE_ADDRESS_0, 4), BAR_ADDR);
	cr_assert_eq(host.mapped, 1);
	cr_assert_eq(fake_last(&host, EV_MAP)->gpa, BAR_ADDR);
	cr_assert_not(fake_last(&host, EV_MAP)->direct, "every register is trapped");
	vcfg_wr(PCI_COMMAND, 2, 0);
	cr_assert_eq(host.mapped, 0);
}

static uint64_t dev_features(void)
{
	bar_wr(0x00, 4, 0);
	uint64_t lo = bar_rd(0x04, 4);

	bar_wr(0x00, 4, 1);
	return lo | bar_rd(0x04, 4) << 32;
}

static void drv_features(uint64_t f)
{
	bar_wr(0x08, 4, 0);
	bar_wr(0x0c, 4, (uint32_t)f);
	bar_wr(0x08, 4, 1);
	bar_wr(0x0c, 4, (uint32_t)(f >> 32));
}

static uint8_t status(void)
{
	return (uint8_t)bar_rd(0x14, 1);
}

Test(virtio_pci, feature_negotiation)
{
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	cr_assert_eq(dev_features(), FAKE_FEATURES | (1ull << VIRTIO_F_VERSION_1));
	bar_wr(0x00, 4, 7);
	cr_assert_eq(bar_rd(0x04, 4), 0, "feature words past 1 read 0");
	bar_wr(0x14, 1, s);
	/* Legacy (no VERSION_1): refused. */
	drv_features(1ull << 9);
	bar_wr(0x14, 1, s | VIRTIO_CONFIG_S_FEATURES_OK);
	cr_assert_eq(status() & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* A bit we did not offer: refused. */
	drv_features((1ull << VIRTIO_F_VERSION_1) | (1ull << 5));
	bar_wr(0x14, 1, s | VIRTIO_CONFIG_S_FEATURES_OK);
	cr_assert_eq(status() & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* No DRIVER_OK without FEATURES_OK. */
	bar_wr(0x14, 1, s | VIRTIO_CONFIG_S_DRIVER_OK);
	cr_assert_eq(status() & VIRTIO_CONFIG_S_DRIVER_OK, 0);
	cr_assert_eq(fd_.activates, 0);
	/* A subset with VERSION_1: accepted, and the device sees it. */
	drv_features((1ull << VIRTIO_F_VERSION_1) | (1ull << 9));
	bar_wr(0x14, 1, s | VIRTIO_CONFIG_S_FEATURES_OK);
	cr_assert(status() & VIRTIO_CONFIG_S_FEATURES_OK);
	cr_assert_eq(fd_.vdev.driver_features, (1ull << VIRTIO_F_VERSION_1) | (1ull << 9));
}

/* Queue q with its rings at base in guest RAM, vector vec. */
static void setup_queue(uint16_t q, uint16_t size, uint64_t base, uint16_t vec)
{
	bar_wr(0x16, 2, q);
	cr_assert_eq(bar_rd(0x18, 2), 256, "queue size starts at the maximum");
	bar_wr(0x18, 2, size);
	bar_wr(0x1a, 2, vec);
	bar_wr(0x20, 8, base);
	bar_wr(0x28, 8, base + 16ull * size);
	bar_wr(0x30, 8, base + 0x1000);
	bar_wr(0x1c, 2, 1);
}

static void negotiate(void)
{
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	bar_wr(0x14, 1, 0);
	bar_wr(0x14, 1, s);
	drv_features((1ull << VIRTIO_F_VERSION_1) | (1ull << 9));
	bar_wr(0x14, 1, s | VIRTIO_CONFIG_S_FEATURES_OK);
}

static void driver_ok(void)
{
	bar_wr(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

Test(virtio_pci, driver_ok_hands_the_device_its_queues)
{
	const struct fake_event *e;

	place_and_enable();
	negotiate();
	setup_queue(0, 64, 0x10000, 1);
	setup_queue(1, 128, 0x20000, 2);
	bar_wr(0x10, 2, 0);	/* config vector */
	driver_ok();
	cr_assert_eq(fd_.activates, 1);
	cr_assert_eq(fd_.seen_queues, 3);
	cr_assert(status() & VIRTIO_CONFIG_S_DRIVER_OK);
	cr_assert_eq(fd_.vdev.queues[0].vq.size, 64);
	cr_assert_eq(fd_.vdev.queues[1].vq.size, 128);
	cr_assert_eq(fd_.vdev.queues[1].vq.desc_gpa, 0x20000);
	cr_assert_eq(fd_.vdev.queues[0].call_fd, vp.msix.vec[1].fd);
	cr_assert_eq(fd_.vdev.queues[1].call_fd, vp.msix.vec[2].fd);
	cr_assert_geq(fd_.vdev.queues[0].kick_fd, 0);
	/* Each queue's notify address is an ioeventfd on its kick fd. */
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD, 0), 2);
	e = fake_last(&host, EV_IOEVENTFD);
	cr_assert_eq(e->gpa, BAR_ADDR + VPCI_NOTIFY + VPCI_NOTIFY_MULT);
	cr_assert_eq(e->fd, fd_.vdev.queues[1].kick_fd);
	cr_assert_not(e->direct, "MMIO, not port I/O");
	/* Queue registers are frozen once live. */
	bar_wr(0x16, 2, 0);
	bar_wr(0x20, 8, 0x50000);
	cr_assert_eq(bar_rd(0x20, 8), 0x10000);
	cr_assert_eq(fd_.vdev.queues[0].vq.desc_gpa, 0x10000);
	/* A notify write that missed the ioeventfd still kicks. */
	cr_assert_not(readable(fd_.vdev.queues[0].kick_fd));
	cr_assert_eq(vp.notify_exits, 0);
	bar_wr(VPCI_NOTIFY, 4, 0);
	cr_assert(readable(fd_.vdev.queues[0].kick_fd));
	cr_assert_eq(vp.notify_exits, 1, "--stats counts the notify that exited");
}

Test(virtio_pci, rings_outside_ram_need_reset)
{
	uint64_t v;

	place_and_enable();
	negotiate();
	bar_wr(0x10, 2, 0);
	setup_queue(0, 64, 0xfee00000, 1);	/* the LAPIC page, not RAM */
	driver_ok();
	cr_assert_eq(fd_.activates, 0, "device started on a bad ring");
	cr_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	cr_assert_eq(status() & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD, 0), fake_count(&host, EV_IOEVENTFD_OFF, 0));
	cr_assert(readable(vp.msix.vec[0].fd), "config vector not signalled");
	cr_assert_eq(read(vp.msix.vec[0].fd, &v, 8), 8);
	cr_assert_eq(bar_rd(VPCI_ISR, 1), VIRTIO_PCI_ISR_CONFIG);
	cr_assert_eq(bar_rd(VPCI_ISR, 1), 0, "ISR is read-to-clear");
	/* Only a reset clears it; then the driver may try again. */
	bar_wr(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	cr_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	negotiate();
	cr_assert_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	setup_queue(0, 64, 0x10000, 1);
	driver_ok();
	cr_assert_eq(fd_.activates, 1);
}

Test(virtio_pci, reset_stops_the_device_and_forgets_queues)
{
	place_and_enable();
	negotiate();
	setup_queue(0, 64, 0x10000, 1);
	driver_ok();
	cr_assert_eq(fd_.activates, 1);
	bar_wr(0x14, 1, 0);
	cr_assert_eq(fd_.resets, 1);
	cr_assert_eq(status(), 0);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD_OFF, 0), 1);
	cr_assert_eq(fd_.vdev.queues[0].kick_fd, -1);
	cr_assert_not(fd_.vdev.queues[0].enabled);
	bar_wr(0x16, 2, 0);
	cr_assert_eq(bar_rd(0x18, 2), 256);
	cr_assert_eq(bar_rd(0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	cr_assert_eq(bar_rd(0x1c, 2), 0);
	cr_assert_eq(dev_features() & (1ull << VIRTIO_F_VERSION_1), 1ull << VIRTIO_F_VERSION_1);
	bar_wr(0x08, 4, 0);
	cr_assert_eq(bar_rd(0x0c, 4), 0, "driver features forgotten");
}

Test(virtio_pci, notify_ioeventfds_follow_the_bar)
{
	place_and_enable();
	negotiate();
	setup_queue(0, 64, 0x10000, 1);
	driver_ok();
	vcfg_wr(PCI_BASE_ADDRESS_0, 4, BAR_ADDR + 0x100000);
	cr_assert_eq(fake_last(&host, EV_IOEVENTFD_OFF)->gpa, BAR_ADDR + VPCI_NOTIFY);
	cr_assert_eq(fake_last(&host, EV_IOEVENTFD)->gpa, BAR_ADDR + 0x100000 + VPCI_NOTIFY);
	/* Decode off: gone; on: back. */
	vcfg_wr(PCI_COMMAND, 2, 0);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD, 0), fake_count(&host, EV_IOEVENTFD_OFF, 0));
	vcfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD, 0),
		     fake_count(&host, EV_IOEVENTFD_OFF, 0) + 1);
}

/* Found by fuzz_virtio_pci: a refused ioeventfd was deassigned at reset all the same. */
Test(virtio_pci, refused_ioeventfd_is_not_removed)
{
	place_and_enable();
	negotiate();
	setup_queue(0, 64, 0x10000, 1);
	setup_queue(1, 64, 0x20000, 2);
	host.ioeventfd_ret = -ENOSPC;
	driver_ok();
	cr_assert_eq(fd_.activates, 1, "a refused ioeventfd only costs exits");
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD, 0), 0);
	bar_wr(VPCI_NOTIFY, 2, 0);
	cr_assert(readable(fd_.vdev.queues[0].kick_fd), "the trapped notify kicks");
	/* A BAR move registers them now; a reset removes exactly those. */
	host.ioeventfd_ret = 0;
	vcfg_wr(PCI_BASE_ADDRESS_0, 4, BAR_ADDR + 0x100000);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD, 0), 2);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD_OFF, 0), 0);
	bar_wr(0x14, 1, 0);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD_OFF, 0), 2);
	host.ioeventfd_ret = -ENOSPC;
	negotiate();
	setup_queue(0, 64, 0x10000, 1);
	driver_ok();
	bar_wr(0x14, 1, 0);
	cr_assert_eq(fake_count(&host, EV_IOEVENTFD_OFF, 0), 2, "nothing removed that was refused");
}

Test(virtio_pci, msix_table_through_the_bar_routes_vectors)
{
	uint8_t x = vp.msix.cap;

	place_and_enable();
	cr_assert_eq(bar_rd(VPCI_MSIX_TABLE + 12, 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	bar_wr(VPCI_MSIX_TABLE + 16, 4, 0xfee00000);
	bar_wr(VPCI_MSIX_TABLE + 16 + 8, 4, 0x41);
	bar_wr(VPCI_MSIX_TABLE + 16 + 12, 4, 0);
	cr_assert_eq(host.attached, 0, "MSI-X not enabled yet");
	vcfg_wr(x + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(host.attached, 1);
	cr_assert_eq(fake_last(&host, EV_ATTACH)->fd, vp.msix.vec[1].fd);
	cr_assert_eq(fake_last(&host, EV_ROUTE_ADD)->data, 0x41);
	/* Function mask detaches; a signal while masked shows in the PBA. */
	vcfg_wr(x + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cr_assert_eq(host.attached, 0);
	virtio_queue_signal(&(struct virtio_queue){ .call_fd = vp.msix.vec[1].fd });
	cr_assert_eq(bar_rd(VPCI_MSIX_PBA, 8), 2);
	/* A vector with an address outside the LAPIC window never gets a route. */
	bar_wr(VPCI_MSIX_TABLE + 32, 4, 0x1000);
	bar_wr(VPCI_MSIX_TABLE + 32 + 12, 4, 0);
	vcfg_wr(x + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	cr_assert_eq(host.attached, 1);
	cr_assert_eq(host.routes, 1);
}

Test(virtio_pci, device_config_and_needs_reset_from_the_device)
{
	uint64_t v;

	cr_assert_eq(bar_rd(VPCI_DEVICE + 4, 4), 0xa7a6a5a4);
	bar_wr(VPCI_DEVICE + 15, 1, 0x55);
	cr_assert_eq(fd_.config[15], 0x55);
	/* Past the device's config: neither read from nor written to it. */
	bar_wr(VPCI_DEVICE + 16, 4, 1);
	bar_wr(VPCI_DEVICE + 14, 4, 1);
	cr_assert_eq(fd_.max_config_off, 16);
	cr_assert_eq(bar_rd(VPCI_DEVICE + 14, 4), 0);
	/* The I/O thread's broken queue: status bit and config interrupt, no lock needed. */
	bar_wr(0x10, 2, 0);
	virtio_dev_needs_reset(&fd_.vdev);
	cr_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	cr_assert_eq(read(vp.msix.vec[0].fd, &v, 8), 8);
}

Test(virtio_pci, pci_cfg_window_reaches_the_bar)
{
	uint8_t c = find_cap(VIRTIO_PCI_CAP_PCI_CFG);

	vcfg_wr(c + 4, 1, 0);
	vcfg_wr(c + 8, 4, 0x12);		/* num_queues */
	vcfg_wr(c + 12, 4, 2);
	cr_assert_eq(vcfg_rd(c + 16, 2), 2);
	vcfg_wr(c + 8, 4, 0x16);		/* queue_select */
	vcfg_wr(c + 16, 2, 1);
	cr_assert_eq(bar_rd(0x16, 2), 1);
	/* Another BAR number reads nothing. */
	vcfg_wr(c + 4, 1, 3);
	vcfg_wr(c + 8, 4, 0x12);
	cr_assert_eq(vcfg_rd(c + 16, 2), 0);
}

Test(virtio_pci, vectors_past_the_table_read_no_vector)
{
	bar_wr(0x10, 2, 3);	/* 3 vectors: 0-2 */
	cr_assert_eq(bar_rd(0x10, 2), VIRTIO_MSI_NO_VECTOR);
	bar_wr(0x10, 2, 2);
	cr_assert_eq(bar_rd(0x10, 2), 2);
	bar_wr(0x16, 2, 1);
	bar_wr(0x1a, 2, 0x7fff);
	cr_assert_eq(bar_rd(0x1a, 2), VIRTIO_MSI_NO_VECTOR);
}

Test(virtio_pci, status_bits_only_go_away_by_reset)
{
	place_and_enable();
	negotiate();
	setup_queue(0, 64, 0x10000, 1);
	driver_ok();
	cr_assert_eq(fd_.activates, 1);
	/* A driver clearing DRIVER_OK and setting it again does not start a second device. */
	bar_wr(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	cr_assert(status() & VIRTIO_CONFIG_S_DRIVER_OK);
	driver_ok();
	cr_assert_eq(fd_.activates, 1);
	cr_assert_eq(fd_.resets, 0);
}

Test(virtio_pci, hostile_register_traffic)
{
	static const uint32_t sizes[] = { 1, 2, 4, 8 };

	place_and_enable();
	srand(7);
	/* Out-of-range queue: size 0, no vector, writes go nowhere. */
	bar_wr(0x16, 2, 0xffff);
	cr_assert_eq(bar_rd(0x18, 2), 0);
	bar_wr(0x20, 8, 0x1234);
	cr_assert_eq(bar_rd(0x20, 8), 0);
	for (int round = 0; round < 200000; round++) {
		uint32_t off = (uint32_t)rand() % (VPCI_BAR_SIZE + 64);
		uint32_t len = sizes[rand() % 4];
		uint64_t v = (uint64_t)rand() << 32 | (uint64_t)rand();

		/* Status writes of 0 now and then, so resets interleave. */
		if (off == 0x14 && (round & 1))
			v = 0;
		if (rand() & 1)
			bar_wr(off, len, v);
		else
			bar_rd(off, len);
		if ((round & 1023) == 0)
			vcfg_wr((uint32_t)rand() % 256 & ~3u, 4, (uint32_t)rand());
	}
	/* Every activate met a reset or is still live; nothing outside RAM became a ring. */
	cr_assert_leq(fd_.activates, fd_.resets + 1);
	cr_assert_leq(fd_.max_config_off, 16);
	for (unsigned int i = 0; i < 2; i++)
		if (fd_.vdev.queues[i].enabled)
			cr_assert_not_null(guest_mem_ptr(&mem, fd_.vdev.queues[i].vq.desc_gpa, 16));
}
