// SPDX-License-Identifier: MIT
/*
 * --device: the order of operations that makes a host PCI function the
 * guest's, and the reverse order that gives it back.
 */
#include "vmm/assign.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfio/pci_passthrough.h"
#include "vmm/prefault.h"
#include "util/log.h"
#include "vmm/vm.h"

/*
 * With --p2p, each directly mapped BAR piece is also a DMA target at IOVA =
 * its guest address, for as long as the guest has it there: the glue calls
 * us as the guest turns decode on or off or moves a BAR. vCPUs may do that
 * concurrently, for different devices, on one container.
 */
static pthread_mutex_t p2p_lock = PTHREAD_MUTEX_INITIALIZER;

static int p2p_dma_hook(void *opaque, bool map, uint64_t gpa, void *hva, uint64_t size)
{
	struct assignment *a = opaque;
	int ret;

	pthread_mutex_lock(&p2p_lock);
	ret = map ? iommu_map_extra(&a->io, gpa, hva, size) : iommu_unmap_extra(&a->io, gpa);
	pthread_mutex_unlock(&p2p_lock);
	/* A piece whose map had failed (the caller said so then) has nothing to unmap. */
	if (!map && ret == -ENOENT)
		ret = 0;
	if (!ret)
		trace(LOG_IOMMU, "P2P: BAR piece at IOVA 0x%llx (0x%llx bytes) %s",
		      (unsigned long long)gpa, (unsigned long long)size,
		      map ? "mapped" : "unmapped");
	return ret;
}

/*
 * Asked between MAP_DMA calls (iommu_set_stop): a 256 GiB BAR is 256 calls
 * and can take minutes on Linux 6.1. During setup the stop signals are
 * blocked and only pending; later the console thread turns them into
 * vm_request_stop(). sigpending is not in the vCPU seccomp allow-list, and
 * not needed there.
 */
static bool dma_stop(void *arg)
{
	struct assignment *a = arg;

	return vm_stopping(a->vm) || (a->in_setup && vm_pending_stop_signal());
}

/* Pieces already on the guest's bus (decode on before boot) are mapped by setting the hook. */
static int map_bars_for_p2p(struct assignment *a)
{
	for (unsigned int i = 0; i < a->nr; i++) {
		int ret = vfio_pci_set_dma_hook(vfio_passthrough_dev(a->pts[i]), p2p_dma_hook, a);

		if (ret)
			return ret;
	}
	return 0;
}

int assign_add_device(struct vm *vm, const struct vfio_dev_ops *ops, void *h, int fd,
		      const char *name, int port, struct vfio_passthrough **out)
{
	struct vfio_passthrough *pt;
	int ret;

	ret = ops ? vfio_passthrough_open_ops(ops, h, name, &vm->pci_host, &pt)
		  : vfio_passthrough_open(fd, name, &vm->pci_host, &pt);
	if (ret)
		return ret;
	/* A PCIe device gets a root port of its own unless asked otherwise. */
	if (port < 0)
		port = vfio_pci_is_express(vfio_passthrough_dev(pt));
	if (port)
		ret = pci_root_add_port(&vm->pci, vfio_passthrough_pci(pt), &vm->pci_host);
	else
		ret = pci_root_add(&vm->pci, vfio_passthrough_pci(pt));
	if (ret) {
		log_err("%s: no free slot on the PCI root bus%s", name,
			port ? " for its root port (port=off puts it on the root bus)" : "");
		vfio_passthrough_close(pt);
		return ret;
	}
	/* Not fatal: MSI and MSI-X work without INTx. */
	if (vfio_pci_intx_setup(vfio_passthrough_dev(pt)))
		log_warn("%s: INTx unavailable; the guest must use MSI/MSI-X", name);
	*out = pt;
	return 0;
}

/* The composition root hands iommu/ guest RAM as plain ranges. */
static int add_ram(uint64_t gpa, void *hva, uint64_t size, void *arg)
{
	struct iommu_ram *ram = arg;
	int n = 0;

	while (ram[n].size)
		n++;
	if (n == ASSIGN_MAX_RAM)
		return -E2BIG;
	ram[n] = (struct iommu_ram){ gpa, hva, size };
	return 0;
}

static int map_guest_ram(struct assignment *a, struct vm *vm)
{
	struct iommu_ram ram[ASSIGN_MAX_RAM + 1] = { 0 };
	int n = 0, ret;

	ret = vm_for_each_ram(vm, add_ram, ram);
	if (ret)
		return ret;
	while (ram[n].size)
		n++;
	return iommu_map_ram(&a->io, ram, n, vm->ram_page_size ? vm->ram_page_size : 4096);
}

