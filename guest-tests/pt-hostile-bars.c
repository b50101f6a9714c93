// SPDX-License-Identifier: MIT
/*
 * pt-hostile, part three (see pt-hostile.h): BARs moved over RAM, the LAPIC,
 * the IOAPIC, ECAM, each other, to the top of the address space and past
 * it. Config space goes through CF8/CFC here: a BAR may sit over ECAM.
 */
#include "pt-hostile.h"

#define HIGH_VA		(128ull << 30)	/* where the top of the physical address space is mapped */
#define TOP_EDU		0xffe00000ull	/* 0xfff00000 would be edu's sizing pattern (all-ones) */

#define PTE_P		0x1ull
#define PTE_RW		0x2ull
#define PTE_PWT		0x8ull
#define PTE_PCD		0x10ull
#define PTE_PS		0x80ull

static uint64_t pd_high[512] __attribute__((aligned(4096)));

unsigned int hs_phys_bits(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000008)
		return 36;
	cpuid(0x80000008, 0, &a, &b, &c, &d);
	return a & 0xff;
}

/*
 * The runtime maps up to 4 TiB only. Maps the 2 MiB page holding pa
 * (uncached) at HIGH_VA and returns the address through which pa is reached.
 */
static uint64_t map_high(uint64_t pa)
{
	uint64_t cr3, *pml4, *pdpt;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
	pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0x000ffffffffff000ull);
	pdpt[HIGH_VA >> 30] = (uint64_t)(uintptr_t)pd_high | PTE_P | PTE_RW;
	pd_high[0] = (pa & ~0x1fffffull) | PTE_P | PTE_RW | PTE_PWT | PTE_PCD | PTE_PS;
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	return HIGH_VA + (pa & 0x1fffff);
}

/* Moves BAR0 with decode on all along (hot) or off around the move (cold). */
void hs_bar_move(const struct hdev *d, uint64_t addr, bool hot)
{
	if (!hot)
		pci_cf8_write16(d->bdf, PCI_COMMAND, d->cmd & ~PCI_COMMAND_MEMORY);
	hs_bar_set(d, addr);
	if (!hot)
		pci_cf8_write16(d->bdf, PCI_COMMAND, d->cmd);
}

static void both_home(void)
{
	hs_bar_move(&hs.nvme, hs.nvme.home, true);
	hs_bar_move(&hs.edu, hs.edu.home, true);
}

/*
 * KVM refuses a memslot over RAM, so a BAR there stays off the bus and the
 * guest keeps its RAM: sentinels at the BAR's register offsets must read
 * back, a write to edu's liveness offset must not come back inverted.
 * Address 0 is also "unassigned" to the VMM.
 */
static void check_over_ram(void)
{
	static const uint64_t targets[] = { RAM_TARGET, 0 };
	static const uint64_t spots[] = { 0x0, 0x4, 0x8, 0x1000, 0x2000, 0x3000 };
	const struct hdev *devs[] = { &hs.edu, &hs.nvme };
	unsigned int bad = 0, reads = 0, dead = 0;

	if ((uint64_t)(uintptr_t)__image_end > RAM_TARGET) {
		pt_check("bars.over-ram", false, "our image ends at %p, above 0x%llx", __image_end,
			 RAM_TARGET);
		return;
	}
	for (unsigned int t = 0; t < 2; t++)
		for (unsigned int k = 0; k < 6; k++)
			mmio_write32(targets[t] + spots[k], 0x5e000000 | (t << 16) | (uint32_t)spots[k]);
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int t = 0; t < 2; t++)
			for (int hot = 0; hot < 2; hot++) {
				hs_bar_move(devs[i], targets[t], hot);
				for (unsigned int k = 0; k < 6; k++, reads++)
					bad += mmio_read32(targets[t] + spots[k]) !=
					       (0x5e000000 | (t << 16) | (uint32_t)spots[k]);
				mmio_write32(targets[t] + EDU_LIVENESS, 0x12345678);
				bad += mmio_read32(targets[t] + EDU_LIVENESS) != 0x12345678;
				mmio_write32(targets[t] + EDU_LIVENESS, 0x5e000004 | (t << 16));
				hs_bar_move(devs[i], devs[i]->home, hot);
				dead += !hs_both_alive();
			}
	pt_check("bars.over-ram", !bad && !dead,
		 "edu and nvme BAR0 moved to RAM at 0x%llx and to 0, decode on and off around: "
		 "%u of %u RAM reads changed, devices %s at home after each",
		 RAM_TARGET, bad, reads + 8, dead ? "NOT working" : "working");
}

