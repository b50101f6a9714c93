// SPDX-License-Identifier: MIT
/*
 * GPU-shaped functions assigned through VFIO: the testbed's mgpu mediated
 * device (tests/testbed/mdev/mgpu.c), which carries a real H100's or H200's
 * config space, BAR0 16 MiB with the MSI-X table at 0xb90000, a 128 or 256 GiB
 * (or MIG-slice sized) BAR2 and BAR4 32 MiB. Every NVIDIA function on bus 0 is
 * checked, so two instances in one VM are two sets of checks (gpu0.*, gpu1.*):
 *
 * - BAR2 is 64-bit prefetchable, naturally aligned, above RAM and 4 GiB and
 *   inside the CPU's physical address bits, and the runtime reaches it;
 * - its first and last pages are written and read back through the memslot
 *   (the testbed checks --stats: no BAR2 access trapped);
 * - the copy engine (registers in BAR0's first page, trapped) moves a buffer
 *   from guest RAM into BAR2 and the last page of BAR2 back into RAM, DMA
 *   through the container's mappings, each ending with an MSI-X interrupt;
 * - an FLR (VFIO_DEVICE_RESET) clears the engine's registers but not BAR2.
 */
#include "pt-common.h"
#include "../tests/testbed/mdev/mgpu_regs.h"

#define NV_VENDOR	0x10de
#define MAX_GPUS	4
#define VEC_BASE	0x70	/* GPU k: vectors VEC_BASE + 2k (to VRAM), + 2k + 1 (to RAM) */
#define CE_LEN		6000	/* crosses page boundaries on both sides */
#define MSIX_TABLE_OFF	0xb90000ull
#define MSIX_PBA_OFF	0xba0000ull
/* PCI Express capability registers (as in pt-nvme-admin.h). */
#define PCI_EXP_DEVCAP		4
#define PCI_EXP_DEVCAP_FLR	(1u << 28)
#define PCI_EXP_DEVCTL		8
#define PCI_EXP_DEVCTL_FLR	0x8000

static uint8_t ram_src[3 * 4096] __attribute__((aligned(4096)));
static uint8_t ram_dst[3 * 4096] __attribute__((aligned(4096)));

static void gpu_irq(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
}

static uint64_t ram_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < boot_info.nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &boot_info.memmap[i];

		if (e->type == HVM_MEMMAP_TYPE_RAM && e->addr + e->size > top)
			top = e->addr + e->size;
	}
	return top;
}

static void chk(unsigned int k, const char *what, bool ok, const char *detail)
{
	char name[40];

	snprintf(name, sizeof(name), "gpu%u.%s", k, what);
	pt_check(name, ok, "%s", detail);
}

static void check_bars(unsigned int k, const struct pt_dev *d, uint64_t bar0)
{
	const struct pci_bar *b0 = &d->bar[0], *b2 = &d->bar[2], *b4 = &d->bar[4];
	uint64_t want2 = mmio_read32(bar0 + MGPU_REG_BAR2_SIZE_LO) |
			 (uint64_t)mmio_read32(bar0 + MGPU_REG_BAR2_SIZE_HI) << 32;
	uint64_t top = ram_top();
	unsigned int bits = phys_addr_bits();
	char s[200];
	bool ok;

	ok = b0->size == (16ull << 20) && b0->is64 && b2->size == want2 && b2->is64 &&
	     b2->prefetch && b4->size == (32ull << 20) && b4->is64;
	snprintf(s, sizeof(s), "BAR0 %lu MiB, BAR2 %lu GiB%s%s (device says %lu GiB), BAR4 %lu MiB",
		 b0->size >> 20, b2->size >> 30, b2->is64 ? " 64-bit" : " 32-bit",
		 b2->prefetch ? " prefetchable" : "", want2 >> 30, b4->size >> 20);
	chk(k, "bars", ok, s);

	ok = b2->size && !(b2->addr & (b2->size - 1)) && b2->addr >= (1ull << 32) &&
	     b2->addr >= top && b2->addr + b2->size <= (1ull << bits);
	snprintf(s, sizeof(s), "BAR2 at 0x%lx (%lu GiB boundary), RAM ends at 0x%lx, %u address bits "
		 "(limit 0x%lx)%s", b2->addr, b2->addr >> 30, top, bits, (uint64_t)1 << bits,
		 b2->addr & (b2->size - 1) ? " -- NOT naturally aligned" : "");
	chk(k, "bar2-placement", ok, s);
}

