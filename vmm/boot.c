// SPDX-License-Identifier: MIT
/*
 * Kernel loading: read the files, build ACPI tables, then hand the image
 * to the PVH ELF loader or the bzImage loader, whichever recognises it.
 */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/bzimage.h"
#include "util/log.h"
#include "vmm/pvh.h"

struct file_map {
	void *data;
	size_t len;
};

static int map_file(const char *what, const char *path, struct file_map *f)
{
	struct stat st;
	int fd, ret = 0;

	f->data = NULL;
	f->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err("%s %s: %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		log_err("%s %s: not a non-empty regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	f->len = (size_t)st.st_size;
	f->data = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f->data == MAP_FAILED) {
		ret = -errno;
		f->data = NULL;
		log_err("%s %s: mmap: %s", what, path, strerror(-ret));
	}
	close(fd);
	return ret;
}

static void unmap_file(struct file_map *f)
{
	if (f->data)
		munmap(f->data, f->len);
	f->data = NULL;
}

/* The initrd goes to the top of low RAM, page aligned, above the kernel. */
static int pvh_place_initrd(struct vm *vm, const struct file_map *initrd, uint64_t kernel_end,
			    uint64_t *gpa)
{
	if (pvh_initrd_place(vm->layout.low_ram_end, kernel_end, initrd->len, gpa)) {
		log_err("--initrd (%zu MiB) does not fit in guest RAM beside the kernel: give more --memory",
			initrd->len >> 20);
		return -E2BIG;
	}
	memcpy(vm->ram + *gpa, initrd->data, initrd->len);
	trace(LOG_BOOT, "initrd %zu bytes at 0x%llx", initrd->len, (unsigned long long)*gpa);
	return 0;
}

static int boot_pvh(struct vm *vm, const struct vm_config *cfg, const struct file_map *kernel,
		    const struct file_map *initrd, uint64_t rsdp, struct boot_entry *entry)
{
	uint64_t initrd_gpa = 0, cmdline_gpa = 0;
	uint32_t rip;
	size_t cmdlen = cfg->cmdline ? strlen(cfg->cmdline) : 0;
	int ret;

	ret = pvh_parse(kernel->data, kernel->len, vm->layout.low_ram_end, &rip);
	if (ret)
		return ret;
	pvh_load_segments(kernel->data, vm->ram);
	if (initrd->data) {
		/* Clear of every segment, bss included, wherever it was linked. */
		ret = pvh_place_initrd(vm, initrd, pvh_kernel_end(kernel->data), &initrd_gpa);
		if (ret)
			return ret;
	}
	if (cmdlen) {
		if (cmdlen >= LAYOUT_CMDLINE_MAX) {
			log_err("--cmdline is %zu bytes, the limit is %llu", cmdlen,
				LAYOUT_CMDLINE_MAX - 1);
			return -E2BIG;
		}
		memcpy(vm->ram + LAYOUT_CMDLINE_GPA, cfg->cmdline, cmdlen + 1);
		cmdline_gpa = LAYOUT_CMDLINE_GPA;
	}
	pvh_write_start_info(vm->ram, &vm->layout, cmdline_gpa, initrd_gpa, initrd->len, rsdp);
	entry->mode = BOOT_PVH32;
	entry->rip = rip;
	entry->arg = LAYOUT_PVH_INFO_GPA;
	trace(LOG_BOOT, "PVH ELF kernel, entry 0x%x, start_info at 0x%llx", rip,
	      LAYOUT_PVH_INFO_GPA);
	return 0;
}

int boot_check_files(const struct vm_config *cfg)
{
	struct file_map kernel, initrd = { 0 };
	int ret;

	ret = map_file("--kernel", cfg->kernel, &kernel);
	if (ret)
		return ret;
	if (!pvh_probe(kernel.data, kernel.len) && !bzimage_probe(kernel.data, kernel.len)) {
		log_err("--kernel %s: neither an ELF file nor a Linux bzImage", cfg->kernel);
		ret = -ENOEXEC;
	}
	if (!ret && cfg->initrd)
		ret = map_file("--initrd", cfg->initrd, &initrd);
	unmap_file(&initrd);
	unmap_file(&kernel);
	return ret;
}

int boot_load(struct vm *vm, const struct vm_config *cfg, struct boot_entry *entry)
{
	struct file_map kernel, initrd = { 0 };
	uint64_t rsdp = 0;
	int ret;

	ret = map_file("--kernel", cfg->kernel, &kernel);
	if (ret)
		return ret;
	if (cfg->initrd) {
		ret = map_file("--initrd", cfg->initrd, &initrd);
		if (ret)
			goto out;
	}
	ret = acpi_build(&vm->layout, vm->nr_cpus, vm->ram + LAYOUT_ACPI_GPA, LAYOUT_ACPI_SIZE,
			 LAYOUT_ACPI_GPA, &rsdp);
	if (ret < 0) {
		log_err("building ACPI tables: %s", strerror(-ret));
		goto out;
	}
	trace(LOG_BOOT, "ACPI tables: %d bytes at 0x%llx, RSDP at 0x%llx", ret, LAYOUT_ACPI_GPA,
	      (unsigned long long)rsdp);

	if (pvh_probe(kernel.data, kernel.len)) {
		ret = boot_pvh(vm, cfg, &kernel, &initrd, rsdp, entry);
	} else if (bzimage_probe(kernel.data, kernel.len)) {
		uint64_t rip, zp;

		ret = bzimage_load(vm->ram, vm->layout.low_ram_end, &vm->layout, kernel.data,
				   kernel.len, initrd.data, initrd.len, cfg->cmdline, rsdp, &rip, &zp);
		entry->mode = BOOT_LINUX64;
		entry->rip = rip;
		entry->arg = zp;
	} else {
		log_err("--kernel %s: neither an ELF file nor a Linux bzImage", cfg->kernel);
		ret = -ENOEXEC;
	}
out:
	unmap_file(&initrd);
	unmap_file(&kernel);
	return ret < 0 ? ret : 0;
}
