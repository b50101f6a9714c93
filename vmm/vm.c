// SPDX-License-Identifier: MIT
/*
 * The KVM virtual machine: /dev/kvm checks, guest RAM and its memslots,
 * the in-kernel irqchip and the GSI routing table, and the vCPU threads.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/pci_host_vm.h"
#include "vmm/vcpu.h"

#define TSS_ADDR		0xfffbd000ULL
#define IDENTITY_MAP_ADDR	0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel irqchip)" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
};

static int kvm_open_checked(void)
{
	int fd, ver;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			log_err("/dev/kvm does not exist: load kvm_intel or kvm_amd and enable virtualization in the firmware");
		else if (e == EACCES)
			log_err("/dev/kvm: permission denied: run as root or add your user to the 'kvm' group");
		else
			log_err("/dev/kvm: %s", strerror(e));
		return -e;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		log_err("/dev/kvm speaks API version %d, vfio-vmm needs %d", ver, KVM_API_VERSION);
		close(fd);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			log_err("this KVM lacks %s, which vfio-vmm needs", required_caps[i].name);
			close(fd);
			return -ENOTSUP;
		}
	}
	return fd;
}

/*
 * Guest physical address bits, from the host CPUID KVM lets us expose: the
 * guest gets that same leaf (vcpu.c), and the 64-bit window ends there.
 */
static unsigned int kvm_phys_bits(int kvm_fd)
{
	struct kvm_cpuid2 *c;
	unsigned int bits = 36;
	int n = 256;

	c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return bits;
	c->nent = n;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
		for (unsigned int i = 0; i < c->nent; i++)
			if (c->entries[i].function == 0x80000008)
				bits = layout_phys_bits(c->entries[i].eax);
	}
	free(c);
	return bits;
}

static uint64_t read_sysfs_u64(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Enough free huge pages of the asked size for size bytes of RAM? */
int vm_check_hugepages(uint64_t size, uint64_t hugepage)
{
	char path[128];
	uint64_t free_pages, need;
	const char *name = hugepage == (1ULL << 30) ? "1G" : "2M";

	if (!hugepage)
		return 0;
	need = (size + hugepage - 1) / hugepage;
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages",
		 (unsigned long long)(hugepage >> 10));
	free_pages = read_sysfs_u64(path);
	if (free_pages < need) {
		log_err("--hugepages %s: %llu free %s pages, %llu needed: reserve them with 'echo %llu > %.*snr_hugepages'",
			name, (unsigned long long)free_pages, name,
			(unsigned long long)need, (unsigned long long)need,
			(int)(strlen(path) - strlen("free_hugepages")), path);
		return -ENOMEM;
	}
	return 0;
}

#define ANON_RAM_ALIGN	(2ULL << 20)

void *vm_map_anon_ram(uint64_t size)
{
	uint64_t lead;
	uint8_t *p;

	/* mmap aligns only to 4 KiB: ask for more, trim both ends. */
	p = mmap(NULL, size + ANON_RAM_ALIGN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	lead = (ANON_RAM_ALIGN - ((uintptr_t)p & (ANON_RAM_ALIGN - 1))) & (ANON_RAM_ALIGN - 1);
	if (lead)
		munmap(p, lead);
	munmap(p + lead + size, ANON_RAM_ALIGN - lead);
	p += lead;
	/* Only a hint: a kernel without THP still has the memory. */
	madvise(p, size, MADV_HUGEPAGE);
	return p;
}

static int vm_alloc_ram(struct vm *vm, uint64_t size, uint64_t hugepage)
{
	int flags;
	void *p;

	if (hugepage) {
		int ret = vm_check_hugepages(size, hugepage);

		if (ret)
			return ret;
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			(hugepage == (1ULL << 30) ? (30 << MAP_HUGE_SHIFT) : (21 << MAP_HUGE_SHIFT));
		size = (size + hugepage - 1) / hugepage * hugepage;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	} else {
		p = vm_map_anon_ram(size);
		if (!p)
			p = MAP_FAILED;
	}
	if (p == MAP_FAILED) {
		int e = errno;

		log_err("cannot allocate %llu MiB of guest RAM: %s", (unsigned long long)(size >> 20),
			strerror(e));
		return -e;
	}
	vm->ram = p;
	vm->ram_size = size;
	vm->ram_page_size = hugepage ? hugepage : (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

int vm_add_memslot(struct vm *vm, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	int slot = memslots_alloc(&vm->slots);

	if (slot < 0) {
		trace(LOG_KVM, "no free memslot for gpa 0x%llx (all %u in use)",
		      (unsigned long long)gpa, vm->slots.nr);
		return slot;
	}
	r.slot = (uint32_t)slot;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int e = errno;

		memslots_free(&vm->slots, r.slot);
		trace(LOG_KVM, "KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %s",
		      r.slot, (unsigned long long)gpa, (unsigned long long)size, strerror(e));
		return -e;
	}
	trace(LOG_KVM, "KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx-0x%llx hva %p", r.slot,
	      (unsigned long long)gpa, (unsigned long long)(gpa + size - 1), hva);
	return slot;
}

int vm_del_memslot(struct vm *vm, int slot)
{
	struct kvm_userspace_memory_region r = { .slot = (uint32_t)slot };

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int e = errno;

		/* Still KVM's: the number is not handed out again. */
		trace(LOG_KVM, "KVM_SET_USER_MEMORY_REGION: deleting slot %d: %s", slot,
		      strerror(e));
		return -e;
	}
	memslots_free(&vm->slots, (uint32_t)slot);
	trace(LOG_KVM, "KVM_SET_USER_MEMORY_REGION slot %d deleted", slot);
	return 0;
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	const struct layout *l = &vm->layout;

	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= l->low_ram_end)
		return vm->ram + gpa;
	if (gpa >= LAYOUT_HIGH_RAM_BASE && gpa + len <= l->high_ram_end)
		return vm->ram + l->low_ram_end + (gpa - LAYOUT_HIGH_RAM_BASE);
	return NULL;
}

