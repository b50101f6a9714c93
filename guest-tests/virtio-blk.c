// SPDX-License-Identifier: MIT
/*
 * A minimal virtio-blk driver over vfio-vmm's modern virtio-pci transport
 * (run with --disk): it finds the device's capabilities, negotiates
 * features, sets up one split queue with an MSI-X vector, and then writes,
 * flushes and reads back sectors, asks for the serial (GET_ID) and reads
 * past the end of the disk. With mode=hostile on the command line it
 * instead feeds the device broken chains (a loop, a chain longer than the
 * queue, a buffer outside RAM) and checks it survives: the broken queue
 * makes the device ask for a reset (NEEDS_RESET and a configuration
 * interrupt), the rejected buffer fails only its own request, and after a
 * reset the same disk works again.
 *
 * Every request is kicked through the notify address, which the VMM made a
 * KVM ioeventfd: the testbed checks --stats shows no exits there.
 * Options: sector=N (where to write, default 8), seed=N (the pattern),
 * prev=M (first check that sector N holds an earlier run's pattern M: the
 * data reached the image file and survived the VM), mode=ro (the disk is
 * read-only: RO offered, a write fails with IOERR) or mode=hostile.
 */
#include "pt-common.h"

#define VQ_SIZE			16
#define VEC_QUEUE		0x64
#define VEC_CONFIG		0x65
#define SECTORS			8	/* 4 KiB per request */

/* virtio 1.x, from the spec (the guest has no kernel headers). */
#define VIRTIO_ID_BLOCK_PCI	0x1042
#define CAP_COMMON		1
#define CAP_NOTIFY		2
#define CAP_ISR			3
#define CAP_DEVICE		4
#define S_ACK			1
#define S_DRIVER		2
#define S_DRIVER_OK		4
#define S_FEATURES_OK		8
#define S_NEEDS_RESET		0x40
#define F_VERSION_1		(1ull << 32)
#define F_BLK_FLUSH		(1ull << 9)
#define F_BLK_RO		(1ull << 5)
#define T_IN			0
#define T_OUT			1
#define T_FLUSH			4
#define T_GET_ID		8
#define ST_OK			0
#define ST_IOERR		1
#define DESC_NEXT		1
#define DESC_WRITE		2

/* Common configuration offsets. */
#define C_DFSEL		0x00
#define C_DF		0x04
#define C_GFSEL		0x08
#define C_GF		0x0c
#define C_MSIX_CFG	0x10
#define C_NUMQ		0x12
#define C_STATUS	0x14
#define C_QSEL		0x16
#define C_QSIZE		0x18
#define C_QMSIX		0x1a
#define C_QENABLE	0x1c
#define C_QNOTIFY	0x1e
#define C_QDESC		0x20
#define C_QDRIVER	0x28
#define C_QDEVICE	0x30

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct desc ring_desc[VQ_SIZE] __attribute__((aligned(4096)));
static volatile uint16_t ring_avail[2 + VQ_SIZE + 1] __attribute__((aligned(4096)));
static volatile uint32_t ring_used[1 + 2 * VQ_SIZE + 1] __attribute__((aligned(4096)));
static struct blk_req hdr __attribute__((aligned(16)));
static uint8_t data[SECTORS * 512] __attribute__((aligned(4096)));
static uint8_t back[SECTORS * 512] __attribute__((aligned(4096)));
static volatile uint8_t status_byte;

static uint64_t common, notify, isr, devcfg;
static uint32_t notify_mult;
static uint16_t avail_idx, used_seen;
static struct msix_info mx;

static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

static void vec_handler(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
}

static uint64_t cap_addr(uint16_t bdf, uint8_t cap, const struct pt_dev *d)
{
	uint8_t bar = pci_cfg_read8(bdf, cap + 4);

	return bar < PCI_BAR_COUNT ? d->bar[bar].addr + pci_cfg_read32(bdf, cap + 8) : 0;
}

