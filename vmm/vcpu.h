/* SPDX-License-Identifier: MIT */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdint.h>

struct vm;
struct kvm_run;

/* How the boot CPU starts: which mode, where, with which register. */
enum boot_mode {
	BOOT_PVH32,	/* 32-bit protected mode, paging off, EBX = start_info */
	BOOT_LINUX64,	/* long mode, identity paging, RSI = boot_params */
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t arg;	/* EBX (PVH) or RSI (Linux 64-bit) */
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	uint64_t exits;
};

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id);
void vcpu_destroy(struct vcpu *vcpu);
/* Sets the BSP's registers for the boot entry; APs wait for INIT/SIPI. */
int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry);
/* The vCPU thread body: KVM_RUN until the VM stops. */
void *vcpu_thread(void *arg);
/* Print registers to stderr (after a guest crash). */
void vcpu_dump_regs(struct vcpu *vcpu);

#endif
