// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>

#include "devices/pci.h"
#include "vmm/layout.h"

struct fake {
	struct pci_dev dev;
	uint8_t cfg[4096];
	uint32_t last_off, last_len;
};

static void fake_read(struct pci_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct fake *f = d->opaque;

	cr_assert_leq(off + len, 4096u);
	cr_assert_eq(off / 4, (off + len - 1) / 4, "access crosses a dword");
	memcpy(data, f->cfg + off, len);
}

static void fake_write(struct pci_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct fake *f = d->opaque;

	f->last_off = off;
	f->last_len = len;
	memcpy(f->cfg + off, data, len);
}

static const struct pci_dev_ops fake_ops = { .cfg_read = fake_read, .cfg_write = fake_write };

static struct bus pio, mmio;
static struct pci_root root;
static struct fake fk;

static void setup(void)
{
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	cr_assert_eq(pci_root_init(&root, &pio, &mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE), 0);
	memset(&fk, 0, sizeof(fk));
	for (int i = 0; i < 4096; i++)
		fk.cfg[i] = (uint8_t)(i * 7 + 3);
	fk.dev = (struct pci_dev){ .ops = &fake_ops, .opaque = &fk, .name = "fake" };
	cr_assert_eq(pci_root_add(&root, &fk.dev), 0);
}

static void teardown(void)
{
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

TestSuite(pci_host, .init = setup, .fini = teardown);

static uint32_t cf8_read(unsigned int devfn, unsigned int reg, unsigned int len)
{
	uint32_t addr = 0x80000000u | (devfn << 8) | (reg & 0xfc), v = 0;

	bus_write(&pio, 0xcf8, &addr, 4);
	bus_read(&pio, 0xcfc + (reg & 3), &v, len);
	return v;
}

static uint32_t ecam_read(unsigned int devfn, unsigned int reg, unsigned int len)
{
	uint32_t v = 0;

	bus_read(&mmio, layout_ecam_addr(0, devfn) + reg, &v, len);
	return v;
}

Test(pci_host, host_bridge_at_00_0_both_mechanisms)
{
	uint32_t id = cf8_read(0, 0, 4);

	cr_assert_eq(id & 0xffff, 0x8086);
	cr_assert_eq(id, ecam_read(0, 0, 4));
	cr_assert_eq(cf8_read(0, 0x08, 4) >> 8, 0x060000, "class: host bridge");
	cr_assert_neq(ecam_read(0, 0x100, 4), 0xffffffffu, "extended space exists");
}

Test(pci_host, device_added_at_slot1_and_sees_offsets)
{
	uint8_t devfn = PCI_DEVFN(1, 0);
	uint32_t w = 0xdeadbeef, addr;

	cr_assert_eq(fk.dev.devfn, devfn);
	cr_assert_eq(cf8_read(devfn, 0x10, 4), *(uint32_t *)&fk.cfg[0x10]);
	cr_assert_eq(cf8_read(devfn, 0x12, 2), *(uint16_t *)&fk.cfg[0x12]);
	cr_assert_eq(cf8_read(devfn, 0x13, 1), fk.cfg[0x13]);
	cr_assert_eq(ecam_read(devfn, 0x804, 4), *(uint32_t *)&fk.cfg[0x804]);
	bus_write(&mmio, layout_ecam_addr(0, devfn) + 0x200, &w, 4);
	cr_assert_eq(fk.last_off, 0x200);
	cr_assert_eq(*(uint32_t *)&fk.cfg[0x200], 0xdeadbeef);
	addr = 0x80000000u | (devfn << 8) | 0x40;
	bus_write(&pio, 0xcf8, &addr, 4);
	bus_write(&pio, 0xcfe, &w, 2);
	cr_assert_eq(fk.last_off, 0x42);
	cr_assert_eq(fk.last_len, 2);
}

Test(pci_host, absent_functions_and_other_buses_read_all_ones)
{
	uint32_t v = 0, addr;

	cr_assert_eq(cf8_read(PCI_DEVFN(5, 0), 0, 4), 0xffffffffu);
	cr_assert_eq(ecam_read(PCI_DEVFN(0, 1), 0, 4), 0xffffffffu);
	bus_read(&mmio, LAYOUT_ECAM_BASE + (1u << 20), &v, 4);
	cr_assert_eq(v, 0xffffffffu);
	addr = 0x00000000u;	/* enable bit clear */
	bus_write(&pio, 0xcf8, &addr, 4);
	bus_read(&pio, 0xcfc, &v, 4);
	cr_assert_eq(v, 0xffffffffu);
	addr = 0x80010000u;	/* bus 1 through CF8 */
	bus_write(&pio, 0xcf8, &addr, 4);
	bus_read(&pio, 0xcfc, &v, 4);
	cr_assert_eq(v, 0xffffffffu);
}

Test(pci_host, misaligned_config_accesses_never_reach_device)
{
	uint32_t w = 0x12345678, v = 0;

	fk.last_len = 0;
	bus_write(&mmio, layout_ecam_addr(0, fk.dev.devfn) + 0x3, &w, 4);
	cr_assert_eq(fk.last_len, 0);
	bus_read(&mmio, layout_ecam_addr(0, fk.dev.devfn) + 0x2, &v, 4);
	cr_assert_eq(v, 0xffffffffu);
}

Test(pci_host, cf8_latch_reads_back_and_byte_access_ignored)
{
	uint32_t addr = 0x80000810u, v = 0;
	uint8_t b = 0x06;

	bus_write(&pio, 0xcf8, &addr, 4);
	bus_read(&pio, 0xcf8, &v, 4);
	cr_assert_eq(v, addr);
	bus_write(&pio, 0xcf8, &b, 1);
	bus_read(&pio, 0xcf8, &v, 4);
	cr_assert_eq(v, addr);
}

Test(pci_host, slots_fill_up)
{
	static struct fake more[31];
	int ok = 0;

	for (int i = 0; i < 31; i++) {
		more[i].dev = (struct pci_dev){ .ops = &fake_ops, .opaque = &more[i], .name = "f" };
		if (pci_root_add(&root, &more[i].dev) == 0)
			ok++;
	}
	cr_assert_eq(ok, 30, "31 slots after the host bridge, one taken already");
}

/* Found by tests/fuzz: the second dword of a qword at ECAM's last dword wrapped to 00.0. */
Test(pci_host, qword_at_ecam_end_stays_inside_the_window)
{
	uint64_t v = 0;

	bus_read(&mmio, LAYOUT_ECAM_BASE + LAYOUT_ECAM_SIZE - 4, &v, 8);
	cr_assert_eq(v, ~0ULL, "bus 255 is empty and nothing lies past the window: %#llx",
		     (unsigned long long)v);
	/* Inside the window a qword still reads two dwords of one function. */
	bus_read(&mmio, layout_ecam_addr(0, fk.dev.devfn) + 0x10, &v, 8);
	cr_assert_eq(v, *(uint64_t *)&fk.cfg[0x10]);
}

/* Found by tests/fuzz: off + len wrapped in 32 bits, so ~0 passed the bounds check. */
Test(pci_host, config_offset_near_4g_is_refused)
{
	uint8_t b = 0;

	pci_cfg_read(&root, fk.dev.devfn, 0xffffffffu, &b, 1);
	cr_assert_eq(b, 0xff);
	fk.last_len = 0;
	pci_cfg_write(&root, fk.dev.devfn, 0xfffffffcu, &b, 4);
	cr_assert_eq(fk.last_len, 0);
}