static bool find_caps(uint16_t bdf, const struct pt_dev *d)
{
	for (uint8_t p = pci_cfg_read8(bdf, PCI_CAP_PTR), hops = 0; p && hops < 48;
	     p = pci_cfg_read8(bdf, p + 1), hops++) {
		if (pci_cfg_read8(bdf, p) != 0x09)
			continue;
		switch (pci_cfg_read8(bdf, p + 3)) {
		case CAP_COMMON: common = cap_addr(bdf, p, d); break;
		case CAP_NOTIFY:
			notify = cap_addr(bdf, p, d);
			notify_mult = pci_cfg_read32(bdf, p + 16);
			break;
		case CAP_ISR: isr = cap_addr(bdf, p, d); break;
		case CAP_DEVICE: devcfg = cap_addr(bdf, p, d); break;
		}
	}
	return common && notify && isr && devcfg;
}

/* Reset through FEATURES_OK; true when the device took VERSION_1 (+FLUSH). */
static bool negotiate(uint64_t *offered)
{
	uint64_t f;

	mmio_write8(common + C_STATUS, 0);
	while (mmio_read8(common + C_STATUS))
		cpu_relax();
	mmio_write8(common + C_STATUS, S_ACK | S_DRIVER);
	mmio_write32(common + C_DFSEL, 0);
	f = mmio_read32(common + C_DF);
	mmio_write32(common + C_DFSEL, 1);
	f |= (uint64_t)mmio_read32(common + C_DF) << 32;
	*offered = f;
	f &= F_VERSION_1 | F_BLK_FLUSH;
	mmio_write32(common + C_GFSEL, 0);
	mmio_write32(common + C_GF, (uint32_t)f);
	mmio_write32(common + C_GFSEL, 1);
	mmio_write32(common + C_GF, (uint32_t)(f >> 32));
	mmio_write8(common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return (mmio_read8(common + C_STATUS) & S_FEATURES_OK) && (f & F_VERSION_1);
}

static void queue_start(void)
{
	memset(ring_desc, 0, sizeof(ring_desc));
	memset((void *)ring_avail, 0, sizeof(ring_avail));
	memset((void *)ring_used, 0, sizeof(ring_used));
	avail_idx = used_seen = 0;
	mmio_write16(common + C_MSIX_CFG, 1);
	mmio_write16(common + C_QSEL, 0);
	mmio_write16(common + C_QSIZE, VQ_SIZE);
	mmio_write16(common + C_QMSIX, 0);
	mmio_write64(common + C_QDESC, (uint64_t)(uintptr_t)ring_desc);
	mmio_write64(common + C_QDRIVER, (uint64_t)(uintptr_t)ring_avail);
	mmio_write64(common + C_QDEVICE, (uint64_t)(uintptr_t)ring_used);
	mmio_write16(common + C_QENABLE, 1);
	mmio_write8(common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* Posts the chain starting at head, kicks, waits for the used ring to move. */
static bool submit(uint16_t head)
{
	uint64_t before = idt_count(VEC_QUEUE);
	uint16_t q = mmio_read16(common + C_QNOTIFY);

	ring_avail[2 + avail_idx % VQ_SIZE] = head;
	barrier();
	ring_avail[1] = ++avail_idx;
	barrier();
	mmio_write16(notify + (uint64_t)q * notify_mult, 0);
	if (!idt_wait_count(VEC_QUEUE, before + 1, PT_WAIT_CYCLES))
		return false;
	barrier();
	return (uint16_t)(ring_used[0] >> 16) == ++used_seen;
}

/* header, optional data (device-writable when in), status. */
static bool request(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool in)
{
	unsigned int n = 0;

	hdr = (struct blk_req){ .type = type, .sector = sector };
	status_byte = 0xff;
	ring_desc[n] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), DESC_NEXT, 1 };
	n++;
	if (len) {
		ring_desc[n] = (struct desc){ (uintptr_t)buf, len,
					      DESC_NEXT | (in ? DESC_WRITE : 0), 2 };
		n++;
	}
	ring_desc[n] = (struct desc){ (uintptr_t)&status_byte, 1, DESC_WRITE, 0 };
	return submit(0);
}

static void good_path(const char *cmdline)
{
	const char *s = cmdline_get(cmdline, "sector"), *sd = cmdline_get(cmdline, "seed");
	const char *prev = cmdline_get(cmdline, "prev");
	uint64_t sector = s ? parse_u64(s) : 8, capacity = mmio_read64(devcfg);
	uint32_t seed = sd ? (uint32_t)parse_u64(sd) : 1;
	char id[21] = { 0 };
	bool ok;
	long bad;

	if (prev) {
		uint32_t p = (uint32_t)parse_u64(prev);

		memset(back, 0, sizeof(back));
		ok = request(T_IN, sector, back, sizeof(back), true);
		bad = pt_pattern_bad(back, sizeof(back), p);
		pt_check("blk.persists", ok && status_byte == ST_OK && bad < 0,
			 "sector %lu holds seed %u's pattern: status %u, first mismatch at %ld",
			 sector, p, status_byte, bad);
	}
	pt_pattern_fill(data, sizeof(data), seed);
	ok = request(T_OUT, sector, data, sizeof(data), false);
	pt_check("blk.write", ok && status_byte == ST_OK, "%u bytes at sector %lu: status %u",
		 (unsigned int)sizeof(data), sector, status_byte);
	ok = request(T_FLUSH, 0, NULL, 0, false);
	pt_check("blk.flush", ok && status_byte == ST_OK, "status %u", status_byte);
	memset(back, 0, sizeof(back));
	ok = request(T_IN, sector, back, sizeof(back), true);
	bad = pt_pattern_bad(back, sizeof(back), seed);
	pt_check("blk.read-back", ok && status_byte == ST_OK && bad < 0,
		 "status %u, first mismatch at %ld", status_byte, bad);
	ok = request(T_GET_ID, 0, id, 20, true);
	pt_check("blk.get-id", ok && status_byte == ST_OK && id[0], "serial '%s'", id);
	ok = request(T_IN, capacity, back, 512, true);
	pt_check("blk.past-the-end", ok && status_byte == ST_IOERR,
		 "read at sector %lu of %lu: status %u", capacity, capacity, status_byte);
	printf("BLK capacity %lu sectors, wrote seed %u at sector %lu\n", capacity, seed, sector);
}

/* readonly=on: the device says so, and a write fails without touching the image. */
static void read_only(uint64_t offered)
{
	bool ok;

	pt_pattern_fill(data, sizeof(data), 99);
	ok = request(T_OUT, 0, data, sizeof(data), false);
	pt_check("blk.ro", (offered & F_BLK_RO) && ok && status_byte == ST_IOERR,
		 "RO %soffered, write status %u", offered & F_BLK_RO ? "" : "not ", status_byte);
	ok = request(T_IN, 0, back, 512, true);
	pt_check("blk.ro-read", ok && status_byte == ST_OK, "status %u", status_byte);
}

static bool config_irq_within(uint64_t before)
{
	return idt_wait_count(VEC_CONFIG, before + 1, PT_WAIT_CYCLES);
}

static void hostile(void)
{
	uint64_t before, f;
	bool ok;

	/* A buffer outside RAM (the LAPIC page): that request fails, the queue lives. */
	hdr = (struct blk_req){ .type = T_IN, .sector = 0 };
	status_byte = 0xff;
	ring_desc[0] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), DESC_NEXT, 1 };
	ring_desc[1] = (struct desc){ 0xfee00000, 512, DESC_NEXT | DESC_WRITE, 2 };
	ring_desc[2] = (struct desc){ (uintptr_t)&status_byte, 1, DESC_WRITE, 0 };
	ok = submit(0);
	pt_check("blk.hostile-mmio-buffer", ok && !(mmio_read8(common + C_STATUS) & S_NEEDS_RESET),
		 "request completed: %s, used len %u, device status 0x%x", ok ? "yes" : "no",
		 ring_used[2 + 2 * ((used_seen - 1) % VQ_SIZE)], mmio_read8(common + C_STATUS));
	ok = request(T_IN, 0, back, 512, true);
	pt_check("blk.after-mmio-buffer", ok && status_byte == ST_OK, "status %u", status_byte);

	/* A loop: 0 -> 1 -> 0. The queue is broken: NEEDS_RESET and a config interrupt. */
	before = idt_count(VEC_CONFIG);
	ring_desc[0] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), DESC_NEXT, 1 };
	ring_desc[1] = (struct desc){ (uintptr_t)back, 512, DESC_NEXT | DESC_WRITE, 0 };
	ring_avail[2 + avail_idx % VQ_SIZE] = 0;
	barrier();
	ring_avail[1] = ++avail_idx;
	mmio_write16(notify, 0);
	ok = config_irq_within(before);
	pt_check("blk.hostile-loop", ok && (mmio_read8(common + C_STATUS) & S_NEEDS_RESET),
		 "config interrupt %s, status 0x%x", ok ? "arrived" : "missing",
		 mmio_read8(common + C_STATUS));

	/* Reset, set up again: the disk works. */
	ok = negotiate(&f);
	queue_start();
	ok = ok && request(T_IN, 0, back, 512, true) && status_byte == ST_OK;
	pt_check("blk.reset-recovers", ok, "status after reset 0x%x, read status %u",
		 mmio_read8(common + C_STATUS), status_byte);

	/* A chain longer than the queue: 16 descriptors then index 16 (>= size). */
	before = idt_count(VEC_CONFIG);
	for (uint16_t i = 0; i < VQ_SIZE; i++)
		ring_desc[i] = (struct desc){ (uintptr_t)back, 16, DESC_NEXT | DESC_WRITE,
					      (uint16_t)(i + 1) };
	ring_avail[2 + avail_idx % VQ_SIZE] = 0;
	barrier();
	ring_avail[1] = ++avail_idx;
	mmio_write16(notify, 0);
	ok = config_irq_within(before);
	pt_check("blk.hostile-long-chain", ok && (mmio_read8(common + C_STATUS) & S_NEEDS_RESET),
		 "config interrupt %s, status 0x%x", ok ? "arrived" : "missing",
		 mmio_read8(common + C_STATUS));
	ok = negotiate(&f);
	queue_start();
	ok = ok && request(T_IN, 0, back, 512, true) && status_byte == ST_OK;
	pt_check("blk.reset-recovers-again", ok, "read status %u", status_byte);
}

