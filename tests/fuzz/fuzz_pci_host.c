// SPDX-License-Identifier: MIT
/*
 * devices/pci_host.c as a guest reaches it: CF8/CFC port accesses and ECAM
 * MMIO of every size and offset, plus direct pci_cfg_read/write calls, on a
 * root bus with the host bridge and one or two test devices. For each access
 * the target works out which config accesses the devices must see (from
 * mechanism #1 and the ECAM layout, independently of pci_host.c) and aborts
 * unless they see exactly those. Whatever the guest does, a device callback
 * only gets len 1, 2 or 4, naturally aligned, inside its 4 KiB config space,
 * and below 256 bytes when it came through CF8/CFC. The first input byte
 * also turns --trace pci on or off, so the trace lines' decoding is run too,
 * and can put the second test device behind a PCIe root port (at 00:02.0,
 * bus numbers 1/1 as firmware sets them): then every write the guest makes
 * to the port's bus registers is followed, and the model routes bus N to
 * that device only when N is the port's secondary bus, N != 0, subordinate
 * >= secondary and the function is 00.0, whatever the guest wrote there.
 */
#include "devices/pci.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/layout.h"
#include "util/log.h"

#define CF8_ENABLE	0x80000000u

struct test_dev {
	struct pci_dev dev;
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
};

struct cfg_access {
	uint8_t devfn;
	uint32_t off, len;
	bool write;
	uint8_t data[4];
};

static struct bus pio, mmio;
static struct pci_root root;
static struct test_dev tdevs[2];
static unsigned int nr_tdevs;
static bool behind_port;	/* tdevs[1] is below root.ports[0] */
static uint32_t cf8_model;
static bool via_cf8;

/* What the devices saw during one guest access (at most two: a qword). */
static struct cfg_access seen[4];
static unsigned int nr_seen;

/* Whatever the guest did, this is all a device may ever be asked. */
static void check_args(const struct pci_dev *d, uint32_t off, uint32_t len)
{
	FUZZ_CHECK(len == 1 || len == 2 || len == 4, "%s: config access of %u bytes", d->name,
		   len);
	FUZZ_CHECK(off % len == 0, "%s: config access +%#x/%u crosses a dword", d->name, off, len);
	FUZZ_CHECK((uint64_t)off + len <= PCI_CFG_SPACE_EXP_SIZE,
		   "%s: config access +%#x/%u past 4 KiB", d->name, off, len);
	FUZZ_CHECK(!via_cf8 || (uint64_t)off + len <= PCI_CFG_SPACE_SIZE,
		   "%s: CF8/CFC reached +%#x/%u, past the first 256 bytes", d->name, off, len);
	FUZZ_CHECK(nr_seen < 4, "%s: more config accesses than the guest made", d->name);
}

static void record(const struct pci_dev *d, uint32_t off, const void *data, uint32_t len,
		   bool write)
{
	struct cfg_access *a = &seen[nr_seen++];

	*a = (struct cfg_access){ .devfn = d->devfn, .off = off, .len = len, .write = write };
	memcpy(a->data, data, len);
}

static void tdev_read(struct pci_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct test_dev *t = d->opaque;

	/* Checked first: ASan cannot see a stray offset that stays inside tdevs[]. */
	check_args(d, off, len);
	memcpy(data, t->cfg + off, len);
	record(d, off, data, len, false);
}

static void tdev_write(struct pci_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct test_dev *t = d->opaque;

	check_args(d, off, len);
	record(d, off, data, len, true);
	memcpy(t->cfg + off, data, len);
}

static const struct pci_dev_ops tdev_ops = { .cfg_read = tdev_read, .cfg_write = tdev_write };

/* The model's routing: which test device a config request reaches. */
static const struct test_dev *tdev_at(uint8_t bus, uint8_t devfn)
{
	uint8_t sec, sub;

	if (bus == 0) {
		for (unsigned int i = 0; i < nr_tdevs; i++)
			if (!(behind_port && i == 1) && tdevs[i].dev.devfn == devfn)
				return &tdevs[i];
		return NULL;
	}
	if (!behind_port)
		return NULL;
	sec = root.ports[0]->cfg[0x19];
	sub = root.ports[0]->cfg[0x1a];
	return sec && bus == sec && sub >= sec && devfn == 0 ? &tdevs[1] : NULL;
}

/* Someone answers: the host bridge, the port, or a test device. */
static bool answered(uint8_t bus, uint8_t devfn)
{
	if (bus == 0 && (devfn == 0 || (behind_port && devfn == root.ports[0]->dev.devfn)))
		return true;
	return tdev_at(bus, devfn) != NULL;
}

static bool cfg_valid(uint32_t reg, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && reg % len == 0 &&
	       (uint64_t)reg + len <= PCI_CFG_SPACE_EXP_SIZE;
}

/*
 * The model: the device access one config request must turn into (returns
 * 1, or 0 for none), and which bytes of the guest's buffer someone answers:
 * a test device, the host bridge at 00.0 or the root port. The rest must
 * read all-ones.
 */
