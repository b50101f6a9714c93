// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/pvh.h"

/* A minimal ELF64: one PT_LOAD at 1 MiB and one PT_NOTE with the Xen note. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	struct {
		Elf64_Nhdr n;
		char name[4];
		uint32_t entry;
	} note;
	uint8_t code[64];
};

static void make_image(struct image *img, uint32_t entry, uint64_t paddr, uint64_t memsz)
{
	memset(img, 0, sizeof(*img));
	memcpy(img->eh.e_ident, ELFMAG, SELFMAG);
	img->eh.e_ident[EI_CLASS] = ELFCLASS64;
	img->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img->eh.e_machine = EM_X86_64;
	img->eh.e_phoff = offsetof(struct image, ph);
	img->eh.e_phentsize = sizeof(Elf64_Phdr);
	img->eh.e_phnum = 2;
	img->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = offsetof(struct image, code),
				   .p_paddr = paddr, .p_filesz = sizeof(img->code),
				   .p_memsz = memsz };
	img->ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = offsetof(struct image, note),
				   .p_filesz = sizeof(img->note) };
	img->note.n = (Elf64_Nhdr){ .n_namesz = 4, .n_descsz = 4,
				    .n_type = XEN_ELFNOTE_PHYS32_ENTRY };
	memcpy(img->note.name, "Xen", 4);
	img->note.entry = entry;
	for (unsigned int i = 0; i < sizeof(img->code); i++)
		img->code[i] = (uint8_t)(0x90 + i);
}

Test(pvh, finds_entry_and_loads_segments_with_bss)
{
	static uint8_t ram[2 << 20];
	struct image img;
	uint32_t entry = 0;

	make_image(&img, 0x100020, 0x100000, 0x1000);	/* inside code[] */
	memset(ram, 0xee, sizeof(ram));
	cr_assert(pvh_probe(&img, sizeof(img)));
	cr_assert_eq(pvh_parse(&img, sizeof(img), sizeof(ram), &entry), 0);
	cr_assert_eq(entry, 0x100020);
	pvh_load_segments(&img, ram);
	cr_assert_eq(memcmp(ram + 0x100000, img.code, sizeof(img.code)), 0);
	cr_assert_eq(ram[0x100000 + sizeof(img.code)], 0, "bss is zeroed");
	cr_assert_eq(ram[0x100fff], 0);
	cr_assert_eq(ram[0x101000], 0xee, "nothing past memsz touched");
}

Test(pvh, rejects_bad_images)
{
	struct image img;
	uint32_t entry;

	make_image(&img, 0x100000, 0x100000, 64);
	img.note.n.n_type = 17;
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC, "no PVH note");

	make_image(&img, 0x100000, 0x100000, 64 << 20);
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -E2BIG, "too big for RAM");

	make_image(&img, 0x100000, 0x1000, 64);
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -E2BIG, "below 1 MiB");

	make_image(&img, 0x100000, 0x100000, 64);
	img.ph[0].p_filesz = 1 << 20;
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC, "truncated");

	make_image(&img, 0x100000, 0x100000, 64);
	img.eh.e_phnum = 1000;
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC);

	make_image(&img, 0x100000, 0x100000, 64);
	img.note.n.n_namesz = 0xfffffff0;
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC, "hostile note");

	cr_assert_not(pvh_probe("MZ\0\0", 4));

	/* Found by tests/fuzz: an entry no segment brings used to be accepted. */
	make_image(&img, 0x40100000, 0x100000, 64);
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC, "entry outside");
	make_image(&img, 0x100000 + 64, 0x100000, 0x1000);
	cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC, "entry in bss");
}

/*
 * Found while writing tests/fuzz: a descsz near 4 GiB rounded up to 0 in 32
 * bits, and the entry was read from past the note (here past the file: the
 * ASan build of the unit tests reports that read on the old code).
 */
Test(pvh, note_descsz_near_4g_is_not_a_zero_sized_desc)
{
	size_t len = offsetof(struct image, note.entry);
	struct image *img = malloc(sizeof(*img));
	uint8_t *cut;
	uint32_t entry;

	cr_assert_not_null(img);
	make_image(img, 0x100000, 0x100000, 64);
	/* The note last in a file that ends after its name. */
	img->ph[0].p_offset = 0;
	img->ph[0].p_filesz = 64;
	img->ph[1].p_filesz = sizeof(img->note.n) + sizeof(img->note.name);
	img->note.n.n_descsz = 0xffffffff;
	cut = malloc(len);
	cr_assert_not_null(cut);
	memcpy(cut, img, len);
	cr_assert_eq(pvh_parse(cut, len, 16 << 20, &entry), -ENOEXEC);
	free(cut);
	free(img);
}

