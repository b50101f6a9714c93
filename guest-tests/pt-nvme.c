// SPDX-License-Identifier: MIT
/*
 * QEMU's NVMe controller assigned through VFIO: its MSI-X table lives in
 * BAR0 at 0x2000, next to the registers. The VMM traps the table's pages
 * (it emulates the table) and maps the rest of BAR0 straight to the device.
 * The guest brings the controller up on an admin queue pair in its RAM
 * (device DMA through the IOMMU), sends Identify Controller and waits for
 * the completion on MSI-X vector 0, then checks the model number it read.
 */
#include "pt-common.h"

#define VEC_ADMIN	0x62
#define VEC_INTX	0x64

#define NVME_CAP	0x00
#define NVME_VS		0x08
#define NVME_CC		0x14
#define NVME_CC_EN	0x1
#define NVME_CC_IOSQES	(6u << 16)	/* 64-byte submission entries */
#define NVME_CC_IOCQES	(4u << 20)	/* 16-byte completion entries */
#define NVME_CSTS	0x1c
#define NVME_CSTS_RDY	0x1
#define NVME_CSTS_CFS	0x2
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_DOORBELL	0x1000

#define QUEUE_DEPTH	4
#define OPC_IDENTIFY	0x06
#define CNS_CONTROLLER	1
#define CID		0x1d

struct nvme_sqe {
	uint32_t cdw0;		/* opcode | command id << 16 */
	uint32_t nsid;
	uint32_t rsvd[4];
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	uint32_t result, rsvd;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase tag */
};

static struct nvme_sqe asq[QUEUE_DEPTH] __attribute__((aligned(4096)));
static volatile struct nvme_cqe acq[QUEUE_DEPTH] __attribute__((aligned(4096)));
static volatile uint8_t ident[4096] __attribute__((aligned(4096)));

static uint64_t bar0;
/* Accesses this guest made to the table's pages: --stats must count exactly these. */
static unsigned int table_accesses;

static void admin_handler(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
}

static bool wait_csts(uint32_t want)
{
	uint64_t start = rdtsc();

	while ((mmio_read32(bar0 + NVME_CSTS) & NVME_CSTS_RDY) != want)
		if (rdtsc() - start > PT_WAIT_CYCLES)
			return false;
	return true;
}

static bool setup_msix(uint16_t bdf, struct msix_info *mx)
{
	uint16_t ctrl;

	if (pci_msix_probe(bdf, mx)) {
		pt_check("nvme.msix", false, "no MSI-X capability");
		return false;
	}
	/* Five trapped writes: mask, address low/high, data, unmask. */
	pci_msix_set_entry(mx, 0, msi_address(lapic_id()), msi_data(VEC_ADMIN), false);
	table_accesses += 5;
	pci_msix_enable(mx, true);
	ctrl = pci_cfg_read16(bdf, mx->cap + PCI_MSIX_FLAGS);
	/* Reading an entry back exercises the emulated table's read side. */
	table_accesses += 1;
	pt_check("nvme.msix", (ctrl & PCI_MSIX_FLAGS_ENABLE) &&
		 mmio_read32(mx->table + 8) == msi_data(VEC_ADMIN),
		 "enabled (control 0x%04x), %u vectors, table at 0x%lx = BAR0+0x%lx, PBA at BAR0+0x%lx",
		 ctrl, mx->nr_vectors, mx->table, mx->table - bar0, mx->pba - bar0);
	return true;
}

static bool controller_enable(void)
{
	uint64_t cap = mmio_read64(bar0 + NVME_CAP);

	printf("  CAP 0x%lx VS 0x%x\n", cap, mmio_read32(bar0 + NVME_VS));
	mmio_write32(bar0 + NVME_CC, 0);
	if (!wait_csts(0))
		return false;
	mmio_write32(bar0 + NVME_AQA, ((QUEUE_DEPTH - 1) << 16) | (QUEUE_DEPTH - 1));
	mmio_write32(bar0 + NVME_ASQ, (uint32_t)(uintptr_t)asq);
	mmio_write32(bar0 + NVME_ASQ + 4, (uint32_t)((uint64_t)(uintptr_t)asq >> 32));
	mmio_write32(bar0 + NVME_ACQ, (uint32_t)(uintptr_t)acq);
	mmio_write32(bar0 + NVME_ACQ + 4, (uint32_t)((uint64_t)(uintptr_t)acq >> 32));
	mmio_write32(bar0 + NVME_CC, NVME_CC_IOSQES | NVME_CC_IOCQES | NVME_CC_EN);
	return wait_csts(NVME_CSTS_RDY);
}

static void identify(void)
{
	uint32_t dstrd = (uint32_t)(mmio_read64(bar0 + NVME_CAP) >> 32) & 0xf;
	uint64_t before = idt_count(VEC_ADMIN);
	char model[41];
	bool got;

	memset(asq, 0, sizeof(asq));
	asq[0].cdw0 = OPC_IDENTIFY | (CID << 16);
	asq[0].prp1 = (uint64_t)(uintptr_t)ident;
	asq[0].cdw10 = CNS_CONTROLLER;
	/* The controller reports success even when the IOMMU dropped its DMA: check the data. */
	barrier();
	mmio_write32(bar0 + NVME_DOORBELL, 1);
	got = pt_wait_irq(VEC_ADMIN, before + 1, PT_WAIT_CYCLES);
	memcpy(model, (const void *)(ident + 24), 40);
	model[40] = '\0';
	for (int i = 39; i >= 0 && model[i] == ' '; i--)
		model[i] = '\0';
	pt_check("nvme.identify", got && (acq[0].status & 1) && (acq[0].status >> 1) == 0 &&
		 acq[0].cid == CID && strcmp(model, "QEMU NVMe Ctrl") == 0,
		 "model \"%s\", completion cid 0x%x status 0x%x on MSI-X vector 0 -> 0x%x (%lu delivered)",
		 model, acq[0].cid, acq[0].status >> 1, VEC_ADMIN, idt_count(VEC_ADMIN) - before);
	/* Consume the completion, as a driver would. */
	mmio_write32(bar0 + NVME_DOORBELL + (4u << dstrd), 1);
}

