// SPDX-License-Identifier: MIT
/*
 * virtio-net-pci assigned through VFIO, for the BAR kinds edu and nvme do
 * not have: the expansion ROM (read through the ROM BAR once enabled), the
 * legacy I/O BAR0 (every access trapped and forwarded by the VMM), BAR1
 * holding only the MSI-X table and PBA (one page, so all of it trapped and
 * emulated), and BAR4 with the modern virtio registers (mapped, no exits).
 * The guest counts the accesses it makes to each BAR; the testbed compares
 * them with the VMM's --stats.
 */
#include "pt-common.h"

#define PCI_ROM_ADDRESS		0x30
#define PCI_ROM_ENABLE		0x1

/* Legacy virtio PCI header in the I/O BAR (MSI-X off). */
#define VIRTIO_HOST_FEATURES	0x00
#define VIRTIO_QUEUE_SIZE	0x0c
#define VIRTIO_QUEUE_SEL	0x0e
#define VIRTIO_STATUS		0x12
#define VIRTIO_NET_MAC		0x14
#define VIRTIO_STATUS_ACK	0x01
#define VIRTIO_NET_F_MAC	(1u << 5)

/* Modern layout QEMU gives BAR4: common config at 0, device config at 0x2000. */
#define VIRTIO_COMMON_NUMQ	0x12
#define VIRTIO_DEVICE_CFG	0x2000

static unsigned int io_accesses, bar1_accesses, bar4_accesses;
static uint8_t mac[6];

static void check_rom(uint16_t bdf)
{
	uint32_t reg = pci_cfg_read32(bdf, PCI_ROM_ADDRESS), size_mask;
	uint64_t rom = reg & ~0x7ffu;
	uint16_t sig = 0, pcir = 0;
	uint32_t pcir_sig = 0, ids = 0;

	pci_cfg_write32(bdf, PCI_ROM_ADDRESS, ~0x7ffu);
	size_mask = pci_cfg_read32(bdf, PCI_ROM_ADDRESS) & ~0x7ffu;
	pci_cfg_write32(bdf, PCI_ROM_ADDRESS, (uint32_t)rom | PCI_ROM_ENABLE);
	if (rom) {
		sig = mmio_read16(rom);
		/* The PCI data structure names the device the image is for. */
		pcir = mmio_read16(rom + 0x18);
		if (pcir && pcir < 0x1000) {
			pcir_sig = mmio_read32(rom + pcir);
			ids = mmio_read32(rom + pcir + 4);
		}
	}
	pt_check("virtio-net.rom", rom && sig == 0xaa55 && pcir_sig == 0x52494350 &&
		 ids == 0x10001af4,
		 "ROM BAR at 0x%lx (%u KiB): signature 0x%04x, PCIR at +0x%x for %04x:%04x",
		 rom, size_mask ? (~size_mask + 1) >> 10 : 0, sig, pcir, ids & 0xffff, ids >> 16);
	pci_cfg_write32(bdf, PCI_ROM_ADDRESS, (uint32_t)rom);
}

static void check_io_bar(const struct pci_bar *b0)
{
	uint16_t port = (uint16_t)b0->addr, qsize;
	uint32_t features;
	uint8_t status;

	if (!b0->io || !port) {
		pt_check("virtio-net.io-bar", false, "BAR0 is not an assigned I/O BAR");
		return;
	}
	features = inl(port + VIRTIO_HOST_FEATURES);
	outb(port + VIRTIO_STATUS, VIRTIO_STATUS_ACK);
	status = inb(port + VIRTIO_STATUS);
	outw(port + VIRTIO_QUEUE_SEL, 0);
	qsize = inw(port + VIRTIO_QUEUE_SIZE);
	for (unsigned int i = 0; i < 6; i++)
		mac[i] = inb(port + VIRTIO_NET_MAC + i);
	outb(port + VIRTIO_STATUS, 0);	/* reset */
	io_accesses += 6 + 6;
	pt_check("virtio-net.io-bar", (features & VIRTIO_NET_F_MAC) &&
		 status == VIRTIO_STATUS_ACK && qsize && !(qsize & (qsize - 1)),
		 "ports 0x%x-0x%lx: host features 0x%08x, status 0x%x after ACK, queue 0 size %u, "
		 "MAC %02x:%02x:%02x:%02x:%02x:%02x", port, port + b0->size - 1, features, status,
		 qsize, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void check_msix_bar(uint16_t bdf, const struct pt_dev *d)
{
	struct msix_info mx;
	uint32_t data0, data1;
	bool pending;

	if (pci_msix_probe(bdf, &mx)) {
		pt_check("virtio-net.msix-table", false, "no MSI-X capability");
		return;
	}
	/* Two entries, left masked: the VMM keeps them, the device never sees them. */
	pci_msix_set_entry(&mx, 0, msi_address(lapic_id()), msi_data(0x70), true);
	pci_msix_set_entry(&mx, 1, msi_address(lapic_id()), msi_data(0x71), true);
	data0 = mmio_read32(mx.table + 8);
	data1 = mmio_read32(mx.table + PCI_MSIX_ENTRY_SIZE + 8);
	pending = pci_msix_pending(&mx, 0);
	bar1_accesses += 5 + 5 + 2 + 1;
	pt_check("virtio-net.msix-table", mx.table >= d->bar[1].addr &&
		 mx.table < d->bar[1].addr + d->bar[1].size && data0 == 0x70 && data1 == 0x71 &&
		 !pending,
		 "%u vectors, table at BAR1+0x%lx, PBA at BAR1+0x%lx (BAR1 is %lu bytes): "
		 "entries read back 0x%x 0x%x, vector 0 %spending", mx.nr_vectors,
		 mx.table - d->bar[1].addr, mx.pba - d->bar[1].addr, d->bar[1].size, data0, data1,
		 pending ? "" : "not ");
}

static void check_mapped_bar(const struct pci_bar *b4)
{
	uint16_t numq;
	uint8_t m[6];
	bool same = true;

	if (!b4->size || b4->io) {
		pt_check("virtio-net.bar4", false, "BAR4 is not a memory BAR");
		return;
	}
	numq = mmio_read16(b4->addr + VIRTIO_COMMON_NUMQ);
	for (unsigned int i = 0; i < 6; i++) {
		m[i] = mmio_read8(b4->addr + VIRTIO_DEVICE_CFG + i);
		same = same && m[i] == mac[i];
	}
	bar4_accesses += 7;
	pt_check("virtio-net.bar4", numq >= 2 && same,
		 "modern registers at 0x%lx: %u queues, MAC in device config %s the I/O BAR's",
		 b4->addr, numq, same ? "matches" : "differs from");
}

int main(void)
{
	struct pt_dev d;

	lapic_init();
	if (pt_open(0x1af4, 0x1000, "virtio-net", &d)) {
		check_rom((uint16_t)d.bdf);
		check_io_bar(&d.bar[0]);
		check_msix_bar((uint16_t)d.bdf, &d);
		check_mapped_bar(&d.bar[4]);
		printf("PT-COUNT virtio-net BAR0 accesses %u\n", io_accesses);
		printf("PT-COUNT virtio-net BAR1 accesses %u\n", bar1_accesses);
		printf("PT-COUNT virtio-net BAR4 accesses %u\n", bar4_accesses);
	}
	pt_finish("pt-virtio-net");
}
