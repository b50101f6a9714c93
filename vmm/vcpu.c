// SPDX-License-Identifier: MIT
/*
 * vCPUs: creation (CPUID, LAPIC LINT pins), the boot CPU's entry state for
 * PVH (32-bit flat) or the Linux 64-bit protocol (long mode, identity
 * paging), and the run loop that sends PIO/MMIO exits to the buses.
 */
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/exit_codes.h"
#include "util/log.h"
#include "vmm/vm.h"

#define CR0_PE	(1ULL << 0)
#define CR0_MP	(1ULL << 1)
#define CR0_ET	(1ULL << 4)
#define CR0_NE	(1ULL << 5)
#define CR0_WP	(1ULL << 16)
#define CR0_PG	(1ULL << 31)
#define CR4_PAE	(1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI	0x4

static int vcpu_setup_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c;
	int n = 256, ret = 0;
	bool tsc_deadline = ioctl(vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0;

	c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	c->nent = n;
	if (ioctl(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		ret = -errno;
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
		goto out;
	}
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC id, and tell the guest it is virtualized. */
			e->ebx = (e->ebx & 0x00ffffff) | (vcpu->id << 24);
			e->ecx |= 1u << 31;
			/* KVM emulates the TSC deadline timer but leaves the bit to us. */
			if (tsc_deadline)
				e->ecx |= 1u << 24;
			break;
		case 0xb:
		case 0x1f:
			e->edx = vcpu->id;
			break;
		}
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		log_err("KVM_SET_CPUID2: %s", strerror(-ret));
	}
out:
	free(c);
	return ret;
}

/* LINT0 as ExtINT and LINT1 as NMI, as firmware leaves a PC's BSP. */
static int vcpu_setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state s;
	uint32_t *lint0, *lint1;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &s) < 0)
		return -errno;
	lint0 = (uint32_t *)&s.regs[APIC_LVT_LINT0];
	lint1 = (uint32_t *)&s.regs[APIC_LVT_LINT1];
	*lint0 = (*lint0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700u) | (APIC_MODE_NMI << 8);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &s) < 0)
		return -errno;
	return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id)
{
	int size, ret;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VCPU %u: %s", id, strerror(-ret));
		return ret;
	}
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0) {
		log_err("KVM_GET_VCPU_MMAP_SIZE failed");
		return -EINVAL;
	}
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		ret = -errno;
		log_err("mmap of vCPU %u run area: %s", id, strerror(-ret));
		return ret;
	}
	vcpu->run_size = (size_t)size;
	ret = vcpu_setup_cpuid(vcpu);
	if (ret)
		return ret;
	ret = vcpu_setup_lapic(vcpu);
	if (ret)
		log_err("vCPU %u LAPIC setup: %s", id, strerror(-ret));
	trace(LOG_KVM, "KVM_CREATE_VCPU %u (fd %d, run area %d bytes)", id, vcpu->fd, size);
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	vcpu->run = NULL;
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->fd = -1;
}

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0,
		.g = 1,
	};
}

/* A GDT descriptor built from the same fields KVM takes in kvm_segment. */
static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t lim = s->limit >> 12;	/* g=1 */

	return (lim & 0xffff) | ((s->base & 0xffffffULL) << 16) | ((uint64_t)s->type << 40) |
	       ((uint64_t)s->s << 44) | ((uint64_t)s->dpl << 45) | ((uint64_t)s->present << 47) |
	       (((lim >> 16) & 0xf) << 48) | ((uint64_t)s->l << 53) | ((uint64_t)s->db << 54) |
	       ((uint64_t)s->g << 55) | (((s->base >> 24) & 0xff) << 56);
}

/* Identity map of the first 4 GiB with 2 MiB pages, for the 64-bit entry. */
static int build_identity_paging(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa_to_hva(vm, LAYOUT_PML4_GPA, 4096);
	uint64_t *pdpt = vm_gpa_to_hva(vm, LAYOUT_PDPT_GPA, 4096);
	uint64_t *pd = vm_gpa_to_hva(vm, LAYOUT_PD_GPA, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -EINVAL;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT_GPA | 0x3;	/* present, writable */
	for (int i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD_GPA + i * 4096ULL) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;	/* present, writable, 2 MiB page */
	return 0;
}

int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 0x2, .rip = entry->rip };
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_segment code, data;
	uint64_t *gdt = vm_gpa_to_hva(vm, LAYOUT_GDT_GPA, 4 * 8);
	int ret;

	if (!gdt)
		return -EINVAL;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;

	if (entry->mode == BOOT_PVH32) {
		/* PVH: flat 32-bit code at 0x08, data at 0x10, paging off. */
		code = flat_segment(0x08, 0xb, false);
		data = flat_segment(0x10, 0x3, false);
		gdt[0] = 0;
		gdt[1] = gdt_entry(&code);
		gdt[2] = gdt_entry(&data);
		gdt[3] = 0;
		s.cr0 = CR0_PE | CR0_ET;
		s.cr4 = 0;
		s.efer = 0;
		r.rbx = entry->arg;
	} else {
		/* Linux 64-bit protocol: __BOOT_CS 0x10, __BOOT_DS 0x18. */
		code = flat_segment(0x10, 0xb, true);
		data = flat_segment(0x18, 0x3, false);
		gdt[0] = gdt[1] = 0;
		gdt[2] = gdt_entry(&code);
		gdt[3] = gdt_entry(&data);
		ret = build_identity_paging(vm);
		if (ret)
			return ret;
		s.cr3 = LAYOUT_PML4_GPA;
		s.cr4 = CR4_PAE;
		s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
		s.efer = EFER_LME | EFER_LMA;
		r.rsi = entry->arg;
	}
	s.gdt.base = LAYOUT_GDT_GPA;
	s.gdt.limit = 4 * 8 - 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;

	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0) {
		ret = -errno;
		log_err("setting vCPU %u boot registers: %s", vcpu->id, strerror(-ret));
		return ret;
	}
	trace(LOG_BOOT, "vCPU %u starts in %s mode at 0x%llx (%s=0x%llx)", vcpu->id,
	      entry->mode == BOOT_PVH32 ? "32-bit PVH" : "64-bit Linux",
	      (unsigned long long)entry->rip, entry->mode == BOOT_PVH32 ? "ebx" : "rsi",
	      (unsigned long long)entry->arg);
	return 0;
}

