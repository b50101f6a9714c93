// SPDX-License-Identifier: MIT
/*
 * PVH initrd placement (vmm/pvh.c: pvh_kernel_end, pvh_initrd_place, as
 * vmm/boot.c calls them): a hostile kernel's segment layout against a hostile
 * initrd size and RAM size. (The bzImage initrd is placed by bzimage_load and
 * checked by fuzz_bzimage.)
 *
 * Input: low RAM size (u32, at least 2 MiB), the number of PT_LOAD segments
 * (1-4), each segment's paddr, memsz (u32 each) and file size (u8), then
 * initrd sizes (u32 or u64) until the input ends. The ELF is built here with
 * a PVH note whose entry is the first segment's start; a file pvh_parse
 * refuses is not placed (boot_pvh stops there too).
 *
 * Invariants: an accepted initrd is page aligned, wholly inside low RAM,
 * above every segment's end (bss included) and above 1 MiB (the boot
 * structures, the command line and the ACPI tables lie below); the initrd
 * is refused exactly when no page-aligned place at the top of RAM is above
 * the kernel, i.e. "too big" is an error and never a silent overlap.
 */
#include <elf.h>
#include <errno.h>

#include "vmm/pvh.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_SEGS	4
#define MiB		(1ULL << 20)

struct seg {
	uint64_t paddr, memsz;
	unsigned int filesz;
};

static uint8_t img[sizeof(Elf64_Ehdr) + (MAX_SEGS + 1) * sizeof(Elf64_Phdr) + 32 +
		   MAX_SEGS * 255];

/* An ELF with the given PT_LOADs and a Xen PHYS32_ENTRY note; its length. */
static size_t build(const struct seg *s, unsigned int n, uint32_t entry)
{
	Elf64_Ehdr eh = { 0 };
	size_t off = sizeof(eh) + (n + 1) * sizeof(Elf64_Phdr);
	uint32_t note[5] = { 4, 4, 18, 0, entry };
	Elf64_Phdr ph;

	memset(img, 0x90, sizeof(img));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)(n + 1);
	memcpy(img, &eh, sizeof(eh));
	memcpy(note + 3, "Xen", 4);
	ph = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off, .p_filesz = sizeof(note) };
	memcpy(img + sizeof(eh), &ph, sizeof(ph));
	memcpy(img + off, note, sizeof(note));
	off += sizeof(note);
	for (unsigned int i = 0; i < n; i++) {
		ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = off, .p_paddr = s[i].paddr,
				   .p_vaddr = s[i].paddr, .p_filesz = s[i].filesz,
				   .p_memsz = s[i].memsz };
		memcpy(img + sizeof(eh) + (i + 1) * sizeof(ph), &ph, sizeof(ph));
		off += s[i].filesz;
	}
	return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct fuzz_in in = { data, size };
	struct seg s[MAX_SEGS];
	uint64_t ram, end, seg_end = MiB;
	unsigned int n, tries = 0;
	uint32_t entry;
	size_t len;

	if (!init) {
		fuzz_quiet();
		init = true;
	}
	ram = 2 * MiB + fuzz_u32(&in) % (3072 * MiB - 2 * MiB + 1);
	n = 1 + fuzz_u8(&in) % MAX_SEGS;
	for (unsigned int i = 0; i < n; i++) {
		s[i].paddr = fuzz_u32(&in);
		s[i].filesz = fuzz_u8(&in);
		s[i].memsz = s[i].filesz + fuzz_u32(&in);
	}
	len = build(s, n, (uint32_t)s[0].paddr);
	if (pvh_parse(img, len, ram, &entry))
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		FUZZ_CHECK(s[i].paddr >= MiB && s[i].paddr + s[i].memsz <= ram,
			   "accepted segment %#llx+%#llx in %#llx of RAM",
			   (unsigned long long)s[i].paddr, (unsigned long long)s[i].memsz,
			   (unsigned long long)ram);
		if (s[i].paddr + s[i].memsz > seg_end)
			seg_end = s[i].paddr + s[i].memsz;
	}
	end = pvh_kernel_end(img);
	FUZZ_CHECK(end == seg_end, "kernel end %#llx, the segments end at %#llx",
		   (unsigned long long)end, (unsigned long long)seg_end);

	while (fuzz_more(&in) && tries++ < 64) {
		uint8_t sel = fuzz_u8(&in);
		uint64_t ilen = sel & 1 ? fuzz_u64(&in) : fuzz_u32(&in), gpa = 0;
		bool fits = ilen <= ram && ((ram - ilen) & ~0xfffULL) >= seg_end;
		int ret = pvh_initrd_place(ram, end, ilen, &gpa);

		FUZZ_CHECK(ret == (fits ? 0 : -E2BIG), "initrd %#llx in %#llx, kernel end %#llx: %d",
			   (unsigned long long)ilen, (unsigned long long)ram,
			   (unsigned long long)seg_end, ret);
		if (ret)
			continue;
		FUZZ_CHECK(gpa == ((ram - ilen) & ~0xfffULL) && gpa >= seg_end && gpa >= MiB && gpa <= ram &&
			   ilen <= ram - gpa,
			   "initrd %#llx bytes at %#llx: RAM %#llx, kernel end %#llx",
			   (unsigned long long)ilen, (unsigned long long)gpa,
			   (unsigned long long)ram, (unsigned long long)seg_end);
	}
	return 0;
}
