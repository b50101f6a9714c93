// SPDX-License-Identifier: MIT
/*
 * Config space virtualization against the real H100 dump: BAR sizing as a
 * guest does it, the capability chains a guest walks after hiding, write
 * masks, PCIe virtualization, and a fuzz loop of hostile writes.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "test_vfio_fake.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static struct vfio_pci_dev dev;
static struct fake_vfio fake;
static struct fake_host host;

static void setup(void)
{
	fake_pci_init(&dev, &fake, &host, false);
}

static void teardown(void)
{
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
}

TestSuite(vfio_config, .init = setup, .fini = teardown);

static uint32_t orig32(uint32_t off)
{
	uint32_t v;

	memcpy(&v, fake.cfg_orig + off, 4);
	return v;
}

/* Size a 64-bit BAR exactly as Linux does: all-ones to both halves, read back. */
static uint64_t size_bar64(uint32_t reg, uint32_t *lo_out)
{
	uint32_t lo0 = cfg_rd(&dev, reg, 4), hi0 = cfg_rd(&dev, reg + 4, 4), lo, hi;

	cfg_wr(&dev, reg, 4, ~0u);
	cfg_wr(&dev, reg + 4, 4, ~0u);
	lo = cfg_rd(&dev, reg, 4);
	hi = cfg_rd(&dev, reg + 4, 4);
	cfg_wr(&dev, reg, 4, lo0);
	cfg_wr(&dev, reg + 4, 4, hi0);
	*lo_out = lo;
	return ~(((uint64_t)hi << 32) | (lo & PCI_BASE_ADDRESS_MEM_MASK)) + 1;
}

Test(vfio_config, h100_bar_sizing_masks)
{
	static const struct { uint32_t reg; uint64_t size; } bars[] = {
		{ PCI_BASE_ADDRESS_0, 16 * MiB },
		{ PCI_BASE_ADDRESS_2, 128 * GiB },
		{ PCI_BASE_ADDRESS_4, 32 * MiB },
	};

	for (unsigned int i = 0; i < 3; i++) {
		uint32_t lo;
		uint64_t size = size_bar64(bars[i].reg, &lo);

		cr_assert_eq(size, bars[i].size, "BAR at %#x sized %#llx", bars[i].reg,
			     (unsigned long long)size);
		cr_assert_eq(lo & PCI_BASE_ADDRESS_SPACE_IO, 0);
		cr_assert_eq(lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64);
		/* The prefetch bit is the device's own. */
		cr_assert_eq(lo & PCI_BASE_ADDRESS_MEM_PREFETCH,
			     orig32(bars[i].reg) & PCI_BASE_ADDRESS_MEM_PREFETCH);
	}
	/* The VRAM apertures are prefetchable; the exact masks a guest sees: */
	cr_assert(orig32(PCI_BASE_ADDRESS_2) & PCI_BASE_ADDRESS_MEM_PREFETCH);
	cr_assert(orig32(PCI_BASE_ADDRESS_4) & PCI_BASE_ADDRESS_MEM_PREFETCH);
	cfg_wr(&dev, PCI_BASE_ADDRESS_2, 4, ~0u);
	cfg_wr(&dev, PCI_BASE_ADDRESS_3, 4, ~0u);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_2, 4), 0x0000000c);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_3, 4), 0xffffffe0);
	cfg_wr(&dev, PCI_BASE_ADDRESS_0, 4, ~0u);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK, 0xff000000);
	/* None of this reached the device. */
	cr_assert_eq(memcmp(fake.cfg + 0x10, fake.cfg_orig + 0x10, 24), 0);
	cr_assert_eq(fake.cfg_writes, 0);
}

Test(vfio_config, bar_address_reads_back_and_bars_start_unassigned)
{
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK, 0);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_1, 4), 0);
	/* Low bits the size does not allow are dropped, high half takes anything. */
	cfg_wr(&dev, PCI_BASE_ADDRESS_4, 4, 0x12345678);
	cfg_wr(&dev, PCI_BASE_ADDRESS_5, 4, 0x20);
	cr_assert_eq(cfg_rd(&dev, PCI_BASE_ADDRESS_4, 4),
		     0x12000000u | (orig32(PCI_BASE_ADDRESS_4) & 0xf));
	cr_assert_eq(vfio_bar_guest_addr(&dev, 4), 0x2012000000ull);
}

