// SPDX-License-Identifier: MIT
/*
 * The emulated PCIe root port (devices/pcie_port.c) on the PCI root, with
 * the fake H100/H200 (real config dumps) behind it: what a guest reads,
 * what it may write, where config cycles go whatever it writes, and where
 * firmware (vm_place_all) puts the windows and BARs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "devices/pci.h"
#include "test_vfio_fake.h"
#include "util/log.h"
#include "vmm/layout.h"
#include "vmm/pci_host_vm.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define NR_GPUS 8

static struct bus pio, mmio;
static struct pci_root root;
static struct fake_host host;
static struct vfio_pci_dev gpus[NR_GPUS];
static struct fake_vfio fakes[NR_GPUS];
static unsigned int nr_gpus;

static void add_gpus(const char *model, unsigned int n, bool behind_port)
{
	for (unsigned int i = 0; i < n; i++) {
		fake_vfio_init_model(&fakes[i], model, false);
		cr_assert_eq(vfio_pci_init(&gpus[i], &fake_vfio_ops, &fakes[i], model, &host.pci), 0);
		nr_gpus = i + 1;
		if (behind_port)
			cr_assert_eq(pci_root_add_port(&root, &gpus[i].pci, &host.pci), 0);
		else
			cr_assert_eq(pci_root_add(&root, &gpus[i].pci), 0);
	}
}

static void setup(void)
{
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	fake_host_init(&host);
	cr_assert_eq(pci_root_init(&root, &pio, &mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE), 0);
	nr_gpus = 0;
	add_gpus("h100", 1, true);
}

static void teardown(void)
{
	for (unsigned int i = 0; i < nr_gpus; i++) {
		vfio_pci_exit(&gpus[i]);
		fake_vfio_free(&fakes[i]);
	}
	pci_root_release(&root);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

TestSuite(pcie_port, .init = setup, .fini = teardown);

/* ECAM, as a guest reaches it. */
static uint32_t rd(unsigned int bus, unsigned int devfn, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	bus_read(&mmio, layout_ecam_addr(bus, devfn) + off, &v, len);
	return v;
}

static void wr(unsigned int bus, unsigned int devfn, unsigned int off, unsigned int len, uint32_t v)
{
	bus_write(&mmio, layout_ecam_addr(bus, devfn) + off, &v, len);
}

static uint32_t cf8_rd(unsigned int bus, unsigned int devfn, unsigned int off)
{
	uint32_t a = 0x80000000u | bus << 16 | devfn << 8 | (off & 0xfc), v = 0;

	bus_write(&pio, 0xcf8, &a, 4);
	bus_read(&pio, 0xcfc, &v, 4);
	return v;
}

static uint8_t port_devfn(unsigned int i)
{
	return root.ports[i]->dev.devfn;
}