/* First and last page of BAR2, through the mapping (no exit): 1024 writes, 1024 reads. */
static void check_bar2_rw(unsigned int k, const struct pci_bar *b2)
{
	uint64_t first = b2->addr, last = b2->addr + b2->size - 4096, bad = ~0ull;
	uint64_t seed = 0x6770750000000000ull | k;
	char s[160];

	for (unsigned int i = 0; i < 512; i++) {
		mmio_write64(first + 8 * i, seed ^ i);
		mmio_write64(last + 8 * i, ~seed ^ i);
	}
	for (unsigned int i = 0; i < 512 && bad == ~0ull; i++) {
		if (mmio_read64(first + 8 * i) != (seed ^ i))
			bad = first + 8 * i;
		else if (mmio_read64(last + 8 * i) != (~seed ^ i))
			bad = last + 8 * i;
	}
	snprintf(s, sizeof(s), "512 words written and read back in the first (0x%lx) and last "
		 "(0x%lx) page%s", first, last, bad == ~0ull ? "" : " -- MISMATCH");
	chk(k, "bar2-rw", bad == ~0ull, s);
	printf("PT-COUNT gpu%u BAR2 accesses %u\n", k, 2048);
}

/* One copy, ended by MSI-X entry `entry`, whose vector is `vec`. */
static bool ce_copy(uint64_t bar0, bool to_ram, uint64_t src, uint64_t dst, uint32_t len,
		    unsigned int entry, unsigned int vec, uint32_t *status, uint64_t *irqs)
{
	uint64_t before = idt_count(vec);
	bool got;

	barrier();
	mmio_write32(bar0 + MGPU_REG_CE_SRC_LO, (uint32_t)src);
	mmio_write32(bar0 + MGPU_REG_CE_SRC_HI, (uint32_t)(src >> 32));
	mmio_write32(bar0 + MGPU_REG_CE_DST_LO, (uint32_t)dst);
	mmio_write32(bar0 + MGPU_REG_CE_DST_HI, (uint32_t)(dst >> 32));
	mmio_write32(bar0 + MGPU_REG_CE_LEN, len);
	mmio_write32(bar0 + MGPU_REG_CE_DOORBELL, (to_ram ? MGPU_CE_CTRL_TO_RAM : 0) |
		     entry << MGPU_CE_CTRL_VEC_SHIFT);
	*status = mmio_read32(bar0 + MGPU_REG_CE_STATUS);
	got = idt_wait_count(vec, before + 1, PT_WAIT_CYCLES);
	*irqs = idt_count(vec) - before;
	barrier();
	return got && *status == MGPU_CE_STATUS_DONE;
}

static void check_copy(unsigned int k, uint64_t bar0, const struct pci_bar *b2)
{
	unsigned int v0 = VEC_BASE + 2 * k, v1 = v0 + 1;
	uint64_t mid = b2->size / 2 - 1000, last = b2->size - 4096, n = 0;
	uint32_t st = 0;
	long bad;
	bool ok;
	char s[200];

	/* RAM -> VRAM: the guest then reads VRAM directly. */
	pt_pattern_fill(ram_src + 100, CE_LEN, 0x6700 + k);
	ok = ce_copy(bar0, false, (uint64_t)ram_src + 100, mid, CE_LEN, 0, v0, &st, &n);
	bad = pt_pattern_bad((volatile uint8_t *)(b2->addr + mid), CE_LEN, 0x6700 + k);
	snprintf(s, sizeof(s), "%u bytes RAM 0x%lx -> BAR2+0x%lx: status 0x%x, MSI-X entry 0 -> "
		 "vector 0x%x (%lu delivered), BAR2 %s", CE_LEN, (uint64_t)ram_src + 100, mid, st,
		 v0, n, bad < 0 ? "holds the data" : "does NOT hold the data");
	chk(k, "copy-to-vram", ok && bad < 0, s);

	/* VRAM -> RAM: BAR2's last page, as check_bar2_rw left it. */
	memset(ram_dst, 0, sizeof(ram_dst));
	ok = ce_copy(bar0, true, last, (uint64_t)ram_dst + 8, 4096, 1, v1, &st, &n);
	bad = -1;
	for (unsigned int i = 0; i < 512 && bad < 0; i++) {
		uint64_t w;

		memcpy(&w, ram_dst + 8 + 8 * i, 8);
		if (w != (~(0x6770750000000000ull | k) ^ i))
			bad = i;
	}
	snprintf(s, sizeof(s), "4096 bytes BAR2+0x%lx -> RAM 0x%lx: status 0x%x, MSI-X entry 1 -> "
		 "vector 0x%x (%lu delivered), RAM %s", last, (uint64_t)ram_dst + 8, st, v1, n,
		 bad < 0 ? "holds the last page" : "does NOT hold the last page");
	chk(k, "copy-to-ram", ok && bad < 0, s);

	/* Past the end of BAR2: refused with an error status, still an interrupt. */
	ok = ce_copy(bar0, false, (uint64_t)ram_src, b2->size - 16, 32, 0, v0, &st, &n);
	snprintf(s, sizeof(s), "a copy past BAR2's end: status 0x%x, %lu interrupt(s)", st, n);
	chk(k, "copy-refused", !ok && (st & MGPU_CE_STATUS_ERROR) && n == 1, s);

	/* From a bus address the VMM never mapped (no RAM there): the DMA fails, nothing else. */
	ok = ce_copy(bar0, false, 0xfe00000000ull, 0, 4096, 0, v0, &st, &n);
	snprintf(s, sizeof(s), "a copy from unmapped IOVA 0xfe00000000: status 0x%x, %lu "
		 "interrupt(s)", st, n);
	chk(k, "copy-unmapped", !ok && (st & MGPU_CE_STATUS_ERROR) && n == 1, s);
}