void vcpu_dump_regs(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		log_err("vCPU %u: cannot read registers", vcpu->id);
		return;
	}
	fprintf(stderr,
		"vCPU %u registers:\n"
		" rip %016llx rsp %016llx rflags %016llx\n"
		" rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		" rsi %016llx rdi %016llx rbp %016llx\n"
		" r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		" r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		" cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx\n"
		" cs %04x (base %llx l=%u db=%u) ss %04x ds %04x\n",
		vcpu->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4,
		s.efer, s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector, s.ds.selector);
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* String I/O (rep ins/outs) arrives as count back-to-back items. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			if (!bus_write(&vcpu->vm->pio, run->io.port, data, run->io.size))
				trace(LOG_EXIT, "unclaimed PIO write port 0x%x size %u", run->io.port,
				      run->io.size);
		} else if (!bus_read(&vcpu->vm->pio, run->io.port, data, run->io.size)) {
			trace(LOG_EXIT, "unclaimed PIO read port 0x%x size %u -> all ones",
			      run->io.port, run->io.size);
		}
	}
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint64_t addr = run->mmio.phys_addr;

	if (run->mmio.is_write) {
		if (!bus_write(&vcpu->vm->mmio, addr, run->mmio.data, run->mmio.len))
			trace(LOG_EXIT, "unclaimed MMIO write 0x%llx len %u",
			      (unsigned long long)addr, run->mmio.len);
	} else if (!bus_read(&vcpu->vm->mmio, addr, run->mmio.data, run->mmio.len)) {
		trace(LOG_EXIT, "unclaimed MMIO read 0x%llx len %u -> all ones",
		      (unsigned long long)addr, run->mmio.len);
	}
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
	default: return "other";
	}
}

/* Returns true when the vCPU should keep running. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	vcpu->exits++;
	if (trace_on(LOG_EXIT) && run->exit_reason == KVM_EXIT_IO)
		log_trace(LOG_EXIT, "vCPU %u exit IO %s port 0x%x size %u count %u", vcpu->id,
			  run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
			  run->io.size, run->io.count);
	else if (trace_on(LOG_EXIT) && run->exit_reason == KVM_EXIT_MMIO)
		log_trace(LOG_EXIT, "vCPU %u exit MMIO %s 0x%llx len %u", vcpu->id,
			  run->mmio.is_write ? "write" : "read",
			  (unsigned long long)run->mmio.phys_addr, run->mmio.len);
	else
		trace(LOG_EXIT, "vCPU %u exit %s (%u)", vcpu->id, exit_name(run->exit_reason),
		      run->exit_reason);

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		log_info("guest %s", run->system_event.type == KVM_SYSTEM_EVENT_RESET ?
					     "reset" : "powered off");
		vm_request_stop(vm, 0);
		return false;
	case KVM_EXIT_SHUTDOWN:
		log_err("vCPU %u: guest triple fault (KVM_EXIT_SHUTDOWN)", vcpu->id);
		vcpu_dump_regs(vcpu);
		vm_request_stop(vm, VMM_EXIT_GUEST_CRASH);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_err("vCPU %u: KVM could not enter the guest (hardware reason 0x%llx)", vcpu->id,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump_regs(vcpu);
		vm_request_stop(vm, VMM_EXIT_KVM_ERROR);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_err("vCPU %u: KVM internal error, suberror %u%s", vcpu->id,
			run->internal.suberror,
			run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				" (instruction emulation failed)" : "");
		vcpu_dump_regs(vcpu);
		vm_request_stop(vm, VMM_EXIT_KVM_ERROR);
		return false;
	default:
		log_err("vCPU %u: unexpected exit reason %u", vcpu->id, run->exit_reason);
		vcpu_dump_regs(vcpu);
		vm_request_stop(vm, VMM_EXIT_KVM_ERROR);
		return false;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	/* Before the first KVM_RUN: from here the guest drives this thread. */
	if (seccomp_install(SECCOMP_VCPU)) {
		vm_request_stop(vm, VMM_EXIT_SETUP);
		return NULL;
	}
	while (!vm_stopping(vm)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_err("vCPU %u: KVM_RUN: %s", vcpu->id, strerror(errno));
			vm_request_stop(vm, VMM_EXIT_KVM_ERROR);
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	return NULL;
}
