// SPDX-License-Identifier: MIT
/*
 * pt-hostile, part two (see pt-hostile.h): config space, the MSI and MSI-X
 * messages, the MSI-X table and PBA, and edu's DMA with the command
 * register changing under it.
 */
#include "pt-hostile.h"

#define CFG_SIZE	4096u
#define GARBAGE_MSI	0x0badc000u	/* an MSI address outside 0xfeexxxxx */
#define ABSENT_DEVFN	0xf8		/* 00:1f.0: the VMM puts nothing there */

static uint8_t snap_a[CFG_SIZE], snap_b[CFG_SIZE];
static uint8_t dma_buf[4096] __attribute__((aligned(4096)));

static uint64_t ones(unsigned int len)
{
	return len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
}

static uint64_t bytes_at(const uint8_t *buf, uint32_t off, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)buf[off + i] << (8 * i);
	return v;
}

static uint64_t mmio_read(uint64_t a, unsigned int len)
{
	switch (len) {
	case 1: return mmio_read8(a);
	case 2: return mmio_read16(a);
	case 4: return mmio_read32(a);
	default: return mmio_read64(a);
	}
}

static void mmio_write(uint64_t a, unsigned int len, uint64_t v)
{
	switch (len) {
	case 1: mmio_write8(a, (uint8_t)v); break;
	case 2: mmio_write16(a, (uint16_t)v); break;
	case 4: mmio_write32(a, (uint32_t)v); break;
	default: mmio_write64(a, v); break;
	}
}

/* ECAM at any offset and size: pci_cfg_* would align and clip what a hostile guest would not. */
static uint64_t ecam(uint16_t bdf, uint32_t off)
{
	return PCI_ECAM_BASE + ((uint64_t)bdf << 12) + off;
}

static void cfg_snapshot(uint16_t bdf, uint8_t *buf)
{
	for (uint32_t off = 0; off < CFG_SIZE; off += 4) {
		uint32_t v = mmio_read32(ecam(bdf, off));

		memcpy(buf + off, &v, 4);
	}
}

static unsigned int cfg_diff(const uint8_t *a, const uint8_t *b, int *first)
{
	unsigned int n = 0;

	*first = -1;
	for (uint32_t i = 0; i < CFG_SIZE; i++)
		if (a[i] != b[i] && n++ == 0)
			*first = (int)i;
	return n;
}

/*
 * Every offset, every size: aligned accesses must agree with the dword
 * snapshot; unaligned ones (which the VMM refuses) read all-ones or agree.
 * An 8-byte ECAM read is two dwords. Returns the number of bad reads.
 */
static unsigned int read_sweep(uint16_t bdf, unsigned int *reads)
{
	unsigned int bad = 0;

	cfg_snapshot(bdf, snap_a);
	for (uint32_t off = 0; off < CFG_SIZE; off++)
		for (unsigned int len = 1; len <= 8; len <<= 1) {
			uint64_t v, want;

			if (off + len > CFG_SIZE)
				continue;	/* KVM splits it at the page: the next function */
			v = mmio_read(ecam(bdf, off), len);
			want = bytes_at(snap_a, off, len);
			(*reads)++;
			if (v == want || ((off & (len - 1)) && v == ones(len)))
				continue;
			if (bad++ < 4)
				printf("  %02x.%x +0x%03x/%u read 0x%lx, dwords say 0x%lx\n",
				       PCI_BDF_DEV(bdf), PCI_BDF_FN(bdf), off, len, v, want);
		}
	return bad;
}

