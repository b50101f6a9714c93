// SPDX-License-Identifier: MIT
/*
 * vmm/pvh.c with a hostile ELF file: pvh_probe, pvh_parse, and when that
 * accepts it, pvh_load_segments into guest RAM that is a heap block of
 * exactly the RAM size (ASan reports any write past it) and
 * pvh_write_start_info. The input is the file; the padding in e_ident,
 * which pvh_parse ignores, picks the RAM size (byte 9) and an initrd size for
 * the start info (byte 10). Beyond memory safety, an accepted file must have
 *  - its entry point inside the file bytes of a PT_LOAD segment,
 *  - every PT_LOAD segment inside [1 MiB, end of RAM),
 *  - after loading, each segment's bytes in RAM followed by zeroed bss
 *    (checked when no two segments overlap).
 */
#include <elf.h>
#include <errno.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/layout.h"
#include "vmm/pvh.h"

#define MiB (1ULL << 20)

static const uint64_t ram_sizes[] = { 2 * MiB + 0x1001, 4 * MiB, 16 * MiB };
static uint8_t *rams[3];
static struct layout layout;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	for (unsigned int i = 0; i < 3; i++) {
		rams[i] = malloc(ram_sizes[i]);
		if (!rams[i])
			abort();
	}
	if (layout_init(&layout, 16 * MiB, 40))
		abort();
	return 0;
}

/* The program headers, read independently of pvh.c (and without its casts). */
static Elf64_Phdr get_phdr(const uint8_t *img, const Elf64_Ehdr *eh, unsigned int i)
{
	Elf64_Phdr ph;

	memcpy(&ph, img + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
	return ph;
}

static bool overlap(const Elf64_Phdr *a, const Elf64_Phdr *b)
{
	return a->p_memsz && b->p_memsz && a->p_paddr < b->p_paddr + b->p_memsz &&
	       b->p_paddr < a->p_paddr + a->p_memsz;
}

static void check_accepted(const uint8_t *img, size_t size, uint64_t ram_size, uint32_t entry)
{
	Elf64_Ehdr eh;
	bool entry_in_load = false;

	memcpy(&eh, img, sizeof(eh));
	FUZZ_CHECK(eh.e_phoff <= size && eh.e_phnum * sizeof(Elf64_Phdr) <= size - eh.e_phoff,
		   "accepted program headers outside the file");
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = get_phdr(img, &eh, i);

		FUZZ_CHECK(ph.p_offset <= size && ph.p_filesz <= size - ph.p_offset,
			   "segment %u outside the file", i);
		if (ph.p_type != PT_LOAD)
			continue;
		FUZZ_CHECK(ph.p_paddr >= LAYOUT_KERNEL_GPA && ph.p_filesz <= ph.p_memsz &&
				   ph.p_memsz <= ram_size && ph.p_paddr <= ram_size - ph.p_memsz,
			   "segment %u at %#llx+%#llx, RAM ends at %#llx", i,
			   (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
			   (unsigned long long)ram_size);
		if (entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_filesz)
			entry_in_load = true;
	}
	FUZZ_CHECK(entry_in_load, "entry %#x is not inside any loaded segment", entry);
}

static void check_loaded(const uint8_t *img, const uint8_t *ram)
{
	Elf64_Ehdr eh;

	memcpy(&eh, img, sizeof(eh));
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = get_phdr(img, &eh, i);

		if (ph.p_type != PT_LOAD)
			continue;
		FUZZ_CHECK(!memcmp(ram + ph.p_paddr, img + ph.p_offset, ph.p_filesz),
			   "segment %u's bytes differ in guest RAM", i);
		for (uint64_t b = ph.p_filesz; b < ph.p_memsz; b++)
			FUZZ_CHECK(ram[ph.p_paddr + b] == 0, "segment %u's bss not zeroed at +%#llx",
				   i, (unsigned long long)b);
	}
}

static bool any_overlap(const uint8_t *img)
{
	Elf64_Ehdr eh;

	memcpy(&eh, img, sizeof(eh));
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr a = get_phdr(img, &eh, i);

		for (unsigned int j = 0; a.p_type == PT_LOAD && j < i; j++) {
			Elf64_Phdr b = get_phdr(img, &eh, j);

			if (b.p_type == PT_LOAD && overlap(&a, &b))
				return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int which = size > EI_PAD ? data[EI_PAD] % 3 : 0;
	uint8_t *ram = rams[which];
	const struct hvm_start_info *si;
	uint64_t initrd_size;
	uint32_t entry = 0;
	bool probe = pvh_probe(data, size);
	int ret;

	ret = pvh_parse(data, size, ram_sizes[which], &entry);
	FUZZ_CHECK(ret == 0 || ret == -ENOEXEC || ret == -E2BIG, "pvh_parse: %d", ret);
	FUZZ_CHECK(probe || ret, "pvh_parse accepted what pvh_probe refused");
	if (ret)
		return 0;
	check_accepted(data, size, ram_sizes[which], entry);
	pvh_load_segments(data, ram);
	if (!any_overlap(data))
		check_loaded(data, ram);
	/* e_ident[10] (also padding): an initrd module or none. */
	initrd_size = data[EI_PAD + 1] * 4096ull;
	pvh_write_start_info(ram, &layout, LAYOUT_CMDLINE_GPA, initrd_size ? 0x180000 : 0,
			     initrd_size, LAYOUT_ACPI_GPA);
	si = (const void *)(ram + LAYOUT_PVH_INFO_GPA);
	FUZZ_CHECK(si->magic == PVH_START_MAGIC && si->memmap_entries <= 16 &&
			   si->memmap_paddr + 16 * sizeof(struct hvm_memmap_entry) <=
				   LAYOUT_PVH_INFO_GPA + 4096 &&
			   si->nr_modules == !!initrd_size &&
			   (!initrd_size || si->modlist_paddr < LAYOUT_PVH_INFO_GPA + 4096),
		   "start info");
	return 0;
}
