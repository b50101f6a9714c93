// SPDX-License-Identifier: MIT
/*
 * ivshmem-plain assigned through VFIO: its 64-bit prefetchable BAR2 (the
 * shared memory, a stand-in for a GPU's VRAM aperture) must sit above
 * 4 GiB, and be read and written by the guest with no VMM involvement: the
 * VMM backs it with a KVM memslot on the VFIO mmap. The guest counts its
 * own accesses; the testbed compares them with the VMM's --stats, which
 * must show none trapped on BAR2.
 *
 * Command line: seed=N writes a marker derived from N at the start of the
 * BAR; prev=M checks that the marker of an earlier run with seed=M is
 * still there, which proves the data lives in the device, not in a page
 * of this VM.
 */
#include "pt-common.h"

#define STEP		(4ull << 20)	/* one sample per 4 MiB ... */
#define MAX_SAMPLES	4096		/* ... or fewer, further apart, in a bigger BAR */
#define MARKER_LEN	256

static unsigned long parse_ul(const char *s)
{
	unsigned long v = 0;

	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned long)(*s++ - '0');
	return v;
}

/*
 * Every sample is a 64-bit word derived from its offset, written then read
 * back. Each sample's first touch costs L1 a nested page fault and a page
 * table page (4 KiB for every 2 MiB touched), so a 256 GiB BAR is sampled
 * every 64 MiB, not every 4 MiB: 4096 samples, not 65536.
 */
static void check_rw(uint64_t base, uint64_t size, uint32_t seed)
{
	uint64_t off, bad = ~0ull, n = 0, got = 0, step = STEP;

	while (size / step > MAX_SAMPLES)
		step *= 2;
	for (off = 0; off < size; off += step) {
		mmio_write64(base + off + 64, off ^ 0x5a5a0000c0ffee00ull ^ seed);
		n++;
	}
	mmio_write64(base + size - 8, 0x1a57b17e0fba20ull ^ seed);
	for (off = 0; off < size; off += step) {
		got = mmio_read64(base + off + 64);
		if (got != (off ^ 0x5a5a0000c0ffee00ull ^ seed)) {
			bad = off;
			break;
		}
	}
	if (bad == ~0ull && mmio_read64(base + size - 8) != (0x1a57b17e0fba20ull ^ seed))
		bad = size - 8;
	pt_check("ivshmem.rw", bad == ~0ull,
		 "%lu words written and read back across 0x%lx bytes (every %lu MiB)%s", n + 1,
		 size, step >> 20, bad == ~0ull ? "" : " -- MISMATCH");
	if (bad != ~0ull)
		printf("  first mismatch at BAR2+0x%lx: 0x%lx\n", bad, got);
	printf("PT-COUNT ivshmem BAR2 accesses %lu\n", 2 * (n + 1));
}

static void check_marker(uint64_t base, const char *cmdline)
{
	const char *seed = cmdline_get(cmdline, "seed"), *prev = cmdline_get(cmdline, "prev");
	long bad;

	if (prev) {
		bad = pt_pattern_bad((volatile uint8_t *)base, MARKER_LEN,
				     (uint32_t)parse_ul(prev));
		pt_check("ivshmem.persists", bad < 0,
			 "the marker of the run with seed=%lu %s", parse_ul(prev),
			 bad < 0 ? "is still in the BAR" : "is gone");
	}
	if (seed)
		pt_pattern_fill((volatile uint8_t *)base, MARKER_LEN, (uint32_t)parse_ul(seed));
}

int main(void)
{
	const char *cmdline = boot_info.cmdline;
	struct pt_dev d;
	struct pci_bar *b2 = &d.bar[2];

	if (pt_open(0x1af4, 0x1110, "ivshmem", &d)) {
		pt_check("ivshmem.bar2-high", b2->is64 && b2->prefetch &&
			 b2->addr >= (1ull << 32) && b2->size >= (1ull << 20),
			 "BAR2 at 0x%lx, %lu MiB, %s, %s", b2->addr, b2->size >> 20,
			 b2->is64 ? "64-bit" : "32-bit",
			 b2->prefetch ? "prefetchable" : "not prefetchable");
		if (b2->size) {
			/* The marker goes first: check_rw's samples start past it. */
			check_marker(b2->addr, cmdline);
			check_rw(b2->addr + MARKER_LEN, b2->size - MARKER_LEN - 64, 0x1d);
		}
	}
	pt_finish("pt-ivshmem");
}