/* The first 256 bytes through CF8/CFC agree with ECAM; odd CFC port accesses are survived. */
static unsigned int cf8_sweep(uint16_t bdf, unsigned int *reads)
{
	unsigned int bad = 0;

	for (uint32_t reg = 0; reg < 256; reg++) {
		bad += pci_cf8_read8(bdf, (uint16_t)reg) != snap_a[reg];
		if (!(reg & 1))
			bad += pci_cf8_read16(bdf, (uint16_t)reg) != bytes_at(snap_a, reg, 2);
		if (!(reg & 3))
			bad += pci_cf8_read32(bdf, (uint16_t)reg) != bytes_at(snap_a, reg, 4);
		*reads += 1 + !(reg & 1) + !(reg & 3);
	}
	outl(PCI_CF8_ADDR, 0x80000000u | (uint32_t)bdf << 8);
	for (uint16_t p = 1; p < 4; p++) {
		inw(PCI_CF8_DATA + p);
		inl(PCI_CF8_DATA + p);
		*reads += 2;
	}
	return bad;
}

void hostile_config_reads(void)
{
	const uint16_t bdfs[] = { hs.edu.bdf, hs.nvme.bdf };
	unsigned int bad = 0, reads = 0, cf8_bad = 0, absent_bad = 0;
	uint64_t t0 = rdtsc();

	for (unsigned int i = 0; i < 2; i++) {
		bad += read_sweep(bdfs[i], &reads);
		cf8_bad += cf8_sweep(bdfs[i], &reads);
	}
	/* Functions nobody put there, and buses 1-255, read all-ones. */
	for (unsigned int devfn = 1; devfn < 256; devfn++)
		if (devfn != hs.edu.bdf && devfn != hs.nvme.bdf)
			absent_bad += pci_cfg_read32((uint16_t)devfn, PCI_VENDOR_ID) != ~0u;
	for (unsigned int bus = 1; bus < 256; bus++)
		absent_bad += mmio_read32(PCI_ECAM_BASE + ((uint64_t)bus << 20) +
					  (bus & 0xff) * 0x1000 + 0xffc) != ~0u;
	pt_check("config.reads", !bad && !cf8_bad && !absent_bad,
		 "%u reads of 1, 2, 4 and 8 bytes at every offset of edu's and nvme's 4 KiB "
		 "(ECAM) and 256 bytes (CF8) in %lu ms: %u ECAM and %u CF8 disagreed with the "
		 "dwords; %u absent functions and buses not all-ones", reads,
		 hs_ms(rdtsc() - t0), bad, cf8_bad, absent_bad);
}

/*
 * Every offset at every size gets back what it read (harmless, and every
 * write still goes through the VMM's masks and side effects); then one
 * unaligned garbage write per 8 bytes, which must change nothing. Through
 * ECAM: no BAR moves here.
 */
static unsigned int write_sweep(uint16_t bdf, unsigned int *writes, unsigned int *changed)
{
	int first;
	unsigned int n;

	for (unsigned int len = 1; len <= 8; len <<= 1)
		for (uint32_t off = 0; off < CFG_SIZE; off += len) {
			mmio_write(ecam(bdf, off), len, mmio_read(ecam(bdf, off), len));
			(*writes)++;
		}
	cfg_snapshot(bdf, snap_a);
	for (uint32_t blk = 0; blk < CFG_SIZE; blk += 8) {
		unsigned int len = 2u << (hs_rand() % 3);
		uint32_t off = blk + 1 + (uint32_t)(hs_rand() % 7);

		/* Unaligned for its size; an 8-byte write at a dword boundary is two dwords. */
		if (!(off & (len - 1)) || (len == 8 && !(off & 3)))
			off |= 1;
		if (off + len > CFG_SIZE)
			continue;
		mmio_write(ecam(bdf, off), len, hs_rand());
		(*writes)++;
	}
	cfg_snapshot(bdf, snap_b);
	n = cfg_diff(snap_a, snap_b, &first);
	if (n)
		printf("  %02x.%x: %u bytes changed by unaligned writes, first at +0x%03x\n",
		       PCI_BDF_DEV(bdf), PCI_BDF_FN(bdf), n, first);
	*changed += n;
	return n;
}

