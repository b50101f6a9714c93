// SPDX-License-Identifier: MIT
/*
 * QEMU's edu device assigned through VFIO: its registers through the BAR
 * mapped into the guest, the factorial's completion interrupt through MSI
 * (VFIO eventfd -> KVM irqfd -> MSI route) and through INTx (eventfd ->
 * irqfd with resample -> IOAPIC pin), and DMA from and to guest RAM through
 * the IOMMU that the VMM programmed with IOVA = guest physical.
 */
#include "pt-common.h"

#define VEC_MSI		0x60
#define VEC_INTX	0x61
#define VEC_MSI2	0x63
#define MOVED_BAR0	0xc0800000ull	/* another 1 MiB-aligned spot in the 32-bit window */
#define DMA_LEN		3000	/* below edu's 4096-byte abort, odd-sized on purpose */

static uint64_t bar0;
static volatile uint32_t irq_status_seen;
static uint8_t dma_out[4096] __attribute__((aligned(4096)));
static uint8_t dma_in[4096] __attribute__((aligned(4096)));

/* edu keeps its interrupt raised until acknowledged: read, ack, then EOI. */
static void edu_handler(struct irq_frame *f)
{
	uint32_t st = mmio_read32(bar0 + EDU_IRQ_STATUS);

	(void)f;
	irq_status_seen |= st;
	mmio_write32(bar0 + EDU_IRQ_ACK, st);
	lapic_eoi();
}

static void check_registers(void)
{
	uint32_t ident = mmio_read32(bar0 + EDU_IDENT), live;

	pt_check("edu.ident", ident == 0x010000ed, "ident 0x%08x", ident);
	mmio_write32(bar0 + EDU_LIVENESS, 0x12345678);
	live = mmio_read32(bar0 + EDU_LIVENESS);
	mmio_write32(bar0 + EDU_LIVENESS, 0xa5a5f00f);
	pt_check("edu.liveness", live == ~0x12345678u &&
		 mmio_read32(bar0 + EDU_LIVENESS) == ~0xa5a5f00fu,
		 "0x12345678 -> 0x%08x", live);
}

/* Starts n! with the completion interrupt on; true when vec arrived once more. */
static bool factorial_irq(unsigned int vec, uint32_t n, uint32_t *result)
{
	uint64_t before = idt_count(vec);
	bool got;

	irq_status_seen = 0;
	mmio_write32(bar0 + EDU_STATUS, EDU_STATUS_IRQ_FACT);
	mmio_write32(bar0 + EDU_FACTORIAL, n);
	got = idt_wait_count(vec, before + 1, PT_WAIT_CYCLES);
	*result = mmio_read32(bar0 + EDU_FACTORIAL);
	return got;
}

static void check_msi(uint16_t bdf)
{
	uint32_t r = 0;
	bool got;

	if (pci_msi_enable(bdf, msi_address(lapic_id()), msi_data(VEC_MSI))) {
		pt_check("edu.msi", false, "no MSI capability");
		return;
	}
	got = factorial_irq(VEC_MSI, 10, &r);
	pt_check("edu.msi", got && r == 3628800 && (irq_status_seen & 1),
		 "10! = %u, vector 0x%x delivered %lu time(s), irq status 0x%x", r, VEC_MSI,
		 idt_count(VEC_MSI), irq_status_seen);
	/* A new message while MSI stays enabled: the VMM must update the KVM route. */
	pci_msi_enable(bdf, msi_address(lapic_id()), msi_data(VEC_MSI2));
	got = factorial_irq(VEC_MSI2, 7, &r);
	pt_check("edu.msi-retarget", got && r == 5040 && idt_count(VEC_MSI) == 1,
		 "message data 0x%x -> 0x%x while enabled: 7! = %u on vector 0x%x, old vector %lu time(s)",
		 VEC_MSI, VEC_MSI2, r, VEC_MSI2, idt_count(VEC_MSI));
	pci_msi_disable(bdf);
}

/*
 * The guest moves BAR0 and turns decode off and on: the VMM must move the
 * memslot with it, and nothing may answer at the old address.
 */
static void check_bar_move(uint16_t bdf, struct pci_bar *b0)
{
	uint64_t old = b0->addr;
	uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	uint32_t at_new, at_old, decode_off;

	pci_cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	decode_off = mmio_read32(old + EDU_IDENT);
	pci_bar_set(bdf, 0, b0, MOVED_BAR0);
	pci_cfg_write16(bdf, PCI_COMMAND, cmd);
	at_new = mmio_read32(MOVED_BAR0 + EDU_IDENT);
	at_old = mmio_read32(old + EDU_IDENT);
	mmio_write32(MOVED_BAR0 + EDU_LIVENESS, 0x0badcafe);
	pt_check("edu.bar-move", decode_off != 0x010000ed && at_new == 0x010000ed &&
		 at_old != 0x010000ed && mmio_read32(MOVED_BAR0 + EDU_LIVENESS) == ~0x0badcafeu,
		 "decode off: 0x%08x; BAR0 0x%lx -> 0x%llx: ident 0x%08x there, 0x%08x at the old address",
		 decode_off, old, MOVED_BAR0, at_new, at_old);
	bar0 = MOVED_BAR0;
}

/*
 * The command register's INTx disable bit reaches the device (VFIO keeps it
 * virtual and masks the line): no interrupt while it is set, and the still
 * raised interrupt arrives once it is cleared.
 */
