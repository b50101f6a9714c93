// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/power.h"
#include "vmm/acpi.h"
#include "vmm/bzimage.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define MiB (1ULL << 20)
#define RAM_SIZE (64 * MiB)
#define SETUP_SECTS 3
#define PAYLOAD (300 * 1024 + 5)

/* A synthetic bzImage: real-mode part of SETUP_SECTS + 1 sectors, then payload. */
struct image {
	uint8_t *buf;
	size_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

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

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint8_t payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/* Defaults look like a Debian 6.1 kernel: 2.15, relocatable, 64-bit. */
static struct image make_image(void)
{
	struct image im;
	size_t setup = (SETUP_SECTS + 1) * 512;

	im.len = setup + PAYLOAD;
	im.buf = calloc(1, im.len);
	cr_assert_not_null(im.buf);
	im.buf[0x1f1] = SETUP_SECTS;
	put32(im.buf + 0x1f4, (PAYLOAD + 15) / 16);	/* syssize */
	put16(im.buf + 0x1fe, 0xaa55);
	im.buf[0x200] = 0xeb;				/* jmp short */
	im.buf[0x201] = 0x26c - 0x202;			/* header length */
	memcpy(im.buf + 0x202, "HdrS", 4);
	put16(im.buf + 0x206, 0x020f);
	im.buf[0x211] = 0x01;				/* LOADED_HIGH */
	put32(im.buf + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	put32(im.buf + 0x230, 2 * MiB);			/* kernel_alignment */
	im.buf[0x234] = 1;				/* relocatable */
	put16(im.buf + 0x236, 0x0003);			/* XLF_KERNEL_64 | above 4G */
	put32(im.buf + 0x238, 2047);			/* cmdline_size */
	put64(im.buf + 0x258, 16 * MiB);		/* pref_address */
	put32(im.buf + 0x260, 8 * MiB);			/* init_size */
	for (size_t i = 0; i < PAYLOAD; i++)
		im.buf[setup + i] = payload_byte(i);
	/* Part of the real-mode code that must not reach guest RAM. */
	memset(im.buf + 0x300, 0xcc, 0x100);
	return im;
}

struct guest {
	uint8_t *ram;
	struct layout l;
	uint64_t rip, zp;
};

static struct guest *new_guest_sized(uint64_t ram_size)
{
	struct guest *g = calloc(1, sizeof(*g));

