// SPDX-License-Identifier: MIT
/*
 * The guest half of bench/: times one kind of guest access in a loop with
 * the TSC and prints the raw cycle counts, one per repetition:
 *
 *     BENCH kind=cf8 n=2000 reps=5 cycles=c1,c2,c3,c4,c5
 *
 * The host side (tests/testbed/scenarios/bench.sh, bench/report.py) turns
 * cycles into ns with L1's TSC frequency and adds the VMM's exit counts, so
 * the guest never needs to know the clock rate. Options on the command
 * line: bench=KIND n=N reps=R, and q35_ecam=1 under QEMU q35 (moves its
 * ECAM to where the guest library expects it, 0xe0000000). With no bench=
 * option it runs the kinds that need no device, briefly, and passes: that
 * is its guest test.
 */
#include "pt-common.h"

#define UNCLAIMED_PORT		0x6f0	/* no device here in vfio-vmm or QEMU q35 */
#define MAX_REPS		32
#define VEC_BENCH		0x62
#define EDU_IRQ_RAISE		0x60
#define IVSHMEM_BAR_RAM		2
#define VIRTIO_BAR_IO		0
#define Q35_PCIEXBAR		0x60

struct bench {
	const char *kind;
	uint64_t n;
	uint64_t warmup;		/* untimed accesses before the first rep */
	unsigned int reps;
	uint64_t cycles[MAX_REPS];
	uint64_t latency[MAX_REPS];	/* irq only: mean cycles write -> handler */
};

static uint64_t target;			/* the address or port a loop hits */
static uint64_t edu_bar0;
static volatile uint64_t irq_tsc;

/* The value of key=value on the command line, copied up to the next space. */
static const char *opt(const char *key, char *buf, size_t len)
{
	const char *v = cmdline_get(boot_info.cmdline, key);
	size_t i = 0;

	if (!v)
		return NULL;
	while (v[i] && v[i] != ' ' && i + 1 < len) {
		buf[i] = v[i];
		i++;
	}
	buf[i] = '\0';
	return buf;
}

/*
 * Each loop is its own function with the access inlined, so the cycles per
 * iteration are the access plus a compare and a branch.
 */
static void loop_exit(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		outb(UNCLAIMED_PORT, 0);
}

static void loop_cf8(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		(void)pci_cf8_read32(0, PCI_VENDOR_ID);
}

static void loop_mmio(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		(void)mmio_read32(target);
}

static void loop_pio(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		(void)inl((uint16_t)target);
}

static void bench_loop(struct bench *b, void (*fn)(uint64_t))
{
	/* First touches (host page faults, cold caches) are not the steady state. */
	b->warmup = b->n ? b->n / 10 + 1 : 0;
	fn(b->warmup);
	for (unsigned int r = 0; r < b->reps; r++) {
		uint64_t t0 = rdtsc();

		fn(b->n);
		b->cycles[r] = rdtsc() - t0;
	}
}

static void edu_irq_handler(struct irq_frame *f)
{
	uint32_t st;

	irq_tsc = rdtsc();
	(void)f;
	st = mmio_read32(edu_bar0 + EDU_IRQ_STATUS);
	mmio_write32(edu_bar0 + EDU_IRQ_ACK, st);
	lapic_eoi();
}

/*
 * edu raises its interrupt when 0x60 is written; the handler stamps the
 * TSC. The write goes straight to the device (BAR0 is mapped), so the
 * latency is device -> VFIO eventfd -> KVM irqfd -> guest handler.
 */
static bool bench_irq(struct bench *b)
{
	for (unsigned int r = 0; r < b->reps; r++) {
		uint64_t lat = 0, t0 = rdtsc();

		irq_enable();
		for (uint64_t i = 0; i < b->n; i++) {
			uint64_t before = idt_count(VEC_BENCH), t1 = rdtsc(), start = t1;

			mmio_write32(edu_bar0 + EDU_IRQ_RAISE, 1);
			while (idt_count(VEC_BENCH) == before) {
				if (rdtsc() - start > PT_WAIT_CYCLES) {
					irq_disable();
					printf("interrupt %lu of rep %u never arrived\n", i, r);
					return false;
				}
				cpu_relax();
			}
			lat += irq_tsc - t1;
		}
		irq_disable();
		b->cycles[r] = rdtsc() - t0;
		b->latency[r] = b->n ? lat / b->n : 0;
	}
	return true;
}

static bool open_dev(uint16_t vendor, uint16_t device, const char *what, struct pt_dev *d)
{
	if (pt_open(vendor, device, what, d))
		return true;
	printf("bench: no %s (%04x:%04x) assigned\n", what, vendor, device);
	return false;
}

static bool setup_edu_irq(void)
{
	struct pt_dev d;

	if (!open_dev(0x1234, 0x11e8, "edu", &d))
		return false;
	edu_bar0 = d.bar[0].addr;
	lapic_init();
	idt_set_handler(VEC_BENCH, edu_irq_handler);
	if (pci_msi_enable((uint16_t)d.bdf, msi_address(lapic_id()), msi_data(VEC_BENCH))) {
		printf("bench: edu has no MSI capability\n");
		return false;
	}
	return true;
}