static bool lapic_works(void)
{
	uint64_t before = idt_count(VEC_IPI);

	if (lapic_read(LAPIC_VERSION) != hs.apic_version || lapic_id() != hs.apic_id)
		return false;
	lapic_self_ipi(VEC_IPI);
	return idt_wait_count(VEC_IPI, before + 1, 100 * hs.tsc_per_ms);
}

/*
 * The in-kernel LAPIC and IOAPIC answer only where no memslot is: a BAR
 * over them shadows them for as long as it stays (the guest hurts itself;
 * interrupts stay off meanwhile). Once it moves away they must answer again.
 */
static void check_over_apic(const char *name, uint64_t target, bool lapic)
{
	uint32_t seen_edu[2], seen_nvme[2], entry = 0;
	unsigned int dead = 0;
	bool works;

	for (int hot = 0; hot < 2; hot++) {
		hs_bar_move(&hs.edu, target, hot);
		seen_edu[hot] = mmio_read32(target);
		hs_bar_move(&hs.edu, hs.edu.home, hot);
		hs_bar_move(&hs.nvme, target, hot);
		seen_nvme[hot] = mmio_read32(target + NVME_VS);
		/* The MSI-X table page is trapped by the VMM even there. */
		mmio_write32(target + 0x2000 + 16 + 8, 0x4242);
		entry = mmio_read32(target + 0x2000 + 16 + 8);
		mmio_write32(target + 0x2000 + 16 + 8, 0);
		hs_bar_move(&hs.nvme, hs.nvme.home, hot);
		dead += !hs_both_alive();
	}
	works = lapic ? lapic_works() : ioapic_read(IOAPIC_REG_VER) == hs.ioapic_version;
	pt_check(name, works && !dead,
		 "BAR0 at 0x%llx, decode on and off around: edu saw 0x%08x/0x%08x at +0, nvme "
		 "0x%08x/0x%08x at VS, its MSI-X entry 1 there read back 0x%x; after: %s %s, "
		 "devices %s", (unsigned long long)target, seen_edu[0], seen_edu[1], seen_nvme[0],
		 seen_nvme[1], entry, lapic ? "LAPIC (version, ID, self-IPI)" : "IOAPIC version",
		 works ? "right" : "WRONG", dead ? "NOT working" : "working");
}

/*
 * edu over ECAM shadows bus 0's config space (memslots beat the VMM's
 * trapped ranges); nvme over ECAM is refused whole, since its trapped
 * MSI-X pages collide with the ECAM range. Config goes through CF8 here.
 */
static void check_over_ecam(void)
{
	uint32_t hb = pci_cf8_read32(0, PCI_VENDOR_ID), at_edu, at_nvme, at_own, ids_ok;
	uint64_t own = pci_ecam_addr(hs.edu.bdf, 0) & ~(hs.nvme.size - 1);

	hs_bar_move(&hs.edu, PCI_ECAM_BASE, true);
	at_edu = mmio_read32(PCI_ECAM_BASE);
	hs_bar_move(&hs.edu, hs.edu.home, true);
	hs_bar_move(&hs.nvme, PCI_ECAM_BASE, true);
	at_nvme = mmio_read32(PCI_ECAM_BASE);
	hs_bar_move(&hs.nvme, own, true);		/* over edu's own config space */
	at_own = mmio_read32(pci_ecam_addr(hs.edu.bdf, 0));
	hs_bar_move(&hs.nvme, hs.nvme.home, true);
	ids_ok = pci_cfg_read32(0, PCI_VENDOR_ID) == hb &&
		 pci_cfg_read32(hs.edu.bdf, PCI_VENDOR_ID) == 0x11e81234 &&
		 pci_cfg_read32(hs.nvme.bdf, PCI_VENDOR_ID) == 0x00101b36 &&
		 pci_cf8_read32(hs.nvme.bdf, PCI_VENDOR_ID) == 0x00101b36;
	pt_check("bars.over-ecam", ids_ok && hs_both_alive(),
		 "edu BAR0 at ECAM 0x%llx: 00:00.0's ID read 0x%08x there (host bridge 0x%08x); "
		 "nvme BAR0 there: 0x%08x, over edu's config space: 0x%08x; after: IDs through "
		 "ECAM and CF8 %s, devices %s", PCI_ECAM_BASE, at_edu, hb, at_nvme, at_own,
		 ids_ok ? "right" : "WRONG", hs_both_alive() ? "working" : "NOT working");
}

/*
 * Two BARs at one address: KVM refuses the second memslot, so the first
 * device keeps the address and the second stays off the bus.
 */