static unsigned int expect(struct cfg_access *out, uint8_t bus, uint8_t devfn, uint32_t reg,
			   uint32_t len, bool write, bool *claimed)
{
	if (!cfg_valid(reg, len))
		return 0;
	if (answered(bus, devfn))
		memset(claimed, 1, len);
	if (!tdev_at(bus, devfn))
		return 0;
	*out = (struct cfg_access){ .devfn = devfn, .off = reg, .len = len, .write = write };
	return 1;
}

/*
 * Compares what the devices saw with the model, that the bytes a device
 * returned are the bytes the guest got, and that unclaimed bytes read ~0.
 * want_at[i] is where in the guest's buffer expected access i belongs.
 */
static void check(const struct cfg_access *want, unsigned int n, const uint32_t *want_at,
		  const uint8_t *buf, uint32_t len, bool write, const bool *claimed,
		  const char *what, uint64_t addr)
{
	FUZZ_CHECK(nr_seen == n, "%s %#llx/%u: devices saw %u config accesses, want %u", what,
		   (unsigned long long)addr, len, nr_seen, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct cfg_access *s = &seen[i], *w = &want[i];

		FUZZ_CHECK(s->devfn == w->devfn && s->off == w->off && s->len == w->len &&
				   s->write == w->write,
			   "%s %#llx/%u: device %02x.%x saw %s +%#x/%u, want %02x.%x +%#x/%u", what,
			   (unsigned long long)addr, len,
			   PCI_SLOT(s->devfn), PCI_FUNC(s->devfn), s->write ? "write" : "read",
			   s->off, s->len, PCI_SLOT(w->devfn), PCI_FUNC(w->devfn), w->off, w->len);
		FUZZ_CHECK(!memcmp(s->data, buf + want_at[i], s->len),
			   "%s %#llx/%u: data between guest and device differs", what,
			   (unsigned long long)addr, len);
	}
	for (uint32_t b = 0; !write && b < len; b++)
		FUZZ_CHECK(claimed[b] || buf[b] == 0xff, "%s %#llx/%u: byte %u of an unclaimed read is %#x",
			   what, (unsigned long long)addr, len, b, buf[b]);
}

static void fill(struct fuzz_in *in, uint8_t *buf)
{
	uint64_t v = fuzz_u64(in);

	memcpy(buf, &v, 8);
}

/* A length: mostly what a CPU issues, sometimes anything up to 8. */
static uint32_t pick_len(struct fuzz_in *in, bool mmio_len)
{
	static const uint32_t lens[] = { 1, 2, 4, 8 };
	uint8_t b = fuzz_u8(in);

	if (b & 0x80)
		return 1 + (b & 7);
	return lens[b % (mmio_len ? 4 : 3)];
}

static uint8_t pick_devfn(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);

	switch (b % 4) {
	case 0: return 0;
	case 1: return PCI_DEVFN(1, 0);
	case 2: return PCI_DEVFN(2, 0);
	default: return fuzz_u8(in);
	}
}

static void pio_access(struct fuzz_in *in, bool write)
{
	uint16_t port = (uint16_t)(0xcf6 + fuzz_u8(in) % 12);	/* a little around CF8-CFF */
	uint32_t len = pick_len(in, false);
	uint8_t buf[8];
	struct cfg_access want = { 0 };
	bool claimed[8] = { false };
	uint32_t at = 0;
	unsigned int n = 0;
	bool cf8_port = port == 0xcf8, cfc_port = port >= 0xcfc && port <= 0xcff;

	fill(in, buf);
	if (cfc_port && (cf8_model & CF8_ENABLE))
		n = expect(&want, (cf8_model >> 16) & 0xff, (cf8_model >> 8) & 0xff,
			   (cf8_model & 0xfc) + (port - 0xcfc), len, write, claimed);
	if (cf8_port && len == 4)
		memset(claimed, 1, 4);	/* the latch */
	if (!write)
		memset(buf, 0x5a, sizeof(buf));
	nr_seen = 0;
	via_cf8 = true;
	if (write)
		bus_write(&pio, port, buf, len);
	else
		bus_read(&pio, port, buf, len);
	check(&want, n, &at, buf, len, write, claimed, "cf8/cfc", port);
	if (cf8_port && write && len == 4)
		memcpy(&cf8_model, buf, 4);
	if (cf8_port && !write && len == 4)
		FUZZ_CHECK(!memcmp(buf, &cf8_model, 4), "CF8 does not read back the latch");
}