void hostile_config_writes(void)
{
	unsigned int writes = 0, changed = 0;
	uint64_t t0 = rdtsc();
	bool same;

	write_sweep(hs.edu.bdf, &writes, &changed);
	write_sweep(hs.nvme.bdf, &writes, &changed);
	same = pci_cfg_read16(hs.edu.bdf, PCI_COMMAND) == hs.edu.cmd &&
	       pci_cfg_read16(hs.nvme.bdf, PCI_COMMAND) == hs.nvme.cmd &&
	       pci_cfg_read32(hs.edu.bdf, PCI_BAR0) >> 4 == (uint32_t)hs.edu.home >> 4 &&
	       pci_cfg_read32(hs.nvme.bdf, PCI_BAR0) >> 4 == (uint32_t)hs.nvme.home >> 4 &&
	       pci_cfg_read32(hs.nvme.bdf, PCI_BAR0 + 4) == (uint32_t)(hs.nvme.home >> 32);
	pt_check("config.writes", !changed && same && hs_edu_alive(hs.edu.home) &&
		 hs_nvme_alive(hs.nvme.home),
		 "%u writes in %lu ms: every offset of both functions written back at 1, 2, 4 and "
		 "8 bytes (command and BARs %s), then unaligned garbage, which changed %u bytes",
		 writes, hs_ms(rdtsc() - t0), same ? "kept" : "CHANGED", changed);
}

static void cf8_write(uint16_t bdf, uint32_t off, unsigned int len, uint32_t v)
{
	if (len == 1)
		pci_cf8_write8(bdf, (uint16_t)off, (uint8_t)v);
	else if (len == 2)
		pci_cf8_write16(bdf, (uint16_t)off, (uint16_t)v);
	else
		pci_cf8_write32(bdf, (uint16_t)off, v);
}

/*
 * Random values of random sizes over the whole header and capabilities,
 * through CF8 (the BARs land anywhere, ECAM included): decode, BARs, MSI,
 * MSI-X, power state and, on nvme, FLRs all at random. Then random values
 * over the extended space through ECAM, with the BARs back home first.
 */
static unsigned int storm(const struct hdev *d, unsigned int rounds, unsigned int *flrs)
{
	uint32_t flr_byte = hs.nvme_exp + PCI_EXP_DEVCTL + 1;
	unsigned int n = 0;

	for (unsigned int r = 0; r < rounds; r++)
		for (uint32_t off = 0; off < 256;) {
			unsigned int len = 1u << (hs_rand() % 3);
			uint32_t v = (uint32_t)hs_rand();

			off = (off + len - 1) & ~(len - 1);
			if (off >= 256)
				break;
			if (d == &hs.nvme && hs.nvme_exp && off <= flr_byte && flr_byte < off + len &&
			    ((v >> (8 * (flr_byte - off))) & 0x80))
				(*flrs)++;
			cf8_write(d->bdf, off, len, v);
			off += len;
			n++;
		}
	return n;
}

/* Random values of random sizes (1, 2, 4, 8) through ECAM from offset from on. */
static unsigned int storm_ecam(uint64_t base, uint32_t from)
{
	unsigned int n = 0;

	for (uint32_t off = from; off < CFG_SIZE;) {
		unsigned int len = 1u << (hs_rand() % 4);

		off = (off + len - 1) & ~(len - 1);
		if (off >= CFG_SIZE)
			break;
		mmio_write(base + off, len, hs_rand());
		off += len;
		n++;
	}
	return n;
}

