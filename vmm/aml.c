// SPDX-License-Identifier: MIT
/*
 * A small AML (ACPI Machine Language) emitter: just enough to write a DSDT
 * by hand. Each helper produces the bytes iasl would for the ASL named in
 * its comment; ACPI 6.5 chapter 20 (AML) and section 6.4 (resource
 * descriptors) define the encodings.
 */
#include "vmm/aml.h"

#include <string.h>

#define AML_NAME		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_EXT_PREFIX		0x5b
#define AML_DEVICE		0x82	/* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR		'\\'
#define AML_DUAL_NAME		0x2e
#define AML_MULTI_NAME		0x2f

/* Resource descriptor tags (large items have bit 7 set). */
#define AML_RD_WORD_ADDR		0x88
#define AML_RD_DWORD_ADDR		0x87
#define AML_RD_QWORD_ADDR		0x8a
#define AML_RD_MEM32_FIXED		0x86
#define AML_RD_IO			0x47
#define AML_RD_IRQ_NOFLAGS		0x22
/* Producer (bit 0 clear), MinFixed, MaxFixed, positive decode. */
#define AML_RD_GEN_WINDOW		0x0c

void aml_init(struct aml *a, void *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

void aml_le(struct aml *a, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* PkgLength counts its own bytes too, hence the loop over encodings. */
static unsigned int pkg_length(uint8_t *out, size_t content)
{
	if (content + 1 < 0x40) {
		out[0] = (uint8_t)(content + 1);
		return 1;
	}
	for (unsigned int n = 2; n <= 4; n++) {
		size_t total = content + n;

		if (total >= (1ul << (4 + 8 * (n - 1))))
			continue;
		out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (unsigned int i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

/*
 * Closes a package opened at start by inserting its PkgLength in front of
 * the content, followed by an optional extra prefix (a Buffer's size).
 */
static void aml_pkg_insert(struct aml *a, size_t start, const uint8_t *extra, unsigned int nextra)
{
	uint8_t hdr[4 + 9];
	unsigned int n;
	size_t content;

	if (a->overflow)
		return;
	content = a->len - start + nextra;
	n = pkg_length(hdr, content);
	if (!n || n + nextra > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	if (nextra)
		memcpy(hdr + n, extra, nextra);
	memmove(a->buf + start + n + nextra, a->buf + start, a->len - start);
	memcpy(a->buf + start, hdr, n + nextra);
	a->len += n + nextra;
}

void aml_pkg_end(struct aml *a, size_t start)
{
	aml_pkg_insert(a, start, NULL, 0);
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *p = path;
	unsigned int nseg = 1;

	while (*p == AML_ROOT_CHAR || *p == '^')
		aml_byte(a, (uint8_t)*p++);
	for (const char *q = p; *q; q++)
		nseg += *q == '.';
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nseg);
	}
	while (*p) {
		char seg[4] = { '_', '_', '_', '_' };

		for (unsigned int i = 0; *p && *p != '.'; p++)
			if (i < 4)
				seg[i++] = *p;
		aml_bytes(a, seg, 4);
		if (*p == '.')
			p++;
	}
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, (uint8_t)v);	/* ZeroOp / OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

/* EISAID("PNP0A08"): three 5-bit letters and four hex digits in a DWord. */
uint32_t aml_eisa_id(const char *id)
{
	unsigned int c1 = id[0] - '@', c2 = id[1] - '@', c3 = id[2] - '@';
	uint32_t digits = 0;

	for (int i = 3; i < 7; i++) {
		char c = id[i];

		digits = (digits << 4) | (uint32_t)(c <= '9' ? c - '0' : c - 'A' + 10);
	}
	return (uint32_t)((c1 << 2) | (c2 >> 3)) | (uint32_t)(((c2 & 7) << 5) | c3) << 8 |
	       (uint32_t)((digits >> 8) & 0xff) << 16 | (uint32_t)(digits & 0xff) << 24;
}

/* Name (name, ...): the caller emits the object that follows. */
void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
}

void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, aml_eisa_id(id), 4);
}

void aml_name_string_obj(struct aml *a, const char *name, const char *s)
{
	aml_name(a, name);
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

/* Scope/Device: opcode, PkgLength, NameString, then the body. */
size_t aml_scope_begin(struct aml *a, const char *name)
{
	size_t start;

	aml_byte(a, AML_SCOPE);
	start = a->len;
	aml_name_string(a, name);
	return start;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t start;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE);
	start = a->len;
	aml_name_string(a, name);
	return start;
}

size_t aml_package_begin(struct aml *a, uint8_t nelem)
{
	size_t start;

	aml_byte(a, AML_PACKAGE);
	start = a->len;
	aml_byte(a, nelem);
	return start;
}

/* Name(name, ResourceTemplate() { ... }): a Buffer whose size goes first. */
size_t aml_crs_begin(struct aml *a, const char *name)
{
	aml_name(a, name);
	aml_byte(a, AML_BUFFER);
	return a->len;
}

void aml_crs_end(struct aml *a, size_t start)
{
	uint8_t size[5];
	size_t n;

	aml_byte(a, 0x79);	/* EndTag, checksum 0 means "not checked" */
	aml_byte(a, 0x00);
	if (a->overflow)
		return;
	n = a->len - start;
	/* Resource templates here stay far below 64 KiB: a WordConst size. */
	size[0] = AML_WORD_PREFIX;
	size[1] = (uint8_t)n;
	size[2] = (uint8_t)(n >> 8);
	aml_pkg_insert(a, start, size, 3);
}

/* Word/DWord/QWord address space: same fields at 2, 4 or 8 bytes each. */
void aml_rd_addr_space(struct aml *a, unsigned int width, uint8_t space, uint8_t tflags,
		       uint64_t min, uint64_t max)
{
	uint8_t tag = width == 2 ? AML_RD_WORD_ADDR
				 : width == 4 ? AML_RD_DWORD_ADDR : AML_RD_QWORD_ADDR;

	aml_byte(a, tag);
	aml_le(a, 3 + 5 * width, 2);
	aml_byte(a, space);
	aml_byte(a, AML_RD_GEN_WINDOW);
	aml_byte(a, tflags);
	aml_le(a, 0, width);		/* granularity: no alignment constraint */
	aml_le(a, min, width);
	aml_le(a, max, width);
	aml_le(a, 0, width);		/* translation: identity */
	aml_le(a, max - min + 1, width);
}

void aml_rd_io(struct aml *a, uint16_t base, uint8_t len)
{
	aml_byte(a, AML_RD_IO);
	aml_byte(a, 1);			/* 16-bit decode */
	aml_le(a, base, 2);
	aml_le(a, base, 2);
	aml_byte(a, 1);
	aml_byte(a, len);
}

void aml_rd_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	aml_byte(a, AML_RD_MEM32_FIXED);
	aml_le(a, 9, 2);
	aml_byte(a, AML_RD_MEM_RW);
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

void aml_rd_irq(struct aml *a, unsigned int irq)
{
	aml_byte(a, AML_RD_IRQ_NOFLAGS);	/* edge, active high: an ISA line */
	aml_le(a, 1u << irq, 2);
}