static void check_intx_disable(uint16_t bdf)
{
	uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	uint64_t before = idt_count(VEC_INTX), held, start = rdtsc();
	uint32_t r;
	bool late;

	irq_status_seen = 0;
	pci_cfg_write16(bdf, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
	mmio_write32(bar0 + EDU_STATUS, EDU_STATUS_IRQ_FACT);
	mmio_write32(bar0 + EDU_FACTORIAL, 4);
	/* The device has raised it once its status says so; give a leak time to show. */
	while (!(mmio_read32(bar0 + EDU_IRQ_STATUS) & 1) && rdtsc() - start < PT_WAIT_CYCLES)
		cpu_relax();
	idt_wait_count(VEC_INTX, before + 1, PT_WAIT_CYCLES / 50);
	r = mmio_read32(bar0 + EDU_FACTORIAL);
	held = idt_count(VEC_INTX) - before;
	pci_cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
	late = idt_wait_count(VEC_INTX, before + 1, PT_WAIT_CYCLES);
	pt_check("edu.intx-disable", held == 0 && late && r == 24 && (irq_status_seen & 1),
		 "4! = %u: %lu interrupts with INTx disabled, %s after enabling it", r, held,
		 late ? "delivered" : "NOT delivered");
}

static void check_intx(uint16_t bdf)
{
	unsigned int gsi = pt_intx_gsi(bdf);
	uint32_t r = 0, r2 = 0;
	bool got, got2;
	uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);

	pci_cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
	/* PCI INTx: level triggered, active low, as the _PRT tells Linux. */
	ioapic_route(gsi, VEC_INTX, lapic_id(), true, true, false);
	got = factorial_irq(VEC_INTX, 5, &r);
	/* A second one proves the line was unmasked again after our EOI (resample). */
	got2 = factorial_irq(VEC_INTX, 6, &r2);
	pt_check("edu.intx", got && got2 && r == 120 && r2 == 720,
		 "pin %c -> IOAPIC pin %u: 5! = %u, 6! = %u, vector 0x%x delivered %lu time(s)",
		 'A' + pci_cfg_read8(bdf, PCI_INTERRUPT_PIN) - 1, gsi, r, r2, VEC_INTX,
		 idt_count(VEC_INTX));
	check_intx_disable(bdf);
	ioapic_mask(gsi, true);
	mmio_write32(bar0 + EDU_STATUS, 0);
}

static void check_dma(void)
{
	bool out, in;
	long bad;

	pt_pattern_fill(dma_out, DMA_LEN, 0xed0);
	memset(dma_in, 0, sizeof(dma_in));
	out = edu_dma(bar0, true, (uint64_t)(uintptr_t)dma_out, 0, DMA_LEN);
	in = edu_dma(bar0, false, (uint64_t)(uintptr_t)dma_in, 0, DMA_LEN);
	bad = pt_pattern_bad(dma_in, DMA_LEN, 0xed0);
	pt_check("edu.dma", out && in && bad < 0 && dma_in[DMA_LEN] == 0,
		 "%u bytes RAM 0x%lx -> device -> RAM 0x%lx: %s", DMA_LEN,
		 (uint64_t)(uintptr_t)dma_out, (uint64_t)(uintptr_t)dma_in,
		 !out || !in ? "transfer never finished" : bad < 0 ? "data matches" : "data differs");
	if (bad >= 0)
		printf("  first mismatch at byte %ld: 0x%02x\n", bad, dma_in[bad]);
}

/*
 * The soak (soak=N on the command line): N interrupts raised through edu's
 * raise register, each an MSI from the device through VFIO's eventfd and
 * KVM's irqfd, one at a time: the guest waits for each before raising the
 * next, so N raised must be N delivered (a lost one stops the loop at the
 * wait's timeout). A burst would let the LAPIC merge MSIs legitimately.
 */
static void check_soak(uint16_t bdf, uint64_t n)
{
	uint64_t before, i, t0, t1;

	if (pci_msi_enable(bdf, msi_address(lapic_id()), msi_data(VEC_MSI))) {
		pt_check("edu.soak-msi", false, "no MSI capability");
		return;
	}
	before = idt_count(VEC_MSI);
	t0 = rdtsc();
	for (i = 0; i < n; i++) {
		mmio_write32(bar0 + EDU_IRQ_RAISE, 1);
		if (!idt_wait_count(VEC_MSI, before + i + 1, PT_WAIT_CYCLES))
			break;
		if (i && i % 100000 == 0)
			printf("soak: %lu interrupts\n", i);
	}
	t1 = rdtsc();
	pt_check("edu.soak-msi", idt_count(VEC_MSI) - before == n,
		 "%lu raised, %lu delivered, %lu TSC cycles each", i < n ? i + 1 : n,
		 idt_count(VEC_MSI) - before, n ? (t1 - t0) / n : 0);
	/* MSI stays on: the host's count of the vector is in /proc/interrupts for --stats. */
}

int main(void)
{
	uint64_t soak = cmdline_get_u64(boot_info.cmdline, "soak", 0);

	struct pt_dev d;

	lapic_init();
	idt_set_handler(VEC_MSI, edu_handler);
	idt_set_handler(VEC_INTX, edu_handler);
	idt_set_handler(VEC_MSI2, edu_handler);
	if (pt_open(0x1234, 0x11e8, "edu", &d)) {
		bar0 = d.bar[0].addr;
		check_registers();
		check_msi((uint16_t)d.bdf);
		check_intx((uint16_t)d.bdf);
		check_dma();
		check_bar_move((uint16_t)d.bdf, &d.bar[0]);
		if (soak)
			check_soak((uint16_t)d.bdf, soak);
	}
	pt_finish("pt-edu");
}