void hostile_config_random(void)
{
	uint16_t caps[4] = { hs.edu_msi, hs.nvme_pm, hs.nvme_exp, hs.mx.cap };
	unsigned int writes = 0, flrs = 0;
	uint64_t t0 = rdtsc();
	bool ids, caps_ok, others;
	int first;

	mmio_write32(hs.edu.home + EDU_IRQ_ACK, ~0u);
	writes += storm(&hs.edu, 4, &flrs);
	writes += storm(&hs.nvme, 4, &flrs);
	hs_edu_home();
	/* nvme: back to D0, then an FLR (its PCIe capability is below 0x100) for a clean slate. */
	pci_cf8_write16(hs.nvme.bdf, hs.nvme_pm + PCI_PM_CTRL, 0);
	pci_cf8_write16(hs.nvme.bdf, hs.nvme_exp + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_FLR);
	hs_nvme_home();
	writes += storm_ecam(ecam(hs.edu.bdf, 0), 0x100);
	writes += storm_ecam(ecam(hs.nvme.bdf, 0), 0x100);
	/* The emulated host bridge, a function nobody put there and bus 1 take it too. */
	cfg_snapshot(0, snap_a);
	writes += storm_ecam(ecam(0, 0), 0);
	writes += storm_ecam(ecam(ABSENT_DEVFN, 0), 0);
	writes += storm_ecam(PCI_ECAM_BASE + (1ull << 20), 0);
	cfg_snapshot(0, snap_b);
	others = !cfg_diff(snap_a, snap_b, &first) &&
		 pci_cfg_read32(ABSENT_DEVFN, PCI_VENDOR_ID) == ~0u &&
		 mmio_read32(PCI_ECAM_BASE + (1ull << 20)) == ~0u;
	ids = pci_cfg_read32(hs.edu.bdf, PCI_VENDOR_ID) == 0x11e81234 &&
	      pci_cf8_read32(hs.edu.bdf, PCI_VENDOR_ID) == 0x11e81234 &&
	      pci_cfg_read32(hs.nvme.bdf, PCI_VENDOR_ID) == 0x00101b36 &&
	      pci_cf8_read32(hs.nvme.bdf, PCI_VENDOR_ID) == 0x00101b36;
	caps_ok = pci_find_cap(hs.edu.bdf, PCI_CAP_ID_MSI) == caps[0] &&
		  pci_find_cap(hs.nvme.bdf, PCI_CAP_ID_PM) == caps[1] &&
		  pci_find_cap(hs.nvme.bdf, PCI_CAP_ID_EXP) == caps[2] &&
		  pci_find_cap(hs.nvme.bdf, PCI_CAP_ID_MSIX) == caps[3];
	pt_check("config.random", ids && caps_ok && others && hs_edu_alive(hs.edu.home) &&
		 hs_nvme_alive(hs.nvme.home),
		 "%u random writes of random sizes in %lu ms (header and capabilities through CF8, "
		 "about %u of them FLRs; extended space through ECAM; all of the host bridge, an "
		 "absent function and bus 1); after restoring BARs and decode: IDs %s, capability "
		 "chain %s, host bridge and absent ones %s, devices %s", writes,
		 hs_ms(rdtsc() - t0), flrs, ids ? "right" : "WRONG",
		 caps_ok ? "the same" : "CHANGED", others ? "unchanged" : "CHANGED",
		 hs_edu_alive(hs.edu.home) && hs_nvme_alive(hs.nvme.home) ? "working" :
		 "NOT working");
}

/* Not an x86 MSI address (0xfeexxxxx), sometimes above 4 GiB. */
static uint64_t garbage_addr(void)
{
	uint64_t a;

	do
		a = hs_rand() & ~3ull;
	while (((uint32_t)a >> 20) == 0xfee);
	return (hs_rand() & 3) ? a & 0xffffffffull : a;
}

/*
 * edu's MSI with garbage: addresses outside 0xfeexxxxx, random data,
 * random control (enable, multiple message) in random order, while edu
 * raises its interrupt. Nothing may be delivered (the VMM routes only real
 * messages); the interrupt raised under a garbage address waits in VFIO's
 * eventfd and arrives once the address is fixed while enabled.
 */
