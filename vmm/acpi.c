// SPDX-License-Identifier: MIT
/*
 * ACPI tables for Linux guests. Everything is derived from struct layout so
 * that the e820 map, MCFG and the PCI root bridge's _CRS can never disagree.
 *
 * The DSDT is assembled by hand: a handful of AML emitters below produce
 * exactly the bytes iasl would for the equivalent ASL (shown in comments),
 * without needing iasl at build time.
 */
#include "vmm/acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vmm/aml.h"
#include "util/log.h"

#define ACPI_OEM_ID		"VFIOVM"
#define ACPI_OEM_TABLE_ID	"VFIOVMM "
#define ACPI_CREATOR_ID		"VFIO"

struct acpi_sdt {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_sdt) == 36, "SDT header");

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;	/* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;	/* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");

#define ACPI_GAS_IO	1

struct acpi_fadt {
	struct acpi_sdt h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_revision;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT rev 6");
_Static_assert(__builtin_offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT boot arch");
_Static_assert(__builtin_offsetof(struct acpi_fadt, reset_reg) == 116, "FADT reset reg");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");

#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PROC_C1		(1u << 2)
#define FADT_F_PWR_BUTTON	(1u << 4)	/* no fixed-hardware power button */
#define FADT_F_SLP_BUTTON	(1u << 5)	/* no fixed-hardware sleep button */
#define FADT_F_FIX_RTC		(1u << 6)	/* no RTC wake status */
#define FADT_F_RESET_REG_SUP	(1u << 10)

#define FADT_BOOT_VGA_NOT_PRESENT	(1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT	(1u << 5)

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

struct acpi_madt {
	struct acpi_sdt h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT	1u	/* the in-kernel irqchip has 8259s too */

struct madt_lapic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC");
_Static_assert(sizeof(struct madt_iso) == 10, "MADT ISO");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI");

enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4 };
#define MADT_ISO_HIGH_LEVEL	0x000d	/* polarity 01 active high, trigger 11 level */

