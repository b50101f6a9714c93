// SPDX-License-Identifier: MIT
/*
 * vmm/bzimage.c with a hostile kernel file. The input is the file itself, so
 * a real bzImage is a valid seed; the loader never reads the boot sector
 * before the setup header (0x000-0x1f0), so the target takes its other
 * parameters from there:
 *   0x00  guest RAM: one of ram_sizes[]
 *   0x01  initrd length: bytes 0x01-0x02 shifted left by byte 0x03 % 9
 *   0x04  command line: 0xff none, 0xfe 70000 bytes, else that many bytes
 *         taken from 0x10 onwards
 *   0x05  RSDP address selector
 * Guest RAM is a heap block of exactly the RAM size, so ASan reports any
 * write past it. After a successful load the target also checks what the
 * loader reports: the entry point inside the copied kernel, the zero page,
 * command line and initrd inside RAM and where the boot protocol wants them.
 */
#include <errno.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/bzimage.h"
#include "vmm/layout.h"

#define MiB (1ULL << 20)

static const uint64_t ram_sizes[] = { 16 * MiB, 16 * MiB + 0x1234, 24 * MiB, 17 * MiB - 1 };
static uint8_t *rams[4];
static struct layout layouts[4];
static uint8_t initrd_src[32 * MiB];
static char long_cmdline[70001];

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	for (unsigned int i = 0; i < 4; i++) {
		rams[i] = malloc(ram_sizes[i]);
		if (!rams[i] || layout_init(&layouts[i], ram_sizes[i], 40))
			abort();
	}
	memset(initrd_src, 0x1d, sizeof(initrd_src));
	memset(long_cmdline, 'c', sizeof(long_cmdline) - 1);
	return 0;
}