void hostile_msi_garbage(void)
{
	uint16_t bdf = hs.edu.bdf, cap = hs.edu_msi, ctrl;
	uint64_t stray0 = hs_stray(), edu0 = idt_count(VEC_EDU), during, held;
	unsigned int data_off;
	bool is64, late;

	if (!cap) {
		pt_check("msi.garbage", false, "edu has no MSI capability");
		return;
	}
	hs_edu_home();
	is64 = pci_cfg_read16(bdf, cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_64BIT;
	data_off = is64 ? 12 : 8;
	for (unsigned int i = 0; i < 64; i++) {
		uint64_t a = garbage_addr();

		ctrl = (uint16_t)hs_rand();
		if (i & 1)
			pci_cfg_write16(bdf, cap + PCI_MSI_FLAGS, ctrl);
		pci_cfg_write32(bdf, cap + 4, (uint32_t)a);
		if (is64)
			pci_cfg_write32(bdf, cap + 8, (uint32_t)(a >> 32));
		if (hs_rand() & 1)
			pci_cfg_write32(bdf, cap + data_off, (uint32_t)hs_rand());
		else
			pci_cfg_write16(bdf, cap + data_off, (uint16_t)hs_rand());
		if (!(i & 1))
			pci_cfg_write16(bdf, cap + PCI_MSI_FLAGS, ctrl);
		if (i % 4 == 3)
			mmio_write32(hs.edu.home + EDU_RAISE, 1);
	}
	hs_spin_ms(20, true);
	during = hs_stray() - stray0 + idt_count(VEC_EDU) - edu0;
	pci_msi_disable(bdf);
	mmio_write32(hs.edu.home + EDU_IRQ_ACK, ~0u);
	/* A real vector behind a garbage address, edu raises, then the address is fixed. */
	pci_msi_enable(bdf, GARBAGE_MSI, msi_data(VEC_EDU));
	mmio_write32(hs.edu.home + EDU_RAISE, 1);
	hs_spin_ms(20, true);
	held = idt_count(VEC_EDU) - edu0;
	pci_cfg_write32(bdf, cap + 4, (uint32_t)msi_address(hs.apic_id));
	late = idt_wait_count(VEC_EDU, edu0 + held + 1, PT_WAIT_CYCLES);
	pci_msi_disable(bdf);
	mmio_write32(hs.edu.home + EDU_IRQ_ACK, ~0u);
	pt_check("msi.garbage", !during && !held && late && hs_edu_alive(hs.edu.home),
		 "64 garbage messages (addresses outside 0xfeexxxxx, random data and control) "
		 "with 16 interrupts raised: %lu delivered; address 0x%x with vector 0x%x: %lu "
		 "delivered, then the address fixed while enabled: the held one %s",
		 during, GARBAGE_MSI, VEC_EDU, held, late ? "arrived" : "NEVER arrived");
}

/* A table pattern with the reserved bits clear (address bits 1:0, vector control 31:1). */
static uint32_t pat_dword(uint32_t dw, uint32_t seed)
{
	uint32_t v = (dw + 1) * 2654435761u ^ seed * 40503u;

	v ^= v >> 15;
	v *= 2246822519u;
	switch (dw % 4) {
	case 0: return v & ~3u;
	case 3: return v & 1;
	default: return v;
	}
}

static uint64_t pat(uint32_t off, unsigned int len, uint32_t seed)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)(uint8_t)(pat_dword((off + i) / 4, seed) >> (8 * ((off + i) % 4)))
		     << (8 * i);
	return v;
}

/* Written at one size, read back at every size: aligned everywhere, unaligned sampled. */
static unsigned int table_pass(uint32_t len, unsigned int wsize, uint32_t seed,
			       unsigned int *accesses)
{
	uint64_t t = hs.mx.table, v;
	unsigned int bad = 0;

	for (uint32_t off = 0; off < len; off += wsize)
		mmio_write(t + off, wsize, pat(off, wsize, seed));
	*accesses += len / wsize;
	for (unsigned int rs = 1; rs <= 8; rs <<= 1) {
		for (uint32_t off = 0; off + rs <= len; off += rs) {
			v = mmio_read(t + off, rs);
			(*accesses)++;
			if (v != pat(off, rs, seed) && bad++ < 4)
				printf("  table +0x%x/%u: 0x%lx, wrote 0x%lx\n", off, rs, v,
				       pat(off, rs, seed));
		}
		/* Unaligned: the VMM may answer with the bytes or with all-ones. */
		for (uint32_t off = 1; rs > 1 && off + rs <= len; off += 61) {
			if (!(off % rs))
				continue;
			v = mmio_read(t + off, rs);
			(*accesses)++;
			if (v != pat(off, rs, seed) && v != ones(rs) && bad++ < 4)
				printf("  table +0x%x/%u (unaligned): 0x%lx, wrote 0x%lx\n", off, rs,
				       v, pat(off, rs, seed));
		}
	}
	return bad;
}