Test(vfio_config, rom_bar_sizes_and_enables)
{
	cfg_wr(&dev, PCI_ROM_ADDRESS, 4, ~0u);
	/* 4 KiB ROM: address bits above 12, and the enable bit. */
	cr_assert_eq(cfg_rd(&dev, PCI_ROM_ADDRESS, 4), 0xfffff001);
	cfg_wr(&dev, PCI_ROM_ADDRESS, 4, 0);
	cr_assert_eq(cfg_rd(&dev, PCI_ROM_ADDRESS, 4), 0);
}

Test(vfio_config, header_fields)
{
	cr_assert_eq(cfg_rd(&dev, PCI_VENDOR_ID, 2), 0x10de);
	cr_assert_eq(cfg_rd(&dev, PCI_DEVICE_ID, 2), 0x2330);
	cr_assert_eq(cfg_rd(&dev, PCI_CLASS_REVISION, 4) >> 8, 0x030200);
	cr_assert_eq(cfg_rd(&dev, PCI_INTERRUPT_PIN, 1), fake.cfg_orig[PCI_INTERRUPT_PIN]);
	cr_assert_eq(cfg_rd(&dev, PCI_INTERRUPT_PIN, 1), 1);
	/* The device's decode is on (the host enabled it); the guest's starts off. */
	cr_assert(fake.cfg_orig[PCI_COMMAND] & PCI_COMMAND_MEMORY);
	cr_assert_eq(cfg_rd(&dev, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, 0);
	/* Interrupt line is ours: read/write. Pin is read-only. */
	cfg_wr(&dev, PCI_INTERRUPT_LINE, 2, 0x030b);
	cr_assert_eq(cfg_rd(&dev, PCI_INTERRUPT_LINE, 1), 0x0b);
	cr_assert_eq(cfg_rd(&dev, PCI_INTERRUPT_PIN, 1), 1);
}

Test(vfio_config, read_only_bits_do_not_change)
{
	static const uint32_t ro[] = { PCI_VENDOR_ID, PCI_CLASS_REVISION, PCI_SUBSYSTEM_VENDOR_ID,
				       PCI_CAPABILITY_LIST, 0xb4 /* MSI-X table */,
				       0xb8 /* PBA */, 0x64 /* DevCap */, 0x6c /* LnkCap */ };

	for (unsigned int i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t v = cfg_rd(&dev, ro[i], 4);

		cfg_wr(&dev, ro[i], 4, ~v);
		cr_assert_eq(cfg_rd(&dev, ro[i], 4), v, "offset %#x changed", ro[i]);
		cfg_wr(&dev, ro[i], 4, 0);
		cr_assert_eq(cfg_rd(&dev, ro[i], 4), v, "offset %#x changed", ro[i]);
	}
	cr_assert_eq(fake.cfg_writes, 0, "read-only registers reached the device");
}

/* Every dword: bits outside the write mask survive a write of their inverse. */
Test(vfio_config, write_masks_hold_everywhere)
{
	for (uint32_t off = 0; off < PCI_CFG_SPACE_EXP_SIZE; off += 4) {
		uint32_t v0 = cfg_rd(&dev, off, 4), wr = 0, v1;

		for (int b = 0; b < 4; b++)
			wr |= (uint32_t)dev.cfg.wr[off + b] << (8 * b);
		cfg_wr(&dev, off, 4, ~v0);
		v1 = cfg_rd(&dev, off, 4);
		cr_assert_eq((v0 ^ v1) & ~wr, 0, "read-only bits changed at %#x: %#x -> %#x", off,
			     v0, v1);
	}
}

Test(vfio_config, command_forwards_bus_master_and_emulates_decode)
{
	cfg_wr(&dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
	cr_assert_eq(cfg_rd(&dev, PCI_COMMAND, 2) & 0x7, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
	cr_assert(fake.cfg[PCI_COMMAND] & PCI_COMMAND_MASTER);
	cfg_wr(&dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cr_assert_eq(fake.cfg[PCI_COMMAND] & PCI_COMMAND_MASTER, 0, "bus master not cleared");
	/* Status (the upper half) is untouched by a command write. */
	cr_assert_eq(fake.cfg[PCI_STATUS], fake.cfg_orig[PCI_STATUS]);
	cr_assert(cfg_rd(&dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
}

static unsigned int walk_std(uint8_t *ids, uint8_t *offs, unsigned int max)
{
	unsigned int n = 0;
	uint8_t pos = cfg_rd(&dev, PCI_CAPABILITY_LIST, 1);

	while (pos && n < max) {
		offs[n] = pos;
		ids[n++] = cfg_rd(&dev, pos, 1);
		pos = cfg_rd(&dev, pos + 1, 1) & ~3;
	}
	cr_assert_lt(n, max, "standard chain does not end");
	return n;
}

/* Walks like Linux: from 0x100, follow next pointers, record non-null ids. */
static unsigned int walk_ext(uint16_t *ids, uint16_t *offs, unsigned int max)
{
	unsigned int n = 0, hops = 0;
	uint32_t pos = 0x100, hdr;

	while (pos && hops++ < 64) {
		hdr = cfg_rd(&dev, pos, 4);
		if (!hdr)
			break;
		if ((hdr & 0xffff) && n < max) {
			offs[n] = pos;
			ids[n++] = hdr & 0xffff;
		}
		pos = hdr >> 20;
	}
	cr_assert_lt(hops, 64, "extended chain does not end");
	return n;
}

Test(vfio_config, std_caps_chain_as_guest_walks_it)
{
	uint8_t ids[64], offs[64];
	unsigned int n = walk_std(ids, offs, 64);

	cr_assert_eq(n, 4);
	cr_assert_eq(ids[0], PCI_CAP_ID_PM);
	cr_assert_eq(offs[0], 0x40);
	cr_assert_eq(ids[1], PCI_CAP_ID_MSI);
	cr_assert_eq(offs[1], 0x48);
	cr_assert_eq(ids[2], PCI_CAP_ID_EXP);
	cr_assert_eq(offs[2], 0x60);
	cr_assert_eq(ids[3], PCI_CAP_ID_MSIX);
	cr_assert_eq(offs[3], 0xb0);
}

Test(vfio_config, ext_caps_zero_id_hidden)
{
	uint16_t ids[64], offs[64];
	unsigned int n = walk_ext(ids, offs, 64);
	static const uint16_t want[] = { PCI_EXT_CAP_ID_LTR, PCI_EXT_CAP_ID_ERR,
					 PCI_EXT_CAP_ID_VNDR, PCI_EXT_CAP_ID_PWR,
					 PCI_EXT_CAP_ID_DSN };

	cr_assert_eq(n, 5, "visible ext caps: %u", n);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(ids[i], want[i], "ext cap %u is %#x", i, ids[i]);
	/* The head at 0x100 was a zero-id entry: a null header pointing on. */
	cr_assert_eq(cfg_rd(&dev, 0x100, 4), 0x12c00000);
	/* Hidden zero-id entries read as zero: no way to reach them again. */
	cr_assert_eq(cfg_rd(&dev, 0x134, 4), 0);
	cr_assert_eq(cfg_rd(&dev, 0x248, 4), 0);
	/* AER's next pointer now skips the two hidden entries after it. */
	cr_assert_eq(cfg_rd(&dev, 0x1b8, 4) >> 20, 0x2a4);
}

Test(vfio_config, sriov_rebar_and_unsupported_std_caps_hidden)
{
	uint8_t ids[64], offs[64];
	uint16_t eids[64], eoffs[64];
	unsigned int n, en;

	vfio_pci_exit(&dev);
	/* Turn two zero-id entries into SR-IOV and Resizable BAR, PM into PCI-X. */
	fake.cfg[0x134] = PCI_EXT_CAP_ID_SRIOV;
	fake.cfg[0x248] = PCI_EXT_CAP_ID_REBAR;
	fake.cfg[0x40] = PCI_CAP_ID_PCIX;
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	n = walk_std(ids, offs, 64);
	cr_assert_eq(n, 3);
	cr_assert_eq(cfg_rd(&dev, PCI_CAPABILITY_LIST, 1), 0x48);
	cr_assert_eq(cfg_rd(&dev, 0x40, 4), 0, "hidden PCI-X still readable");
	en = walk_ext(eids, eoffs, 64);
	for (unsigned int i = 0; i < en; i++) {
		cr_assert_neq(eids[i], PCI_EXT_CAP_ID_SRIOV);
		cr_assert_neq(eids[i], PCI_EXT_CAP_ID_REBAR);
	}
	cr_assert_eq(en, 5);
	cr_assert_eq(cfg_rd(&dev, 0x134, 4), 0);
}

Test(vfio_config, pcie_flr_not_forwarded_and_link_control_emulated)
{
	uint32_t devcap = orig32(0x60 + PCI_EXP_DEVCAP);
	uint16_t lnkctl = fake.cfg_orig[0x70] | fake.cfg_orig[0x71] << 8;

	cr_assert(devcap & PCI_EXP_DEVCAP_FLR, "fixture should advertise FLR");
	/* The fake can reset: FLR is offered (test_vfio_flr.c for the rest). */
	cr_assert_eq(cfg_rd(&dev, 0x60 + PCI_EXP_DEVCAP, 4), devcap);
	/* Initiate FLR never reaches the device's config space. */
	cfg_wr(&dev, 0x60 + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR |
	       (cfg_rd(&dev, 0x60 + PCI_EXP_DEVCTL, 2) & ~PCI_EXP_DEVCTL_BCR_FLR));
	cr_assert_eq(fake.cfg[0x60 + PCI_EXP_DEVCTL + 1] & 0x80, 0);
	/* Link disable and ASPM stay the host's; the guest sees its ASPM write. */
	cfg_wr(&dev, 0x60 + PCI_EXP_LNKCTL, 2, PCI_EXP_LNKCTL_LD | PCI_EXP_LNKCTL_ASPMC);
	cr_assert_eq(fake.cfg[0x70] | fake.cfg[0x71] << 8, lnkctl);
	cr_assert_eq(cfg_rd(&dev, 0x60 + PCI_EXP_LNKCTL, 2) & PCI_EXP_LNKCTL_LD, 0);
	cr_assert_eq(cfg_rd(&dev, 0x60 + PCI_EXP_LNKCTL, 2) & PCI_EXP_LNKCTL_ASPMC,
		     PCI_EXP_LNKCTL_ASPMC);
	/* Max payload size is emulated: the device keeps the host's value. */
	cfg_wr(&dev, 0x60 + PCI_EXP_DEVCTL, 2, 0x00e0 | PCI_EXP_DEVCTL_URRE);
	cr_assert_eq(cfg_rd(&dev, 0x60 + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_PAYLOAD, 0x00e0);
	cr_assert_eq(fake.cfg[0x68] & 0xe0, fake.cfg_orig[0x68] & 0xe0);
	cr_assert(fake.cfg[0x68] & PCI_EXP_DEVCTL_URRE, "error reporting enable forwarded");
}

Test(vfio_config, msi_and_msix_caps_start_disabled)
{
	/* The dump has MSI-X enabled (the host's guest used it); ours starts off. */
	cr_assert(fake.cfg_orig[0xb3] & 0x80);
	cr_assert_eq(cfg_rd(&dev, 0xb0 + PCI_MSIX_FLAGS, 2),
		     (fake.cfg_orig[0xb2] | fake.cfg_orig[0xb3] << 8) & PCI_MSIX_FLAGS_QSIZE);
	cr_assert_eq(cfg_rd(&dev, 0xb0 + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, 8);
	cr_assert_eq(cfg_rd(&dev, 0xb0 + PCI_MSIX_TABLE, 4), 0x00b90000);
	cr_assert_eq(cfg_rd(&dev, 0x48 + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 0);
	cr_assert_eq(cfg_rd(&dev, 0x48 + PCI_MSI_ADDRESS_LO, 4), 0);
}

Test(vfio_config, out_of_range_accesses)
{
	uint32_t v = 0;

	vfio_pci_cfg_read(&dev, 4096, &v, 4);
	cr_assert_eq(v, 0xffffffff);
	v = 0;
	vfio_pci_cfg_read(&dev, 4094, &v, 4);
	cr_assert_eq(v, 0xffffffff);
	v = 0x12345678;
	vfio_pci_cfg_write(&dev, 4096, &v, 4);
	vfio_pci_cfg_write(&dev, 0xffffffff, &v, 4);
	vfio_pci_cfg_write(&dev, 0x10, &v, 0);
	cr_assert_eq(cfg_rd(&dev, 0x10, 4) & ~0xfu, 0);
}

/*
 * Hostile guest: random writes of every size to every offset (and past the
 * end), with decode toggling BAR mappings and MSI/MSI-X flipping on and off.
 * Nothing may crash, and read-only identity must survive.
 */
Test(vfio_config, fuzz_random_writes)
{
	static const uint32_t lens[] = { 1, 2, 4 };
	uint8_t ids[64], offs[64];
	uint16_t eids[64], eoffs[64];

	srand(1234);
	for (int i = 0; i < 200000; i++) {
		uint32_t len = lens[rand() % 3];
		uint32_t off = (rand() % 4608) & ~(len - 1);
		uint32_t v = (uint32_t)rand() ^ ((uint32_t)rand() << 16);

		if (i % 3)
			cfg_wr(&dev, off, len, v);
		else
			(void)cfg_rd(&dev, off, len);
		if (i % 1000 == 0) {
			uint64_t boff = (uint64_t)rand() % FAKE_BAR0_SIZE & ~7ull;

			vfio_pci_bar_write(&dev, 0, boff, &v, 4);
			vfio_pci_bar_read(&dev, 0, 0xb90000 + (rand() % 0x200), &v, 4);
		}
	}
	cr_assert_eq(cfg_rd(&dev, PCI_VENDOR_ID, 4), 0x233010de);
	cr_assert_eq(walk_std(ids, offs, 64), 4);
	cr_assert_eq(walk_ext(eids, eoffs, 64), 5);
	/* The device saw only bits we forward. */
	for (uint32_t o = 0; o < PCI_CFG_SPACE_EXP_SIZE; o++)
		cr_assert_eq((fake.cfg[o] ^ fake.cfg_orig[o]) & ~dev.cfg.fwd[o], 0,
			     "device byte %#x changed outside the forward mask", o);
	cr_assert_geq(host.mapped, 0);
	cr_assert_geq(host.attached, 0);
}

/*
 * Cache line size, latency timer, header type and BIST (0x0c-0x0f) are the
 * guest's view only: none of it may reach the device. A BIST write with bit
 * 6 set starts a real device's self-test (the function stops responding
 * for up to 2 s); latency timer and cache line size are the host's to set;
 * the header type is read-only. Every access size and alignment that
 * touches them is tried.
 */
Test(vfio_config, header_dword_0x0c_never_reaches_the_device)
{
	static const uint32_t vals[] = { 0xffffffff, 0x40404040, 0xc0ff80ff, 0x12345678 };
	uint8_t ht = cfg_rd(&dev, PCI_HEADER_TYPE, 1);

	for (unsigned int v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
		cfg_wr(&dev, PCI_CACHE_LINE_SIZE, 4, vals[v]);
		for (uint32_t off = PCI_CACHE_LINE_SIZE; off < PCI_CACHE_LINE_SIZE + 4; off++) {
			cfg_wr(&dev, off, 1, vals[v] >> (8 * (off & 3)));
			if (!(off & 1))
				cfg_wr(&dev, off, 2, vals[v]);
		}
	}
	cfg_wr(&dev, PCI_BIST, 1, PCI_BIST_START);
	cr_assert_eq(fake.cfg_writes, 0, "%u config writes reached the device", fake.cfg_writes);
	cr_assert_eq(memcmp(fake.cfg + PCI_CACHE_LINE_SIZE, fake.cfg_orig + PCI_CACHE_LINE_SIZE, 4),
		     0, "the device's 0x0c-0x0f changed");
	/* The guest sees what it wrote where that is allowed, read-only elsewhere. */
	cfg_wr(&dev, PCI_CACHE_LINE_SIZE, 1, 0x10);
	cfg_wr(&dev, PCI_LATENCY_TIMER, 1, 0x40);
	cr_assert_eq(cfg_rd(&dev, PCI_CACHE_LINE_SIZE, 1), 0x10);
	cr_assert_eq(cfg_rd(&dev, PCI_LATENCY_TIMER, 1), 0x40);
	cr_assert_eq(cfg_rd(&dev, PCI_HEADER_TYPE, 1), ht);
	cr_assert_eq(ht & 0x80, 0, "multi-function bit hidden");
	cr_assert_eq(cfg_rd(&dev, PCI_BIST, 1), 0, "no BIST capability, no self-test running");
}

/*
 * Vendor-specific capabilities pass through raw past their header, as in
 * the kernel's vfio_pci_config.c. Both fixtures carry an extended one (id
 * 0x0b) at 0x2a4, 20 bytes long, followed by power budgeting at 0x2b8.
 */
static void check_vsec_raw(const char *model)
{
	uint32_t hdr = cfg_rd(&dev, 0x2a4, 4), body = 0xa5c3e1f0;
	unsigned int writes;

	cr_assert_eq(hdr & 0xffff, PCI_EXT_CAP_ID_VNDR, "%s: no VSEC at 0x2a4", model);
	cr_assert_eq(cfg_rd(&dev, 0x2a4 + PCI_VSEC_HDR, 4) >> 20, 20);
	/* The body: written to the device as the guest wrote it, and read from it. */
	for (uint32_t off = 0x2a4 + 8; off < 0x2a4 + 20; off += 4) {
		cfg_wr(&dev, off, 4, body ^ off);
		cr_assert_eq(memcmp(fake.cfg + off, &(uint32_t){ body ^ off }, 4), 0,
			     "%s: VSEC byte %#x did not reach the device", model, off);
		cr_assert_eq(cfg_rd(&dev, off, 4), body ^ off);
	}
	fake.cfg[0x2a4 + 12] = 0x77;	/* the device changes a register itself */
	cr_assert_eq(cfg_rd(&dev, 0x2a4 + 12, 1), 0x77, "%s: VSEC read from a copy", model);
	/* Byte accesses too (a driver's mailbox). */
	cfg_wr(&dev, 0x2a4 + 9, 1, 0x5a);
	cr_assert_eq(fake.cfg[0x2a4 + 9], 0x5a);
	/* The header stays ours: id and next pointer never reach the device. */
	writes = fake.cfg_writes;
	cfg_wr(&dev, 0x2a4, 4, 0);
	cr_assert_eq(cfg_rd(&dev, 0x2a4, 4), hdr);
	cr_assert_eq(fake.cfg_writes, writes, "%s: VSEC header written to the device", model);
	/* Past its 20 bytes: the next capability (power budgeting) is read-only. */
	cfg_wr(&dev, 0x2b8 + 4, 4, 0xffffffff);
	cr_assert_eq(memcmp(fake.cfg + 0x2b8, fake.cfg_orig + 0x2b8, 8), 0,
		     "%s: write past the VSEC reached the device", model);
}

Test(vfio_config, h100_vendor_specific_ext_cap_raw)
{
	check_vsec_raw("h100");
}

Test(vfio_config, h200_vendor_specific_ext_cap_raw)
{
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
	fake_pci_init_model(&dev, &fake, &host, "h200", false);
	check_vsec_raw("h200");
}

/* A standard one (id 0x09), as GPUs of other generations have: raw up to its length byte. */
Test(vfio_config, std_vendor_cap_raw_up_to_its_length)
{
	uint8_t ids[64], offs[64];

	vfio_pci_exit(&dev);
	/* Appended after MSI-X: 0xc8, 12 bytes. */
	fake.cfg[0xb0 + PCI_CAP_LIST_NEXT] = 0xc8;
	fake.cfg[0xc8] = PCI_CAP_ID_VNDR;
	fake.cfg[0xc9] = 0;
	fake.cfg[0xca] = 12;
	memcpy(fake.cfg_orig, fake.cfg, sizeof(fake.cfg));
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cr_assert_eq(walk_std(ids, offs, 64), 5);
	cr_assert_eq(ids[4], PCI_CAP_ID_VNDR);
	cfg_wr(&dev, 0xcc, 4, 0x12345678);
	cr_assert_eq(memcmp(fake.cfg + 0xcc, &(uint32_t){ 0x12345678 }, 4), 0);
	cr_assert_eq(cfg_rd(&dev, 0xcc, 4), 0x12345678);
	/* Past the 12 bytes: nothing reaches the device. */
	cfg_wr(&dev, 0xd4, 4, 0xffffffff);
	cr_assert_eq(memcmp(fake.cfg + 0xd4, fake.cfg_orig + 0xd4, 4), 0);
	/* The next pointer is ours. */
	cfg_wr(&dev, 0xc8, 2, 0xffff);
	cr_assert_eq(cfg_rd(&dev, 0xc8, 2), PCI_CAP_ID_VNDR);
}

/* A length that runs into the next capability is cut there: MSI-X stays ours. */
Test(vfio_config, std_vendor_cap_length_cannot_open_msix)
{
	uint32_t table = cfg_rd(&dev, 0xb4, 4);

	vfio_pci_exit(&dev);
	/* A vendor capability at 0xa0 claiming 0x40 bytes, chained in before MSI-X. */
	fake.cfg[0x60 + PCI_CAP_LIST_NEXT] = 0xa0;
	fake.cfg[0xa0] = PCI_CAP_ID_VNDR;
	fake.cfg[0xa1] = 0xb0;
	fake.cfg[0xa2] = 0x40;
	memcpy(fake.cfg_orig, fake.cfg, sizeof(fake.cfg));
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cfg_wr(&dev, 0xac, 4, 0xdeadbeef);
	cr_assert_eq(memcmp(fake.cfg + 0xac, &(uint32_t){ 0xdeadbeef }, 4), 0);
	cfg_wr(&dev, 0xb4, 4, 0);
	cfg_wr(&dev, 0xb0, 4, 0xffffffff);
	cr_assert_eq(cfg_rd(&dev, 0xb4, 4), table);
	cr_assert_eq(memcmp(fake.cfg + 0xb0, fake.cfg_orig + 0xb0, 12), 0,
		     "MSI-X bytes reached the device through the vendor capability");
}

/* ---- the GPUDirect P2P clique capability (--device DEV,clique=N) ---- */

Test(vfio_config, clique_cap_in_chain_with_right_bytes_read_only)
{
	static const uint8_t want[8] = { PCI_CAP_ID_VNDR, 0x40, 8, 'P', '2', 'P', 5 << 3, 0 };
	uint8_t ids[64], offs[64], got[8];
	unsigned int writes;

	cr_assert_eq(vfio_pci_add_gpudirect_clique(&dev, 5), 0);
	/* The guest's walk finds it first, then the H100's own four. */
	cr_assert_eq(walk_std(ids, offs, 64), 5);
	cr_assert_eq(offs[0], 0xc8);
	cr_assert_eq(ids[0], PCI_CAP_ID_VNDR);
	cr_assert_eq(offs[1], 0x40);
	cr_assert(cfg_rd(&dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (unsigned int i = 0; i < 8; i++)
		got[i] = (uint8_t)cfg_rd(&dev, 0xc8 + i, 1);
	cr_assert_eq(memcmp(got, want, 8), 0, "bytes %02x %02x %02x %02x %02x %02x %02x %02x",
		     got[0], got[1], got[2], got[3], got[4], got[5], got[6], got[7]);
	/* Read-only: nothing changes, nothing reaches the device. */
	writes = fake.cfg_writes;
	cfg_wr(&dev, 0xc8, 4, 0);
	cfg_wr(&dev, 0xcc, 4, 0xffffffff);
	cfg_wr(&dev, 0xce, 1, 0x78);
	for (unsigned int i = 0; i < 8; i++)
		cr_assert_eq(cfg_rd(&dev, 0xc8 + i, 1), want[i], "byte %u changed", i);
	cr_assert_eq(fake.cfg_writes, writes);
	cr_assert_eq(memcmp(fake.cfg + 0xc8, fake.cfg_orig + 0xc8, 8), 0);
	/* A guest FLR leaves it where it was. */
	cfg_wr(&dev, dev.cfg.exp_cap + PCI_EXP_DEVCTL, 2,
	       cfg_rd(&dev, dev.cfg.exp_cap + PCI_EXP_DEVCTL, 2) | PCI_EXP_DEVCTL_BCR_FLR);
	cr_assert_eq(cfg_rd(&dev, PCI_CAPABILITY_LIST, 1), 0xc8);
	cr_assert_eq(cfg_rd(&dev, 0xce, 1), 5 << 3);
}

Test(vfio_config, clique_on_h200_and_highest_id)
{
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
	fake_pci_init_model(&dev, &fake, &host, "h200", false);
	cr_assert_eq(vfio_pci_add_gpudirect_clique(&dev, 15), 0);
	cr_assert_eq(cfg_rd(&dev, 0xcc, 4), '2' | 'P' << 8 | (15u << 3) << 16);
}

Test(vfio_config, clique_at_0xd4_when_0xc8_is_taken)
{
	vfio_pci_exit(&dev);
	/* A standard vendor capability at 0xc8 (12 bytes) after MSI-X. */
	fake.cfg[0xb0 + PCI_CAP_LIST_NEXT] = 0xc8;
	fake.cfg[0xc8] = PCI_CAP_ID_VNDR;
	fake.cfg[0xc9] = 0;
	fake.cfg[0xca] = 12;
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	cr_assert_eq(vfio_pci_add_gpudirect_clique(&dev, 1), 0);
	cr_assert_eq(cfg_rd(&dev, PCI_CAPABILITY_LIST, 1), 0xd4);
	cr_assert_eq(cfg_rd(&dev, 0xd4, 2), PCI_CAP_ID_VNDR | 0x40 << 8);
}

static char *capture_err(int (*fn)(unsigned int), unsigned int arg, int *ret)
{
	static char msg[1024];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	*ret = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(msg, 1, sizeof(msg) - 1, tmp);
	msg[n] = 0;
	fclose(tmp);
	return msg;
}

static int add_clique(unsigned int n)
{
	return vfio_pci_add_gpudirect_clique(&dev, n);
}

Test(vfio_config, clique_refusals_one_line_nothing_changed)
{
	uint8_t before[PCI_CFG_SPACE_SIZE];
	const char *msg;
	int ret;

	memcpy(before, dev.cfg.shadow, sizeof(before));
	msg = capture_err(add_clique, 16, &ret);
	cr_assert_eq(ret, -EINVAL);
	cr_assert(strstr(msg, "clique=16: must be a number from 0 to 15"), "%s", msg);
	cr_assert_eq(strchr(msg, '\n'), msg + strlen(msg) - 1, "one line: %s", msg);
	cr_assert_eq(memcmp(before, dev.cfg.shadow, sizeof(before)), 0);

	/* Not NVIDIA: an Intel function with the same layout. */
	vfio_pci_exit(&dev);
	fake.cfg[0] = 0x86;
	fake.cfg[1] = 0x80;
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "h100", &host.pci), 0);
	memcpy(before, dev.cfg.shadow, sizeof(before));
	msg = capture_err(add_clique, 3, &ret);
	cr_assert_eq(ret, -EINVAL);
	cr_assert(strstr(msg, "not an NVIDIA GPU"), "%s", msg);
	cr_assert(strstr(msg, "8086:2330"), "%s", msg);
	cr_assert_eq(strchr(msg, '\n'), msg + strlen(msg) - 1, "one line: %s", msg);
	cr_assert_eq(memcmp(before, dev.cfg.shadow, sizeof(before)), 0);
	cr_assert_eq(cfg_rd(&dev, PCI_CAPABILITY_LIST, 1), 0x40);
}

/*
 * An SR-IOV VF as VFIO hands it over: the function's own BAR registers hold
 * no address (VFIO builds them from the PF's VF BARs, type bits included),
 * its command register does not keep Memory Space Enable (VFIO emulates
 * it), and VFIO reports no INTx (count 0) whatever the pin register says.
 * The guest must see pin 0, no INTx route may be made, BARs size from the
 * region sizes, and decode must follow the guest's own memory enable bit.
 */
Test(vfio_config, sriov_vf_shaped_device)
{
	unsigned int calls;
	uint32_t lo;

	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
	fake_vfio_init(&fake, false);
	fake.no_intx = true;
	fake.cfg[PCI_INTERRUPT_PIN] = 1;
	for (uint32_t r = PCI_BASE_ADDRESS_0; r <= PCI_BASE_ADDRESS_5; r += 4) {
		/* Type bits as VFIO generates them, no address bits. */
		uint32_t v = orig32(r) & 0xf;

		memcpy(fake.cfg + r, &v, 4);
	}
	fake.cfg[PCI_COMMAND] &= ~PCI_COMMAND_MEMORY;
	fake_host_init(&host);
	cr_assert_eq(vfio_pci_init(&dev, &fake_vfio_ops, &fake, "vf", &host.pci), 0);

	cr_assert_eq(cfg_rd(&dev, PCI_INTERRUPT_PIN, 1), 0, "a VF has no INTx pin");
	cr_assert_not(dev.intx.present);
	calls = fake.nr_calls;
	cr_assert_eq(vfio_pci_intx_setup(&dev), 0);
	for (unsigned int i = calls; i < fake.nr_calls; i++)
		cr_assert_neq(fake.calls[i].index, VFIO_PCI_INTX_IRQ_INDEX,
			      "SET_IRQS for INTx on a device without it");

	cr_assert_eq(size_bar64(PCI_BASE_ADDRESS_2, &lo), fake.sizes[2]);
	cfg_wr(&dev, PCI_BASE_ADDRESS_0, 4, ~0u);
	cr_assert_eq((uint32_t)(~(cfg_rd(&dev, PCI_BASE_ADDRESS_0, 4) &
				  PCI_BASE_ADDRESS_MEM_MASK) + 1), fake.sizes[0]);

	cfg_wr(&dev, PCI_BASE_ADDRESS_0, 4, 0xe0000000);
	calls = fake_count(&host, EV_MAP, 0);
	cfg_wr(&dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* The function drops the bit, as a VF's hardware does. */
	fake.cfg[PCI_COMMAND] &= ~PCI_COMMAND_MEMORY;
	cr_assert(cfg_rd(&dev, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	cr_assert(fake.cfg[PCI_COMMAND] & PCI_COMMAND_MASTER);
	cr_assert_gt(fake_count(&host, EV_MAP, 0), calls, "decode on did not map a BAR");
	cr_assert_eq(vfio_bar_guest_addr(&dev, 0), 0xe0000000);
}