static bool setup_msix(unsigned int k, uint16_t bdf, uint64_t bar0, struct msix_info *mx)
{
	uint16_t ctrl;
	char s[200];
	bool ok;

	if (pci_msix_probe(bdf, mx)) {
		chk(k, "msix", false, "no MSI-X capability");
		return false;
	}
	idt_set_handler(VEC_BASE + 2 * k, gpu_irq);
	idt_set_handler(VEC_BASE + 2 * k + 1, gpu_irq);
	pci_msix_set_entry(mx, 0, msi_address(lapic_id()), msi_data(VEC_BASE + 2 * k), false);
	pci_msix_set_entry(mx, 1, msi_address(lapic_id()), msi_data(VEC_BASE + 2 * k + 1), false);
	pci_msix_enable(mx, true);
	ctrl = pci_cfg_read16(bdf, mx->cap + PCI_MSIX_FLAGS);
	ok = (ctrl & PCI_MSIX_FLAGS_ENABLE) && mx->nr_vectors == 9 &&
	     mx->table == bar0 + MSIX_TABLE_OFF && mx->pba == bar0 + MSIX_PBA_OFF;
	snprintf(s, sizeof(s), "enabled (control 0x%04x), %u vectors, table BAR0+0x%lx, PBA BAR0+0x%lx",
		 ctrl, mx->nr_vectors, mx->table - bar0, mx->pba - bar0);
	chk(k, "msix", ok, s);
	return ok;
}