static void check_each_other(void)
{
	uint32_t a, b, c, left;
	bool ok = true;

	hs_bar_move(&hs.nvme, hs.edu.home, true);			/* nvme onto edu */
	a = mmio_read32(hs.edu.home + EDU_IDENT);
	/* edu leaves: on hardware nvme would now answer there. */
	hs_bar_move(&hs.edu, LOW_SPARE, true);
	left = mmio_read32(hs.edu.home + NVME_VS);
	hs_bar_move(&hs.nvme, hs.nvme.home, true);
	hs_bar_move(&hs.edu, hs.edu.home, false);
	ok &= hs_both_alive();
	hs_bar_move(&hs.nvme, LOW_SPARE, true);
	hs_bar_move(&hs.edu, LOW_SPARE, true);			/* edu onto nvme */
	b = mmio_read32(LOW_SPARE + NVME_VS);
	hs_bar_move(&hs.edu, hs.edu.home, true);
	hs_bar_move(&hs.nvme, hs.nvme.home, true);
	ok &= hs_both_alive();
	hs_bar_move(&hs.nvme, hs.edu.home + 0x80000, false);	/* nvme inside edu's BAR */
	c = mmio_read32(hs.edu.home + 0x80000 + NVME_VS);
	both_home();
	ok &= hs_both_alive();
	pt_check("bars.over-each-other", ok,
		 "nvme BAR0 onto edu's: edu's ident read 0x%08x there, nvme VS 0x%08x once edu "
		 "left; edu onto nvme's at 0x%llx: nvme VS read 0x%08x; nvme inside edu's BAR: "
		 "0x%08x; devices %s at home after each", a, left, LOW_SPARE, b, c,
		 ok ? "working" : "NOT working");
}

/* The last addresses a BAR can have: they must work there like anywhere else. */
static void check_top(void)
{
	uint64_t top = (1ull << hs_phys_bits()) - hs.nvme.size, va = map_high(top);
	bool e, n32, n, entry;

	hs_bar_move(&hs.edu, TOP_EDU, true);
	e = hs_edu_alive(TOP_EDU);
	hs_bar_move(&hs.edu, hs.edu.home, true);
	hs_bar_move(&hs.nvme, 0x100000000ull - hs.nvme.size, true);
	n32 = hs_nvme_alive(0x100000000ull - hs.nvme.size);
	hs_bar_move(&hs.nvme, top, true);
	n = hs_nvme_alive(va);
	mmio_write32(va + 0x2000 + 8, 0x4343);
	entry = mmio_read32(va + 0x2000 + 8) == 0x4343;
	mmio_write32(va + 0x2000 + 8, 0);
	hs_bar_move(&hs.nvme, hs.nvme.home, true);
	pt_check("bars.top", e && n32 && n && entry && hs_both_alive(),
		 "edu at 0x%llx: %s; nvme just below 4 GiB: %s; nvme at the top of the %u-bit "
		 "physical address space (0x%lx): registers %s, MSI-X table %s",
		 TOP_EDU, e ? "works" : "DEAD", n32 ? "works" : "DEAD", hs_phys_bits(), top,
		 n ? "work" : "DEAD", entry ? "works" : "DEAD");
}

/* Past the CPU's limit, past 2^64, the sizing pattern with decode on: off the bus, no harm. */
static void check_beyond(void)
{
	uint64_t targets[] = { 1ull << hs_phys_bits(), 1ull << 63, 0xffffffffff000000ull,
			       ~0ull };
	uint32_t lo, hi, elo;

	for (unsigned int t = 0; t < 4; t++) {
		hs_bar_move(&hs.nvme, targets[t], true);
		hs_bar_move(&hs.nvme, targets[t], false);
	}
	lo = pci_cf8_read32(hs.nvme.bdf, PCI_BAR0);
	hi = pci_cf8_read32(hs.nvme.bdf, PCI_BAR0 + 4);
	hs_bar_move(&hs.edu, ~0ull, true);
	elo = pci_cf8_read32(hs.edu.bdf, PCI_BAR0);
	both_home();
	pt_check("bars.beyond", (lo & ~0xfu) == (uint32_t)~(hs.nvme.size - 1) && hi == ~0u &&
		 (elo & ~0xfu) == (uint32_t)~(hs.edu.size - 1) && hs_both_alive(),
		 "nvme BAR0 at 2^%u, 2^63, 0xffffffffff000000 and all-ones with decode on: sizes "
		 "0x%08x:%08x, edu's 0x%08x; devices %s at home after", hs_phys_bits(), hi, lo, elo,
		 hs_both_alive() ? "working" : "NOT working");
}

void hostile_bars(void)
{
	check_over_ram();
	check_over_apic("bars.over-lapic", LAPIC_BASE, true);
	check_over_apic("bars.over-ioapic", IOAPIC_BASE, false);
	check_over_ecam();
	check_each_other();
	check_top();
	check_beyond();
}
