// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/aml.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define GUARD 256

/* The tables as the guest sees them: buf is mapped at LAYOUT_ACPI_GPA. */
struct tables {
	uint8_t buf[LAYOUT_ACPI_SIZE + GUARD];
	struct layout l;
	uint64_t rsdp;
	int used;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static struct tables *build(uint64_t ram, unsigned int phys_bits, unsigned int cpus)
{
	struct tables *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	cr_assert_eq(layout_init(&t->l, ram, phys_bits), 0);
	t->used = acpi_build(&t->l, cpus, t->buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_GPA, &t->rsdp);
	cr_assert_gt(t->used, 0, "acpi_build failed: %d", t->used);
	cr_assert_leq(t->used, (int)LAYOUT_ACPI_SIZE);
	return t;
}

/* Guest physical address -> pointer into the buffer, or fail the test. */
static const uint8_t *at(const struct tables *t, uint64_t gpa, uint64_t len)
{
	cr_assert_geq(gpa, LAYOUT_ACPI_GPA, "pointer %#llx below the ACPI area",
		      (unsigned long long)gpa);
	cr_assert_leq(gpa + len, LAYOUT_ACPI_GPA + (uint64_t)t->used,
		      "pointer %#llx+%llu beyond the tables", (unsigned long long)gpa,
		      (unsigned long long)len);
	return t->buf + (gpa - LAYOUT_ACPI_GPA);
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Follows RSDP -> XSDT -> sig (and FADT -> DSDT for "DSDT"). */
static const uint8_t *find(const struct tables *t, const char *sig)
{
	const uint8_t *rsdp = at(t, t->rsdp, 36);
	const uint8_t *xsdt = at(t, rd64(rsdp + 24), 36);
	uint32_t n = (rd32(xsdt + 4) - 36) / 8;

	if (!strcmp(sig, "DSDT")) {
		const uint8_t *fadt = find(t, "FACP");

		return at(t, rd64(fadt + 140), 36);
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *h = at(t, rd64(xsdt + 36 + 8 * i), 36);

		if (!memcmp(h, sig, 4))
			return at(t, rd64(xsdt + 36 + 8 * i), rd32(h + 4));
	}
	return NULL;
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return true;
	return false;
}

Test(acpi, rsdp_points_at_xsdt)
{
	struct tables *t = build(256 * MiB, 40, 1);
	const uint8_t *r = at(t, t->rsdp, 36);

	/* At the start of the area, 16-byte aligned, for the legacy BIOS scan. */
	cr_assert_eq(t->rsdp, LAYOUT_ACPI_GPA);
	cr_assert_eq(memcmp(r, "RSD PTR ", 8), 0);
	cr_assert_eq(r[15], 2, "RSDP revision %u", r[15]);
	cr_assert_eq(rd32(r + 20), 36);
	cr_assert_eq(sum(r, 20), 0, "ACPI 1.0 checksum");
	cr_assert_eq(sum(r, 36), 0, "extended checksum");
	cr_assert_eq(memcmp(at(t, rd64(r + 24), 36), "XSDT", 4), 0);
	free(t);
}

Test(acpi, every_table_checksums_to_zero)
{
	static const char *const sigs[] = { "FACP", "APIC", "MCFG", "DSDT" };

	for (unsigned int cpus = 1; cpus <= 8; cpus += 3) {
		struct tables *t = build(1 * GiB, 40, cpus);
		const uint8_t *x = at(t, rd64(at(t, t->rsdp, 36) + 24), 36);
		cr_assert_eq(sum(x, rd32(x + 4)), 0, "XSDT checksum");
		for (unsigned int i = 0; i < 4; i++) {
			const uint8_t *h = find(t, sigs[i]);

			cr_assert_not_null(h, "%s missing from XSDT", sigs[i]);
			cr_assert_eq(sum(h, rd32(h + 4)), 0, "%s checksum with %u CPUs", sigs[i],
				     cpus);
		}
		free(t);
	}
}

Test(acpi, fadt_fixed_hardware)
{
	struct tables *t = build(512 * MiB, 40, 2);
	const uint8_t *f = find(t, "FACP");
	const uint8_t *facs;

	cr_assert_eq(rd32(f + 4), 276, "FADT revision 6 length");
	cr_assert_eq(f[8], 6);
	cr_assert_eq(f[46], ACPI_SCI_IRQ, "SCI_INT");
	cr_assert_eq(rd32(f + 56), 0x600, "PM1a_EVT_BLK");
	cr_assert_eq(rd32(f + 64), 0x604, "PM1a_CNT_BLK");
	cr_assert_eq(f[88], 4);
	cr_assert_eq(f[89], 2);
	cr_assert_eq(rd32(f + 112) & (1u << 20), 0, "must not be hardware-reduced");
	cr_assert_neq(rd32(f + 112) & (1u << 10), 0, "RESET_REG_SUP");
	/* Reset register: SystemIO, 8 bits at 0xcf9, value 6. */
	cr_assert_eq(f[116], 1);
	cr_assert_eq(f[117], 8);
	cr_assert_eq(rd64(f + 120), 0xcf9);
	cr_assert_eq(f[128], 0x06);
	/* 32- and 64-bit DSDT pointers agree. */
	cr_assert_eq(rd32(f + 40), rd64(f + 140));
	cr_assert_eq(rd64(f + 148 + 4), 0x600, "X_PM1a_EVT_BLK");
	cr_assert_eq(rd64(f + 172 + 4), 0x604, "X_PM1a_CNT_BLK");
	/* FACS: present, 64-byte aligned, and only the 32-bit pointer is set. */
	cr_assert_eq(rd64(f + 132), 0, "X_FIRMWARE_CTRL must be 0 when FIRMWARE_CTRL is used");
	cr_assert_eq(rd32(f + 36) % 64, 0);
	facs = at(t, rd32(f + 36), 64);
	cr_assert_eq(memcmp(facs, "FACS", 4), 0);
	cr_assert_eq(rd32(facs + 4), 64);
	free(t);
}

static void check_madt(unsigned int cpus)
{
	struct tables *t = build(1 * GiB, 40, cpus);
	const uint8_t *m = find(t, "APIC");
	uint32_t len = rd32(m + 4);
	unsigned int lapics = 0, ioapics = 0;
	bool irq0 = false, sci = false;

	cr_assert_eq(rd32(m + 36), LAYOUT_LAPIC_BASE);
	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;

		cr_assert_geq(e[1], 2, "zero-length MADT entry at %u", off);
		if (e[0] == 0) {
			/* Processor UIDs and APIC ids are 0..n-1, in order. */
			cr_assert_eq(e[2], lapics);
			cr_assert_eq(e[3], lapics);
			cr_assert_eq(rd32(e + 4) & 1, 1, "CPU %u not enabled", lapics);
			lapics++;
		} else if (e[0] == 1) {
			cr_assert_eq(e[2], ACPI_IOAPIC_ID);
			cr_assert_eq(rd32(e + 4), LAYOUT_IOAPIC_BASE);
			cr_assert_eq(rd32(e + 8), 0, "GSI base");
			ioapics++;
		} else if (e[0] == 2 && e[3] == 0) {
			cr_assert_eq(rd32(e + 4), 2, "IRQ0 -> GSI 2");
			irq0 = true;
		} else if (e[0] == 2 && e[3] == ACPI_SCI_IRQ) {
			cr_assert_eq(rd32(e + 4), ACPI_SCI_IRQ);
			/* Level triggered (3 << 2), active high (1). */
			cr_assert_eq(e[8] | e[9] << 8, 0x000d);
			sci = true;
		}
	}
	cr_assert_eq(lapics, cpus);
	cr_assert_eq(ioapics, 1);
	cr_assert(irq0 && sci, "interrupt source overrides missing");
	free(t);
}

Test(acpi, madt_one_cpu)
{
	check_madt(1);
}

Test(acpi, madt_four_cpus)
{
	check_madt(4);
}

Test(acpi, madt_max_cpus_and_limits, .init = cr_redirect_stderr)
{
	struct layout l;
	uint8_t *buf = malloc(LAYOUT_ACPI_SIZE);
	uint64_t rsdp;

	cr_assert_not_null(buf);
	check_madt(ACPI_MAX_CPUS);
	cr_assert_eq(layout_init(&l, 64 * MiB, 40), 0);
	cr_assert_eq(acpi_build(&l, 0, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_GPA, &rsdp), -EINVAL);
	cr_assert_eq(acpi_build(&l, ACPI_MAX_CPUS + 1, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_GPA,
				&rsdp), -EINVAL);
	free(buf);
}

Test(acpi, mcfg_covers_ecam)
{
	struct tables *t = build(1 * GiB, 40, 1);
	const uint8_t *m = find(t, "MCFG");

	cr_assert_eq(rd32(m + 4), 60, "one allocation entry");
	cr_assert_eq(rd64(m + 44), LAYOUT_ECAM_BASE);
	cr_assert_eq(m[52] | m[53] << 8, 0, "segment");
	cr_assert_eq(m[54], 0);
	cr_assert_eq(m[55], LAYOUT_ECAM_BUSES - 1);
	free(t);
}

Test(acpi, dsdt_holds_both_windows)
{
	/* 6 GiB: RAM above 4 GiB moves the 64-bit window to 7 GiB. */
	struct tables *t = build(6 * GiB, 46, 2);
	const uint8_t *d = find(t, "DSDT");
	uint32_t len = rd32(d + 4);
	uint64_t base = t->l.mmio64_base, max = t->l.mmio64_end - 1;
	uint64_t size = t->l.mmio64_end - t->l.mmio64_base;
	uint32_t m32[2] = { (uint32_t)LAYOUT_MMIO32_BASE,
			    (uint32_t)(LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE - 1) };
	uint8_t q[24];
	uint32_t ecam[2] = { (uint32_t)LAYOUT_ECAM_BASE, (uint32_t)LAYOUT_ECAM_SIZE };

	cr_assert_eq(base, 7 * GiB);
	cr_assert_eq(d[8], 2, "DSDT revision 2 for 64-bit integers");
	/* QWordMemory: _MIN, _MAX, then _TRA (0) and _LEN. */
	memcpy(q, &base, 8);
	memcpy(q + 8, &max, 8);
	memset(q + 16, 0, 8);
	cr_assert(contains(d, len, q, 24), "64-bit window min/max not in DSDT");
	cr_assert(contains(d, len, &size, 8), "64-bit window length not in DSDT");
	cr_assert(contains(d, len, m32, 8), "32-bit window not in DSDT");
	cr_assert(contains(d, len, ecam, 8), "ECAM motherboard resource not in DSDT");
	cr_assert(contains(d, len, "PCI0", 4));
	cr_assert(contains(d, len, "_S5_", 4));
	free(t);
}

Test(acpi, too_small_buffer_is_enospc, .init = cr_redirect_stderr)
{
	struct tables *t = build(1 * GiB, 40, 4);
	int need = t->used;
	uint8_t *buf = malloc((size_t)need + GUARD);
	uint64_t rsdp;

	cr_assert_not_null(buf);
	/* Every size short of the need fails, and nothing is written past it. */
	for (int size = 0; size < need; size += (size < 64 ? 1 : 37)) {
		memset(buf, 0xa5, (size_t)need + GUARD);
		cr_assert_eq(acpi_build(&t->l, 4, buf, (size_t)size, LAYOUT_ACPI_GPA, &rsdp),
			     -ENOSPC, "size %d of %d", size, need);
		for (int i = size; i < need + GUARD; i++)
			cr_assert_eq(buf[i], 0xa5, "byte %d written with size %d", i, size);
	}
	cr_assert_eq(acpi_build(&t->l, 4, buf, (size_t)need - 1, LAYOUT_ACPI_GPA, &rsdp),
		     -ENOSPC);
	cr_assert_eq(acpi_build(&t->l, 4, buf, (size_t)need, LAYOUT_ACPI_GPA, &rsdp), need);
	free(buf);
	free(t);
}

Test(acpi, intx_swizzle)
{
	unsigned int seen = 0;

	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			unsigned int gsi = acpi_pci_intx_gsi(slot, pin);

			cr_assert(gsi >= 16 && gsi < ACPI_IOAPIC_PINS, "slot %u pin %u: %u", slot,
				  pin, gsi);
			seen |= 1u << (gsi - 16);
			/* A multi-function device's pins never share a line. */
			for (unsigned int p2 = 0; p2 < pin; p2++)
				cr_assert_neq(acpi_pci_intx_gsi(slot, p2), gsi);
		}
		/* Neighbouring slots' INTA go to different lines. */
		if (slot)
			cr_assert_neq(acpi_pci_intx_gsi(slot, 0), acpi_pci_intx_gsi(slot - 1, 0));
	}
	cr_assert_eq(seen, 0xff, "all of GSI 16..23 used");
}