	cr_assert_not_null(g);
	cr_assert_eq(layout_init(&g->l, ram_size, 40), 0);
	g->ram = calloc(1, ram_size);
	cr_assert_not_null(g->ram);
	return g;
}

static struct guest *new_guest(void)
{
	return new_guest_sized(RAM_SIZE);
}

static void free_guest(struct guest *g)
{
	free(g->ram);
	free(g);
}

static int load(struct guest *g, const struct image *im, const void *initrd, size_t initrd_len,
		const char *cmdline)
{
	return bzimage_load(g->ram, g->l.low_ram_end, &g->l, im->buf, im->len, initrd, initrd_len,
			    cmdline, 0xe0000, &g->rip, &g->zp);
}

Test(bzimage, probe)
{
	struct image im = make_image();
	static const uint8_t elf[0x300] = { 0x7f, 'E', 'L', 'F' };

	cr_assert(bzimage_probe(im.buf, im.len));
	cr_assert_not(bzimage_probe(im.buf, 0x205), "header magic cut off");
	cr_assert_not(bzimage_probe(elf, sizeof(elf)));
	im.buf[0x1fe] = 0;
	cr_assert_not(bzimage_probe(im.buf, im.len), "boot flag is required");
	free(im.buf);
}

Test(bzimage, protocol_versions, .init = cr_redirect_stderr)
{
	static const struct {
		uint16_t version;
		int ret;
	} cases[] = {
		{ 0x0206, -ENOEXEC }, { 0x020b, -ENOEXEC }, { 0x020c, 0 },
		{ 0x020e, 0 },	      { 0x020f, 0 },	    { 0x0210, 0 },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct image im = make_image();
		struct bzimage_info bi;

		put16(im.buf + 0x206, cases[i].version);
		cr_assert_eq(bzimage_parse(im.buf, im.len, &bi), cases[i].ret, "version %#x",
			     cases[i].version);
		if (!cases[i].ret) {
			cr_assert_eq(bi.version, cases[i].version);
			cr_assert_eq(bi.setup_size, (SETUP_SECTS + 1) * 512);
			cr_assert_eq(bi.kernel_size, PAYLOAD);
			cr_assert_eq(bi.init_size, 8 * MiB);
			cr_assert_eq(bi.cmdline_size, 2047);
			cr_assert(bi.relocatable);
		}
		free(im.buf);
	}
}

static char *stderr_text(void)
{
	static char text[4096];
	FILE *f;
	size_t n;

	fflush(stderr);
	f = cr_get_redirected_stderr();
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	return text;
}

Test(bzimage, rejects_unusable_images, .init = cr_redirect_stderr)
{
	struct bzimage_info bi;
	struct image im = make_image();

	put16(im.buf + 0x206, 0x020b);
	cr_assert_eq(bzimage_parse(im.buf, im.len, &bi), -ENOEXEC);
	put16(im.buf + 0x206, 0x020f);
	im.buf[0x236] = 0x02;	/* loadable above 4G, but no 64-bit entry */
	cr_assert_eq(bzimage_parse(im.buf, im.len, &bi), -ENOEXEC);
	im.buf[0x236] = 0x03;
	im.buf[0x211] = 0;	/* zImage */
	cr_assert_eq(bzimage_parse(im.buf, im.len, &bi), -ENOEXEC);
	im.buf[0x211] = 1;
	/* Truncated: the header promises more protected-mode code than the file has. */
	cr_assert_eq(bzimage_parse(im.buf, im.len - 64, &bi), -ENOEXEC);
	cr_assert_eq(bzimage_parse(im.buf, 0x400, &bi), -ENOEXEC);
	/* Found by tests/fuzz: no byte at the 64-bit entry (+0x200) after the setup. */
	put32(im.buf + 0x1f4, 0x200 / 16);
	cr_assert_eq(bzimage_parse(im.buf, (SETUP_SECTS + 1) * 512 + 0x200, &bi), -ENOEXEC);
	cr_assert_eq(bzimage_parse(im.buf, (SETUP_SECTS + 1) * 512 + 0x201, &bi), 0);
	put32(im.buf + 0x1f4, (PAYLOAD + 15) / 16);
	memcpy(im.buf + 0x202, "HdrZ", 4);
	cr_assert_eq(bzimage_parse(im.buf, im.len, &bi), -ENOEXEC);

	/* Each failure said why, once. */
	char *err = stderr_text();

	cr_assert(strstr(err, "2.11 is too old"), "stderr: %s", err);
	cr_assert(strstr(err, "XLF_KERNEL_64"), "stderr: %s", err);
	cr_assert(strstr(err, "zImage"), "stderr: %s", err);
	cr_assert(strstr(err, "truncated"), "stderr: %s", err);
	cr_assert(strstr(err, "ends before its 64-bit entry"), "stderr: %s", err);
	cr_assert(strstr(err, "not a bzImage"), "stderr: %s", err);
	free(im.buf);
}

Test(bzimage, zero_page_fields)
{
	struct image im = make_image();
	struct guest *g = new_guest();
	struct e820_entry want[16];
	const char *cmd = "console=ttyS0 root=/dev/vda quiet";
	uint8_t initrd[5000];
	const uint8_t *zp;
	int n;

	memset(initrd, 0x5a, sizeof(initrd));
	cr_assert_eq(load(g, &im, initrd, sizeof(initrd), cmd), 0);
	cr_assert_eq(g->zp, LAYOUT_ZERO_PAGE_GPA);
	zp = g->ram + g->zp;

	/* The setup header is copied, then our loader fields are set. */
	cr_assert_eq(memcmp(zp + 0x202, "HdrS", 4), 0);
	cr_assert_eq(get16(zp + 0x206), 0x020f);
	cr_assert_eq(get32(zp + 0x260), 8 * MiB, "init_size copied");
	cr_assert_eq(zp[0x210], 0xff, "type_of_loader");
	cr_assert_eq(zp[0x211], 0x81, "LOADED_HIGH | CAN_USE_HEAP");
	cr_assert_eq(get16(zp + 0x224), 0xfe00, "heap_end_ptr");
	cr_assert_eq(get32(zp + 0x214), LAYOUT_KERNEL_GPA, "code32_start");
	cr_assert_eq(zp[0x1ef], 0, "sentinel must be zero or Linux wipes fields");

	cr_assert_eq(get32(zp + 0x228), LAYOUT_CMDLINE_GPA);
	cr_assert_str_eq((const char *)g->ram + LAYOUT_CMDLINE_GPA, cmd);

	cr_assert_eq(get32(zp + 0x21c), sizeof(initrd), "ramdisk_size");
	cr_assert_eq(get64(zp + 0x070), 0xe0000, "acpi_rsdp_addr");

	n = layout_e820(&g->l, want, 16);
	cr_assert_eq(zp[0x1e8], n, "e820_entries");
	cr_assert_gt(n, 2);
	cr_assert_eq(memcmp(zp + 0x2d0, want, (size_t)n * sizeof(want[0])), 0);
	free_guest(g);
	free(im.buf);
}

Test(bzimage, kernel_and_entry_relocatable)
{
	struct image im = make_image();
	struct guest *g = new_guest();

	memset(g->ram + LAYOUT_KERNEL_GPA - 16, 0xee, 16);
	cr_assert_eq(load(g, &im, NULL, 0, NULL), 0);
	cr_assert_eq(g->rip, LAYOUT_KERNEL_GPA + 0x200, "64-bit entry = load + 0x200");
	for (size_t i = 0; i < PAYLOAD; i++)
		cr_assert_eq(g->ram[LAYOUT_KERNEL_GPA + i], payload_byte(i), "kernel byte %zu", i);
	/* Only the protected-mode part is copied: nothing before it. */
	cr_assert_eq(g->ram[LAYOUT_KERNEL_GPA - 1], 0xee);
	/* No initrd, no command line: both empty but well-defined. */
	cr_assert_eq(get32(g->ram + g->zp + 0x218), 0);
	cr_assert_eq(get32(g->ram + g->zp + 0x21c), 0);
	cr_assert_str_eq((const char *)g->ram + LAYOUT_CMDLINE_GPA, "");
	free_guest(g);
	free(im.buf);
}

Test(bzimage, fixed_kernel_goes_to_pref_address)
{
	struct image im = make_image();
	struct guest *g = new_guest();

	im.buf[0x234] = 0;
	put64(im.buf + 0x258, 4 * MiB);
	cr_assert_eq(load(g, &im, NULL, 0, "x"), 0);
	cr_assert_eq(g->rip, 4 * MiB + 0x200);
	cr_assert_eq(g->ram[4 * MiB + 1], payload_byte(1));
	cr_assert_eq(get32(g->ram + g->zp + 0x214), 4 * MiB, "code32_start follows the load");
	free_guest(g);
	free(im.buf);
}

Test(bzimage, initrd_placement)
{
	static const uint32_t maxes[] = { 0x7fffffff, 48 * MiB - 1, 40 * MiB + 12345 };
	size_t len = 3 * MiB + 123;
	uint8_t *initrd = malloc(len);

	cr_assert_not_null(initrd);
	for (size_t i = 0; i < len; i++)
		initrd[i] = (uint8_t)(i % 253);
	for (unsigned int m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		struct image im = make_image();
		struct guest *g = new_guest();
		uint32_t addr;

		put32(im.buf + 0x22c, maxes[m]);
		cr_assert_eq(load(g, &im, initrd, len, NULL), 0);
		addr = get32(g->ram + g->zp + 0x218);
		cr_assert_eq(addr % 4096, 0, "initrd at %#x not page aligned", addr);
		cr_assert_leq((uint64_t)addr + len - 1, maxes[m], "initrd above initrd_addr_max");
		cr_assert_leq(addr + len, RAM_SIZE);
		/* As high as possible: less than a page plus alignment below the limit. */
		cr_assert_gt((uint64_t)addr + len + 4096,
			     maxes[m] < RAM_SIZE ? (uint64_t)maxes[m] + 1 : RAM_SIZE);
		/* Clear of the decompressor's [16 MiB, 16 MiB + init_size). */
		cr_assert_geq(addr, 24 * MiB);
		cr_assert_eq(memcmp(g->ram + addr, initrd, len), 0);
		free_guest(g);
		free(im.buf);
	}
	free(initrd);
}

Test(bzimage, does_not_fit, .init = cr_redirect_stderr)
{
	struct image im = make_image();
	struct guest *g = new_guest();
	size_t big = 48 * MiB;
	uint8_t *initrd = calloc(1, big);
	char cmd[2049];

	cr_assert_not_null(initrd);
	/* The kernel would run at 16 MiB and need 60 MiB: past 64 MiB of RAM. */
	put32(im.buf + 0x260, 60 * MiB);
	cr_assert_eq(load(g, &im, NULL, 0, NULL), -ENOMEM);
	put32(im.buf + 0x260, 8 * MiB);
	/* 48 MiB of initrd cannot sit above the kernel's 24 MiB footprint. */
	cr_assert_eq(load(g, &im, initrd, big, NULL), -ENOMEM);
	cr_assert_eq(load(g, &im, initrd, 40 * MiB - 4096, NULL), 0);
	/* initrd_addr_max below the kernel's end leaves no room at all. */
	put32(im.buf + 0x22c, 20 * MiB);
	cr_assert_eq(load(g, &im, initrd, 4096, NULL), -ENOMEM);
	put32(im.buf + 0x22c, 0x7fffffff);

	/* cmdline_size excludes the NUL: 2047 characters fit, 2048 do not. */
	memset(cmd, 'a', sizeof(cmd));
	cmd[2047] = 0;
	cr_assert_eq(load(g, &im, NULL, 0, cmd), 0);
	cr_assert_eq(strlen((const char *)g->ram + LAYOUT_CMDLINE_GPA), 2047);
	cmd[2047] = 'a';
	cmd[2048] = 0;
	cr_assert_eq(load(g, &im, NULL, 0, cmd), -E2BIG);

	char *err = stderr_text();

	cr_assert(strstr(err, "give the guest more memory"), "stderr: %s", err);
	cr_assert(strstr(err, "initrd of"), "stderr: %s", err);
	cr_assert(strstr(err, "the kernel accepts 2047"), "stderr: %s", err);
	free(initrd);
	free_guest(g);
	free(im.buf);
}

/*
 * A real distribution kernel, when one is on disk: $BZIMAGE, /boot/vmlinuz-*,
 * or the Debian kernel the nested testbed caches next to the fixtures.
 */
static char *find_real_kernel(void)
{
	static char path[512];
	const char *env = getenv("BZIMAGE"), *fixtures = getenv("FIXTURES");
	char pattern[512];
	glob_t gl;

	if (env && *env)
		return strncpy(path, env, sizeof(path) - 1);
	path[0] = 0;
	if (!glob("/boot/vmlinuz-*", 0, NULL, &gl) && gl.gl_pathc)
		snprintf(path, sizeof(path), "%s", gl.gl_pathv[0]);
	globfree(&gl);
	if (!path[0] && fixtures) {
		snprintf(pattern, sizeof(pattern), "%s/../testbed/cache/*/kroot/boot/vmlinuz-*",
			 fixtures);
		if (!glob(pattern, 0, NULL, &gl) && gl.gl_pathc)
			snprintf(path, sizeof(path), "%s", gl.gl_pathv[0]);
		globfree(&gl);
	}
	return path[0] ? path : NULL;
}

Test(bzimage, real_kernel, .init = cr_redirect_stderr)
{
	char *path = find_real_kernel();
	struct bzimage_info bi;
	struct guest *g;
	struct stat st;
	void *k;
	int fd;

	if (!path)
		cr_skip_test("no real kernel: set BZIMAGE=/path/to/vmlinuz to run this test");
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "cannot open %s", path);
	cr_assert_eq(fstat(fd, &st), 0);
	k = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	cr_assert_neq(k, MAP_FAILED);
	close(fd);

