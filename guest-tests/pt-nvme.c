// SPDX-License-Identifier: MIT
/*
 * QEMU's NVMe controller assigned through VFIO: its MSI-X table lives in
 * BAR0 at 0x2000, next to the registers. The VMM traps the table's pages
 * (it emulates the table) and maps the rest of BAR0 straight to the device.
 * The guest brings the controller up on an admin queue pair in its RAM
 * (device DMA through the IOMMU), sends Identify Controller and waits for
 * the completion on MSI-X vector 0, then checks the model number it read.
 */
#include "pt-nvme-admin.h"

#define VEC_ADMIN	0x62
#define VEC_ADMIN2	0x65
#define VEC_INTX	0x64

static struct nvme_admin nv;
/* Accesses this guest made to the table's pages: --stats must count exactly these. */
static unsigned int table_accesses;

static void admin_handler(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
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
		 ctrl, mx->nr_vectors, mx->table, mx->table - nv.bar0, mx->pba - nv.bar0);
	return true;
}

/* Slot of the Identify whose completion the INTx handler consumes. */
static volatile unsigned int intx_slot;

/*
 * Identify Controller whose completion must interrupt on vector; the model
 * number it read goes to model. True when the interrupt came and the
 * completion is a success.
 */
static bool identify_on(unsigned int vector, unsigned int *slot, char model[41],
			uint64_t *delivered)
{
	uint64_t before = idt_count(vector);
	bool got;

	*slot = nvme_submit_identify(&nv);
	got = idt_wait_count(vector, before + 1, PT_WAIT_CYCLES);
	nvme_model(model);
	*delivered = idt_count(vector) - before;
	return got && nvme_posted(*slot) && (nvme_acq[*slot].status >> 1) == 0;
}

static void identify(void)
{
	unsigned int slot;
	uint64_t n;
	char model[41];
	bool ok = identify_on(VEC_ADMIN, &slot, model, &n);

	pt_check("nvme.identify", ok && strcmp(model, "QEMU NVMe Ctrl") == 0,
		 "model \"%s\", completion cid 0x%x status 0x%x on MSI-X vector 0 -> 0x%x (%lu delivered)",
		 model, nvme_acq[slot].cid, nvme_acq[slot].status >> 1, VEC_ADMIN, n);
	nvme_consume(&nv, slot);
}

/*
 * While a vector is masked (its entry's mask bit, or the function mask) the
 * device still signals VFIO's eventfd, but the VMM has taken the irqfd off
 * it: no interrupt, and the emulated PBA must show the vector pending.
 * Unmasking re-attaches the irqfd, and KVM delivers the interrupt that
 * waited in the eventfd.
 */
static void masked_identify(const struct msix_info *mx, bool function_mask)
{
	uint16_t ctrl = pci_cfg_read16(mx->bdf, mx->cap + PCI_MSIX_FLAGS);
	uint64_t before = idt_count(VEC_ADMIN), while_masked;
	bool done, pending, late;
	unsigned int slot;

	if (function_mask)
		pci_cfg_write16(mx->bdf, mx->cap + PCI_MSIX_FLAGS, ctrl | PCI_MSIX_FLAGS_MASKALL);
	else
		pci_msix_mask_entry(mx, 0, true);
	slot = nvme_submit_identify(&nv);
	done = nvme_wait_posted(slot);
	/* Give a wrongly delivered interrupt time to show up. */
	idt_wait_count(VEC_ADMIN, before + 1, PT_WAIT_CYCLES / 100);
	while_masked = idt_count(VEC_ADMIN) - before;
	pending = pci_msix_pending(mx, 0);
	if (function_mask)
		pci_cfg_write16(mx->bdf, mx->cap + PCI_MSIX_FLAGS, ctrl);
	else
		pci_msix_mask_entry(mx, 0, false);
	late = idt_wait_count(VEC_ADMIN, before + 1, PT_WAIT_CYCLES);
	table_accesses += function_mask ? 1 : 3;
	pt_check(function_mask ? "nvme.msix-function-mask" : "nvme.msix-mask",
		 done && while_masked == 0 && pending && late,
		 "completion %s while %s: %lu interrupts, PBA bit %u; after unmask %s",
		 done ? "posted" : "NOT posted",
		 function_mask ? "the function is masked" : "vector 0 is masked", while_masked,
		 pending, late ? "delivered" : "NOT delivered");
	nvme_consume(&nv, slot);
}

