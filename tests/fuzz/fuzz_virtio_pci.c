// SPDX-License-Identifier: MIT
/*
 * The virtio-pci transport (devices/virtio/virtio_pci.c: config space with
 * its vendor capabilities and the PCI_CFG window, the common, ISR, device
 * and notify structures in BAR0, MSI-X through the shared table, queue
 * setup, device status, reset) with a minimal test device behind it and
 * the checking host of fuzz_host.c, driven by a hostile driver. Guest RAM
 * is two heap blocks of exactly their size (ASan sees any byte past them):
 * 64 KiB at 0 and 16 KiB at 4 GiB.
 *
 * Input: two setup bytes (queues 1-4 and their maximum size 2-256; the
 * device config size 0-16, offered features, activate failing, --trace),
 * then operations, an operation byte and its operands:
 *   0 BAR0 read at any offset, 1-8 bytes (through the host's map when the
 *     BAR is there)                           1 BAR0 write
 *   2 a common configuration field written (feature selects and words, MSI-X
 *     config vector, status, queue select, size, vector, enable, ring
 *     addresses)                              3 status written
 *   4 a driver's whole bring-up: reset, ACKNOWLEDGE|DRIVER, features,
 *     FEATURES_OK, each queue with rings in RAM (or not), DRIVER_OK
 *   5 ISR read    6 device config read or write (offset and size)
 *   7 a queue notify    8 config space read or write (incl. the PCI_CFG
 *     window and MSI-X control)    9 BAR0 placed (an address that matters)
 *  10 MSI-X table or PBA access   11 16 bytes written into guest RAM
 *  12 the device serves a queue (pops, writes its buffers, pushes,
 *     signals) or reports it broken   13 the host's next call fails
 *  14 the device closed and set up again
 *
 * Invariants, beyond the host's own (fuzz_host.h):
 *  - status: a bit goes away only when the driver writes 0, and then
 *    the device was reset if it ran, no queue is enabled, every queue
 *    register is at its reset value, no kick fd and no ioeventfd remain;
 *    FEATURES_OK only for a feature set with VERSION_1 and nothing not
 *    offered; DRIVER_OK only with FEATURES_OK; NEEDS_RESET appears only
 *    when the device reports a broken queue or DRIVER_OK could not start
 *    the device, and a DRIVER_OK that did not start it shows NEEDS_RESET;
 *  - a running device has each enabled queue set up with its rings wholly
 *    inside one RAM block, a live kick eventfd registered as an ioeventfd
 *    at BAR0 + 0x3000 + 4q while BAR0 is mapped (and nowhere else), the
 *    call fd its MSI-X vector's eventfd; a stopped one has neither;
 *  - every buffer the device is handed lies inside guest RAM; device config
 *    accesses stay inside config_size;
 *  - BAR0 mapped exactly where the guest's decode says (fh_check_bars);
 *    MSI-X vectors attached exactly when enabled, unmasked and valid, their
 *    routes carrying their table entries;
 *  - config space changes only in the bits a driver may write (command,
 *    BAR0 address, interrupt line, the PCI_CFG window, MSI-X control);
 *  - at the end (virtio_pci_exit) nothing is mapped, routed, attached or
 *    registered, no eventfd is open and the fd count is as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "devices/virtio/virtio_pci.h"
#include "tests/fuzz/fuzz_host.h"
#include "tests/fuzz/fuzz_input.h"
#include "util/log.h"

#define MAX_OPS		512
#define LOW_SIZE	0x10000ull
#define HIGH_GPA	0x100000000ull
#define HIGH_SIZE	0x4000ull
#define ST_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

static uint8_t *low, *high;
static struct guest_mem mem;
static struct fuzz_host host;
static struct virtio_pci vp;
static bool verbose;
static uint8_t sink;		/* the bytes the device reads go here */

/* The test device. */
static struct {
	struct virtio_dev vdev;
	uint8_t config[16];
	unsigned int activates, resets;
	int activate_ret;
	bool reported;		/* it called virtio_dev_needs_reset in this operation */
} dev;

