// SPDX-License-Identifier: MIT
/*
 * Linux bzImage loader for the 64-bit boot protocol. Only the fields we read
 * or write are named; everything else is padding at the offsets the boot
 * protocol fixes (checked with _Static_assert against the documented table).
 */
#include "vmm/bzimage.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"

#define SETUP_HDR_OFFSET	0x1f1
#define BOOT_FLAG_MAGIC		0xaa55
#define HDRS_MAGIC		0x53726448	/* "HdrS" */

/* loadflags */
#define LOADED_HIGH		(1u << 0)	/* protected-mode code at 1 MiB: a bzImage */
#define CAN_USE_HEAP		(1u << 7)
/* xloadflags */
#define XLF_KERNEL_64		(1u << 0)	/* has the 64-bit entry at +0x200 */

#define TYPE_OF_LOADER_UNDEF	0xff	/* no registered boot loader id */
/*
 * End of the setup heap relative to the real-mode code, minus 0x200. We never
 * run the real-mode code, but the protocol wants a sane value with
 * CAN_USE_HEAP; this is the conventional one for a 64 KiB setup segment.
 */
#define HEAP_END_PTR		0xfe00
#define E820_MAX_ZEROPAGE	128

struct setup_header {
	uint8_t setup_sects;		/* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;		/* 0x1f4, in 16-byte paragraphs */
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;		/* 0x1fe */
	uint16_t jump;			/* 0x200 */
	uint32_t header;		/* 0x202 */
	uint16_t version;		/* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;		/* 0x210 */
	uint8_t loadflags;		/* 0x211 */
	uint16_t setup_move_size;
	uint32_t code32_start;		/* 0x214 */
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;		/* 0x21c */
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;		/* 0x224 */
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* 0x22c */
	uint32_t kernel_alignment;	/* 0x230 */
	uint8_t relocatable_kernel;	/* 0x234 */
	uint8_t min_alignment;
	uint16_t xloadflags;		/* 0x236 */
	uint32_t cmdline_size;		/* 0x238 */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;		/* 0x250 */
	uint64_t pref_address;		/* 0x258 */
	uint32_t init_size;		/* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset;	/* 0x268, protocol 2.15 */
} __attribute__((packed));