static void ecam_access(struct fuzz_in *in, bool write)
{
	uint8_t bus_nr = fuzz_u8(in);
	uint8_t devfn = pick_devfn(in);
	uint32_t reg = fuzz_u16(in) & 0xfff;
	uint32_t len = pick_len(in, true);
	uint8_t bus = bus_nr & 0x80 ? bus_nr : bus_nr & 0x40 ? bus_nr & 3 : 0;
	uint64_t off = ((uint64_t)bus << 20) | (uint64_t)devfn << 12 | reg;
	uint8_t buf[8];
	struct cfg_access want[2];
	uint32_t at[2] = { 0, 0 };
	bool claimed[8] = { false };
	unsigned int n = 0;

	fill(in, buf);
	if (len == 8) {
		/* Two dwords; the second only while it is still inside the window. */
		for (unsigned int h = 0; h < 2; h++) {
			uint64_t o = off + 4 * h;

			if (o >= LAYOUT_ECAM_SIZE)
				continue;
			at[n] = 4 * h;
			n += expect(&want[n], (o >> 20) & 0xff, (o >> 12) & 0xff, o & 0xfff, 4,
				    write, claimed + 4 * h);
		}
	} else {
		n = expect(&want[0], bus, devfn, reg, len, write, claimed);
	}
	if (!write)
		memset(buf, 0x5a, sizeof(buf));
	nr_seen = 0;
	via_cf8 = false;
	if (write)
		bus_write(&mmio, LAYOUT_ECAM_BASE + off, buf, len);
	else
		bus_read(&mmio, LAYOUT_ECAM_BASE + off, buf, len);
	check(want, n, at, buf, len, write, claimed, "ecam", off);
}

static void direct_access(struct fuzz_in *in, bool write)
{
	uint8_t devfn = pick_devfn(in);
	uint32_t off = fuzz_u8(in) & 1 ? fuzz_u32(in) : fuzz_u16(in) & 0x1fff;
	uint32_t len = fuzz_u8(in) % 9;
	uint8_t buf[8];
	struct cfg_access want;
	bool claimed[8] = { false };
	uint32_t at = 0;
	unsigned int n;

	fill(in, buf);
	n = expect(&want, 0, devfn, off, len, write, claimed);
	nr_seen = 0;
	via_cf8 = false;
	if (write)
		pci_cfg_write(&root, devfn, off, buf, len);
	else
		pci_cfg_read(&root, devfn, off, buf, len);
	check(&want, n, &at, buf, len, write, claimed, "pci_cfg", (uint64_t)devfn << 12 | off);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t op0;
	int ret;

	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	ret = pci_root_init(&root, &pio, &mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE);
	FUZZ_CHECK(ret == 0, "pci_root_init: %d", ret);
	/* First byte: one or two test devices; --trace pci on or off. */
	op0 = fuzz_u8(&in);
	nr_tdevs = 1 + (op0 & 1);
	log_enabled = op0 & 2 ? LOG_PCI : 0;
	behind_port = nr_tdevs == 2 && (op0 & 4);
	for (unsigned int i = 0; i < nr_tdevs; i++) {
		struct test_dev *t = &tdevs[i];

		for (unsigned int b = 0; b < sizeof(t->cfg); b++)
			t->cfg[b] = (uint8_t)(b * 7 + i);
		t->dev = (struct pci_dev){ .ops = &tdev_ops, .opaque = t,
					   .name = i ? "test1" : "test0" };
		if (i == 1 && behind_port) {
			static const struct pci_host no_host;
			uint32_t buses = 0x00010100;	/* primary 0, secondary and subordinate 1 */

			ret = pci_root_add_port(&root, &t->dev, &no_host);
			FUZZ_CHECK(ret == 0 && t->dev.devfn == 0 &&
				   root.ports[0]->dev.devfn == PCI_DEVFN(2, 0),
				   "pci_root_add_port: %d, devfn %#x", ret, t->dev.devfn);
			pci_cfg_write(&root, PCI_DEVFN(2, 0), 0x18, &buses, 4);
			continue;
		}
		ret = pci_root_add(&root, &t->dev);
		FUZZ_CHECK(ret == 0 && t->dev.devfn == PCI_DEVFN(1 + i, 0),
			   "pci_root_add: %d, devfn %#x", ret, t->dev.devfn);
	}
	cf8_model = 0;
	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);

		switch (op % 7) {
		case 0: {
			/* A CONFIG_ADDRESS from fields, so enabled bus-0 values are common. */
			uint32_t a = (op & 0x80 ? 0 : CF8_ENABLE) | (uint32_t)pick_devfn(&in) << 8 |
				     (fuzz_u8(&in) & 0xff);

			if (op & 0x40)
				a |= (uint32_t)fuzz_u8(&in) << 16;
			bus_write(&pio, 0xcf8, &a, 4);
			cf8_model = a;
			break;
		}
		case 1: pio_access(&in, false); break;
		case 2: pio_access(&in, true); break;
		case 3: ecam_access(&in, false); break;
		case 4: ecam_access(&in, true); break;
		case 5: direct_access(&in, op & 0x80); break;
		default: {
			/* Latch any 32-bit value, reserved bits and all. */
			uint32_t a = fuzz_u32(&in);

			bus_write(&pio, 0xcf8, &a, 4);
			cf8_model = a;
			break;
		}
		}
	}
	pci_root_release(&root);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	pthread_mutex_destroy(&root.lock);
	return 0;
}