/* A new message in an unmasked entry: the VMM must move the KVM route. */
static void retarget_identify(const struct msix_info *mx)
{
	uint64_t before = idt_count(VEC_ADMIN), before2 = idt_count(VEC_ADMIN2);
	unsigned int slot;
	bool got;

	mmio_write32(mx->table + 8, msi_data(VEC_ADMIN2));
	table_accesses += 1;
	slot = nvme_submit_identify(&nv);
	got = idt_wait_count(VEC_ADMIN2, before2 + 1, PT_WAIT_CYCLES);
	pt_check("nvme.msix-retarget", got && nvme_posted(slot) && idt_count(VEC_ADMIN) == before,
		 "entry 0 data 0x%x -> 0x%x while unmasked: completion on 0x%x (%lu), old vector %lu",
		 VEC_ADMIN, VEC_ADMIN2, VEC_ADMIN2, idt_count(VEC_ADMIN2) - before2,
		 idt_count(VEC_ADMIN) - before);
	nvme_consume(&nv, slot);
}

/* The function as the guest finds it right after its FLR. */
struct flr_seen {
	uint16_t cmd, msix_ctrl, devctl;
	uint32_t bar_lo, bar_hi;	/* BAR0 and its upper half, before re-programming */
	uint32_t cc, csts;		/* read once BAR0 and decode are back */
	uint32_t entry_data, entry_ctrl;	/* MSI-X table entry 0 */
};

/* Config space and registers after the reset; puts BAR0 and the command back to reach them. */
static void flr_observe(uint16_t bdf, const struct msix_info *mx, const struct pci_bar *bar,
			uint16_t cmd, struct flr_seen *s)
{
	uint16_t exp = pci_find_cap(bdf, PCI_CAP_ID_EXP);

	s->cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	s->msix_ctrl = pci_cfg_read16(bdf, mx->cap + PCI_MSIX_FLAGS);
	s->devctl = pci_cfg_read16(bdf, exp + PCI_EXP_DEVCTL);
	s->bar_lo = pci_cfg_read32(bdf, PCI_BAR0);
	s->bar_hi = bar->is64 ? pci_cfg_read32(bdf, PCI_BAR0 + 4) : 0;
	pci_bar_set(bdf, 0, bar, bar->addr);
	pci_cfg_write16(bdf, PCI_COMMAND, cmd);
	s->cc = mmio_read32(nv.bar0 + NVME_CC);
	s->csts = mmio_read32(nv.bar0 + NVME_CSTS);
	s->entry_data = mmio_read32(mx->table + 8);
	s->entry_ctrl = mmio_read32(mx->table + 12);
	table_accesses += 2;
}

static bool flr_reset_ok(const struct pci_bar *bar, const struct flr_seen *s)
{
	uint32_t type = (bar->is64 ? 0x4u : 0) | (bar->prefetch ? 0x8u : 0);

	return !(s->cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) &&
	       !(s->msix_ctrl & PCI_MSIX_FLAGS_ENABLE) && !(s->devctl & PCI_EXP_DEVCTL_FLR) &&
	       s->bar_lo == type && s->bar_hi == 0 && !(s->cc & NVME_CC_EN) &&
	       !(s->csts & NVME_CSTS_RDY) && s->entry_data == 0 &&
	       (s->entry_ctrl & PCI_MSIX_ENTRY_CTRL_MASK);
}

/* Everything the FLR took, back as at the start: MSI-X entry 0, admin queues, controller. */
static bool flr_bring_up(const struct msix_info *mx)
{
	pci_msix_set_entry(mx, 0, msi_address(lapic_id()), msi_data(VEC_ADMIN), false);
	table_accesses += 5;
	pci_msix_enable(mx, true);
	/* Fresh queues (nvme_enable): old completions must not pass for new ones. */
	return nvme_enable(&nv);
}

/*
 * A Function Level Reset while MSI-X is enabled and its vector routed
 * (irqfd, KVM route, VFIO eventfd live since the retarget): the VMM must
 * tear all that down, reset the device through VFIO and present a
 * function in its reset state; the guest then rebuilds everything and an
 * Identify must complete on MSI-X again.
 */