Test(pvh, start_info_memmap_matches_layout)
{
	static uint8_t ram[1 << 20];
	struct layout l;
	struct e820_entry e[16];
	const struct hvm_start_info *si = (void *)(ram + LAYOUT_PVH_INFO_GPA);
	const struct hvm_memmap_entry *mm;
	const struct hvm_modlist_entry *mod;
	int n;

	cr_assert_eq(layout_init(&l, 6ULL << 30, 40), 0);
	n = layout_e820(&l, e, 16);
	pvh_write_start_info(ram, &l, LAYOUT_CMDLINE_GPA, 0x7000000, 12345, LAYOUT_ACPI_GPA);
	cr_assert_eq(si->magic, PVH_START_MAGIC);
	cr_assert_eq(si->version, 1);
	cr_assert_eq(si->cmdline_paddr, LAYOUT_CMDLINE_GPA);
	cr_assert_eq(si->rsdp_paddr, LAYOUT_ACPI_GPA);
	cr_assert_eq(si->memmap_entries, (uint32_t)n);
	mm = (const void *)(ram + si->memmap_paddr);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(mm[i].addr, e[i].addr);
		cr_assert_eq(mm[i].size, e[i].size);
		cr_assert_eq(mm[i].type, e[i].type);
	}
	cr_assert_eq(si->nr_modules, 1);
	mod = (const void *)(ram + si->modlist_paddr);
	cr_assert_eq(mod->paddr, 0x7000000);
	cr_assert_eq(mod->size, 12345);

	pvh_write_start_info(ram, &l, 0, 0, 0, 0);
	cr_assert_eq(si->nr_modules, 0);
	cr_assert_eq(si->cmdline_paddr, 0);
}

/*
 * A hostile kernel file: a Xen note whose descriptor size is near 2^32
 * (0xfffffffd rounds to 0 in 32 bits) and ends where the note segment
 * does. The size check must see the huge descriptor and refuse the note,
 * not read the entry point from past the end of the segment.
 */
Test(pvh, note_size_near_4g_does_not_wrap)
{
	struct image img;
	uint32_t entry = 0;

	for (uint32_t sz = 0xfffffffd; sz >= 0xfffffffd; sz++) {
		make_image(&img, 0x100000, 0x100000, 64);
		img.note.n.n_descsz = sz;
		/* The segment ends right after the name: the descriptor is all outside. */
		img.ph[1].p_filesz = offsetof(struct image, note.entry) - offsetof(struct image, note);
		cr_assert_eq(pvh_parse(&img, sizeof(img), 16 << 20, &entry), -ENOEXEC,
			     "n_descsz %#x accepted (entry %#x read past the note)", sz, entry);
	}
}

/*
 * The initrd goes above the kernel's highest segment, bss included. It used
 * to be kept above 1 MiB + 4 * the file's size, which says nothing of where
 * a segment is linked: a small file with a segment at 16 MiB in 32 MiB of RAM
 * got a 20 MiB initrd at 12 MiB, over the kernel.
 */
Test(pvh, initrd_above_highest_segment_and_bss)
{
	struct image img;
	uint32_t entry;
	uint64_t end, gpa = 0;

	make_image(&img, 0x1000000, 0x1000000, 0x100000);	/* 16 MiB, 1 MiB with bss */
	cr_assert_eq(pvh_parse(&img, sizeof(img), 32 << 20, &entry), 0);
	end = pvh_kernel_end(&img);
	cr_assert_eq(end, 0x1100000);
	cr_assert_eq(pvh_initrd_place(32 << 20, end, 20 << 20, &gpa), -E2BIG,
		     "placed at 0x%llx, over the kernel", (unsigned long long)gpa);
	cr_assert_eq(pvh_initrd_place(32 << 20, end, (15 << 20) + 1, &gpa), -E2BIG);
	cr_assert_eq(pvh_initrd_place(32 << 20, end, 8 << 20, &gpa), 0);
	cr_assert_eq(gpa, 24 << 20);
	cr_assert_eq(pvh_initrd_place(32 << 20, end, 12345, &gpa), 0);
	cr_assert_eq(gpa, (32 << 20) - 0x4000, "page aligned, below the top");
	cr_assert_eq(pvh_initrd_place(32 << 20, end, (32ULL << 20) + 1, &gpa), -E2BIG);
}
