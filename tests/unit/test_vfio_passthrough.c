// SPDX-License-Identifier: MIT
/*
 * The passthrough glue on a real KVM VM (this host's /dev/kvm), with the
 * fake H100 behind it: BAR pieces become real memslots and bus ranges,
 * MSI-X vectors real GSI routes and irqfds. The BARs are shrunk to 1 MiB
 * where the fake would otherwise ask KVM for a 128 GiB memslot.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "test_vfio_fake.h"
#include "vfio/pci_passthrough.h"
#include "vmm/assign.h"
#include "vmm/pci_host_vm.h"
#include "vmm/vm.h"

static struct vm vm;
static struct fake_vfio fake;
static struct vfio_passthrough *pt;

static void setup(void)
{
	struct vm_config cfg = { .ram_size = 64 << 20, .nr_cpus = 1 };

	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("no /dev/kvm");
	cr_assert_eq(vm_create(&vm, &cfg), 0);
	fake_vfio_init(&fake, true);
	fake.sizes[2] = 1 << 20;
	fake.sizes[4] = 1 << 20;
	cr_assert_eq(assign_add_device(&vm, &fake_vfio_ops, &fake, -1, "h100", 0, &pt), 0);
	cr_assert_eq(vm_place_pci_bars(&vm), 0);
}

static void teardown(void)
{
	vfio_passthrough_close(pt);
	vm_destroy(&vm);
	fake_vfio_free(&fake);
}

TestSuite(vfio_passthrough, .init = setup, .fini = teardown);

static uint32_t rd(uint8_t devfn, uint32_t off)
{
	uint32_t v = 0;

	pci_cfg_read(&vm.pci, devfn, off, &v, 4);
	return v;
}

static void wr(uint8_t devfn, uint32_t off, uint32_t len, uint32_t v)
{
	pci_cfg_write(&vm.pci, devfn, off, &v, len);
}

Test(vfio_passthrough, bars_become_memslots_and_trapped_ranges)
{
	struct vfio_pci_dev *d = vfio_passthrough_dev(pt);
	uint8_t devfn = d->pci.devfn;
	uint64_t bar0;
	uint32_t v = 0;

	cr_assert_eq(rd(devfn, PCI_VENDOR_ID), 0x233010de, "not on the root bus");
	bar0 = vfio_bar_guest_addr(d, 0);
	cr_assert_geq(bar0, vm.layout.mmio64_base);
	/* Decode on through the root bus: every piece lands on the VM. */
	wr(devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cr_assert(d->pci.bars[0].mapped);
	cr_assert(d->pci.bars[2].mapped);
	for (unsigned int k = 0; k < d->pci.bars[0].nr_pieces; k++)
		if (d->pci.bars[0].pieces[k].direct)
			cr_assert_geq(d->pci.bars[0].pieces[k].handle, 0, "no memslot for piece %u", k);
	/* The MSI-X table page is a bus range: a read reaches our emulated table. */
	cr_assert(bus_read(&vm.mmio, bar0 + 0xb90000 + 12, &v, 4));
	cr_assert_eq(v, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	/* A direct piece is guest memory KVM knows, not a bus range. */
	cr_assert_not(bus_read(&vm.mmio, bar0 + 0x1000, &v, 4));
	/* Decode off: ranges gone. */
	wr(devfn, PCI_COMMAND, 2, 0);
	cr_assert_not(d->pci.bars[0].mapped);
	cr_assert_not(bus_read(&vm.mmio, bar0 + 0xb90000 + 12, &v, 4));
	cr_assert_eq(v, 0xffffffff);
}

Test(vfio_passthrough, msix_vector_gets_a_kvm_route_and_irqfd)
{
	struct vfio_pci_dev *d = vfio_passthrough_dev(pt);
	uint8_t devfn = d->pci.devfn;
	uint64_t bar0 = vfio_bar_guest_addr(d, 0);
	uint32_t addr = 0xfee00000, data = 0x45, ctrl = 0;

	cr_assert(d->intx.enabled, "INTx should be wired to its _PRT pin");
	wr(devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	wr(devfn, 0xb0 + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	cr_assert_not(d->intx.enabled);
	cr_assert(bus_write(&vm.mmio, bar0 + 0xb90000, &addr, 4));
	cr_assert(bus_write(&vm.mmio, bar0 + 0xb90008, &data, 4));
	cr_assert(bus_write(&vm.mmio, bar0 + 0xb9000c, &ctrl, 4));
	cr_assert_geq(d->msix.vec[0].gsi, VM_IOAPIC_PINS, "no KVM route");
	cr_assert(d->msix.vec[0].attached, "KVM_IRQFD failed");
	wr(devfn, 0xb0 + PCI_MSIX_FLAGS, 2, 0);
	cr_assert_eq(d->msix.vec[0].gsi, -1);
	cr_assert(d->intx.enabled);
}

/* What the --p2p hook was told, in order. */
struct dma_event {
	bool map;
	uint64_t gpa, size;
	void *hva;
};

static struct dma_event dma_events[64];
static unsigned int nr_dma_events;

static int record_dma(void *opaque, bool map, uint64_t gpa, void *hva, uint64_t size)
{
	(void)opaque;
	cr_assert_lt(nr_dma_events, 64);
	dma_events[nr_dma_events++] = (struct dma_event){ map, gpa, size, hva };
	return 0;
}

/* Bytes of BAR2 the hook saw mapped (map=true) or unmapped at [base, base + 1 MiB). */
static uint64_t dma_bytes(bool map, uint64_t base)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nr_dma_events; i++)
		if (dma_events[i].map == map && dma_events[i].gpa >= base &&
		    dma_events[i].gpa + dma_events[i].size <= base + (1 << 20))
			n += dma_events[i].size;
	return n;
}

/*
 * The P2P mapping follows the guest: made when decode goes on, moved with
 * the BAR, dropped when decode goes off (the testbed found a BAR the guest
 * moved left behind at its old IOVA).
 */
Test(vfio_passthrough, p2p_hook_follows_decode_and_bar_moves)
{
	struct vfio_pci_dev *d = vfio_passthrough_dev(pt);
	uint8_t devfn = d->pci.devfn;
	uint64_t old = vfio_bar_guest_addr(d, 2), moved = old + (64ull << 20);

	nr_dma_events = 0;
	vfio_pci_set_dma_hook(vfio_passthrough_dev(pt), record_dma, NULL);
	wr(devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cr_assert_eq(dma_bytes(true, old), 1 << 20, "BAR2 not mapped for DMA at decode on");
	for (unsigned int i = 0; i < nr_dma_events; i++)
		cr_assert(dma_events[i].map && dma_events[i].hva);
	/* The guest moves BAR2 with decode on: unmapped at old, mapped at new. */
	wr(devfn, PCI_BASE_ADDRESS_2, 4, (uint32_t)moved | (rd(devfn, PCI_BASE_ADDRESS_2) & 0xf));
	wr(devfn, PCI_BASE_ADDRESS_3, 4, (uint32_t)(moved >> 32));
	cr_assert_eq(vfio_bar_guest_addr(d, 2), moved);
	cr_assert_eq(dma_bytes(false, old), 1 << 20, "BAR2 left mapped at its old IOVA");
	cr_assert_eq(dma_bytes(true, moved), 1 << 20, "BAR2 not mapped at its new IOVA");
	wr(devfn, PCI_COMMAND, 2, 0);
	cr_assert_eq(dma_bytes(false, moved), 1 << 20, "BAR2 still a DMA target with decode off");
	vfio_pci_set_dma_hook(vfio_passthrough_dev(pt), NULL, NULL);
}

/* A guest FLR through the root bus on a real VM: memslots and bus ranges go, the reset op runs. */
Test(vfio_passthrough, guest_flr_unmaps_bars_and_resets)
{
	struct vfio_pci_dev *d = vfio_passthrough_dev(pt);
	uint8_t devfn = d->pci.devfn;
	uint64_t bar0 = vfio_bar_guest_addr(d, 0);
	unsigned int resets = fake.resets;
	uint32_t v = 0;

	cr_assert(rd(devfn, 0x60 + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR, "FLR not offered");
	wr(devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cr_assert(d->pci.bars[0].mapped);
	for (unsigned int i = 0; i < 20; i++) {
		wr(devfn, 0x60 + PCI_EXP_DEVCTL + 1, 1, PCI_EXP_DEVCTL_BCR_FLR >> 8);
		cr_assert_eq(fake.resets, resets + 1 + i);
		cr_assert_not(d->pci.bars[0].mapped);
		for (unsigned int k = 0; k < d->pci.bars[0].nr_pieces; k++)
			cr_assert_eq(d->pci.bars[0].pieces[k].handle, -1, "memslot of piece %u kept", k);
		cr_assert_not(bus_read(&vm.mmio, bar0 + 0xb90000 + 12, &v, 4));
		cr_assert_eq(rd(devfn, PCI_COMMAND) & 0xffff, 0);
		cr_assert_eq(rd(devfn, PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_MASK, 0);
		/* The guest's driver brings it back at the same address. */
		wr(devfn, PCI_BASE_ADDRESS_0, 4, (uint32_t)bar0);
		wr(devfn, PCI_BASE_ADDRESS_1, 4, bar0 >> 32);
		wr(devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
		cr_assert(d->pci.bars[0].mapped);
		cr_assert(bus_read(&vm.mmio, bar0 + 0xb90000 + 12, &v, 4));
		cr_assert_eq(v, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
}