int vm_for_each_ram(struct vm *vm, int (*fn)(uint64_t gpa, void *hva, uint64_t size, void *arg),
		    void *arg)
{
	const struct layout *l = &vm->layout;
	int ret;

	ret = fn(0, vm->ram, l->low_ram_end, arg);
	if (ret || l->high_ram_end == LAYOUT_HIGH_RAM_BASE)
		return ret;
	return fn(LAYOUT_HIGH_RAM_BASE, vm->ram + l->low_ram_end,
		  l->high_ram_end - LAYOUT_HIGH_RAM_BASE, arg);
}

/* ---- interrupts ---- */

static int vm_commit_routes(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routes) < 0) {
		int e = errno;

		trace(LOG_IRQ, "KVM_SET_GSI_ROUTING (%u routes): %s", vm->routes->nr, strerror(e));
		return -e;
	}
	return 0;
}

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep it here: KVM's
 * own default for the legacy pins first (PIC for GSI 0-15, IOAPIC for
 * 0-23, with GSI 0 - the PIT - on IOAPIC pin 2 to match the MADT's ISA
 * override), then one MSI route per vector in use.
 */
static int vm_init_routes(struct vm *vm)
{
	struct kvm_irq_routing_entry *e;

	vm->routes = calloc(1, sizeof(*vm->routes) + VM_MAX_GSI_ROUTES * sizeof(*e));
	if (!vm->routes)
		return -ENOMEM;
	e = vm->routes->entries;
	for (uint32_t gsi = 0; gsi < VM_IOAPIC_PINS; gsi++) {
		if (gsi < 16) {
			*e++ = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
								    KVM_IRQCHIP_PIC_SLAVE,
					       .pin = gsi % 8 },
			};
		}
		*e++ = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi },
		};
	}
	vm->routes->nr = (uint32_t)(e - vm->routes->entries);
	vm->next_gsi = VM_IOAPIC_PINS;
	return vm_commit_routes(vm);
}

static struct kvm_irq_routing_entry *vm_find_route(struct vm *vm, uint32_t gsi)
{
	for (uint32_t i = 0; i < vm->routes->nr; i++)
		if (vm->routes->entries[i].gsi == gsi &&
		    vm->routes->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &vm->routes->entries[i];
	return NULL;
}

static uint32_t vm_free_gsi(struct vm *vm)
{
	/* Reuse the lowest GSI no route holds, so churn cannot exhaust them. */
	for (uint32_t gsi = VM_IOAPIC_PINS;; gsi++)
		if (!vm_find_route(vm, gsi))
			return gsi;
}

int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e;
	uint32_t gsi;
	int ret;

	pthread_mutex_lock(&vm->gsi_lock);
	if (vm->routes->nr >= VM_MAX_GSI_ROUTES) {
		pthread_mutex_unlock(&vm->gsi_lock);
		trace(LOG_IRQ, "out of GSI routes (%d)", VM_MAX_GSI_ROUTES);
		return -ENOSPC;
	}
	gsi = vm_free_gsi(vm);
	e = &vm->routes->entries[vm->routes->nr++];
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			   .data = data },
	};
	ret = vm_commit_routes(vm);
	if (ret)
		vm->routes->nr--;
	pthread_mutex_unlock(&vm->gsi_lock);
	trace(LOG_IRQ, "GSI %u -> MSI addr 0x%llx data 0x%x (dest APIC %u, vector %u)%s", gsi,
	      (unsigned long long)addr, data, (unsigned int)((addr >> 12) & 0xff), data & 0xff,
	      ret ? " FAILED" : "");
	return ret ? ret : (int)gsi;
}