/* FLR: the engine's registers go back to reset values; VRAM keeps its data. */
static void check_flr(unsigned int k, struct pt_dev *d, uint64_t bar0)
{
	uint16_t bdf = (uint16_t)d->bdf, exp = pci_find_cap(bdf, PCI_CAP_ID_EXP);
	uint16_t cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	uint32_t devcap = exp ? pci_cfg_read32(bdf, exp + PCI_EXP_DEVCAP) : 0;
	uint32_t done_before = mmio_read32(bar0 + MGPU_REG_CE_DONE), scratch, done;
	uint64_t w;
	char s[200];

	if (!(devcap & PCI_EXP_DEVCAP_FLR)) {
		chk(k, "flr", false, "DevCap has no FLR: the VMM did not offer a reset");
		return;
	}
	mmio_write32(bar0 + MGPU_REG_SCRATCH, 0x5ca1ab1e);
	pci_cfg_write16(bdf, exp + PCI_EXP_DEVCTL,
			pci_cfg_read16(bdf, exp + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_FLR);
	for (unsigned int i = 0; i < PCI_BAR_COUNT; i += d->bar[i].is64 ? 2 : 1)
		if (d->bar[i].size)
			pci_bar_set(bdf, i, &d->bar[i], d->bar[i].addr);
	pci_cfg_write16(bdf, PCI_COMMAND, cmd);
	scratch = mmio_read32(bar0 + MGPU_REG_SCRATCH);
	done = mmio_read32(bar0 + MGPU_REG_CE_DONE);
	w = mmio_read64(d->bar[2].addr);
	snprintf(s, sizeof(s), "after FLR: scratch 0x%x (was 0x5ca1ab1e), copies done %u (was %u), "
		 "BAR2 word 0 %s", scratch, done, done_before,
		 w == (0x6770750000000000ull | k) ? "kept" : "LOST");
	chk(k, "flr", scratch == 0 && done == 0 && done_before > 0 &&
	    w == (0x6770750000000000ull | k), s);
}

/*
 * With --p2p (cmdline p2p=1) the VMM maps every BAR for DMA at its guest
 * address: GPU 0's engine copies GPU 1's first BAR2 page (peer to peer) and its
 * own last BAR2 page (a DMA into its own BAR) into its BAR2, reading both
 * through the container's mappings of the BARs.
 */
static void check_p2p(struct pt_dev *g0, struct pt_dev *g1)
{
	uint64_t bar0 = g0->bar[0].addr, dst = 8 * 4096, dst2 = 16 * 4096, n0 = 0, n1 = 0;
	const struct pci_bar *b2 = &g0->bar[2];
	uint32_t st0 = 0, st1 = 0;
	long bad = -1;
	bool ok0, ok1;
	char s[200];

	ok0 = ce_copy(bar0, false, g1->bar[2].addr, dst, 4096, 0, VEC_BASE, &st0, &n0);
	ok1 = ce_copy(bar0, false, b2->addr + b2->size - 4096, dst2, 4096, 0, VEC_BASE, &st1, &n1);
	for (unsigned int i = 0; i < 512 && bad < 0; i++)
		if (mmio_read64(b2->addr + dst + 8 * i) != (0x6770750000000000ull ^ 1 ^ i) ||
		    mmio_read64(b2->addr + dst2 + 8 * i) != (~0x6770750000000000ull ^ i))
			bad = i;
	snprintf(s, sizeof(s), "gpu0's engine read gpu1's BAR2 at 0x%lx (status 0x%x, %lu irq) and "
		 "its own last BAR2 page (status 0x%x, %lu irq): %s", g1->bar[2].addr, st0, n0, st1,
		 n1, bad < 0 ? "both copies hold the data" : "data differs");
	pt_check("gpu.p2p", ok0 && ok1 && bad < 0, "%s", s);
}

int main(void)
{
	static struct pt_dev gpus[MAX_GPUS];
	unsigned int n = 0;

	static uint16_t bdfs[PCI_SCAN_MAX];
	int nr = pci_scan(bdfs, PCI_SCAN_MAX);

	for (int i = 0; i < nr && n < MAX_GPUS; i++)
		if (pci_cfg_read16(bdfs[i], PCI_VENDOR_ID) == NV_VENDOR)
			pt_open_at(bdfs[i], "gpu", &gpus[n++]);
	printf("PT-GPUS %u\n", n);
	pt_check("gpu.present", n > 0, "%u NVIDIA function(s) found", n);
	lapic_init();
	for (unsigned int k = 0; k < n; k++) {
		struct pt_dev *d = &gpus[k];
		uint64_t bar0 = d->bar[0].addr;
		uint32_t id = mmio_read32(bar0 + MGPU_REG_ID);
		struct msix_info mx;

		printf("gpu%u: %02x:%02x.%x device %04x, ID register 0x%08x\n", k,
		       PCI_BDF_BUS(d->bdf), PCI_BDF_DEV(d->bdf), PCI_BDF_FN(d->bdf),
		       pci_cfg_read16((uint16_t)d->bdf, PCI_DEVICE_ID), id);
		if (id != MGPU_ID) {
			chk(k, "bars", false, "BAR0's ID register does not read as mgpu's");
			continue;
		}
		check_bars(k, d, bar0);
		if (!d->bar[2].size)
			continue;
		check_bar2_rw(k, &d->bar[2]);
		if (setup_msix(k, (uint16_t)d->bdf, bar0, &mx))
			check_copy(k, bar0, &d->bar[2]);
		check_flr(k, d, bar0);
	}
	/* After the FLRs: decode, bus mastering and MSI-X back on GPU 0. */
	if (n >= 2 && cmdline_get(boot_info.cmdline, "p2p")) {
		struct msix_info mx;

		pci_cfg_write16((uint16_t)gpus[0].bdf, PCI_COMMAND, PCI_COMMAND_MEMORY |
				PCI_COMMAND_MASTER);
		if (setup_msix(0, (uint16_t)gpus[0].bdf, gpus[0].bar[0].addr, &mx))
			check_p2p(&gpus[0], &gpus[1]);
	}
	pt_finish("pt-gpu");
}
