/* SPDX-License-Identifier: MIT */
/*
 * PVH entry for the test guests: the VMM jumps here in 32-bit protected mode
 * with paging off and EBX pointing at struct hvm_start_info. We build our own
 * GDT and identity page tables, enter long mode, zero .bss and call
 * runtime_main(start_info) in C.
 */

#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define CR0_PE		(1 << 0)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)

#define PTE_P		(1 << 0)
#define PTE_RW		(1 << 1)
#define PTE_PWT		(1 << 3)
#define PTE_PCD		(1 << 4)
#define PTE_PS		(1 << 7)

/*
 * The first 64 GiB in 2 MiB pages (one PD page per GiB), so the 32-bit
 * MMIO hole can be uncached on its own; above that, up to 4 TiB in 1 GiB
 * pages, where the VMM puts 64-bit BARs (a 256 GiB BAR2, eight of them).
 * GUEST_MAPPED_LIMIT in pvh.h is the top.
 */
#define MAP_GIB		64
#define NR_PDPT		8
#define PD_ENTRIES	(MAP_GIB * 512)
/* PD index of 3 GiB: the 32-bit MMIO hole (BARs, ECAM, IOAPIC, LAPIC) is uncached. */
#define PD_HOLE_START	(3 * 512)
#define PD_HOLE_END	(4 * 512)

#define SEL_CODE64	0x08
#define SEL_DATA	0x10
#define SEL_CODE32	0x18

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 4				/* descsz: a 32-bit entry address */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_start32

	.section .text.boot, "ax", @progbits
	.code32
	.globl pvh_start32
pvh_start32:
	/* .data, not .bss: .bss is zeroed later. */
	movl %ebx, pvh_start_info
	/* Record the entry state the VMM promised, for the hello test to check. */
	movl $boot_stack_top, %esp
	pushfl
	popl entry_state + 8
	cli
	cld
	movw %cs, entry_state
	movw %ds, entry_state + 2
	movw %ss, entry_state + 4
	movl %cr0, %eax
	movl %eax, entry_state + 12

	lgdt gdt_desc
	ljmp $SEL_CODE32, $1f
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $boot_stack_top, %esp

	/* PML4 and PDPTs: clear, then link the NR_PDPT PDPTs and MAP_GIB PDs. */
	xorl %eax, %eax
	movl $pml4, %edi
	movl $((1 + NR_PDPT) * 4096 / 4), %ecx
	rep stosl
	movl $(pdpt + PTE_P + PTE_RW), %eax
	xorl %ecx, %ecx
6:	movl %eax, pml4(, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $NR_PDPT, %ecx
	jb 6b

	/* The PDPTs follow each other: entry n maps GiB n. Above MAP_GIB, 1 GiB pages. */
	movl $pdpt, %edi
	movl $MAP_GIB, %ecx
7:	movl %ecx, %eax
	shll $30, %eax
	orl $(PTE_P + PTE_RW + PTE_PS), %eax
	movl %ecx, %edx
	shrl $2, %edx
	movl %eax, (%edi, %ecx, 8)
	movl %edx, 4(%edi, %ecx, 8)
	incl %ecx
	cmpl $(NR_PDPT * 512), %ecx
	jb 7b

	movl $(pd + PTE_P + PTE_RW), %eax
	movl $MAP_GIB, %ecx
2:	movl %eax, (%edi)
	addl $8, %edi
	addl $4096, %eax
	decl %ecx
	jnz 2b

	/*
	 * Every PD entry maps a 2 MiB page of the same address. EDX:EAX is the
	 * 64-bit entry; the loop is kept short because guest code is slow here.
	 */
	movl $pd, %edi
	movl $(PTE_P + PTE_RW + PTE_PS), %eax
	xorl %edx, %edx
	xorl %ecx, %ecx
3:	movl %eax, (%edi, %ecx, 8)
	movl %edx, 4(%edi, %ecx, 8)
	addl $0x200000, %eax
	adcl $0, %edx
	incl %ecx
	cmpl $PD_ENTRIES, %ecx
	jb 3b

	movl $PD_HOLE_START, %ecx
4:	orl $(PTE_PCD + PTE_PWT), (%edi, %ecx, 8)
	incl %ecx
	cmpl $PD_HOLE_END, %ecx
	jb 4b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG + CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movabsq $boot_stack_top, %rsp

	movabsq $__bss_start, %rdi
	movabsq $__bss_end, %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq

	movl pvh_start_info, %edi
	call runtime_main
	/* runtime_main never returns; stop hard if it does. */
5:	cli
	hlt
	jmp 5b

	.section .rodata
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf93000000ffff	/* 0x10: flat data */
	.quad 0x00cf9b000000ffff	/* 0x18: flat 32-bit code */
gdt_end:
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .data
	.balign 8
	.globl pvh_start_info
pvh_start_info:
	.quad 0
	/* struct entry_state (pvh.h) */
	.globl entry_state
entry_state:
	.word 0, 0, 0, 0	/* cs, ds, ss, pad */
	.long 0			/* eflags */
	.long 0			/* cr0 */

	/* Not in .bss (so not zeroed twice): the boot code writes every entry. */
	.section .pgtables, "aw", @nobits
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip NR_PDPT * 4096
pd:	.skip PD_ENTRIES * 8

	.section .stack, "aw", @nobits
	.balign 4096
	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