int vm_msi_route_update(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e;
	int ret;

	pthread_mutex_lock(&vm->gsi_lock);
	e = vm_find_route(vm, gsi);
	if (!e) {
		pthread_mutex_unlock(&vm->gsi_lock);
		return -ENOENT;
	}
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	ret = vm_commit_routes(vm);
	pthread_mutex_unlock(&vm->gsi_lock);
	trace(LOG_IRQ, "GSI %u updated -> MSI addr 0x%llx data 0x%x (vector %u)", gsi,
	      (unsigned long long)addr, data, data & 0xff);
	return ret;
}

int vm_msi_route_remove(struct vm *vm, uint32_t gsi)
{
	struct kvm_irq_routing_entry *e;
	int ret;

	pthread_mutex_lock(&vm->gsi_lock);
	e = vm_find_route(vm, gsi);
	if (!e) {
		pthread_mutex_unlock(&vm->gsi_lock);
		return -ENOENT;
	}
	*e = vm->routes->entries[--vm->routes->nr];
	ret = vm_commit_routes(vm);
	pthread_mutex_unlock(&vm->gsi_lock);
	trace(LOG_IRQ, "GSI %u route removed", gsi);
	return ret;
}

int vm_irqfd_attach(struct vm *vm, int fd, uint32_t gsi, int resample_fd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };

	if (resample_fd >= 0) {
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (uint32_t)resample_fd;
	}
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int e = errno;

		trace(LOG_IRQ, "KVM_IRQFD fd %d -> GSI %u: %s", fd, gsi, strerror(e));
		return -e;
	}
	trace(LOG_IRQ, "KVM_IRQFD eventfd %d -> GSI %u%s", fd, gsi,
	      resample_fd >= 0 ? " (level, with resample eventfd)" : "");
	return 0;
}

int vm_irqfd_detach(struct vm *vm, int fd, uint32_t gsi)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int e = errno;

		trace(LOG_IRQ, "KVM_IRQFD deassign fd %d GSI %u: %s", fd, gsi, strerror(e));
		return -e;
	}
	trace(LOG_IRQ, "KVM_IRQFD eventfd %d detached from GSI %u", fd, gsi);
	return 0;
}

int vm_ioeventfd(struct vm *vm, bool assign, bool io, uint64_t gpa, uint32_t len, int fd)
{
	struct kvm_ioeventfd e = {
		.addr = gpa, .len = len, .fd = fd,
		.flags = (io ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0) {
		int err = errno;

		trace(LOG_KVM, "KVM_IOEVENTFD %s %s 0x%llx len %u fd %d: %s",
		      assign ? "assign" : "deassign", io ? "port" : "mmio",
		      (unsigned long long)gpa, len, fd, strerror(err));
		return -err;
	}
	trace(LOG_KVM, "KVM_IOEVENTFD %s %s 0x%llx len %u -> eventfd %d",
	      assign ? "assign" : "deassign", io ? "port" : "mmio", (unsigned long long)gpa, len,
	      fd);
	return 0;
}

int vm_set_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

/* ---- life cycle ---- */

void vm_request_stop(struct vm *vm, int exit_code)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stopping) {
		vm->stopping = true;
		vm->exit_code = exit_code;
	}
	pthread_mutex_unlock(&vm->stop_lock);
	/* Kick every vCPU out of KVM_RUN. */
	for (unsigned int i = 0; vm->vcpus && i < vm->nr_cpus; i++) {
		if (vm->vcpus[i].run) {
			__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
			if (vm->vcpus[i].thread && !pthread_equal(vm->vcpus[i].thread, pthread_self()))
				pthread_kill(vm->vcpus[i].thread, SIGUSR1);
		}
	}
}

bool vm_stopping(struct vm *vm)
{
	bool s;

	pthread_mutex_lock(&vm->stop_lock);
	s = vm->stopping;
	pthread_mutex_unlock(&vm->stop_lock);
	return s;
}