Test(pcie_port, header_and_capabilities_are_a_root_ports)
{
	uint8_t p = port_devfn(0);
	uint32_t exp, pm;

	cr_assert_eq(rd(0, p, PCI_VENDOR_ID, 4), 0x000c1b36);
	cr_assert_eq(rd(0, p, PCI_CLASS_REVISION, 4) >> 8, 0x060400);
	cr_assert_eq(rd(0, p, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_BRIDGE);
	cr_assert(rd(0, p, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cr_assert_eq(rd(0, p, PCI_INTERRUPT_PIN, 1), 0);
	exp = rd(0, p, PCI_CAPABILITY_LIST, 1);
	cr_assert_eq(rd(0, p, exp, 1), PCI_CAP_ID_EXP);
	/* Version 2, Root Port, slot implemented. */
	cr_assert_eq(rd(0, p, exp + PCI_EXP_FLAGS, 2) & 0x1ff, 0x142);
	/* The link is up: 16 GT/s x16, data link layer active; 16 GT/s is supported. */
	cr_assert_eq(rd(0, p, exp + PCI_EXP_LNKSTA, 2) & 0x3ff, 4 | 16 << 4);
	cr_assert(rd(0, p, exp + PCI_EXP_LNKSTA, 2) & PCI_EXP_LNKSTA_DLLLA);
	cr_assert(rd(0, p, exp + PCI_EXP_LNKCAP2, 4) & (1 << 4));
	cr_assert(rd(0, p, exp + PCI_EXP_SLTSTA, 2) & PCI_EXP_SLTSTA_PDS);
	pm = rd(0, p, exp + 1, 1);
	cr_assert_eq(rd(0, p, pm, 1), PCI_CAP_ID_PM);
	cr_assert_eq(rd(0, p, pm + 1, 1), 0, "the chain ends at PM");
	/* No extended capabilities, and the same through CF8/CFC. */
	cr_assert_eq(rd(0, p, 0x100, 4), 0);
	cr_assert_eq(cf8_rd(0, p, PCI_CLASS_REVISION) >> 8, 0x060400);
}

Test(pcie_port, only_what_a_real_port_lets_software_change_changes)
{
	uint8_t p = port_devfn(0);
	uint32_t before[64];

	for (unsigned int off = 0; off < 256; off += 4)
		before[off / 4] = rd(0, p, off, 4);
	/* Read-only registers: IDs, class, BARs, capability pointer, PCIe flags, link status. */
	static const unsigned int ro[] = { 0x00, 0x08, 0x10, 0x14, 0x30, 0x34, 0x38,
					   0x40, 0x40 + PCI_EXP_LNKCAP, 0x80 };
	for (unsigned int k = 0; k < sizeof(ro) / sizeof(ro[0]); k++) {
		wr(0, p, ro[k], 4, 0xa5a5a5a5);
		cr_assert_eq(rd(0, p, ro[k], 4), before[ro[k] / 4], "+%#x changed", ro[k]);
	}
	wr(0, p, 0x40 + PCI_EXP_LNKSTA, 2, 0);
	cr_assert_eq(rd(0, p, 0x40 + PCI_EXP_LNKSTA, 2), before[0x50 / 4] >> 16);
	wr(0, p, 0x100, 4, ~0u);
	cr_assert_eq(rd(0, p, 0x100, 4), 0);
	/* Bus numbers are writable; the secondary latency timer is not. */
	wr(0, p, PCI_PRIMARY_BUS, 4, 0xff070503);
	cr_assert_eq(rd(0, p, PCI_PRIMARY_BUS, 4), 0x00070503);
	/* Windows: the granule bits and the type nibbles are fixed. */
	wr(0, p, PCI_IO_BASE, 2, 0xffff);
	cr_assert_eq(rd(0, p, PCI_IO_BASE, 2), 0xf0f0);
	wr(0, p, PCI_MEMORY_BASE, 4, ~0u);
	cr_assert_eq(rd(0, p, PCI_MEMORY_BASE, 4), 0xfff0fff0);
	wr(0, p, PCI_PREF_MEMORY_BASE, 4, 0);
	cr_assert_eq(rd(0, p, PCI_PREF_MEMORY_BASE, 4), 0x00010001, "64-bit prefetchable");
	wr(0, p, PCI_PREF_BASE_UPPER32, 4, 0x12345678);
	cr_assert_eq(rd(0, p, PCI_PREF_BASE_UPPER32, 4), 0x12345678);
	/* Retrain link reads 0; ASPM control sticks. */
	wr(0, p, 0x40 + PCI_EXP_LNKCTL, 2, PCI_EXP_LNKCTL_RL | 3);
	cr_assert_eq(rd(0, p, 0x40 + PCI_EXP_LNKCTL, 2), 3);
	/* D1 is not supported: the write is ignored; D3hot is taken. */
	wr(0, p, 0x80 + PCI_PM_CTRL, 2, 1);
	cr_assert_eq(rd(0, p, 0x80 + PCI_PM_CTRL, 2) & 3, 0);
	wr(0, p, 0x80 + PCI_PM_CTRL, 2, 3);
	cr_assert_eq(rd(0, p, 0x80 + PCI_PM_CTRL, 2) & 3, 3);
}

Test(pcie_port, config_cycles_reach_the_device_only_at_its_secondary_bus)
{
	uint8_t p = port_devfn(0);

	/* At reset the port has no bus numbers: the device is unreachable. */
	cr_assert_eq(rd(1, 0, PCI_VENDOR_ID, 4), ~0u);
	cr_assert_eq(rd(0, 0, PCI_VENDOR_ID, 2), 0x8086, "bus 0 is the host bridge's");
	wr(0, p, PCI_PRIMARY_BUS, 4, 0x00010100);
	cr_assert_eq(rd(1, 0, PCI_VENDOR_ID, 2), 0x10de);
	cr_assert_eq(cf8_rd(1, 0, PCI_VENDOR_ID) & 0xffff, 0x10de, "CF8/CFC reaches it too");
	/* Only device 0, function 0; no other bus. */
	cr_assert_eq(rd(1, PCI_DEVFN(1, 0), PCI_VENDOR_ID, 4), ~0u);
	cr_assert_eq(rd(1, PCI_DEVFN(0, 1), PCI_VENDOR_ID, 4), ~0u);
	cr_assert_eq(rd(2, 0, PCI_VENDOR_ID, 4), ~0u);
	/* A write through the port reaches the device's own config space. */
	wr(1, 0, PCI_INTERRUPT_LINE, 1, 0x5a);
	cr_assert_eq(rd(1, 0, PCI_INTERRUPT_LINE, 1), 0x5a);
	/* Hostile bus numbers: subordinate below secondary closes the port. */
	wr(0, p, PCI_SUBORDINATE_BUS, 1, 0);
	cr_assert_eq(rd(1, 0, PCI_VENDOR_ID, 4), ~0u);
	/* Secondary 0: bus 0 stays the root bus, the device is reached nowhere. */
	wr(0, p, PCI_PRIMARY_BUS, 4, 0x00ff0000);
	cr_assert_eq(rd(0, 0, PCI_VENDOR_ID, 2), 0x8086);
	for (unsigned int bus = 1; bus < 256; bus++)
		cr_assert_eq(rd(bus, 0, PCI_VENDOR_ID, 4), ~0u, "bus %u", bus);
}

Test(pcie_port, two_ports_claiming_one_bus_reach_the_first_ones_device)
{
	fake_vfio_free(&fakes[0]);
	vfio_pci_exit(&gpus[0]);
	nr_gpus = 0;
	pci_root_release(&root);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	cr_assert_eq(pci_root_init(&root, &pio, &mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE), 0);
	add_gpus("h100", 2, true);
	wr(0, port_devfn(0), PCI_PRIMARY_BUS, 4, 0x00050500);
	wr(0, port_devfn(1), PCI_PRIMARY_BUS, 4, 0x00050500);
	wr(5, 0, PCI_INTERRUPT_LINE, 1, 0x33);
	cr_assert_eq(gpus[0].cfg.shadow[PCI_INTERRUPT_LINE], 0x33);
	cr_assert_neq(gpus[1].cfg.shadow[PCI_INTERRUPT_LINE], 0x33);
	/* Moved apart, each is reached at its own bus. */
	wr(0, port_devfn(1), PCI_PRIMARY_BUS, 4, 0x00060600);
	wr(6, 0, PCI_INTERRUPT_LINE, 1, 0x44);
	cr_assert_eq(gpus[1].cfg.shadow[PCI_INTERRUPT_LINE], 0x44);
	cr_assert_eq(gpus[0].cfg.shadow[PCI_INTERRUPT_LINE], 0x33);
}

static int place(unsigned int phys_bits, char *msg, size_t msglen)
{
	struct pci_dev *devs[256];
	struct pcie_port *ports[PCI_MAX_PORTS];
	struct pci_window w32, w64, io;
	struct layout l;
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;
	unsigned int n = 0;
	size_t got;

	for (unsigned int i = 0; i < 256; i++)
		if (root.devs[i])
			devs[n++] = root.devs[i];
	for (unsigned int i = 0; i < root.nr_ports; i++)
		ports[i] = root.ports[i];
	cr_assert_eq(layout_init(&l, 2 * GiB, phys_bits), 0);
	pci_window_init(&w32, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
	pci_window_init(&w64, l.mmio64_base, l.mmio64_end);
	pci_window_init(&io, 0xc000, 0x10000);
	cr_assert_not_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = vm_place_all(&l, devs, n, ports, root.nr_ports, &w32, &w64, &io);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	got = fread(msg, 1, msglen - 1, tmp);
	msg[got] = 0;
	fclose(tmp);
	return ret;
}

struct windows {
	uint64_t mem, mem_end, pref, pref_end;	/* end inclusive */
};

static struct windows port_windows(unsigned int i)
{
	uint8_t p = port_devfn(i);
	struct windows w;

	w.mem = (uint64_t)(rd(0, p, PCI_MEMORY_BASE, 2) & 0xfff0) << 16;
	w.mem_end = (uint64_t)(rd(0, p, PCI_MEMORY_LIMIT, 2) & 0xfff0) << 16 | 0xfffff;
	w.pref = (uint64_t)(rd(0, p, PCI_PREF_MEMORY_BASE, 2) & 0xfff0) << 16 |
		 (uint64_t)rd(0, p, PCI_PREF_BASE_UPPER32, 4) << 32;
	w.pref_end = ((uint64_t)(rd(0, p, PCI_PREF_MEMORY_LIMIT, 2) & 0xfff0) << 16 |
		      (uint64_t)rd(0, p, PCI_PREF_LIMIT_UPPER32, 4) << 32) | 0xfffff;
	return w;
}

static void check_inside(unsigned int g, unsigned int bar, uint64_t lo, uint64_t hi)
{
	uint64_t a = vfio_bar_guest_addr(&gpus[g], bar), size = gpus[g].pci.bars[bar].size;

	cr_assert_eq(a & (size - 1), 0, "GPU %u BAR%u at %#llx not naturally aligned", g, bar,
		     (unsigned long long)a);
	cr_assert(a >= lo && a + size - 1 <= hi, "GPU %u BAR%u [%#llx+%#llx] outside [%#llx-%#llx]",
		  g, bar, (unsigned long long)a, (unsigned long long)size, (unsigned long long)lo,
		  (unsigned long long)hi);
}

Test(pcie_port, firmware_gives_bus_numbers_and_windows_covering_the_bars)
{
	struct windows w;
	char msg[1024];
	uint8_t p = port_devfn(0);

	cr_assert_eq(place(46, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(rd(0, p, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x010100);
	cr_assert_eq(rd(0, p, PCI_COMMAND, 2) & 7, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		     "no I/O BAR: I/O decode stays off");
	/* No I/O BARs: the I/O window is closed (base above limit). */
	cr_assert_gt(rd(0, p, PCI_IO_BASE, 1) & 0xf0, rd(0, p, PCI_IO_LIMIT, 1) & 0xf0);
	w = port_windows(0);
	/*
	 * This H100's BARs are all 64-bit prefetchable (the fixture's flags):
	 * BAR2 (128 GiB), BAR4 (32 MiB) and BAR0 (16 MiB) share the
	 * prefetchable window above 4 GiB, aligned to BAR2, nothing wasted.
	 */
	cr_assert(gpus[0].pci.bars[0].prefetch && gpus[0].pci.bars[0].type == PCI_BAR_MEM64);
	cr_assert_geq(w.pref, 1ull << 32);
	cr_assert_eq(w.pref & (128 * GiB - 1), 0);
	check_inside(0, 0, w.pref, w.pref_end);
	check_inside(0, 2, w.pref, w.pref_end);
	check_inside(0, 4, w.pref, w.pref_end);
	cr_assert_eq(w.pref_end - w.pref + 1, 128 * GiB + 48 * MiB);
	/* The expansion ROM, a 32-bit BAR, in the memory window below 4 GiB. */
	cr_assert_lt(w.mem_end, 1ull << 32);
	check_inside(0, PCI_ROM_BAR, w.mem, w.mem_end);
	/* The device is reached at 01:00.0 and reports the BARs firmware gave it. */
	cr_assert_eq(rd(1, 0, PCI_BASE_ADDRESS_2, 4) & ~0xfu,
		     (uint32_t)vfio_bar_guest_addr(&gpus[0], 2));
}

Test(pcie_port, eight_h200s_behind_ports_fit_with_46_bits_and_are_refused_with_42)
{
	char msg[1024];

	/* One more root and eight H200s behind ports, fresh. */
	vfio_pci_exit(&gpus[0]);
	fake_vfio_free(&fakes[0]);
	nr_gpus = 0;
	pci_root_release(&root);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	cr_assert_eq(pci_root_init(&root, &pio, &mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE), 0);
	add_gpus("h200", NR_GPUS, true);
	/*
	 * Each port's prefetchable window is BAR2 + BAR4, aligned to 256 GiB:
	 * 512 GiB of address space per GPU, 4 TiB for eight, more than 42 bits.
	 */
	cr_assert_eq(place(42, msg, sizeof(msg)), -ENOSPC);
	cr_assert(strstr(msg, "8 devices need"), "%s", msg);
	cr_assert_eq(strchr(msg, '\n'), msg + strlen(msg) - 1, "one line: %s", msg);
	cr_assert_eq(place(46, msg, sizeof(msg)), 0, "%s", msg);
	for (unsigned int g = 0; g < NR_GPUS; g++) {
		struct windows w = port_windows(g);
		unsigned int gpu = g;

		/* Ports were placed largest first; find the GPU behind port g. */
		for (unsigned int k = 0; k < NR_GPUS; k++)
			if (root.ports[g]->child == &gpus[k].pci)
				gpu = k;
		check_inside(gpu, 0, w.pref, w.pref_end);
		check_inside(gpu, 2, w.pref, w.pref_end);
		check_inside(gpu, 4, w.pref, w.pref_end);
		for (unsigned int h = 0; h < g; h++) {
			struct windows o = port_windows(h);

			cr_assert(w.pref_end < o.pref || o.pref_end < w.pref,
				  "ports %u and %u overlap", g, h);
			cr_assert(w.mem_end < o.mem || o.mem_end < w.mem, "ports %u and %u overlap",
				  g, h);
		}
		cr_assert_eq(rd(0, port_devfn(g), PCI_SECONDARY_BUS, 1), g + 1);
	}
}

Test(pcie_port, intx_arrives_swizzled_at_the_ports_slot)
{
	uint8_t pin, devfn;

	for (uint8_t p = 1; p <= 4; p++) {
		devfn = pci_dev_intx_root(&gpus[0].pci, p, &pin);
		cr_assert_eq(devfn, port_devfn(0));
		cr_assert_eq(pin, p, "device 0 below a port keeps its pin");
	}
	/* A device at slot 1 below a bridge would move one pin on (the PCI-to-PCI rule). */
	gpus[0].pci.devfn = PCI_DEVFN(1, 0);
	devfn = pci_dev_intx_root(&gpus[0].pci, 4, &pin);
	cr_assert_eq(pin, 1);
	gpus[0].pci.devfn = 0;
	/* A device on the root bus: unchanged. */
	cr_assert_eq(pci_dev_intx_root(&root.ports[0]->dev, 2, &pin), port_devfn(0));
	cr_assert_eq(pin, 2);
}

/*
 * The decision documented in docs/passthrough.md: a port's windows do not
 * gate its device's BARs. A guest that closes the window or turns the
 * port's decode off leaves the BAR where it is; only the device's own
 * BAR register and command register move it.
 */
Test(pcie_port, closing_the_window_leaves_the_bar_decoding)
{
	char msg[1024];
	uint8_t p = port_devfn(0);
	unsigned int unmaps;

	cr_assert_eq(place(46, msg, sizeof(msg)), 0, "%s", msg);
	wr(1, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cr_assert(gpus[0].pci.bars[0].mapped);
	unmaps = fake_count(&host, EV_UNMAP, 0);
	wr(0, p, PCI_MEMORY_BASE, 4, 0x0000fff0);	/* base above limit: closed */
	wr(0, p, PCI_COMMAND, 2, 0);
	cr_assert(gpus[0].pci.bars[0].mapped);
	cr_assert_eq(fake_count(&host, EV_UNMAP, 0), unmaps);
	/* The device's own command register still does. */
	wr(1, 0, PCI_COMMAND, 2, 0);
	cr_assert_not(gpus[0].pci.bars[0].mapped);
}

Test(pcie_port, a_full_root_bus_refuses_another_port)
{
	struct pci_dev extra = { .name = "extra" };
	int ret = 0;

	for (unsigned int i = 0; i < 40 && !ret; i++)
		ret = pci_root_add_port(&root, &extra, &host.pci);
	cr_assert_eq(ret, -ENOSPC);
	cr_assert_leq(root.nr_ports, PCI_MAX_PORTS);
}

/*
 * --trace pci prints the port's windows after each write to its bus or
 * window registers. A memory window at or above 2 GiB (base register
 * 0x8000 and up) was shifted as an int: undefined behaviour, found by
 * fuzz_pci_host's UBSan; in the ASan/UBSan build its report lands in the
 * captured stderr.
 */
Test(pcie_port, traced_memory_window_above_2g)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char out[4096] = "";
	uint8_t p = port_devfn(0);

	cr_assert_not_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	log_enabled = LOG_PCI;
	wr(0, p, PCI_MEMORY_BASE, 4, 0xc8f0c800);	/* [0xc8000000, 0xc8ffffff] */
	log_enabled = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	cr_assert_gt(fread(out, 1, sizeof(out) - 1, tmp), 0);
	fclose(tmp);
	cr_assert(strstr(out, "mem [0xc8000000-0xc8ffffff]"), "trace: %s", out);
	/* UBSan (recovering, as meson test runs it) reports on the same stderr. */
	cr_assert_null(strstr(out, "runtime error"), "%s", out);
}