/* What the target knows of the driver's side. */
static uint8_t cfg0[PCI_CFG_SPACE_SIZE];	/* config space after init */
static uint8_t cfg_ok[PCI_CFG_SPACE_SIZE];	/* bits a driver may change */
static bool wrote_zero;		/* status 0 written in this operation */
static bool wrote_status;	/* a status byte was written in this operation */

static int dev_activate(struct virtio_dev *v)
{
	dev.activates++;
	for (unsigned int i = 0; i < v->nr_queues; i++)
		if (v->queues[i].enabled)
			FUZZ_CHECK(v->queues[i].vq.ready, "activate: queue %u enabled, not set up", i);
	return dev.activate_ret;
}

static void dev_reset(struct virtio_dev *v)
{
	(void)v;
	dev.resets++;
}

static void dev_config_read(struct virtio_dev *v, uint32_t off, void *data, uint32_t len)
{
	FUZZ_CHECK(len <= v->config_size && off <= v->config_size - len,
		   "device config read at %u len %u, size %u", off, len, v->config_size);
	memcpy(data, dev.config + off, len);
}

static void dev_config_write(struct virtio_dev *v, uint32_t off, const void *data, uint32_t len)
{
	FUZZ_CHECK(len <= v->config_size && off <= v->config_size - len,
		   "device config write at %u len %u, size %u", off, len, v->config_size);
	memcpy(dev.config + off, data, len);
}

static const struct virtio_dev_ops dev_ops = {
	.activate = dev_activate,
	.reset = dev_reset,
	.config_read = dev_config_read,
	.config_write = dev_config_write,
};

/* ---- guest RAM ---- */

FUZZ_CHECKER
static bool in_ram(const void *p, uint64_t len)
{
	const uint8_t *b = p;

	return (b >= low && len <= LOW_SIZE && b - low <= (ptrdiff_t)(LOW_SIZE - len)) ||
	       (b >= high && len <= HIGH_SIZE && b - high <= (ptrdiff_t)(HIGH_SIZE - len));
}

/* ---- accesses, all through here so the target knows what the driver wrote ---- */

FUZZ_CHECKER
static uint8_t status(void)
{
	return __atomic_load_n(&vp.status, __ATOMIC_ACQUIRE);
}

/* Does a BAR0 write of len bytes at off reach the status byte, and with what? */
static void note_bar_write(uint64_t off, const void *data, uint32_t len)
{
	if (off <= 0x14 && 0x14 < off + len && len <= 8 && off + len <= 0x40) {
		uint8_t v = ((const uint8_t *)data)[0x14 - off];

		wrote_status = true;
		wrote_zero |= v == 0;
	}
}

static void bar_rw(uint64_t off, void *data, uint32_t len, bool write, bool via_map)
{
	if (verbose)
		fprintf(fuzz_stderr, "  BAR0 %s +%#llx len %u\n", write ? "write" : "read",
			(unsigned long long)off, len);
	if (write)
		note_bar_write(off, data, len);
	if (via_map && vp.pci.bars[0].mapped && off < VPCI_BAR_SIZE)
		fh_access(&host, false, vp.pci.bars[0].mapped_addr + off, data, len, write);
	else if (write)
		vp.pci.ops->bar_write(&vp.pci, 0, off, data, len);
	else
		vp.pci.ops->bar_read(&vp.pci, 0, off, data, len);
}

static void bar_wr(uint64_t off, uint32_t len, uint64_t v)
{
	bar_rw(off, &v, len, true, false);
}

static uint64_t bar_rd(uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	bar_rw(off, &v, len, false, false);
	return v;
}

static uint32_t cfg_rd(uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	vp.pci.ops->cfg_read(&vp.pci, off, &v, len);
	return v;
}

static void cfg_wr(uint32_t off, uint32_t len, uint32_t v)
{
	uint8_t c = vp.pci_cfg_cap;

	/* A PCI_CFG window write is a BAR0 write of the length the driver set up. */
	if (off == c + 16u && cfg_rd(c + 4, 1) == 0 && cfg_rd(c + 12, 4) == len)
		note_bar_write(cfg_rd(c + 8, 4), &v, len);
	vp.pci.ops->cfg_write(&vp.pci, off, &v, len);
}

