// SPDX-License-Identifier: MIT
#include "vmm/pvh.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "util/log.h"

bool pvh_probe(const void *img, size_t len)
{
	const Elf64_Ehdr *eh = img;

	return len >= sizeof(*eh) && !memcmp(eh->e_ident, ELFMAG, SELFMAG);
}

/* Copied out: e_phoff and note offsets come from the file, aligned or not. */
static Elf64_Phdr phdr(const void *img, unsigned int i)
{
	const Elf64_Ehdr *eh = img;
	Elf64_Phdr ph;

	memcpy(&ph, (const uint8_t *)img + eh->e_phoff + (size_t)i * eh->e_phentsize, sizeof(ph));
	return ph;
}

/* Walks one PT_NOTE segment for the Xen PHYS32_ENTRY note. */
static bool find_pvh_note(const uint8_t *p, uint64_t size, uint32_t *entry)
{
	uint64_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= size) {
		Elf64_Nhdr n;
		uint64_t name_off, desc_off, next;

		memcpy(&n, p + off, sizeof(n));
		name_off = off + sizeof(n);
		/* Rounded up in 64 bits: a size near 4 GiB must not wrap to 0. */
		desc_off = name_off + (((uint64_t)n.n_namesz + 3) & ~3ull);
		next = desc_off + (((uint64_t)n.n_descsz + 3) & ~3ull);
		if (next > size || next <= off)
			return false;
		if (n.n_namesz == 4 && !memcmp(p + name_off, "Xen", 4) &&
		    n.n_type == XEN_ELFNOTE_PHYS32_ENTRY && n.n_descsz >= 4) {
			memcpy(entry, p + desc_off, 4);
			return true;
		}
		off = next;
	}
	return false;
}

/* The entry must be code the file brings, or the vCPU starts in garbage. */
static bool entry_is_loaded(const void *img, unsigned int phnum, uint32_t entry)
{
	for (unsigned int i = 0; i < phnum; i++) {
		Elf64_Phdr ph = phdr(img, i);

		if (ph.p_type == PT_LOAD && entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_filesz)
			return true;
	}
	return false;
}

int pvh_parse(const void *img, size_t len, uint64_t low_ram_end, uint32_t *entry)
{
	const Elf64_Ehdr *eh = img;
	bool found = false;

	if (!pvh_probe(img, len) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64) {
		log_err("kernel is not an x86-64 ELF file");
		return -ENOEXEC;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
		log_err("kernel ELF program headers are truncated");
		return -ENOEXEC;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph = phdr(img, i);

		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset ||
		    (ph.p_type == PT_LOAD && ph.p_filesz > ph.p_memsz)) {
			log_err("kernel ELF segment %u lies outside the file", i);
			return -ENOEXEC;
		}
		if (ph.p_type == PT_NOTE && !found)
			found = find_pvh_note((const uint8_t *)img + ph.p_offset, ph.p_filesz, entry);
		if (ph.p_type == PT_LOAD &&
		    (ph.p_paddr < 0x100000 || ph.p_paddr + ph.p_memsz > low_ram_end ||
		     ph.p_paddr + ph.p_memsz < ph.p_paddr)) {
			log_err("kernel ELF segment %u (0x%llx-0x%llx) does not fit in guest RAM below 0x%llx: give more --memory",
				i, (unsigned long long)ph.p_paddr,
				(unsigned long long)(ph.p_paddr + ph.p_memsz),
				(unsigned long long)low_ram_end);
			return -E2BIG;
		}
	}
	if (!found) {
		log_err("kernel ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): use a kernel built with CONFIG_PVH=y, or its bzImage");
		return -ENOEXEC;
	}
	if (!entry_is_loaded(img, eh->e_phnum, *entry)) {
		log_err("kernel ELF's PVH entry 0x%x is not inside a PT_LOAD segment", *entry);
		return -ENOEXEC;
	}
	return 0;
}

uint64_t pvh_kernel_end(const void *img)
{
	const Elf64_Ehdr *eh = img;
	uint64_t end = 0x100000;

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph = phdr(img, i);

		/* pvh_parse() checked paddr + memsz does not wrap. */
		if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
	}
	return end;
}

int pvh_initrd_place(uint64_t low_ram_end, uint64_t kernel_end, uint64_t len, uint64_t *gpa)
{
	uint64_t at;

	if (len > low_ram_end)
		return -E2BIG;
	at = (low_ram_end - len) & ~0xfffULL;
	if (at < kernel_end)
		return -E2BIG;
	*gpa = at;
	return 0;
}

void pvh_load_segments(const void *img, uint8_t *ram)
{
	const Elf64_Ehdr *eh = img;

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph = phdr(img, i);

		if (ph.p_type != PT_LOAD)
			continue;
		memcpy(ram + ph.p_paddr, (const uint8_t *)img + ph.p_offset, ph.p_filesz);
		memset(ram + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		trace(LOG_BOOT, "ELF segment %u -> 0x%llx-0x%llx", i,
		      (unsigned long long)ph.p_paddr,
		      (unsigned long long)(ph.p_paddr + ph.p_memsz));
	}
}

int pvh_write_start_info(uint8_t *ram, const struct layout *l, uint64_t cmdline_gpa,
			 uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa)
{
	struct hvm_start_info *si = (void *)(ram + LAYOUT_PVH_INFO_GPA);
	struct hvm_modlist_entry *mod = (void *)(si + 1);
	struct hvm_memmap_entry *mm = (void *)(mod + 1);
	struct e820_entry e820[16];
	int n = layout_e820(l, e820, 16);

	/* All of it must stay within the page reserved for it. */
	_Static_assert(sizeof(*si) + sizeof(*mod) + 16 * sizeof(*mm) <= 0x1000,
		       "PVH start info overflows its page");
	memset(si, 0, 0x1000);
	si->magic = PVH_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = cmdline_gpa;
	si->rsdp_paddr = rsdp_gpa;
	if (initrd_size) {
		mod->paddr = initrd_gpa;
		mod->size = initrd_size;
		si->nr_modules = 1;
		si->modlist_paddr = LAYOUT_PVH_INFO_GPA + sizeof(*si);
	}
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ .addr = e820[i].addr, .size = e820[i].size,
						   .type = e820[i].type };
	si->memmap_paddr = LAYOUT_PVH_INFO_GPA + sizeof(*si) + sizeof(*mod);
	si->memmap_entries = (uint32_t)n;
	return 0;
}