int main(void)
{
	const char *cmdline = boot_info.cmdline, *mode = cmdline_get(cmdline, "mode");
	struct pt_dev d;
	uint64_t offered = 0;
	bool ok;

	lapic_init();
	idt_set_handler(VEC_QUEUE, vec_handler);
	idt_set_handler(VEC_CONFIG, vec_handler);
	if (!pt_open(0x1af4, VIRTIO_ID_BLOCK_PCI, "blk", &d))
		pt_finish("virtio-blk");
	/* Called first: an argument's evaluation order is unspecified. */
	ok = find_caps((uint16_t)d.bdf, &d);
	pt_check("blk.caps", ok,
		 "common 0x%lx notify 0x%lx (x%u) isr 0x%lx device 0x%lx", common, notify,
		 notify_mult, isr, devcfg);
	if (!common || pci_msix_probe((uint16_t)d.bdf, &mx))
		pt_finish("virtio-blk");
	pci_msix_set_entry(&mx, 0, msi_address(lapic_id()), msi_data(VEC_QUEUE), false);
	pci_msix_set_entry(&mx, 1, msi_address(lapic_id()), msi_data(VEC_CONFIG), false);
	pci_cfg_write16((uint16_t)d.bdf, mx.cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
	irq_enable();
	ok = negotiate(&offered);
	pt_check("blk.features", ok, "offered 0x%lx", offered);
	queue_start();
	pt_check("blk.driver-ok", mmio_read8(common + C_STATUS) & S_DRIVER_OK,
		 "status 0x%x, %u queues", mmio_read8(common + C_STATUS),
		 mmio_read16(common + C_NUMQ));
	if (mode && !strcmp(mode, "hostile"))
		hostile();
	else if (mode && !strcmp(mode, "ro"))
		read_only(offered);
	else
		good_path(cmdline);
	pt_finish("virtio-blk");
}