/* ---- checks ---- */

FUZZ_CHECKER
static void cfg_ok_init(void)
{
	uint8_t c = vp.pci_cfg_cap, x = vp.msix.cap;

	memset(cfg_ok, 0, sizeof(cfg_ok));
	/* Command: memory decode, bus master, INTx disable (there is no I/O BAR). */
	cfg_ok[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	cfg_ok[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	/* BAR0: the address bits of a 32 KiB BAR. */
	cfg_ok[PCI_BASE_ADDRESS_0 + 1] = 0x80;
	cfg_ok[PCI_BASE_ADDRESS_0 + 2] = 0xff;
	cfg_ok[PCI_BASE_ADDRESS_0 + 3] = 0xff;
	cfg_ok[PCI_INTERRUPT_LINE] = 0xff;
	/* The PCI_CFG window: bar, offset, length (data is not stored). */
	cfg_ok[c + 4] = 0xff;
	memset(cfg_ok + c + 8, 0xff, 8);
	/* MSI-X control: enable and function mask. */
	cfg_ok[x + PCI_MSIX_FLAGS + 1] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
}

FUZZ_CHECKER
static void check_config(void)
{
	for (unsigned int o = 0; o < PCI_CFG_SPACE_SIZE; o++)
		FUZZ_CHECK(!((vp.cfg[o] ^ cfg0[o]) & ~cfg_ok[o]),
			   "config byte %#x went %#04x -> %#04x", o, cfg0[o], vp.cfg[o]);
}

FUZZ_CHECKER
static void check_msix(void)
{
	const struct msix *x = &vp.msix;
	uint16_t ctrl = cfg_rd(x->cap + PCI_MSIX_FLAGS, 2);

	for (unsigned int i = 0; i < x->nr; i++) {
		const uint32_t *e = &x->table[4 * i];
		uint64_t addr = e[0] | (uint64_t)e[1] << 32;
		bool active = (ctrl & PCI_MSIX_FLAGS_ENABLE) && !(ctrl & PCI_MSIX_FLAGS_MASKALL) &&
			      !(e[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) && (addr >> 20) == 0xfee;
		const struct pci_vector *v = &x->vec[i];

		FUZZ_CHECK(v->fd >= 0, "MSI-X vector %u lost its eventfd", i);
		if (v->attached) {
			const struct fh_route *r = fh_route(&host, v->gsi);

			FUZZ_CHECK(active, "MSI-X vector %u attached, masked or invalid", i);
			FUZZ_CHECK(r && r->irqfd == v->fd && r->addr == addr && r->data == e[2],
				   "MSI-X vector %u: route is not its entry %#llx/%#x", i,
				   (unsigned long long)addr, e[2]);
		} else {
			FUZZ_CHECK(!active || host.failed, "MSI-X vector %u active, not attached", i);
		}
	}
}

FUZZ_CHECKER
static void check_queues(bool active)
{
	const struct pci_bar *bar = &vp.pci.bars[0];
	unsigned int kicks = 0;

	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		const struct virtio_queue *q = &dev.vdev.queues[i];
		const struct virtio_pci_queue_regs *r = &vp.q[i];

		if (!active || i >= dev.vdev.nr_queues || !r->enable) {
			FUZZ_CHECK(q->kick_fd < 0 && !q->enabled,
				   "queue %u has a kick fd or is enabled, device %s", i,
				   active ? "running, queue off" : "stopped");
			continue;
		}
		FUZZ_CHECK(q->enabled && q->vq.ready, "running device, queue %u not set up", i);
		FUZZ_CHECK(in_ram(q->vq.desc, 16ull * q->vq.size) &&
			   in_ram(q->vq.avail, 6 + 2ull * q->vq.size) &&
			   in_ram(q->vq.used, 6 + 8ull * q->vq.size),
			   "queue %u: rings outside guest RAM", i);
		FUZZ_CHECK(q->kick_fd >= 0, "queue %u: no kick fd", i);
		FUZZ_CHECK(q->call_fd == (r->msix_vector < vp.nr_vectors ?
					  vp.msix.vec[r->msix_vector].fd : -1),
			   "queue %u: call fd %d is not vector %u's", i, q->call_fd, r->msix_vector);
		kicks++;
		if (bar->mapped && !host.failed) {
			bool found = false;

			for (unsigned int k = 0; k < FH_MAX_IOEV; k++)
				found |= host.ioev[k].used && host.ioev[k].fd == q->kick_fd &&
					 host.ioev[k].gpa == bar->mapped_addr + VPCI_NOTIFY +
					 VPCI_NOTIFY_MULT * i && host.ioev[k].len == 2 &&
					 !host.ioev[k].io;
			FUZZ_CHECK(found, "queue %u: no ioeventfd at BAR0 %#llx + notify", i,
				   (unsigned long long)bar->mapped_addr);
		}
	}
	FUZZ_CHECK(fh_ioeventfds(&host) <= (bar->mapped ? kicks : 0),
		   "%u ioeventfds, %u kick fds, BAR0 %s", fh_ioeventfds(&host), kicks,
		   bar->mapped ? "mapped" : "off the bus");
}

FUZZ_CHECKER
static void check_all(uint8_t before, unsigned int resets_before, bool active_before)
{
	/* A reset in the operation: what follows it starts from 0. */
	uint8_t st = status(), lost = before & ~st, base = wrote_zero ? 0 : before;
	uint8_t gained = st & ~base;
	uint64_t offered = dev.vdev.features | (1ull << VIRTIO_F_VERSION_1);
	uint8_t hdr[0x40];

	if (lost) {
		FUZZ_CHECK(wrote_zero, "status %#x -> %#x without a reset", before, st);
	}
	if (wrote_zero && st == 0) {
		FUZZ_CHECK(!vp.active, "reset, device still active");
		FUZZ_CHECK(dev.resets - resets_before == active_before,
			   "reset: %u device resets, the device %s", dev.resets - resets_before,
			   active_before ? "ran" : "was stopped");
		for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
			FUZZ_CHECK(!vp.q[i].enable && vp.q[i].size == dev.vdev.queue_max &&
				   vp.q[i].msix_vector == VIRTIO_MSI_NO_VECTOR && !vp.q[i].desc &&
				   !vp.q[i].driver && !vp.q[i].device,
				   "after reset queue %u is not at its reset values", i);
		FUZZ_CHECK(!fh_ioeventfds(&host), "after reset %u ioeventfds remain",
			   fh_ioeventfds(&host));
		FUZZ_CHECK(vp.config_vector == VIRTIO_MSI_NO_VECTOR && !vp.drv_features,
			   "after reset the config vector or driver features remain");
	}
	if (st & VIRTIO_CONFIG_S_FEATURES_OK) {
		uint64_t f = dev.vdev.driver_features;

		FUZZ_CHECK((f & (1ull << VIRTIO_F_VERSION_1)) && !(f & ~offered),
			   "FEATURES_OK with features %#llx (offered %#llx)", (unsigned long long)f,
			   (unsigned long long)offered);
	}
	FUZZ_CHECK(!(st & VIRTIO_CONFIG_S_DRIVER_OK) || (st & VIRTIO_CONFIG_S_FEATURES_OK),
		   "DRIVER_OK without FEATURES_OK (status %#x)", st);
	if (gained & ST_NEEDS_RESET)
		FUZZ_CHECK(dev.reported || ((gained & VIRTIO_CONFIG_S_DRIVER_OK) && !vp.active),
			   "NEEDS_RESET out of nowhere (status %#x -> %#x)", base, st);
	if ((gained & VIRTIO_CONFIG_S_DRIVER_OK) && !(base & ST_NEEDS_RESET))
		FUZZ_CHECK(vp.active || (st & ST_NEEDS_RESET),
			   "DRIVER_OK did not start the device and the driver is not told");
	FUZZ_CHECK(!vp.active || (st & VIRTIO_CONFIG_S_DRIVER_OK), "active without DRIVER_OK");
	FUZZ_CHECK(!wrote_status || (bar_rd(0x14, 1) == status()), "status reads back otherwise");
	check_queues(vp.active);
	for (unsigned int o = 0; o < 0x40; o += 4) {
		uint32_t v = cfg_rd(o, 4);

		memcpy(hdr + o, &v, 4);
	}
	fh_check_bars(&host, &vp.pci, hdr, false);
	check_msix();
	check_config();
}

/* ---- operations ---- */

static uint64_t ring_addr(struct fuzz_in *in, uint32_t align)
{
	uint8_t sel = fuzz_u8(in);
	uint64_t v = fuzz_u16(in);

	switch (sel & 3) {
	case 0: return (v % LOW_SIZE) & ~(uint64_t)(align - 1);
	case 1: return HIGH_GPA + ((v % HIGH_SIZE) & ~(uint64_t)(align - 1));
	case 2: return LOW_SIZE - (v & 0xff);	/* across the end of RAM */
	default: return fuzz_u64(in);
	}
}

static void driver_bringup(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	uint64_t f = (dev.vdev.features & fuzz_u64(in)) | (1ull << VIRTIO_F_VERSION_1);

	if (sel & 1)
		f ^= 1ull << (fuzz_u8(in) & 63);	/* maybe something not offered */
	bar_wr(0x14, 1, 0);
	bar_wr(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	bar_wr(0x08, 4, 0);
	bar_wr(0x0c, 4, (uint32_t)f);
	bar_wr(0x08, 4, 1);
	bar_wr(0x0c, 4, (uint32_t)(f >> 32));
	bar_wr(0x14, 1, status() | VIRTIO_CONFIG_S_FEATURES_OK);
	bar_wr(0x10, 2, fuzz_u8(in) % (vp.nr_vectors + 1));
	for (unsigned int q = 0; q < dev.vdev.nr_queues; q++) {
		uint8_t qs = fuzz_u8(in);

		bar_wr(0x16, 2, q);
		bar_wr(0x18, 2, 1u << (qs & 15));
		bar_wr(0x1a, 2, (qs >> 4) % (vp.nr_vectors + 1));
		bar_wr(0x20, 8, ring_addr(in, 16));
		bar_wr(0x28, 8, ring_addr(in, 2));
		bar_wr(0x30, 8, ring_addr(in, 4));
		bar_wr(0x1c, 2, !(qs & 0x80) || (sel & 2));
	}
	if (sel & 4) {
		/* Vectors usable: MSI-X on, every entry to the LAPIC, unmasked. */
		cfg_wr(vp.msix.cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
		for (unsigned int v = 0; v < vp.nr_vectors; v++) {
			bar_wr(VPCI_MSIX_TABLE + 16 * v, 4, 0xfee00000);
			bar_wr(VPCI_MSIX_TABLE + 16 * v + 8, 4, 0x30 + v);
			bar_wr(VPCI_MSIX_TABLE + 16 * v + 12, 4, 0);
		}
	}
	bar_wr(0x14, 1, status() | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void serve_queue(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	struct virtio_queue *q = &dev.vdev.queues[sel % dev.vdev.nr_queues];
	struct virtq_seg segs[16];
	struct virtq_req req = { .segs = segs, .max_segs = 1 + (sel >> 4 & 15) };
	int ret;

	if (!vp.active || !q->enabled)
		return;
	if (sel & 8) {
		dev.reported = true;
		virtio_dev_needs_reset(&dev.vdev);
		return;
	}
	for (unsigned int n = 0; n < 8; n++) {
		ret = virtq_pop(&q->vq, &req);
		if (ret == VIRTQ_POP_EMPTY)
			break;
		if (ret < 0) {
			/* What a device does with a broken queue. */
			dev.reported = true;
			virtio_dev_needs_reset(&dev.vdev);
			return;
		}
		for (unsigned int s = 0; ret == VIRTQ_POP_REQ && s < req.nr_readable + req.nr_writable;
		     s++) {
			FUZZ_CHECK(in_ram(segs[s].hva, segs[s].len), "segment %u outside guest RAM", s);
			/* Touch every byte: ASan reports one past the RAM blocks. */
			if (segs[s].device_writable)
				memset(segs[s].hva, 0xd0, segs[s].len);
			else
				for (uint32_t b = 0; b < segs[s].len; b++)
					sink ^= ((volatile uint8_t *)segs[s].hva)[b];
		}
		FUZZ_CHECK(!virtq_push(&q->vq, req.head,
				       ret == VIRTQ_POP_REQ ? req.writable_len : 0),
			   "push of a popped head refused");
	}
	if (virtq_needs_notify(&q->vq))
		virtio_queue_signal(q);
}

static bool open_device(uint8_t s0, uint8_t s1, uint8_t s2)
{
	static const uint64_t feats[4] = {
		0, 1ull << 28, (1ull << 29) | (1ull << 9), (1ull << 28) | (1ull << 29) | (1ull << 1),
	};

	memset(&dev, 0, sizeof(dev));
	dev.vdev = (struct virtio_dev){
		.ops = &dev_ops, .name = "vtest", .device_id = 2, .nr_queues = 1 + (s0 & 3),
		.queue_max = 2u << (s0 >> 2 & 7), .config_size = s1 % 17,
		.features = feats[s1 >> 5 & 3],
	};
	for (unsigned int i = 0; i < sizeof(dev.config); i++)
		dev.config[i] = (uint8_t)(0xa0 + i);
	dev.activate_ret = s2 & 1 ? -EIO : 0;
	if (virtio_pci_init(&vp, &dev.vdev, 0x010000, &host.pci))
		return false;
	memcpy(cfg0, vp.cfg, sizeof(cfg0));
	cfg_ok_init();
	return true;
}

static void run_ops(struct fuzz_in *in, uint8_t s0, uint8_t s1, uint8_t s2)
{
	for (unsigned int n = 0; n < MAX_OPS && fuzz_more(in); n++) {
		uint8_t op = fuzz_u8(in) % 15, before = status(), sel;
		unsigned int resets = dev.resets;
		bool active = vp.active;
		uint64_t v, off;
		uint32_t len;

		if (verbose)
			fprintf(fuzz_stderr, "op %u: %u (status %#x)\n", n, op, before);
		wrote_zero = wrote_status = dev.reported = false;
		switch (op) {
		case 0:
		case 1:
			sel = fuzz_u8(in);
			off = sel & 0x80 ? fuzz_u16(in) : fuzz_u8(in) % 0x48;
			v = fuzz_u64(in);
			bar_rw(off, &v, 1 + (sel & 7), op == 1, sel & 0x40);
			break;
		case 2: {
			static const uint8_t fields[][2] = {
				{ 0x00, 4 }, { 0x08, 4 }, { 0x0c, 4 }, { 0x10, 2 }, { 0x14, 1 },
				{ 0x16, 2 }, { 0x18, 2 }, { 0x1a, 2 }, { 0x1c, 2 }, { 0x20, 8 },
				{ 0x28, 8 }, { 0x30, 8 }, { 0x1e, 2 }, { 0x12, 2 },
			};
			const uint8_t *f = fields[fuzz_u8(in) % 14];

			bar_wr(f[0], f[1], fuzz_u64(in));
			break;
		}
		case 3:
			bar_wr(0x14, 1, fuzz_u8(in));
			break;
		case 4:
			driver_bringup(in);
			break;
		case 5:
			bar_rd(VPCI_ISR, 1);
			break;
		case 6:
			sel = fuzz_u8(in);
			off = VPCI_DEVICE + fuzz_u8(in) % 20;
			v = fuzz_u64(in);
			bar_rw(off, &v, 1 + (sel & 7), sel & 8, sel & 16);
			break;
		case 7:
			sel = fuzz_u8(in);
			v = 1;
			bar_rw(VPCI_NOTIFY + 4 * (sel % 6) + (sel >> 3 & 3), &v,
			       sel & 0x20 ? 4 : 2, true, sel & 0x40);
			break;
		case 8: {
			static const uint32_t lens[] = { 1, 2, 4 };

			sel = fuzz_u8(in);
			off = fuzz_u16(in) % (PCI_CFG_SPACE_SIZE + 8);
			len = lens[sel % 3];
			off &= ~(uint64_t)(len - 1);
			v = fuzz_u32(in);
			if (sel & 4)
				cfg_wr((uint32_t)off, len, (uint32_t)v);
			else
				cfg_rd((uint32_t)off, len);
			break;
		}
		case 9: {
			static const uint64_t addrs[] = {
				0, 0x8000, 0xc0000000, 0xfee00000, 0xffff8000, 0xfffff000, HIGH_GPA,
			};

			sel = fuzz_u8(in);
			v = sel & 8 ? fuzz_u32(in) : addrs[sel % 7];
			cfg_wr(PCI_BASE_ADDRESS_0, 4, (uint32_t)v);
			cfg_wr(PCI_COMMAND, 2, sel & 0x10 ? 0 : PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
			break;
		}
		case 10:
			sel = fuzz_u8(in);
			off = (sel & 8 ? VPCI_MSIX_PBA : VPCI_MSIX_TABLE) + fuzz_u8(in) % 0x50;
			len = 1u << (sel & 3);
			off &= ~(uint64_t)(len - 1);
			v = fuzz_u64(in);
			bar_rw(off, &v, len, sel & 4, sel & 16);
			break;
		case 11: {
			uint8_t buf[16];
			uint16_t at = fuzz_u16(in);

			for (unsigned int i = 0; i < 16; i++)
				buf[i] = fuzz_u8(in);
			if (at & 0x8000)
				memcpy(high + ((at & 0x7fff) % (HIGH_SIZE - 15)), buf, 16);
			else
				memcpy(low + ((uint64_t)at * 2 % (LOW_SIZE - 15)), buf, 16);
			break;
		}
		case 12:
			serve_queue(in);
			break;
		case 13:
			host.fail[fuzz_u8(in) % FH_NR_FAIL] = true;
			host.failed = true;
			break;
		case 14:
			virtio_pci_exit(&vp);
			fh_check_empty(&host, "exit in the middle");
			if (!open_device(s0, s1, s2))
				fuzz_fail("virtio_pci_init failed on a reopen");
			before = status();
			resets = dev.resets;
			active = false;
			break;
		}
		check_all(before, resets, active);
	}
}

/*
 * A 16 MB quarantine instead of ASan's 256, as fuzz_passthrough has: an
 * input allocates far less, so a use after free inside one input is still
 * caught, and freed memory comes back warm instead of as fresh pages.
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
	/*
	 * Guest RAM for the whole run, zeroed again for each input: a fresh
	 * 80 KiB per input was page faults into new memory for most of the
	 * run (ASan's quarantine keeps freed blocks away for a long time).
	 * Page-aligned as guest_mem wants; exactly the RAM's size, so ASan
	 * sees past it.
	 */
	low = aligned_alloc(4096, LOW_SIZE);
	high = aligned_alloc(4096, HIGH_SIZE);
	if (!low || !high) {
		fprintf(fuzz_stderr, "fuzz_virtio_pci: no memory for guest RAM\n");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t s0 = fuzz_u8(&in), s1 = fuzz_u8(&in), s2 = fuzz_u8(&in);
	int fds = fh_fd_count();

	memset(low, 0, LOW_SIZE);
	memset(high, 0, HIGH_SIZE);
	memset(&mem, 0, sizeof(mem));
	FUZZ_CHECK(!guest_mem_add(&mem, 0, LOW_SIZE, low) &&
		   !guest_mem_add(&mem, HIGH_GPA, HIGH_SIZE, high), "guest_mem_add");
	fh_init(&host, &mem);
	log_enabled = s2 & 2 ? LOG_PCI | LOG_IRQ : 0;
	FUZZ_CHECK(open_device(s0, s1, s2), "virtio_pci_init failed");
	check_all(0, 0, false);
	run_ops(&in, s0, s1, s2);
	virtio_pci_exit(&vp);
	fh_check_empty(&host, "after exit");
	FUZZ_CHECK(fh_fd_count() == fds, "%d file descriptors before, %d after", fds,
		   fh_fd_count());
	log_enabled = 0;
	return 0;
}