/* Points target at what the kind accesses; false when that is absent. */
static bool setup(const char *kind, void (**fn)(uint64_t))
{
	struct msix_info mx;
	struct pt_dev d;

	*fn = loop_mmio;
	if (!strcmp(kind, "exit")) {
		*fn = loop_exit;
		target = UNCLAIMED_PORT;
	} else if (!strcmp(kind, "cf8")) {
		*fn = loop_cf8;
		target = PCI_CF8_ADDR;
	} else if (!strcmp(kind, "ecam")) {
		target = pci_ecam_addr(0, PCI_VENDOR_ID);
	} else if (!strcmp(kind, "bar-direct")) {
		if (!open_dev(0x1234, 0x11e8, "edu", &d))
			return false;
		target = d.bar[0].addr + EDU_IDENT;
	} else if (!strcmp(kind, "bar-ram")) {
		if (!open_dev(0x1af4, 0x1110, "ivshmem", &d))
			return false;
		target = d.bar[IVSHMEM_BAR_RAM].addr;
		if (!target || target >= GUEST_MAPPED_LIMIT) {
			printf("bench: ivshmem BAR2 at 0x%lx is outside the guest's page tables\n",
			       target);
			return false;
		}
	} else if (!strcmp(kind, "bar-trap")) {
		if (!open_dev(0x1af4, 0x1000, "virtio-net", &d))
			return false;
		if (!d.bar[VIRTIO_BAR_IO].io || !d.bar[VIRTIO_BAR_IO].addr) {
			printf("bench: virtio-net BAR0 is not an I/O BAR\n");
			return false;
		}
		*fn = loop_pio;
		target = d.bar[VIRTIO_BAR_IO].addr;
	} else if (!strcmp(kind, "msix-table") || !strcmp(kind, "msix-pba")) {
		if (!open_dev(0x1b36, 0x0010, "nvme", &d))
			return false;
		if (pci_msix_probe((uint16_t)d.bdf, &mx)) {
			printf("bench: nvme has no MSI-X capability\n");
			return false;
		}
		/* Vector control of entry 0, or the first PBA word. */
		target = kind[5] == 't' ? mx.table + 12 : mx.pba;
	} else {
		printf("bench: unknown kind '%s'\n", kind);
		return false;
	}
	return true;
}

static void print_list(const char *name, const uint64_t *v, unsigned int n)
{
	printf(" %s=", name);
	for (unsigned int i = 0; i < n; i++)
		printf("%s%lu", i ? "," : "", v[i]);
}

static void report(const struct bench *b)
{
	printf("BENCH kind=%s n=%lu reps=%u warmup=%lu", b->kind, b->n, b->reps, b->warmup);
	if (b->kind[0] != 'i')
		printf(" target=0x%lx", target);
	print_list("cycles", b->cycles, b->reps);
	if (!strcmp(b->kind, "irq"))
		print_list("latency", b->latency, b->reps);
	puts("\n");
}

static bool run_kind(const char *kind, uint64_t n, unsigned int reps)
{
	struct bench b = { .kind = kind, .n = n, .reps = reps };
	void (*fn)(uint64_t);

	if (!strcmp(kind, "irq")) {
		if (!setup_edu_irq() || !bench_irq(&b))
			return false;
	} else {
		if (!setup(kind, &fn))
			return false;
		bench_loop(&b, fn);
	}
	report(&b);
	return true;
}

/* SeaBIOS puts q35's ECAM at 0xb0000000; the guest library wants 0xe0000000. */
static void q35_move_ecam(void)
{
	pci_cf8_write32(0, Q35_PCIEXBAR + 4, 0);
	pci_cf8_write32(0, Q35_PCIEXBAR, (uint32_t)PCI_ECAM_BASE | 1);
}

int main(void)
{
	static const char *const plain[] = { "exit", "cf8", "ecam" };
	char kind[32], buf[32];
	uint64_t n = cmdline_get_u64(boot_info.cmdline, "n", 100);
	unsigned int reps = (unsigned int)cmdline_get_u64(boot_info.cmdline, "reps", 3);

	ASSERT(reps >= 1 && reps <= MAX_REPS);
	if (cmdline_get_u64(boot_info.cmdline, "q35_ecam", 0))
		q35_move_ecam();
	if (opt("bench", kind, sizeof(kind))) {
		if (!run_kind(kind, n, reps))
			test_fail("bench %s could not run", kind);
	} else {
		for (unsigned int i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
			ASSERT(run_kind(plain[i], n, reps));
	}
	if (opt("hang", buf, sizeof(buf))) {
		/* The host reads our VMM's memory use now, then kills it. */
		puts("BENCH-READY\n");
		for (;;)
			cpu_halt();
	}
	test_pass("bench-io");
}