/*
 * With vector 0 masked the device still signals VFIO's eventfd, but the VMM
 * has taken the irqfd off it: no interrupt, and the emulated PBA must show
 * the vector pending. Unmasking re-attaches the irqfd, and KVM delivers
 * the interrupt that waited in the eventfd.
 */
static void masked_identify(const struct msix_info *mx)
{
	uint32_t dstrd = (uint32_t)(mmio_read64(bar0 + NVME_CAP) >> 32) & 0xf;
	uint64_t before = idt_count(VEC_ADMIN), start;
	bool done = false, pending, late;
	uint64_t while_masked;

	pci_msix_mask_entry(mx, 0, true);
	asq[1] = asq[0];
	asq[1].cdw0 = OPC_IDENTIFY | ((CID + 1) << 16);
	barrier();
	mmio_write32(bar0 + NVME_DOORBELL, 2);
	start = rdtsc();
	while (!(done = acq[1].status & 1) && rdtsc() - start < PT_WAIT_CYCLES)
		cpu_relax();
	/* Give a wrongly delivered interrupt time to show up. */
	pt_wait_irq(VEC_ADMIN, before + 1, PT_WAIT_CYCLES / 100);
	while_masked = idt_count(VEC_ADMIN) - before;
	pending = pci_msix_pending(mx, 0);
	pci_msix_mask_entry(mx, 0, false);
	late = pt_wait_irq(VEC_ADMIN, before + 1, PT_WAIT_CYCLES);
	table_accesses += 3;
	pt_check("nvme.msix-mask", done && while_masked == 0 && pending && late &&
		 acq[1].cid == CID + 1,
		 "completion %s while vector 0 masked: %lu interrupts, PBA bit %u; after unmask %s",
		 done ? "posted" : "NOT posted", while_masked, pending,
		 late ? "delivered" : "NOT delivered");
	mmio_write32(bar0 + NVME_DOORBELL + (4u << dstrd), 2);
}

static void intx_handler(struct irq_frame *f)
{
	uint32_t dstrd = (uint32_t)(mmio_read64(bar0 + NVME_CAP) >> 32) & 0xf;

	(void)f;
	/* The controller holds INTx while completions are unconsumed: consume, then EOI. */
	if (acq[2].status & 1)
		mmio_write32(bar0 + NVME_DOORBELL + (4u << dstrd), 3);
	lapic_eoi();
}

/*
 * MSI-X disabled again: the VMM must give the device INTx back, and the
 * next completion interrupts through the IOAPIC pin.
 */
static void intx_after_msix(uint16_t bdf, const struct msix_info *mx)
{
	unsigned int gsi = pt_intx_gsi(bdf);
	uint64_t before = idt_count(VEC_INTX), msix_before = idt_count(VEC_ADMIN);
	bool got;

	pci_msix_enable(mx, false);
	ioapic_route(gsi, VEC_INTX, lapic_id(), true, true, false);
	asq[2] = asq[0];
	asq[2].cdw0 = OPC_IDENTIFY | ((CID + 2) << 16);
	barrier();
	mmio_write32(bar0 + NVME_DOORBELL, 3);
	got = pt_wait_irq(VEC_INTX, before + 1, PT_WAIT_CYCLES);
	pt_check("nvme.intx-after-msix", got && (acq[2].status & 1) && acq[2].cid == CID + 2 &&
		 idt_count(VEC_ADMIN) == msix_before,
		 "MSI-X off: completion cid 0x%x on IOAPIC pin %u -> 0x%x (%lu delivered), "
		 "MSI-X vector %lu", acq[2].cid, gsi, VEC_INTX, idt_count(VEC_INTX) - before,
		 idt_count(VEC_ADMIN) - msix_before);
	ioapic_mask(gsi, true);
}

int main(void)
{
	struct msix_info mx;
	struct pt_dev d;

	lapic_init();
	idt_set_handler(VEC_ADMIN, admin_handler);
	idt_set_handler(VEC_INTX, intx_handler);
	if (pt_open(0x1b36, 0x0010, "nvme", &d)) {
		bar0 = d.bar[0].addr;
		if (setup_msix((uint16_t)d.bdf, &mx)) {
			if (controller_enable()) {
				identify();
				masked_identify(&mx);
				intx_after_msix((uint16_t)d.bdf, &mx);
			} else
				pt_check("nvme.identify", false, "controller never became ready (CSTS 0x%x)",
					 mmio_read32(bar0 + NVME_CSTS));
			mmio_write32(bar0 + NVME_CC, 0);
			wait_csts(0);
		}
		printf("PT-COUNT nvme BAR0 table-accesses %u\n", table_accesses);
	}
	pt_finish("pt-nvme");
}
