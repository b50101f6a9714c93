// SPDX-License-Identifier: MIT
/*
 * Two assigned devices in one guest, and DMA from one into the other: edu
 * copies a buffer (filled from guest RAM) into ivshmem's BAR2 at its guest
 * physical address, which the IOMMU translates only when the VMM ran with
 * --p2p (it then maps every mapped BAR piece at IOVA = its guest address).
 * The guest reads the result back through the BAR. It first moves the BAR
 * (as an OS may reassign what firmware placed): the DMA mapping must follow.
 *
 * Command line: p2p=1 expects the data to arrive; p2p=0 (a VMM without
 * --p2p) expects the IOMMU to stop it, leaving the target untouched.
 * move=0 leaves the BAR where the VMM put it (a 256 GiB BAR moved up by
 * its size would leave the testbed's 39-bit IOVA space, and mapping it
 * again for P2P costs minutes on Linux 6.1); no old-address check then.
 */
#include "pt-common.h"

#define LEN		2000
#define TARGET_OFF	0x100000	/* 1 MiB into BAR2: clear of pt-ivshmem's marker */
#define OLD_OFF		0x200000

static uint8_t src[4096] __attribute__((aligned(4096)));

/* Right above where the VMM put it: still size-aligned, still in the 64-bit window. */
static void move_bar2(struct pt_dev *iv)
{
	uint16_t bdf = (uint16_t)iv->bdf, cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	uint64_t to = iv->bar[2].addr + iv->bar[2].size;

	pci_cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_bar_set(bdf, 2, &iv->bar[2], to);
	pci_cfg_write16(bdf, PCI_COMMAND, cmd);
	printf("  ivshmem BAR2 moved 0x%lx -> 0x%lx\n", iv->bar[2].addr, to);
	iv->bar[2].addr = to;
}

/*
 * A mapping left at the BAR's old IOVA would still reach the same device
 * memory: a DMA there would show up at the same offset of the moved BAR.
 */
static void check_old_address(struct pt_dev *edu, struct pt_dev *iv)
{
	uint64_t old_iova = iv->bar[2].addr - iv->bar[2].size + OLD_OFF;
	volatile uint8_t *same = (volatile uint8_t *)(iv->bar[2].addr + OLD_OFF);
	bool done;

	for (unsigned int i = 0; i < LEN; i++)
		same[i] = 0xee;
	done = edu_dma(edu->bar[0].addr, false, old_iova, 0, LEN);
	pt_check("p2p.old-address-unmapped", done && same[0] == 0xee && same[LEN - 1] == 0xee,
		 "edu DMA to the BAR's old IOVA 0x%lx: %s", old_iova,
		 same[0] == 0xee ? "blocked, the moved BAR is untouched" : "reached the BAR");
}

int main(void)
{
	const char *p2p = cmdline_get(boot_info.cmdline, "p2p");
	const char *move = cmdline_get(boot_info.cmdline, "move");
	bool want = p2p && *p2p == '1', moved = !move || *move != '0', out, in;
	struct pt_dev edu, iv;
	volatile uint8_t *dst;
	long bad;

	if (!pt_open(0x1234, 0x11e8, "edu", &edu) || !pt_open(0x1af4, 0x1110, "ivshmem", &iv))
		pt_finish("pt-p2p");
	pt_check("p2p.two-devices", edu.bdf != iv.bdf && edu.bar[0].addr && iv.bar[2].addr &&
		 mmio_read32(edu.bar[0].addr) == 0x010000ed,
		 "edu at %02x.%x BAR0 0x%lx, ivshmem at %02x.%x BAR2 0x%lx", PCI_BDF_DEV(edu.bdf),
		 PCI_BDF_FN(edu.bdf), edu.bar[0].addr, PCI_BDF_DEV(iv.bdf), PCI_BDF_FN(iv.bdf),
		 iv.bar[2].addr);
	if (moved)
		move_bar2(&iv);
	dst = (volatile uint8_t *)(iv.bar[2].addr + TARGET_OFF);
	for (unsigned int i = 0; i < LEN + 16; i++)
		dst[i] = 0xee;
	pt_pattern_fill(src, LEN, 0x9292);
	in = edu_dma(edu.bar[0].addr, true, (uint64_t)(uintptr_t)src, 0, LEN);
	out = edu_dma(edu.bar[0].addr, false, iv.bar[2].addr + TARGET_OFF, 0, LEN);
	bad = pt_pattern_bad(dst, LEN, 0x9292);
	if (want)
		pt_check("p2p.edu-to-ivshmem", in && out && bad < 0 && dst[LEN] == 0xee,
			 "edu DMA of %u bytes to IOVA 0x%lx (ivshmem BAR2+0x%x): %s", LEN,
			 iv.bar[2].addr + TARGET_OFF, TARGET_OFF,
			 bad < 0 ? "data arrived in the BAR" : "data differs");
	else
		pt_check("p2p.blocked-without-p2p", in && out && dst[0] == 0xee &&
			 dst[LEN - 1] == 0xee,
			 "edu DMA of %u bytes to IOVA 0x%lx: target %s", LEN,
			 iv.bar[2].addr + TARGET_OFF,
			 dst[0] == 0xee ? "untouched (the IOMMU has no mapping there)" : "WRITTEN");
	if (bad >= 0 && want)
		printf("  first mismatch at byte %ld: 0x%02x\n", bad, dst[bad]);
	if (want && moved)
		check_old_address(&edu, &iv);
	pt_finish("pt-p2p");
}