/* The zero page and guest RAM after a load that said it worked. */
static void check_loaded(const uint8_t *k, size_t len, uint8_t *ram, uint64_t ram_size,
			 uint64_t rip, uint64_t zp_gpa, const char *cmdline, size_t initrd_len)
{
	unsigned int sects = k[0x1f1] ? k[0x1f1] : 4;
	size_t setup = (size_t)(sects + 1) * 512, ksize = len - setup;
	const uint8_t *zp;
	uint32_t load, initrd, initrd_max, cmd;
	size_t cmdlen = cmdline ? strlen(cmdline) : 0;

	FUZZ_CHECK(setup < len, "loaded a file of %zu bytes with a %zu-byte setup", len, setup);
	FUZZ_CHECK(zp_gpa == LAYOUT_ZERO_PAGE_GPA && zp_gpa + 4096 <= ram_size,
		   "zero page at %#llx", (unsigned long long)zp_gpa);
	zp = ram + zp_gpa;
	load = get32(zp + 0x214);	/* code32_start: where the kernel went */
	FUZZ_CHECK(load >= LAYOUT_KERNEL_GPA && load + ksize <= ram_size,
		   "kernel of %zu bytes at %#x, RAM ends at %#llx", ksize, load,
		   (unsigned long long)ram_size);
	FUZZ_CHECK(rip == load + BZIMAGE_ENTRY64_OFFSET && rip < load + ksize,
		   "entry %#llx is not inside the %zu-byte kernel at %#x", (unsigned long long)rip,
		   ksize, load);
	FUZZ_CHECK(!memcmp(ram + load, k + setup, ksize), "kernel bytes differ in guest RAM");
	FUZZ_CHECK(get16(zp + 0x202 - 2) == get16(k + 0x200) &&
			   !memcmp(zp + 0x202, "HdrS", 4) && zp[0x1ef] == 0,
		   "zero page header");
	FUZZ_CHECK(zp[0x1e8] <= 128, "%u e820 entries", zp[0x1e8]);

	cmd = get32(zp + 0x228);
	FUZZ_CHECK(cmd == LAYOUT_CMDLINE_GPA && cmd + cmdlen + 1 <= ram_size &&
			   cmdlen < LAYOUT_CMDLINE_MAX && cmd + LAYOUT_CMDLINE_MAX <= LAYOUT_KERNEL_GPA,
		   "command line of %zu bytes at %#x", cmdlen, cmd);
	FUZZ_CHECK(!memcmp(ram + cmd, cmdline ? cmdline : "", cmdlen + 1),
		   "command line differs in guest RAM");
	FUZZ_CHECK(cmdlen <= get32(k + 0x238), "command line longer than cmdline_size");

	initrd = get32(zp + 0x218);
	FUZZ_CHECK(get32(zp + 0x21c) == initrd_len, "ramdisk_size %u, want %zu",
		   get32(zp + 0x21c), initrd_len);
	if (!initrd_len)
		return;
	initrd_max = get32(k + 0x22c);
	FUZZ_CHECK(initrd % 4096 == 0 && initrd >= load + ksize && initrd + initrd_len <= ram_size,
		   "initrd of %zu bytes at %#x: kernel %#x+%#zx, RAM %#llx", initrd_len, initrd, load,
		   ksize, (unsigned long long)ram_size);
	FUZZ_CHECK(!initrd_max || initrd + initrd_len - 1 <= initrd_max,
		   "initrd %#x+%#zx above initrd_addr_max %#x", initrd, initrd_len, initrd_max);
	FUZZ_CHECK(ram[initrd] == 0x1d && ram[initrd + initrd_len - 1] == 0x1d,
		   "initrd bytes missing");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t rsdps[] = { 0, LAYOUT_ACPI_GPA, 0x1000, UINT64_MAX };
	unsigned int which = 0;
	size_t initrd_len = 0;
	char cmdbuf[256];
	const char *cmdline = "console=ttyS0";
	uint64_t rip = 0, zp = 0, rsdp = 0;
	struct bzimage_info bi;
	int probe, parsed, ret;

	if (size > 0x05) {
		which = data[0] % 4;
		initrd_len = (size_t)(data[1] | data[2] << 8) << (data[3] % 9);
		if (data[4] == 0xff) {
			cmdline = NULL;
		} else if (data[4] == 0xfe) {
			cmdline = long_cmdline;
		} else {
			size_t n = data[4];

			if (0x10 + n > size)
				n = size > 0x10 ? size - 0x10 : 0;
			memcpy(cmdbuf, data + (size > 0x10 ? 0x10 : 0), n);
			cmdbuf[n] = '\0';
			cmdline = cmdbuf;
		}
		rsdp = rsdps[data[5] % 4];
	}

	probe = bzimage_probe(data, size);
	parsed = bzimage_parse(data, size, &bi);
	FUZZ_CHECK(!parsed || parsed == -ENOEXEC, "bzimage_parse: %d", parsed);
	FUZZ_CHECK(probe || parsed, "bzimage_parse accepted what bzimage_probe refused");
	if (!parsed)
		FUZZ_CHECK(bi.setup_size + bi.kernel_size == size && bi.header_end <= size &&
				   bi.version >= BZIMAGE_MIN_VERSION,
			   "bzimage_info: setup %zu + kernel %zu of %zu, header end %zu",
			   bi.setup_size, bi.kernel_size, size, bi.header_end);

	ret = bzimage_load(rams[which], layouts[which].low_ram_end, &layouts[which], data, size,
			   initrd_len ? initrd_src : NULL, initrd_len, cmdline, rsdp, &rip, &zp);
	FUZZ_CHECK(ret == 0 || ret == -ENOEXEC || ret == -ENOMEM || ret == -E2BIG,
		   "bzimage_load: %d", ret);
	FUZZ_CHECK(!parsed || ret == parsed, "bzimage_load %d after bzimage_parse %d", ret, parsed);
	if (!ret)
		check_loaded(data, size, rams[which], ram_sizes[which], rip, zp, cmdline,
			     initrd_len);
	return 0;
}