/* ---- the AML emitter on its own ---- */

static size_t decode_pkg_length(const uint8_t *p, unsigned int *nbytes)
{
	unsigned int follow = p[0] >> 6;
	size_t v;

	*nbytes = follow + 1;
	if (!follow)
		return p[0] & 0x3f;
	v = p[0] & 0x0f;
	for (unsigned int i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

Test(aml, integer_encodings)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[9];
		size_t len;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 0x02 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 1ULL << 32, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
	};
	uint8_t buf[16];
	struct aml a;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_integer(&a, cases[i].v);
		cr_assert_eq(a.len, cases[i].len, "%#llx", (unsigned long long)cases[i].v);
		cr_assert_eq(memcmp(buf, cases[i].bytes, a.len), 0, "%#llx",
			     (unsigned long long)cases[i].v);
	}
}

Test(aml, name_strings_and_eisaid)
{
	uint8_t buf[32];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\_SB.PCI0");
	cr_assert_eq(a.len, 10);
	cr_assert_eq(memcmp(buf, "\\\x2e_SB_PCI0", 10), 0);

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "A.BC.D");
	cr_assert_eq(a.len, 14);
	cr_assert_eq(memcmp(buf, "\x2f\x03" "A___BC__D___", 14), 0);

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "^X");
	cr_assert_eq(memcmp(buf, "^X___", 5), 0);

	/* Values from the ACPI spec's EISAID examples and from iasl output. */
	cr_assert_eq(aml_eisa_id("PNP0A03"), 0x030ad041);
	cr_assert_eq(aml_eisa_id("PNP0A08"), 0x080ad041);
	cr_assert_eq(aml_eisa_id("PNP0C02"), 0x020cd041);
}

