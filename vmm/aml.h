/* SPDX-License-Identifier: MIT */
#ifndef VMM_AML_H
#define VMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes AML into a fixed buffer. Overflow is sticky and checked once at the
 * end (a.overflow), so the emitters stay free of error plumbing.
 *
 * Nesting objects (Scope, Device, Package, Buffer) carry a PkgLength that
 * counts their whole body. The *_begin() helpers return a mark; *_end()
 * measures the body written since and inserts the PkgLength in front of it.
 */
struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void aml_init(struct aml *a, void *buf, size_t cap);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t v);
/* v as n little-endian bytes: every multi-byte AML field is little-endian. */
void aml_le(struct aml *a, uint64_t v, unsigned int n);

/* Zero/One or the shortest of Byte/Word/DWord/QWordConst. */
void aml_integer(struct aml *a, uint64_t v);
/* "\\_SB.PCI0", "_HID", "^FOO": segments shorter than 4 are '_'-padded. */
void aml_name_string(struct aml *a, const char *path);
/* EISAID("PNP0A08"): three 5-bit letters and four hex digits in a DWord. */
uint32_t aml_eisa_id(const char *id);

/* Name (name, <object>): aml_name() emits the head, the caller the object. */
void aml_name(struct aml *a, const char *name);
void aml_name_int(struct aml *a, const char *name, uint64_t v);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);
void aml_name_string_obj(struct aml *a, const char *name, const char *s);

size_t aml_scope_begin(struct aml *a, const char *name);
size_t aml_device_begin(struct aml *a, const char *name);
size_t aml_package_begin(struct aml *a, uint8_t nelem);
void aml_pkg_end(struct aml *a, size_t mark);

/* Name (name, ResourceTemplate () { aml_rd_*() ... }) */
size_t aml_crs_begin(struct aml *a, const char *name);
void aml_crs_end(struct aml *a, size_t mark);

/* Resource descriptors, for use between aml_crs_begin() and _end(). */
#define AML_RD_SPACE_MEM	0
#define AML_RD_SPACE_IO		1
#define AML_RD_SPACE_BUS	2
#define AML_RD_MEM_RW		0x01
#define AML_RD_MEM_RW_CACHEABLE	0x03
#define AML_RD_IO_ENTIRE_RANGE	0x03

/*
 * Word (width 2), DWord (4) or QWord (8) address space: a bridge window
 * [min, max] the device produces, fixed, with no translation.
 */
void aml_rd_addr_space(struct aml *a, unsigned int width, uint8_t space, uint8_t tflags,
		       uint64_t min, uint64_t max);
void aml_rd_io(struct aml *a, uint16_t base, uint8_t len);
void aml_rd_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);
/* IRQNoFlags () { irq }: edge triggered, active high, as ISA lines are. */
void aml_rd_irq(struct aml *a, unsigned int irq);

#endif