static void flr_identify(uint16_t bdf, const struct msix_info *mx, const struct pci_bar *bar)
{
	uint16_t exp = pci_find_cap(bdf, PCI_CAP_ID_EXP);
	uint32_t devcap = exp ? pci_cfg_read32(bdf, exp + PCI_EXP_DEVCAP) : 0;
	uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	uint16_t ctrl = pci_cfg_read16(bdf, mx->cap + PCI_MSIX_FLAGS);
	struct flr_seen s;
	unsigned int slot = 0;
	char model[41] = "";
	uint64_t n = 0;
	bool reset, up, ok = false;

	if (!(devcap & PCI_EXP_DEVCAP_FLR) || !(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		pt_check("nvme.flr", false, "%s: DevCap 0x%x, MSI-X control 0x%04x",
			 !exp ? "no PCIe capability" : !(devcap & PCI_EXP_DEVCAP_FLR) ?
			 "FLR not offered" : "MSI-X is off", devcap, ctrl);
		return;
	}
	pci_cfg_write16(bdf, exp + PCI_EXP_DEVCTL,
			pci_cfg_read16(bdf, exp + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_FLR);
	flr_observe(bdf, mx, bar, cmd, &s);
	reset = flr_reset_ok(bar, &s);
	up = flr_bring_up(mx);
	if (up)
		ok = identify_on(VEC_ADMIN, &slot, model, &n) &&
		     strcmp(model, "QEMU NVMe Ctrl") == 0;
	pt_check("nvme.flr", reset && up && ok,
		 "DevCap FLR offered, FLR with MSI-X on (control 0x%04x); after: command 0x%04x, "
		 "MSI-X control 0x%04x, DevCtl 0x%04x, BAR0 0x%08x:%08x, CC 0x%x CSTS 0x%x, "
		 "entry 0 data 0x%x ctrl 0x%x; rebuilt: controller %s, model \"%s\" "
		 "on MSI-X vector 0 -> 0x%x (%lu delivered)",
		 ctrl, s.cmd, s.msix_ctrl, s.devctl, s.bar_hi, s.bar_lo, s.cc, s.csts,
		 s.entry_data, s.entry_ctrl, up ? "ready" : "NOT ready", model, VEC_ADMIN, n);
	if (up)
		nvme_consume(&nv, slot);
}

static void intx_handler(struct irq_frame *f)
{
	(void)f;
	/* The controller holds INTx while completions are unconsumed: consume, then EOI. */
	if (nvme_posted(intx_slot))
		nvme_consume(&nv, intx_slot);
	lapic_eoi();
}

/*
 * MSI-X disabled again: the VMM must give the device INTx back, and the
 * next completion interrupts through the IOAPIC pin.
 */
static void intx_after_msix(uint16_t bdf, const struct msix_info *mx)
{
	unsigned int gsi = pt_intx_gsi(bdf);
	uint64_t before = idt_count(VEC_INTX), msix_before = idt_count(VEC_ADMIN2);
	bool got;

	pci_msix_enable(mx, false);
	ioapic_route(gsi, VEC_INTX, lapic_id(), true, true, false);
	intx_slot = nvme_submit_identify(&nv);
	got = idt_wait_count(VEC_INTX, before + 1, PT_WAIT_CYCLES);
	pt_check("nvme.intx-after-msix", got && nvme_posted(intx_slot) &&
		 idt_count(VEC_ADMIN2) == msix_before,
		 "MSI-X off: completion cid 0x%x on IOAPIC pin %u -> 0x%x (%lu delivered), "
		 "MSI-X vector %lu", nvme_acq[intx_slot].cid, gsi, VEC_INTX,
		 idt_count(VEC_INTX) - before, idt_count(VEC_ADMIN2) - msix_before);
	ioapic_mask(gsi, true);
}

/*
 * MSI-X off again, so no vector is the VMM's to show pending: the PBA is
 * the device's own, and the VMM maps its page back on the first trapped
 * access to it. --stats must count that one read and none of the next
 * hundred (PT-COUNT); their time per read is printed for the record.
 */
static void pba_mapped_when_msix_off(const struct msix_info *mx)
{
	uint64_t first, diff = 0, t0, t1;

	first = mmio_read64(mx->pba);
	table_accesses += 1;
	t0 = rdtsc();
	for (unsigned int i = 0; i < 100; i++)
		diff |= mmio_read64(mx->pba) ^ first;
	t1 = rdtsc();
	pt_check("nvme.pba-mapped", diff == 0,
		 "MSI-X off: PBA word 0x%lx, 100 more reads at %lu cycles each, %s",
		 first, (t1 - t0) / 100, diff ? "NOT all the same" : "all the same");
}

int main(void)
{
	struct msix_info mx;
	struct pt_dev d;

	lapic_init();
	idt_set_handler(VEC_ADMIN, admin_handler);
	idt_set_handler(VEC_ADMIN2, admin_handler);
	idt_set_handler(VEC_INTX, intx_handler);
	if (pt_open(0x1b36, 0x0010, "nvme", &d)) {
		nv.bar0 = d.bar[0].addr;
		if (setup_msix((uint16_t)d.bdf, &mx)) {
			if (nvme_enable(&nv)) {
				identify();
				masked_identify(&mx, false);
				masked_identify(&mx, true);
				retarget_identify(&mx);
				flr_identify((uint16_t)d.bdf, &mx, &d.bar[0]);
				intx_after_msix((uint16_t)d.bdf, &mx);
				pba_mapped_when_msix_off(&mx);
			} else
				pt_check("nvme.identify", false,
					 "controller never became ready (CSTS 0x%x)",
					 mmio_read32(nv.bar0 + NVME_CSTS));
			mmio_write32(nv.bar0 + NVME_CC, 0);
			nvme_wait_ready(&nv, 0);
		}
		printf("PT-COUNT nvme BAR0 table-accesses %u\n", table_accesses);
	}
	pt_finish("pt-nvme");
}