struct acpi_mcfg {
	struct acpi_sdt h;
	uint64_t reserved;
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one entry");

/* ---- output buffer: tables are laid out back to back ---- */

struct acpi_out {
	uint8_t *base;
	size_t size;
	size_t pos;
	uint64_t gpa;
};

static void *out_alloc(struct acpi_out *o, size_t len, size_t align, uint64_t *gpa)
{
	size_t start = (o->pos + align - 1) & ~(align - 1);

	if (start > o->size || len > o->size - start)
		return NULL;
	o->pos = start + len;
	*gpa = o->gpa + start;
	memset(o->base + start, 0, len);
	return o->base + start;
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void sdt_init(struct acpi_sdt *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void sdt_finish(struct acpi_sdt *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

/* ---- DSDT body ---- */

unsigned int acpi_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return ACPI_PCI_GSI_BASE + (slot + pin) % ACPI_PCI_GSI_COUNT;
}

/*
 * Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, Zero, gsi }, ... })
 * Source Zero means "a GSI, not a link device"; Linux then programs the
 * IOAPIC pin level triggered, active low, as PCI INTx requires.
 */
static void dsdt_prt(struct aml *a)
{
	size_t prt;

	aml_name(a, "_PRT");
	prt = aml_package_begin(a, 32 * 4);
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			size_t e = aml_package_begin(a, 4);

			aml_integer(a, ((uint64_t)slot << 16) | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, acpi_pci_intx_gsi(slot, pin));
			aml_pkg_end(a, e);
		}
	}
	aml_pkg_end(a, prt);
}

/*
 * The root bridge decodes everything not claimed elsewhere: bus 0-255, all
 * I/O but the CF8-CFF config ports, and the two BAR windows.
 */
static void dsdt_pci0(struct aml *a, const struct layout *l)
{
	size_t dev, crs;

	dev = aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A08");
	aml_name_eisaid(a, "_CID", "PNP0A03");
	aml_name_int(a, "_SEG", 0);
	aml_name_int(a, "_BBN", 0);
	aml_name_int(a, "_UID", 0);

	crs = aml_crs_begin(a, "_CRS");
	aml_rd_addr_space(a, 2, AML_RD_SPACE_BUS, 0, 0, LAYOUT_ECAM_BUSES - 1);
	aml_rd_io(a, 0xcf8, 8);
	aml_rd_addr_space(a, 2, AML_RD_SPACE_IO, AML_RD_IO_ENTIRE_RANGE, 0x0000, 0x0cf7);
	aml_rd_addr_space(a, 2, AML_RD_SPACE_IO, AML_RD_IO_ENTIRE_RANGE, 0x0d00, 0xffff);
	aml_rd_addr_space(a, 4, AML_RD_SPACE_MEM, AML_RD_MEM_RW, LAYOUT_MMIO32_BASE,
		      LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE - 1);
	aml_rd_addr_space(a, 8, AML_RD_SPACE_MEM, AML_RD_MEM_RW_CACHEABLE, l->mmio64_base,
		      l->mmio64_end - 1);
	aml_crs_end(a, crs);

	dsdt_prt(a);
	aml_pkg_end(a, dev);
}

/*
 * Linux only believes MCFG if the ECAM range is also claimed by a
 * motherboard resource device (or reserved in e820; we do both).
 */
static void dsdt_ecam(struct aml *a)
{
	size_t dev, crs;

	dev = aml_device_begin(a, "ECAM");
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_name_int(a, "_UID", 0);
	crs = aml_crs_begin(a, "_CRS");
	aml_rd_mem32_fixed(a, (uint32_t)LAYOUT_ECAM_BASE, (uint32_t)LAYOUT_ECAM_SIZE);
	aml_crs_end(a, crs);
	aml_pkg_end(a, dev);
}

static void dsdt_com1(struct aml *a)
{
	size_t dev, crs;

	dev = aml_device_begin(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_int(a, "_UID", 1);
	crs = aml_crs_begin(a, "_CRS");
	aml_rd_io(a, 0x3f8, 8);
	aml_rd_irq(a, 4);
	aml_crs_end(a, crs);
	aml_pkg_end(a, dev);
}

/* ACPI 6 processor devices; _UID matches the MADT's processor UID. */
static void dsdt_cpus(struct aml *a, unsigned int nr_cpus)
{
	static const char hex[] = "0123456789ABCDEF";

	for (unsigned int i = 0; i < nr_cpus; i++) {
		char name[5] = { 'C', hex[(i >> 8) & 0xf], hex[(i >> 4) & 0xf], hex[i & 0xf], 0 };
		size_t dev = aml_device_begin(a, name);

		aml_name_string_obj(a, "_HID", "ACPI0007");
		aml_name_int(a, "_UID", i);
		aml_pkg_end(a, dev);
	}
}

static void dsdt_body(struct aml *a, const struct layout *l, unsigned int nr_cpus)
{
	size_t sb, s5;

	/* Name (\_S5, Package () { 5, 5, 0, 0 }): SLP_TYPa, SLP_TYPb. */
	aml_name(a, "\\_S5");
	s5 = aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_pkg_end(a, s5);

	sb = aml_scope_begin(a, "\\_SB");
	dsdt_pci0(a, l);
	dsdt_ecam(a);
	dsdt_com1(a);
	dsdt_cpus(a, nr_cpus);
	aml_pkg_end(a, sb);
}

/* ---- tables ---- */

static int build_dsdt(struct acpi_out *o, const struct layout *l, unsigned int nr_cpus,
		      uint64_t *gpa)
{
	struct acpi_sdt *h;
	struct aml a;

	h = out_alloc(o, sizeof(*h), 8, gpa);
	if (!h)
		return -ENOSPC;
	aml_init(&a, o->base + o->pos, o->size - o->pos);
	dsdt_body(&a, l, nr_cpus);
	if (a.overflow)
		return -ENOSPC;
	o->pos += a.len;
	/* Revision 2: 64-bit AML integers, needed for the 64-bit window. */
	sdt_init(h, "DSDT", (uint32_t)(sizeof(*h) + a.len), 2);
	sdt_finish(h);
	return 0;
}

static void gas_io(struct acpi_gas *g, uint16_t port, uint8_t bytes, uint8_t access)
{
	g->space_id = ACPI_GAS_IO;
	g->bit_width = (uint8_t)(bytes * 8);
	g->access_size = access;
	g->address = port;
}

static void fill_fadt(struct acpi_fadt *f, uint64_t facs, uint64_t dsdt)
{
	sdt_init(&f->h, "FACP", sizeof(*f), 6);
	/*
	 * The spec wants X_FIRMWARE_CTRL zero when FIRMWARE_CTRL is used (the
	 * FACS is below 4 GiB); with both set Linux lists the FACS twice.
	 */
	f->firmware_ctrl = (uint32_t)facs;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/* smi_cmd = 0: always in ACPI mode, no SMM handshake. */
	f->pm1a_evt_blk = ACPI_PM1_EVT_PORT;
	f->pm1a_cnt_blk = ACPI_PM1_CNT_PORT;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	gas_io(&f->x_pm1a_evt_blk, ACPI_PM1_EVT_PORT, ACPI_PM1_EVT_LEN, 2);
	gas_io(&f->x_pm1a_cnt_blk, ACPI_PM1_CNT_PORT, ACPI_PM1_CNT_LEN, 2);
	/* No C2/C3: latencies above 100/1000 us tell the OS they do not exist. */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	/*
	 * No 8042 bit, so Linux skips the keyboard controller probe; no VGA
	 * and no CMOS RTC because we emulate neither (Linux then leaves ports
	 * 0x70/0x71 alone and takes the time from kvmclock).
	 */
	f->iapc_boot_arch = FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_CMOS_RTC_NOT_PRESENT;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
		   FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP;
	gas_io(&f->reset_reg, ACPI_RESET_PORT, 1, 1);
	f->reset_value = ACPI_RESET_VALUE;
	memcpy(&f->hypervisor_vendor_id, "VFIOVMM ", 8);
	sdt_finish(&f->h);
}

static int build_facs(struct acpi_out *o, uint64_t *gpa)
{
	/* The spec wants 64-byte alignment; the global lock lives here. */
	struct acpi_facs *f = out_alloc(o, sizeof(*f), 64, gpa);

	if (!f)
		return -ENOSPC;
	memcpy(f->signature, "FACS", 4);
	f->length = sizeof(*f);
	f->version = 2;
	return 0;
}

static int build_madt(struct acpi_out *o, unsigned int nr_cpus, uint64_t *gpa)
{
	size_t len = sizeof(struct acpi_madt) + nr_cpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_iso) +
		     sizeof(struct madt_lapic_nmi);
	struct acpi_madt *m = out_alloc(o, len, 8, gpa);
	struct madt_lapic *lapic;
	struct madt_ioapic *io;
	struct madt_iso *iso;
	struct madt_lapic_nmi *nmi;

	if (!m)
		return -ENOSPC;
	sdt_init(&m->h, "APIC", (uint32_t)len, 5);
	m->lapic_address = (uint32_t)LAYOUT_LAPIC_BASE;
	m->flags = MADT_PCAT_COMPAT;

	lapic = (struct madt_lapic *)(m + 1);
	for (unsigned int i = 0; i < nr_cpus; i++)
		lapic[i] = (struct madt_lapic){ MADT_LAPIC, sizeof(*lapic), (uint8_t)i,
						(uint8_t)i, 1 };

	io = (struct madt_ioapic *)(lapic + nr_cpus);
	*io = (struct madt_ioapic){ MADT_IOAPIC, sizeof(*io), ACPI_IOAPIC_ID, 0,
				    (uint32_t)LAYOUT_IOAPIC_BASE, 0 };

	/* The PIT is wired to IOAPIC pin 2 on every PC since the 8259 days. */
	iso = (struct madt_iso *)(io + 1);
	iso[0] = (struct madt_iso){ MADT_ISO, sizeof(*iso), 0, 0, 2, 0 };
	iso[1] = (struct madt_iso){ MADT_ISO, sizeof(*iso), 0, ACPI_SCI_IRQ, ACPI_SCI_IRQ,
				    MADT_ISO_HIGH_LEVEL };

	/* NMI on LINT1 of every processor (uid 0xff = all). */
	nmi = (struct madt_lapic_nmi *)(iso + 2);
	*nmi = (struct madt_lapic_nmi){ MADT_LAPIC_NMI, sizeof(*nmi), 0xff, 0, 1 };

	sdt_finish(&m->h);
	return 0;
}

static int build_mcfg(struct acpi_out *o, uint64_t *gpa)
{
	struct acpi_mcfg *m = out_alloc(o, sizeof(*m), 8, gpa);

	if (!m)
		return -ENOSPC;
	sdt_init(&m->h, "MCFG", sizeof(*m), 1);
	m->base = LAYOUT_ECAM_BASE;
	m->segment = 0;
	m->start_bus = 0;
	m->end_bus = LAYOUT_ECAM_BUSES - 1;
	sdt_finish(&m->h);
	return 0;
}

static void fill_rsdp(struct acpi_rsdp *r, uint64_t xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = checksum(r, 20);
	r->ext_checksum = checksum(r, sizeof(*r));
}

int acpi_build(const struct layout *l, unsigned int nr_cpus, void *buf, size_t size,
	       uint64_t buf_gpa, uint64_t *rsdp_gpa)
{
	struct acpi_out o = { .base = buf, .size = size, .gpa = buf_gpa };
	uint64_t rsdp, xsdt, fadt, facs, madt, mcfg, dsdt;
	struct acpi_rsdp *r;
	struct acpi_sdt *x;
	struct acpi_fadt *f;
	uint8_t *entries;
	int ret;

	if (!nr_cpus || nr_cpus > ACPI_MAX_CPUS) {
		log_err("acpi: %u CPUs requested, the MADT describes 1 to %u", nr_cpus,
			ACPI_MAX_CPUS);
		return -EINVAL;
	}
	if (l->mmio64_base >= l->mmio64_end) {
		log_err("acpi: empty 64-bit window [%#llx, %#llx)",
			(unsigned long long)l->mmio64_base, (unsigned long long)l->mmio64_end);
		return -EINVAL;
	}
	/* RSDP first: 16-byte aligned at the start of the BIOS area scan. */
	r = out_alloc(&o, sizeof(*r), 16, &rsdp);
	x = out_alloc(&o, sizeof(*x) + 3 * sizeof(uint64_t), 8, &xsdt);
	f = out_alloc(&o, sizeof(*f), 8, &fadt);
	if (!r || !x || !f)
		goto out_nospc;
	ret = build_facs(&o, &facs);
	if (!ret)
		ret = build_madt(&o, nr_cpus, &madt);
	if (!ret)
		ret = build_mcfg(&o, &mcfg);
	if (!ret)
		ret = build_dsdt(&o, l, nr_cpus, &dsdt);
	if (ret)
		goto out_nospc;

	fill_fadt(f, facs, dsdt);
	sdt_init(x, "XSDT", sizeof(*x) + 3 * sizeof(uint64_t), 1);
	entries = (uint8_t *)(x + 1);	/* 64-bit pointers at offset 36: unaligned */
	memcpy(entries, &fadt, 8);
	memcpy(entries + 8, &madt, 8);
	memcpy(entries + 16, &mcfg, 8);
	sdt_finish(x);
	fill_rsdp(r, xsdt);

	trace(LOG_BOOT, "acpi: RSDP %#llx XSDT %#llx FADT %#llx MADT %#llx (%u CPUs) MCFG %#llx "
		      "DSDT %#llx, %zu bytes", (unsigned long long)rsdp, (unsigned long long)xsdt,
	      (unsigned long long)fadt, (unsigned long long)madt, nr_cpus,
	      (unsigned long long)mcfg, (unsigned long long)dsdt, o.pos);
	*rsdp_gpa = rsdp;
	return (int)o.pos;

out_nospc:
	log_err("acpi: tables for %u CPUs do not fit in %zu bytes", nr_cpus, size);
	return -ENOSPC;
}