	cr_assert(bzimage_probe(k, (size_t)st.st_size), "%s is not a bzImage", path);
	cr_assert_eq(bzimage_parse(k, (size_t)st.st_size, &bi), 0);
	cr_assert_geq(bi.version, 0x020c);
	cr_assert(bi.xloadflags & 1);
	cr_assert(bi.relocatable, "distribution kernels are relocatable");
	cr_assert_gt(bi.init_size, bi.kernel_size, "init_size covers the decompressed kernel");

	/* Far too little RAM for its init_size must be a clean error... */
	g = new_guest();
	if (LAYOUT_KERNEL_GPA + bi.init_size + 16 * MiB > RAM_SIZE)
		cr_assert_eq(load(g, &(struct image){ k, (size_t)st.st_size }, NULL, 0, NULL),
			     -ENOMEM);
	free_guest(g);

	/* ...and 512 MiB is plenty for any distribution kernel. */
	g = new_guest_sized(512 * MiB);
	cr_assert_eq(load(g, &(struct image){ k, (size_t)st.st_size }, NULL, 0, "console=ttyS0"),
		     0);
	cr_assert_eq(g->rip, LAYOUT_KERNEL_GPA + 0x200);
	cr_assert_eq(memcmp(g->ram + LAYOUT_KERNEL_GPA, (uint8_t *)k + bi.setup_size,
			    bi.kernel_size), 0);
	cr_assert_eq(get16(g->ram + g->zp + 0x206), bi.version);
	free_guest(g);
	munmap(k, (size_t)st.st_size);
}

/*
 * End to end on KVM: the loader, the ACPI builder and the 64-bit entry code
 * together. The payload's entry64 (at +0x200) checks what the boot protocol
 * promises and reports through the test exit port: 0x5a if all holds, else
 * the number of the first failed check.
 */
static const uint8_t entry64_checks[] = {
	0xb8, 0x01, 0x00, 0x00, 0x00,			/* mov $1, %eax */
	0x48, 0x81, 0xfe, 0x00, 0x70, 0x00, 0x00,	/* cmp $0x7000, %rsi */
	0x0f, 0x85, 0x82, 0x00, 0x00, 0x00,		/* jne fail */
	0xb8, 0x02, 0x00, 0x00, 0x00,			/* mov $2, %eax */
	0x81, 0xbe, 0x02, 0x02, 0x00, 0x00,		/* cmpl $"HdrS", 0x202(%rsi) */
	0x48, 0x64, 0x72, 0x53,
	0x75, 0x71,					/* jne fail */
	0xb8, 0x03, 0x00, 0x00, 0x00,			/* mov $3, %eax */
	0x80, 0xbe, 0x10, 0x02, 0x00, 0x00, 0xff,	/* cmpb $0xff, 0x210(%rsi) */
	0x75, 0x63,					/* jne fail */
	0xb8, 0x04, 0x00, 0x00, 0x00,			/* mov $4, %eax */
	0x8b, 0xbe, 0x28, 0x02, 0x00, 0x00,		/* mov 0x228(%rsi), %edi */
	0x81, 0x3f, 0x62, 0x6f, 0x6f, 0x74,		/* cmpl $"boot", (%rdi) */
	0x75, 0x50,					/* jne fail */
	0xb8, 0x05, 0x00, 0x00, 0x00,			/* mov $5, %eax */
	0x48, 0x8b, 0x7e, 0x70,				/* mov 0x70(%rsi), %rdi */
	0x48, 0xba, 0x52, 0x53, 0x44, 0x20,		/* movabs $"RSD PTR ", %rdx */
	0x50, 0x54, 0x52, 0x20,
	0x48, 0x39, 0x17,				/* cmp %rdx, (%rdi) */
	0x75, 0x38,					/* jne fail */
	0xb8, 0x06, 0x00, 0x00, 0x00,			/* mov $6, %eax */
	0x80, 0xbe, 0xe8, 0x01, 0x00, 0x00, 0x03,	/* cmpb $3, 0x1e8(%rsi) */
	0x72, 0x2a,					/* jb fail */
	0xb8, 0x07, 0x00, 0x00, 0x00,			/* mov $7, %eax */
	0x8b, 0xbe, 0x18, 0x02, 0x00, 0x00,		/* mov 0x218(%rsi), %edi */
	0x81, 0x3f, 0x69, 0x6e, 0x69, 0x74,		/* cmpl $"init", (%rdi) */
	0x75, 0x17,					/* jne fail */
	0xb9, 0x80, 0x00, 0x00, 0xc0,			/* mov $MSR_EFER, %ecx */
	0x0f, 0x32,					/* rdmsr */
	0x0f, 0xba, 0xe0, 0x0a,				/* bt $10 (LMA), %eax */
	0xb8, 0x08, 0x00, 0x00, 0x00,			/* mov $8, %eax */
	0x73, 0x05,					/* jnc fail */
	0xb8, 0x5a, 0x00, 0x00, 0x00,			/* mov $0x5a, %eax */
	0x66, 0xba, 0xf4, 0x00,				/* fail: mov $0xf4, %dx */
	0xef,						/* out %eax, (%dx) */
	0xf4,						/* hlt */
	0xeb, 0xf8,					/* jmp fail */
};

static void stop_vm(void *opaque, int exit_code, const char *why)
{
	(void)why;
	vm_request_stop(opaque, exit_code);
}

static int boot_on_kvm(const struct image *im, bool good_rsdp)
{
	struct vm_config cfg = { .ram_size = RAM_SIZE, .nr_cpus = 1 };
	struct boot_entry entry = { .mode = BOOT_LINUX64 };
	struct vm *vm = calloc(1, sizeof(*vm));
	struct power *pw = calloc(1, sizeof(*pw));
	uint64_t rsdp;
	int code;

	cr_assert(vm && pw);
	cr_assert_eq(vm_create(vm, &cfg), 0);
	cr_assert_eq(power_register(pw, &vm->pio, stop_vm, vm), 0);
	cr_assert_gt(acpi_build(&vm->layout, 1, vm->ram + LAYOUT_ACPI_GPA, LAYOUT_ACPI_SIZE,
				LAYOUT_ACPI_GPA, &rsdp), 0);
	cr_assert_eq(bzimage_load(vm->ram, vm->layout.low_ram_end, &vm->layout, im->buf,
				  im->len, "initrd!!", 8, "boot from test_bzimage",
				  good_rsdp ? rsdp : 0x1000, &entry.rip, &entry.arg), 0);
	cr_assert_eq(vcpu_setup_boot(&vm->vcpus[0], &entry), 0);
	code = vm_run(vm);
	vm_destroy(vm);
	free(pw);
	free(vm);
	return code;
}

Test(bzimage, boots_on_kvm)
{
	struct image im = make_image();
	size_t setup = (SETUP_SECTS + 1) * 512;
	int code;

	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm not available");
	memcpy(im.buf + setup + 0x200, entry64_checks, sizeof(entry64_checks));
	code = boot_on_kvm(&im, true);
	cr_assert_eq(code, 0x5a, "guest check %d failed", code);
	/* The guest really checks: a wrong acpi_rsdp_addr fails check 5. */
	code = boot_on_kvm(&im, false);
	cr_assert_eq(code, 5, "expected check 5 to fail, got %d", code);
	free(im.buf);
}