int vm_pending_stop_signal(void)
{
	static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t pending;

	if (sigpending(&pending))
		return 0;
	for (unsigned int i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		if (sigismember(&pending, stop_sigs[i]) == 1)
			return stop_sigs[i];
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	struct kvm_pit_config pit = { .flags = 0 };
	unsigned int bits;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->gsi_lock, NULL);
	pthread_mutex_init(&vm->stop_lock, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm_pci_host_init(vm);

	vm->kvm_fd = kvm_open_checked();
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;

	bits = kvm_phys_bits(vm->kvm_fd);
	ret = layout_init(&vm->layout, cfg->ram_size, bits);
	if (ret) {
		log_err("--memory %llu MiB does not fit under this CPU's %u physical address bits",
			(unsigned long long)(cfg->ram_size >> 20), bits);
		goto err;
	}
	trace(LOG_BOOT, "layout: RAM 0-0x%llx%s, 32-bit MMIO 0x%llx, ECAM 0x%llx, 64-bit MMIO 0x%llx-0x%llx (%u phys bits)",
	      (unsigned long long)vm->layout.low_ram_end,
	      vm->layout.high_ram_end > LAYOUT_HIGH_RAM_BASE ? " + above 4 GiB" : "",
	      LAYOUT_MMIO32_BASE, LAYOUT_ECAM_BASE, (unsigned long long)vm->layout.mmio64_base,
	      (unsigned long long)vm->layout.mmio64_end, bits);

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VM: %s", strerror(-ret));
		goto err;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0) {
		ret = -errno;
		log_err("KVM_SET_TSS_ADDR: %s", strerror(-ret));
		goto err;
	}
	/* Only Intel needs it; harmless elsewhere. */
	uint64_t idmap = IDENTITY_MAP_ADDR;
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		log_err("KVM_CREATE_IRQCHIP: %s", strerror(-ret));
		goto err;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		log_err("KVM_CREATE_PIT2: %s", strerror(-ret));
		goto err;
	}
	ret = vm_init_routes(vm);
	if (ret) {
		log_err("KVM_SET_GSI_ROUTING: %s", strerror(-ret));
		goto err;
	}

	/* KVM's own count; 32 was the floor before the capability existed. */
	ret = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	ret = memslots_init(&vm->slots, ret > 0 ? (uint32_t)ret : 32);
	if (ret)
		goto err;
	trace(LOG_KVM, "KVM_CAP_NR_MEMSLOTS: %u memslots", vm->slots.nr);
	ret = vm_alloc_ram(vm, cfg->ram_size, cfg->hugepage_size);
	if (ret)
		goto err;
	ret = vm_add_memslot(vm, 0, vm->layout.low_ram_end, vm->ram);
	if (ret >= 0 && vm->layout.high_ram_end > LAYOUT_HIGH_RAM_BASE)
		ret = vm_add_memslot(vm, LAYOUT_HIGH_RAM_BASE,
				     vm->layout.high_ram_end - LAYOUT_HIGH_RAM_BASE,
				     vm->ram + vm->layout.low_ram_end);
	if (ret < 0) {
		log_err("KVM_SET_USER_MEMORY_REGION for guest RAM: %s", strerror(-ret));
		goto err;
	}
	/* Devices reach RAM only through this table, built from the same layout. */
	ret = guest_mem_add(&vm->mem, 0, vm->layout.low_ram_end, vm->ram);
	if (!ret && vm->layout.high_ram_end > LAYOUT_HIGH_RAM_BASE)
		ret = guest_mem_add(&vm->mem, LAYOUT_HIGH_RAM_BASE,
				    vm->layout.high_ram_end - LAYOUT_HIGH_RAM_BASE,
				    vm->ram + vm->layout.low_ram_end);
	if (ret)
		goto err;
	vm->pci_host.mem = &vm->mem;

	pci_window_init(&vm->mmio32, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE);
	pci_window_init(&vm->mmio64, vm->layout.mmio64_base, vm->layout.mmio64_end);
	ret = pci_root_init(&vm->pci, &vm->pio, &vm->mmio, LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE);
	if (ret)
		goto err;

	vm->nr_cpus = cfg->nr_cpus;
	vm->vcpus = calloc(cfg->nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = -ENOMEM;
		goto err;
	}
	for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i);
		if (ret)
			goto err;
	}
	return 0;
err:
	vm_destroy(vm);
	return ret < 0 ? ret : -EINVAL;
}

void vm_destroy(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->nr_cpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	vm->ram = NULL;
	free(vm->routes);
	vm->routes = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	if (vm->slots.bits)
		memslots_destroy(&vm->slots);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	pci_root_release(&vm->pci);
}

static void sigusr1_noop(int sig)
{
	(void)sig;
}

void vm_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = sigusr1_noop };
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (ret) {
			log_err("cannot start vCPU %u thread: %s", i, strerror(ret));
			vm_request_stop(vm, 1);
			vm->nr_cpus = i;
			break;
		}
	}
}

int vm_join(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_cpus; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	return vm->exit_code;
}

int vm_run(struct vm *vm)
{
	vm_start(vm);
	return vm_join(vm);
}