/* A Scope whose body is n bytes: the PkgLength grows 1 -> 2 -> 3 bytes. */
Test(aml, pkg_length_boundaries)
{
	static const size_t bodies[] = { 0, 57, 58, 59, 60, 4000, 4089, 4090, 70000 };
	uint8_t *buf = malloc(80000), *filler = calloc(1, 70000);
	struct aml a;

	cr_assert(buf && filler);
	for (unsigned int i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		unsigned int n;
		size_t mark, content = 4 + bodies[i];	/* NameSeg + body */

		aml_init(&a, buf, 80000);
		mark = aml_scope_begin(&a, "ABCD");
		aml_bytes(&a, filler, bodies[i]);
		aml_pkg_end(&a, mark);
		cr_assert_not(a.overflow);
		cr_assert_eq(buf[0], 0x10, "ScopeOp");
		/* PkgLength counts itself and everything after it. */
		cr_assert_eq(decode_pkg_length(buf + 1, &n), content + n, "body %zu",
			     bodies[i]);
		cr_assert_eq(n, content + 1 < 64 ? 1 : content + 2 < 4096 ? 2 : 3,
			     "body %zu", bodies[i]);
		cr_assert_eq(a.len, 1 + n + content);
		cr_assert_eq(memcmp(buf + 1 + n, "ABCD", 4), 0);
	}
	free(filler);
	free(buf);
}