int assign_devices(struct vm *vm, const char *const *args, const int *cliques, const int *ports,
		   unsigned int n, struct assignment *a)
{
	unsigned int i;
	int ret;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < CLI_MAX_DEVICES; i++)
		a->devs[i].fd = -1;
	if (n == 0)
		return 0;
	ret = iommu_open(&a->io, &iommu_type1_ops, NULL);
	if (ret)
		return ret;
	a->io_open = true;
	/* Every group's viability is checked before any of them is opened. */
	ret = iommu_add_devices(&a->io, args, (int)n, a->devs);
	if (ret)
		goto err;
	for (i = 0; i < n; i++) {
		/* The passthrough device owns the fd from here, even on failure. */
		ret = assign_add_device(vm, NULL, NULL, a->devs[i].fd, a->devs[i].id.name,
					ports ? ports[i] : -1, &a->pts[i]);
		a->devs[i].fd = -1;
		if (ret)
			goto err;
		a->nr = i + 1;
		if (cliques && cliques[i] >= 0) {
			ret = vfio_pci_add_gpudirect_clique(vfio_passthrough_dev(a->pts[i]),
							    (unsigned int)cliques[i]);
			if (ret)
				goto err;
		}
	}
	return 0;
err:
	/* Devices not yet handed to vfio/ still hold their fds. */
	for (i = a->nr; i < n; i++)
		if (a->devs[i].fd >= 0)
			close(a->devs[i].fd);
	assign_release(a);
	return ret;
}

/* RAM faulted in on several threads first: MAP_DMA then only pins. */
static int prefault_guest_ram(struct vm *vm, unsigned int threads)
{
	struct iommu_ram ram[ASSIGN_MAX_RAM + 1] = { 0 };
	struct prefault_range r[ASSIGN_MAX_RAM];
	struct timespec t0, t1;
	uint64_t total = 0;
	int n = 0, ret;

	ret = vm_for_each_ram(vm, add_ram, ram);
	if (ret)
		return ret;
	for (; ram[n].size; n++) {
		r[n] = (struct prefault_range){ ram[n].hva, ram[n].size };
		total += ram[n].size;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = prefault_ranges(r, (unsigned int)n, vm->ram_page_size ? vm->ram_page_size : 4096,
			      threads);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ret)
		log_info("prefaulted %llu MiB of guest RAM on %u thread%s in %.2f s",
			 (unsigned long long)(total >> 20), threads, threads == 1 ? "" : "s",
			 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ret;
}

int assign_map_dma(struct vm *vm, bool p2p, unsigned int prefault_threads, struct assignment *a)
{
	int ret;

	if (!a->nr)
		return 0;
	if (prefault_threads) {
		ret = prefault_guest_ram(vm, prefault_threads);
		if (ret)
			return ret;
	}
	a->vm = vm;
	a->in_setup = true;
	iommu_set_stop(&a->io, dma_stop, a);
	ret = map_guest_ram(a, vm);
	if (!ret && p2p)
		ret = map_bars_for_p2p(a);
	a->in_setup = false;
	return ret;
}

void assign_release(struct assignment *a)
{
	/* Devices first (interrupts off, BARs unmapped, reset), then DMA. */
	for (unsigned int i = a->nr; i-- > 0;) {
		vfio_passthrough_close(a->pts[i]);
		a->pts[i] = NULL;
	}
	a->nr = 0;
	if (a->io_open)
		iommu_close(&a->io);
	a->io_open = false;
}

/*
 * Interrupts never pass through us, so we do not count them: the host
 * kernel does, per vector, in /proc/interrupts ("vfio-msix[3](0000:00:02.0)").
 */
static void print_host_irq_counts(const char *name, FILE *f)
{
	FILE *p = fopen("/proc/interrupts", "r");
	char line[4096];
	int ncpu = 0;

	if (!p)
		return;
	if (fgets(line, sizeof(line), p))
		for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
			ncpu++;
	while (fgets(line, sizeof(line), p)) {
		char *vfio = strstr(line, "vfio-"), *s = line;
		unsigned long long total = 0;

		if (!vfio || !strstr(vfio, name))
			continue;
		s = strchr(s, ':');
		for (int c = 0; s && c < ncpu; c++)
			total += strtoull(s + 1, &s, 10);
		vfio[strcspn(vfio, "\n")] = '\0';
		fprintf(f, "    %-36s %10llu interrupts\n", vfio, total);
	}
	fclose(p);
}

void assign_print_stats(struct assignment *a, FILE *f)
{
	for (unsigned int i = 0; i < a->nr; i++) {
		struct vfio_pci_dev *d = vfio_passthrough_dev(a->pts[i]);

		fprintf(f, "  %s: %llu trapped BAR reads, %llu trapped BAR writes\n",
			a->devs[i].id.name, (unsigned long long)d->trap_reads,
			(unsigned long long)d->trap_writes);
		pci_dev_print_bars(&d->pci, d->cfg.shadow, f);
		if (d->pba_piece >= 0)
			fprintf(f, "    PBA page %s: mapped %llu times, trapped %llu times\n",
				d->pci.bars[d->msix.pba_bar].pieces[d->pba_piece].direct ?
				"mapped" : "trapped", (unsigned long long)d->pba_maps,
				(unsigned long long)d->pba_traps);
		print_host_irq_counts(a->devs[i].id.name, f);
	}
}