#define HDR_OFF(f) (SETUP_HDR_OFFSET + __builtin_offsetof(struct setup_header, f))
_Static_assert(HDR_OFF(boot_flag) == 0x1fe, "boot_flag");
_Static_assert(HDR_OFF(header) == 0x202, "header");
_Static_assert(HDR_OFF(type_of_loader) == 0x210, "type_of_loader");
_Static_assert(HDR_OFF(heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(HDR_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(HDR_OFF(xloadflags) == 0x236, "xloadflags");
_Static_assert(HDR_OFF(pref_address) == 0x258, "pref_address");
_Static_assert(HDR_OFF(init_size) == 0x260, "init_size");
_Static_assert(SETUP_HDR_OFFSET + sizeof(struct setup_header) == 0x26c, "header end");

struct boot_params {
	uint8_t screen_info[0x40];
	uint8_t apm_bios_info[0x14];
	uint8_t pad0[4];
	uint64_t tboot_addr;
	uint8_t ist_info[0x10];
	uint64_t acpi_rsdp_addr;	/* 0x070 */
	uint8_t pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image;	/* 0x0c0: high 32 bits */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad2[0x1e8 - 0x0cc];
	uint8_t e820_entries;		/* 0x1e8 */
	uint8_t pad3[0x1ef - 0x1e9];
	uint8_t sentinel;		/* 0x1ef: must stay 0 */
	uint8_t pad4;
	struct setup_header hdr;	/* 0x1f1 */
	uint8_t pad5[0x2d0 - 0x26c];
	struct e820_entry e820_table[E820_MAX_ZEROPAGE];	/* 0x2d0 */
	uint8_t pad6[0x1000 - 0xcd0];
} __attribute__((packed));

_Static_assert(__builtin_offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "rsdp");
_Static_assert(__builtin_offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext");
_Static_assert(__builtin_offsetof(struct boot_params, e820_entries) == 0x1e8, "e820 count");
_Static_assert(__builtin_offsetof(struct boot_params, sentinel) == 0x1ef, "sentinel");
_Static_assert(__builtin_offsetof(struct boot_params, hdr) == SETUP_HDR_OFFSET, "hdr");
_Static_assert(__builtin_offsetof(struct boot_params, e820_table) == 0x2d0, "e820");
_Static_assert(sizeof(struct e820_entry) == 20, "boot_e820_entry");
_Static_assert(sizeof(struct boot_params) == 4096, "zero page");

/* Newer protocols may extend the header; anything past this is not ours. */
#define HDR_COPY_MAX	(0x290 - SETUP_HDR_OFFSET)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a ? (v + a - 1) / a * a : v;
}

bool bzimage_probe(const void *buf, size_t len)
{
	const uint8_t *k = buf;
	uint16_t flag;
	uint32_t magic;

	if (len < HDR_OFF(header) + 4)
		return false;
	memcpy(&flag, k + HDR_OFF(boot_flag), 2);
	memcpy(&magic, k + HDR_OFF(header), 4);
	return flag == BOOT_FLAG_MAGIC && magic == HDRS_MAGIC;
}

/* The header as the file has it, zero-filled past its declared end. */
static size_t read_header(const uint8_t *k, size_t len, struct setup_header *h)
{
	size_t end = 0x202 + k[0x201];	/* the jump at 0x200 skips the header */
	size_t n = end - SETUP_HDR_OFFSET;

	memset(h, 0, sizeof(*h));
	if (end > len)
		return 0;
	memcpy(h, k + SETUP_HDR_OFFSET, n < sizeof(*h) ? n : sizeof(*h));
	return end;
}

int bzimage_parse(const void *kernel, size_t kernel_len, struct bzimage_info *info)
{
	const uint8_t *k = kernel;
	struct setup_header h;
	unsigned int sects;

	if (!bzimage_probe(kernel, kernel_len)) {
		log_err("kernel: not a bzImage (no 0xAA55 boot flag and \"HdrS\" at 0x202)");
		return -ENOEXEC;
	}
	info->header_end = read_header(k, kernel_len, &h);
	if (!info->header_end) {
		log_err("bzImage: setup header runs past the end of the %zu-byte file",
			kernel_len);
		return -ENOEXEC;
	}
	if (h.version < BZIMAGE_MIN_VERSION || info->header_end < HDR_OFF(kernel_info_offset)) {
		log_err("bzImage: boot protocol %u.%02u is too old, the 64-bit entry needs 2.12 "
			"(Linux 3.8 or later)", h.version >> 8, h.version & 0xff);
		return -ENOEXEC;
	}
	if (!(h.loadflags & LOADED_HIGH)) {
		log_err("bzImage: LOADED_HIGH is clear (an old zImage), not supported");
		return -ENOEXEC;
	}
	if (!(h.xloadflags & XLF_KERNEL_64)) {
		log_err("bzImage: no 64-bit entry point (XLF_KERNEL_64 clear: a 32-bit kernel?)");
		return -ENOEXEC;
	}
	/* setup_sects 0 means 4, for kernels older than the field itself. */
	sects = h.setup_sects ? h.setup_sects : 4;
	info->setup_size = (size_t)(sects + 1) * 512;
	/* syssize is rounded up to paragraphs; the file need not be padded. */
	if (info->setup_size >= kernel_len ||
	    (uint64_t)h.syssize * 16 > align_up(kernel_len - info->setup_size, 16)) {
		log_err("bzImage: truncated, %zu bytes but the header wants %zu + %llu",
			kernel_len, info->setup_size, (unsigned long long)h.syssize * 16);
		return -ENOEXEC;
	}
	/* Else the vCPU would start past the copied kernel, in whatever RAM holds. */
	if (kernel_len - info->setup_size <= BZIMAGE_ENTRY64_OFFSET) {
		log_err("bzImage: the %zu-byte protected-mode part ends before its 64-bit entry "
			"at +%#x", kernel_len - info->setup_size, BZIMAGE_ENTRY64_OFFSET);
		return -ENOEXEC;
	}
	info->version = h.version;
	info->loadflags = h.loadflags;
	info->xloadflags = h.xloadflags;
	info->relocatable = h.relocatable_kernel != 0;
	info->kernel_size = kernel_len - info->setup_size;
	info->kernel_alignment = h.kernel_alignment;
	info->initrd_addr_max = h.initrd_addr_max;
	info->cmdline_size = h.cmdline_size;
	info->pref_address = h.pref_address;
	info->init_size = h.init_size;
	return 0;
}

/*
 * Where the kernel goes and the first byte it may leave alone. The
 * decompressor runs at max(load rounded up to kernel_alignment, pref_address)
 * (at pref_address if not relocatable) and needs init_size bytes from there.
 */
static int place_kernel(const struct bzimage_info *bi, uint64_t ram_low_end, uint64_t *load,
			uint64_t *end)
{
	uint64_t runtime;

	*load = LAYOUT_KERNEL_GPA;
	if (!bi->relocatable && bi->pref_address > LAYOUT_KERNEL_GPA &&
	    bi->pref_address < ram_low_end && bi->kernel_size <= ram_low_end - bi->pref_address)
		*load = bi->pref_address;
	runtime = bi->relocatable ? align_up(*load, bi->kernel_alignment) : *load;
	if (runtime < bi->pref_address)
		runtime = bi->pref_address;
	/* Compared by subtraction: pref_address comes from the file. */
	if (runtime > ram_low_end || bi->init_size > ram_low_end - runtime ||
	    bi->kernel_size > ram_low_end - *load) {
		log_err("bzImage: kernel needs RAM from %#llx to %#llx (loaded at %#llx, "
			"init_size %#x) but low RAM ends at %#llx: give the guest more memory",
			(unsigned long long)runtime,
			(unsigned long long)(runtime + bi->init_size), (unsigned long long)*load,
			bi->init_size, (unsigned long long)ram_low_end);
		return -ENOMEM;
	}
	*end = runtime + bi->init_size;
	if (*end < *load + bi->kernel_size)
		*end = *load + bi->kernel_size;
	return 0;
}

/* Highest page-aligned spot under both RAM's end and initrd_addr_max. */
static int place_initrd(const struct bzimage_info *bi, uint64_t ram_low_end, uint64_t kernel_end,
			size_t len, uint64_t *addr)
{
	uint64_t top = ram_low_end;

	if (bi->initrd_addr_max && (uint64_t)bi->initrd_addr_max + 1 < top)
		top = (uint64_t)bi->initrd_addr_max + 1;
	if (len > top || ((top - len) & ~0xfffULL) < kernel_end) {
		log_err("bzImage: initrd of %zu bytes does not fit between the kernel's end %#llx "
			"and %#llx (low RAM end / initrd_addr_max)", len,
			(unsigned long long)kernel_end, (unsigned long long)top);
		return -ENOMEM;
	}
	*addr = (top - len) & ~0xfffULL;
	return 0;
}

static int put_cmdline(uint8_t *ram, const struct bzimage_info *bi, const char *cmdline)
{
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (len > bi->cmdline_size || len >= LAYOUT_CMDLINE_MAX) {
		log_err("bzImage: command line is %zu bytes, the kernel accepts %u", len,
			bi->cmdline_size < LAYOUT_CMDLINE_MAX ? bi->cmdline_size
							     : (unsigned int)LAYOUT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	memcpy(ram + LAYOUT_CMDLINE_GPA, cmdline ? cmdline : "", len + 1);
	return 0;
}

static void fill_zero_page(struct boot_params *bp, const uint8_t *kernel,
			   const struct bzimage_info *bi, const struct layout *l, uint64_t load,
			   uint64_t initrd, size_t initrd_len, uint64_t rsdp_gpa)
{
	size_t hdr_len = bi->header_end - SETUP_HDR_OFFSET;

	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, kernel + SETUP_HDR_OFFSET, hdr_len < HDR_COPY_MAX ? hdr_len : HDR_COPY_MAX);
	bp->hdr.type_of_loader = TYPE_OF_LOADER_UNDEF;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = HEAP_END_PTR;
	bp->hdr.code32_start = (uint32_t)load;
	bp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE_GPA;
	bp->hdr.ramdisk_image = (uint32_t)initrd;
	bp->hdr.ramdisk_size = (uint32_t)initrd_len;
	bp->acpi_rsdp_addr = rsdp_gpa;
	bp->e820_entries = (uint8_t)layout_e820(l, bp->e820_table, E820_MAX_ZEROPAGE);
}

int bzimage_load(void *ram, uint64_t ram_low_end, const struct layout *l, const void *kernel,
		 size_t kernel_len, const void *initrd, size_t initrd_len, const char *cmdline,
		 uint64_t rsdp_gpa, uint64_t *entry_rip, uint64_t *zero_page_gpa)
{
	struct bzimage_info bi;
	uint64_t load, kernel_end, initrd_gpa = 0;
	uint8_t *mem = ram;
	int ret;

	ret = bzimage_parse(kernel, kernel_len, &bi);
	if (ret)
		return ret;
	ret = place_kernel(&bi, ram_low_end, &load, &kernel_end);
	if (ret)
		return ret;
	if (initrd_len) {
		ret = place_initrd(&bi, ram_low_end, kernel_end, initrd_len, &initrd_gpa);
		if (ret)
			return ret;
	}
	ret = put_cmdline(mem, &bi, cmdline);
	if (ret)
		return ret;

	memcpy(mem + load, (const uint8_t *)kernel + bi.setup_size, bi.kernel_size);
	if (initrd_len)
		memcpy(mem + initrd_gpa, initrd, initrd_len);
	fill_zero_page((struct boot_params *)(mem + LAYOUT_ZERO_PAGE_GPA), kernel, &bi, l, load,
		       initrd_gpa, initrd_len, rsdp_gpa);

	*entry_rip = load + BZIMAGE_ENTRY64_OFFSET;
	*zero_page_gpa = LAYOUT_ZERO_PAGE_GPA;
	trace(LOG_BOOT, "bzImage: protocol %u.%02u, %zu bytes at %#llx (%s, init_size %#x), "
		      "entry64 %#llx, zero page %#llx",
	      bi.version >> 8, bi.version & 0xff, bi.kernel_size, (unsigned long long)load,
	      bi.relocatable ? "relocatable" : "fixed", bi.init_size,
	      (unsigned long long)*entry_rip, LAYOUT_ZERO_PAGE_GPA);
	trace(LOG_BOOT, "bzImage: initrd %zu bytes at %#llx, cmdline \"%s\" at %#llx, RSDP %#llx",
	      initrd_len, (unsigned long long)initrd_gpa, cmdline ? cmdline : "",
	      LAYOUT_CMDLINE_GPA, (unsigned long long)rsdp_gpa);
	return 0;
}