Test(aml, overflow_is_sticky_and_bounded)
{
	uint8_t buf[40];
	struct aml a;
	size_t mark;

	memset(buf, 0xee, sizeof(buf));
	aml_init(&a, buf, 32);
	mark = aml_device_begin(&a, "DEV0");
	for (int i = 0; i < 10; i++)
		aml_name_int(&a, "_UID", 0x12345678);
	aml_pkg_end(&a, mark);
	cr_assert(a.overflow);
	cr_assert_leq(a.len, 32);
	for (int i = 32; i < 40; i++)
		cr_assert_eq(buf[i], 0xee, "wrote past the capacity at %d", i);
}

/* ---- iasl cross-check: an independent decoder for everything we emit ---- */

static bool have_iasl(void)
{
	return system("iasl -v >/dev/null 2>&1") == 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void dump(const char *dir, const char *name, const uint8_t *h)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(h, 1, rd32(h + 4), f), rd32(h + 4));
	fclose(f);
}

static int run(const char *dir, const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "cd %s && %s >>iasl.log 2>&1", dir, cmd);
	return system(line);
}

Test(acpi, iasl_disassembles_and_recompiles)
{
	static const char *const sigs[] = { "FACP", "APIC", "MCFG", "DSDT" };
	char dir[] = "/tmp/test_acpi.XXXXXX", path[256], needle[128];
	struct tables *t;
	char *dsl;

	if (!have_iasl())
		cr_skip_test("iasl not found: apt-get install acpica-tools to run this check");
	cr_assert_not_null(mkdtemp(dir));
	t = build(6 * GiB, 46, 3);
	for (unsigned int i = 0; i < 4; i++) {
		dump(dir, sigs[i], find(t, sigs[i]));
		snprintf(path, sizeof(path), "iasl -d %s.dat", sigs[i]);
		cr_assert_eq(run(dir, path), 0, "iasl -d %s failed, see %s/iasl.log", sigs[i], dir);
	}
	/* The disassembly must be valid ASL that compiles without errors. */
	cr_assert_eq(run(dir, "iasl -p re DSDT.dsl"), 0, "DSDT.dsl does not recompile (%s)", dir);

	snprintf(path, sizeof(path), "%s/DSDT.dsl", dir);
	dsl = slurp(path);
	cr_assert(strstr(dsl, "EisaId (\"PNP0A08\")"));
	cr_assert(strstr(dsl, "EisaId (\"PNP0C02\")"));
	cr_assert(strstr(dsl, "EisaId (\"PNP0501\")"));
	cr_assert(strstr(dsl, "Device (C002)"));
	cr_assert_null(strstr(dsl, "Device (C003)"));
	snprintf(needle, sizeof(needle), "0x%016llX, // Range Minimum",
		 (unsigned long long)t->l.mmio64_base);
	cr_assert(strstr(dsl, needle), "no QWordMemory from %#llx",
		  (unsigned long long)t->l.mmio64_base);
	snprintf(needle, sizeof(needle), "0x%016llX, // Range Maximum",
		 (unsigned long long)t->l.mmio64_end - 1);
	cr_assert(strstr(dsl, needle));
	cr_assert(strstr(dsl, "Name (\\_S5, Package (0x04)"));

	/* Every _PRT entry, as iasl decodes it, agrees with acpi_pci_intx_gsi(). */
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			static const char *const pins[] = { "Zero", "One", "0x02", "0x03" };

			/* Slot 0's address 0xFFFF prints without leading zeros. */
			if (slot)
				snprintf(needle, sizeof(needle), "0x%04XFFFF, ", slot);
			else
				snprintf(needle, sizeof(needle), "0xFFFF, ");
			snprintf(needle + strlen(needle), sizeof(needle) - strlen(needle),
				 "\n%*s%s, \n%*sZero, \n%*s0x%02X\n", 20, "", pins[pin], 20, "",
				 20, "", acpi_pci_intx_gsi(slot, pin));
			cr_assert(strstr(dsl, needle), "_PRT entry slot %u pin %u missing", slot,
				  pin);
		}
	}
	free(dsl);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
	free(t);
}
