/* SPDX-License-Identifier: MIT */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "devices/bus.h"
#include "devices/guest_mem.h"
#include "devices/pci.h"
#include "vmm/layout.h"
#include "vmm/memslots.h"

struct vcpu;

/* KVM's fixed in-kernel irqchip GSIs (IOAPIC pins); MSI routes follow. */
#define VM_IOAPIC_PINS		24
#define VM_MAX_GSI_ROUTES	1024

struct vm_config {
	uint64_t ram_size;
	unsigned int nr_cpus;
	uint64_t hugepage_size;	/* 0: anonymous 4 KiB pages */
	const char *kernel;
	const char *initrd;
	const char *cmdline;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	struct layout layout;
	unsigned int nr_cpus;

	uint8_t *ram;		/* one host mapping of all guest RAM */
	uint64_t ram_size;
	uint64_t ram_page_size;	/* backing page size (4K, 2M or 1G) */
	struct guest_mem mem;	/* the same RAM as devices may reach it (bounded) */
	struct memslots slots;	/* KVM memslot numbers, reused */

	struct bus pio;
	struct bus mmio;
	struct pci_root pci;
	struct pci_window mmio32;	/* BARs below 4 GiB */
	struct pci_window mmio64;	/* 64-bit BARs above RAM */
	struct pci_host pci_host;	/* what PCI devices get of this VM (pci_host_vm.c) */

	pthread_mutex_t gsi_lock;
	struct kvm_irq_routing *routes;	/* the full table KVM sees */
	uint32_t next_gsi;

	struct vcpu *vcpus;

	/* Set once by whoever ends the VM (power-off, test port, fault). */
	int exit_code;
	bool stopping;
	pthread_mutex_t stop_lock;
};

/* Every function returns 0 or a negative errno; errors are already logged unless said otherwise. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);

/* Enough free huge pages for --memory? (checked before KVM is opened, and again at allocation) */
int vm_check_hugepages(uint64_t size, uint64_t hugepage);
/*
 * Anonymous guest RAM of size bytes starting on a 2 MiB boundary and marked
 * MADV_HUGEPAGE, so transparent huge pages can back it (also where THP is
 * "madvise"), and a huge page's guest and host addresses agree: KVM and the
 * IOMMU can then map it as one 2 MiB page. NULL with errno on failure.
 */
void *vm_map_anon_ram(uint64_t size);

/* Host pointer for [gpa, gpa+len) if it is all guest RAM, else NULL. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* Guest RAM as host ranges, for DMA mapping: calls fn per contiguous chunk. */
int vm_for_each_ram(struct vm *vm, int (*fn)(uint64_t gpa, void *hva, uint64_t size, void *arg),
		    void *arg);

/*
 * A KVM memslot (e.g. a BAR's mmap); returns the slot number or -errno
 * (-ENOSPC: all of KVM_CAP_NR_MEMSLOTS in use). Neither logs: a guest can
 * make these fail at will, so the caller reports it, rate-limited.
 */
int vm_add_memslot(struct vm *vm, uint64_t gpa, uint64_t size, void *hva);
int vm_del_memslot(struct vm *vm, int slot);

/*
 * MSI routes: returns the new GSI or -errno; update and remove by GSI.
 * These and the irqfd calls do not log (a guest drives them): callers do.
 */
int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data);
int vm_msi_route_update(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
int vm_msi_route_remove(struct vm *vm, uint32_t gsi);
/* Attach/detach an eventfd to a GSI; resample_fd < 0 for edge (MSI). */
int vm_irqfd_attach(struct vm *vm, int fd, uint32_t gsi, int resample_fd);
int vm_irqfd_detach(struct vm *vm, int fd, uint32_t gsi);
/* A guest write of len bytes at gpa (port when io) signals fd: KVM_IOEVENTFD. */
int vm_ioeventfd(struct vm *vm, bool assign, bool io, uint64_t gpa, uint32_t len, int fd);
/* Raise/lower an IOAPIC pin directly (emulated devices). */
int vm_set_irq_line(struct vm *vm, uint32_t gsi, int level);

/* Ask all vCPUs to stop; the first caller's exit code wins. */
void vm_request_stop(struct vm *vm, int exit_code);
bool vm_stopping(struct vm *vm);
/*
 * While SIGINT, SIGTERM and SIGHUP are blocked but not yet read (setup, before
 * the console thread reads them through a signalfd): the one pending, or 0.
 */
int vm_pending_stop_signal(void);

/* Runs the vCPU threads until the guest stops; returns the exit code. */
int vm_run(struct vm *vm);
/* The same in two steps, for a caller with work between (its own seccomp filter). */
void vm_start(struct vm *vm);
int vm_join(struct vm *vm);

#endif