/*
 * The MSI-X table at every size (1, 2, 4, 8; aligned reads everywhere,
 * unaligned ones sampled), with MSI-X off and then on with the function
 * masked (every write re-evaluates its vectors); accesses straddling the
 * table's end and writes to the PBA change nothing; the rest of both
 * trapped pages is read and written, sampled.
 */
void hostile_msix_sizes(void)
{
	uint32_t len = 16 * hs.mx.nr_vectors, last, pba_len = 8 * ((hs.mx.nr_vectors + 63) / 64);
	uint16_t ctrl_off = hs.mx.cap + PCI_MSIX_FLAGS;
	unsigned int bad = 0, accesses = 0, pba_bad = 0;
	uint64_t pba[4] = { 0 }, t0 = rdtsc(), page;

	hs_nvme_home();
	for (unsigned int pass = 0; pass < 8; pass++) {
		if (pass == 4)
			pci_cfg_write16(hs.nvme.bdf, ctrl_off,
					PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
		bad += table_pass(len, 1u << (pass % 4), 0x51 + pass, &accesses);
	}
	last = mmio_read32(hs.mx.table + len - 4);
	mmio_write64(hs.mx.table + len - 4, ~0ull);	/* straddles the end */
	mmio_read64(hs.mx.table + len - 4);
	bad += mmio_read32(hs.mx.table + len - 4) != last;
	for (unsigned int e = 0; e < hs.mx.nr_vectors; e++)
		pci_msix_set_entry(&hs.mx, e, 0, 0, true);
	pci_cfg_write16(hs.nvme.bdf, ctrl_off, 0);
	for (uint32_t off = 0; off < pba_len && off < 32; off += 8)
		pba[off / 8] = mmio_read64(hs.mx.pba + off);
	for (unsigned int sz = 1; sz <= 8; sz <<= 1)
		for (uint32_t off = 0; off < pba_len; off += sz) {
			pba_bad += mmio_read(hs.mx.pba + off, sz) != bytes_at((uint8_t *)pba, off, sz);
			mmio_write(hs.mx.pba + off, sz, hs_rand());
			accesses += 2;
		}
	for (uint32_t off = 0; off < pba_len && off < 32; off += 8)
		pba_bad += mmio_read64(hs.mx.pba + off) != pba[off / 8];
	/* The rest of the two trapped pages goes to the device's region. */
	for (unsigned int p = 0; p < 2; p++) {
		page = p ? hs.mx.pba & ~0xfffull : hs.mx.table & ~0xfffull;
		for (uint32_t off = (p ? pba_len : len) + 64; off + 8 <= 4096; off += 64) {
			unsigned int sz = 1u << (hs_rand() % 4);

			mmio_read(page + off, sz);
			mmio_write(page + off, sz, hs_rand());
			accesses += 2;
		}
	}
	pt_check("msix.sizes", !bad && !pba_bad && hs_nvme_alive(hs.nvme.home),
		 "%u accesses in %lu ms: the %u-entry table written at 1, 2, 4 and 8 bytes and read "
		 "back at every size (MSI-X off, then on and masked): %u wrong; a write straddling "
		 "its end %s; PBA at every size, garbage written: %u changed", accesses,
		 hs_ms(rdtsc() - t0), hs.mx.nr_vectors, bad,
		 mmio_read32(hs.mx.table + len - 4) == last ? "ignored" : "TOOK", pba_bad);
}

/* One entry in random pieces (1, 2, 4 or 8 bytes at a time). */
static void entry_write(unsigned int e, uint64_t addr, uint32_t data, uint32_t ctrl)
{
	uint8_t b[16];
	uint64_t at = hs.mx.table + 16ull * e;

	memcpy(b, &addr, 8);
	memcpy(b + 8, &data, 4);
	memcpy(b + 12, &ctrl, 4);
	for (uint32_t off = 0; off < 16;) {
		unsigned int sz = 1u << (hs_rand() % 4);

		while (off % sz)
			sz >>= 1;
		mmio_write(at + off, sz, bytes_at(b, off, sz));
		off += sz;
	}
}

/*
 * nvme's MSI-X with garbage: every entry random (addresses outside
 * 0xfeexxxxx or real ones with random destinations and vectors, random
 * data and masks), enable and function mask toggled at random while entries
 * change. Then an Identify completes on vector 0 behind a garbage address:
 * no delivery, the PBA shows it pending, and fixing the address delivers it.
 */
void hostile_msix_garbage(void)
{
	uint16_t bdf = hs.nvme.bdf, ctrl_off = hs.mx.cap + PCI_MSIX_FLAGS;
	uint64_t stray0, nv0, during, held;
	unsigned int slot = 0;
	char model[41] = "";
	bool up, pending = false, late = false, done = false;

	hs_nvme_home();
	for (unsigned int e = 0; e < hs.mx.nr_vectors; e++)
		entry_write(e, garbage_addr(), (uint32_t)hs_rand(), (uint32_t)hs_rand());
	for (unsigned int i = 0; i < 48; i++) {
		unsigned int e = (unsigned int)(hs_rand() % hs.mx.nr_vectors);

		pci_cfg_write16(bdf, ctrl_off, (uint16_t)hs_rand());
		if (e && (hs_rand() & 1))	/* a real message: fixed delivery, any vector >= 0x30 */
			entry_write(e, 0xfee00000ull | (hs_rand() & 0xff000),
				    0x30 + (uint32_t)(hs_rand() % 0xc0), (uint32_t)hs_rand() & 1);
		else
			entry_write(e, garbage_addr(), (uint32_t)hs_rand(), (uint32_t)hs_rand());
	}
	entry_write(0, GARBAGE_MSI, msi_data(VEC_NVME), 0);
	pci_cfg_write16(bdf, ctrl_off, PCI_MSIX_FLAGS_ENABLE);
	stray0 = hs_stray();
	nv0 = idt_count(VEC_NVME);
	up = nvme_enable(&hs_nv);
	if (up) {
		slot = nvme_submit_identify(&hs_nv);
		done = nvme_wait_posted(slot);
		hs_spin_ms(20, true);
		pending = pci_msix_pending(&hs.mx, 0);
	}
	during = hs_stray() - stray0;
	held = idt_count(VEC_NVME) - nv0;
	mmio_write32(hs.mx.table + 0, (uint32_t)msi_address(hs.apic_id));
	mmio_write32(hs.mx.table + 4, 0);
	if (up) {
		late = idt_wait_count(VEC_NVME, nv0 + held + 1, PT_WAIT_CYCLES);
		nvme_model(model);
		nvme_consume(&hs_nv, slot);
	}
	mmio_write32(hs.nvme.home + NVME_CC, 0);
	nvme_wait_ready(&hs_nv, 0);
	for (unsigned int e = 0; e < hs.mx.nr_vectors; e++)
		pci_msix_set_entry(&hs.mx, e, 0, 0, true);
	pci_cfg_write16(bdf, ctrl_off, 0);
	pt_check("msix.garbage", up && done && !during && !held && pending && late &&
		 strcmp(model, NVME_MODEL) == 0,
		 "%u entries of garbage, 48 random enable/mask changes; Identify %s behind a garbage "
		 "address on entry 0: %lu delivered (%lu on other vectors), PBA bit %u; address "
		 "fixed: %s; model \"%s\"", hs.mx.nr_vectors, done ? "completed" : "NOT completed",
		 held, during, pending, late ? "delivered" : "NOT delivered", model);
}

static void dma_start(uint64_t bar0, bool to_device, uint64_t addr, uint32_t dev_off,
		      uint32_t len, bool irq)
{
	mmio_write64(bar0 + EDU_DMA_SRC, to_device ? addr : EDU_BUF + dev_off);
	mmio_write64(bar0 + EDU_DMA_DST, to_device ? EDU_BUF + dev_off : addr);
	mmio_write64(bar0 + EDU_DMA_COUNT, len);
	mmio_write64(bar0 + EDU_DMA_CMD, EDU_DMA_START | (to_device ? 0 : EDU_DMA_TO_RAM) |
		     (irq ? EDU_DMA_IRQ : 0));
}

static bool dma_wait(uint64_t bar0, unsigned int ms)
{
	uint64_t start = rdtsc();

	while (mmio_read64(bar0 + EDU_DMA_CMD) & EDU_DMA_START)
		if (hs_ms(rdtsc() - start) > ms)
			return false;
	return true;
}

/*
 * edu runs a DMA 100 ms after it is started; meanwhile the guest writes
 * random command values as fast as it can (decode, bus master, INTx
 * disable... each decode change a memslot gone or made). Two of the DMAs
 * target bus addresses that are not guest RAM: the IOMMU must block them.
 * edu's own side always stays inside its 4 KiB buffer (see pt-hostile.h).
 */
void hostile_dma_command(void)
{
	const struct hdev *d = &hs.edu;
	static const uint64_t foreign[] = { 0x40000000ull, 0x7ffffff000ull };
	unsigned int unfinished = 0, cmds = 0;
	uint64_t t0 = rdtsc(), s;
	bool out, in;
	long bad;

	hs_edu_home();
	mmio_write32(d->home + EDU_IRQ_ACK, ~0u);
	pci_msi_enable(d->bdf, msi_address(hs.apic_id), msi_data(VEC_EDU));
	for (unsigned int r = 0; r < 8; r++) {
		uint32_t len = 1 + (uint32_t)(hs_rand() % 3000);
		uint32_t dev_off = (uint32_t)(hs_rand() % (4096 - len));
		uint64_t addr = r < 6 ? (uint64_t)(uintptr_t)dma_buf : foreign[r - 6];

		dma_start(d->home, r & 1, addr, dev_off, len, hs_rand() & 1);
		outl(PCI_CF8_ADDR, 0x80000000u | (uint32_t)d->bdf << 8 | PCI_COMMAND);
		s = rdtsc();
		while (hs_ms(rdtsc() - s) < 150) {
			outw(PCI_CF8_DATA, (uint16_t)hs_rand());
			cmds++;
		}
		outw(PCI_CF8_DATA, d->cmd);
		unfinished += !dma_wait(d->home, 3000);
	}
	hs_spin_ms(10, true);
	pt_pattern_fill(dma_buf, 3000, 0xd3a);
	out = edu_dma(d->home, true, (uint64_t)(uintptr_t)dma_buf, 0, 3000);
	memset(dma_buf, 0, sizeof(dma_buf));
	in = edu_dma(d->home, false, (uint64_t)(uintptr_t)dma_buf, 0, 3000);
	bad = pt_pattern_bad(dma_buf, 3000, 0xd3a);
	pci_msi_disable(d->bdf);
	mmio_write32(d->home + EDU_IRQ_ACK, ~0u);
	pt_check("dma.command", !unfinished && out && in && bad < 0,
		 "8 DMAs (2 to bus addresses outside guest RAM) with %u random command writes "
		 "while in flight, %lu ms: %u never finished; then a 3000-byte round trip: %s",
		 cmds, hs_ms(rdtsc() - t0), unfinished,
		 !out || !in ? "never finished" : bad < 0 ? "data matches" : "data differs");
}
