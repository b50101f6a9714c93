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
#include <unistd.h>

#include "vfio/pci_passthrough.h"
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

/* Pieces already on the guest's bus (decode on before boot) are mapped now. */
static int map_bars_for_p2p(struct assignment *a)
{
	for (unsigned int i = 0; i < a->nr; i++) {
		struct vfio_pci_dev *d = vfio_passthrough_dev(a->pts[i]);

		vfio_passthrough_set_dma_hook(a->pts[i], p2p_dma_hook, a);
		for (unsigned int b = 0; b < VFIO_PCI_NR_BARS; b++) {
			struct vfio_bar *bar = &d->bars[b];

			for (unsigned int k = 0; bar->mapped && k < bar->nr_pieces; k++) {
				struct vfio_bar_piece *p = &bar->pieces[k];
				int ret;

				if (!p->direct || !p->hva || p->handle < 0)
					continue;
				ret = p2p_dma_hook(a, true, bar->mapped_addr + p->offset, p->hva,
						   p->size);
				if (ret) {
					log_err("%s: BAR%u for peer-to-peer DMA: %s",
						a->devs[i].id.name, b, strerror(-ret));
					return ret;
				}
			}
		}
	}
	return 0;
}

int assign_devices(struct vm *vm, const char *const *args, unsigned int n, bool p2p,
		   struct assignment *a)
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
		ret = vfio_passthrough_add(vm, a->devs[i].fd, a->devs[i].id.name, &a->pts[i]);
		a->devs[i].fd = -1;
		if (ret)
			goto err;
		a->nr = i + 1;
	}
	ret = vfio_passthrough_place(vm, a->pts, a->nr);
	if (ret)
		goto err;
	ret = iommu_map_vm_ram(&a->io, vm);
	if (ret)
		goto err;
	if (p2p) {
		ret = map_bars_for_p2p(a);
		if (ret)
			goto err;
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

void assign_release(struct assignment *a)
{
	/* Devices first (interrupts off, BARs unmapped, reset), then DMA. */
	for (unsigned int i = a->nr; i-- > 0;) {
		vfio_passthrough_remove(a->pts[i]);
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

static const char *const bar_type_names[] = {
	[VFIO_BAR_NONE] = "none", [VFIO_BAR_IO] = "io", [VFIO_BAR_MEM32] = "mem32",
	[VFIO_BAR_MEM64] = "mem64", [VFIO_BAR_ROM] = "rom",
};

/*
 * One line per BAR: where the guest last had it, how much of it is mapped
 * (no exits possible) and trapped, and the exits the trapped part took.
 * A BAR whose mapped share is all of it and whose counts stay 0 is proof
 * that the guest's accesses went straight to the device.
 */
static void print_bar_stats(struct vfio_pci_dev *d, FILE *f)
{
	for (unsigned int b = 0; b < VFIO_PCI_NR_BARS; b++) {
		struct vfio_bar *bar = &d->bars[b];
		uint64_t mapped = 0, trapped = 0;

		if (!bar->size || bar->type == VFIO_BAR_NONE)
			continue;
		for (unsigned int k = 0; k < bar->nr_pieces; k++) {
			if (bar->pieces[k].direct && bar->pieces[k].hva)
				mapped += bar->pieces[k].size;
			else
				trapped += bar->pieces[k].size;
		}
		fprintf(f, "    %-4s %-5s at 0x%llx size 0x%llx: mapped 0x%llx, trapped 0x%llx; "
			"%llu trapped reads, %llu trapped writes\n",
			vfio_region_name(b),
			bar_type_names[bar->type], (unsigned long long)vfio_bar_guest_addr(d, b),
			(unsigned long long)bar->size, (unsigned long long)mapped,
			(unsigned long long)trapped, (unsigned long long)bar->trap_reads,
			(unsigned long long)bar->trap_writes);
	}
}

void assign_print_stats(struct assignment *a, FILE *f)
{
	for (unsigned int i = 0; i < a->nr; i++) {
		struct vfio_pci_dev *d = vfio_passthrough_dev(a->pts[i]);

		fprintf(f, "  %s: %llu trapped BAR reads, %llu trapped BAR writes\n",
			a->devs[i].id.name, (unsigned long long)d->trap_reads,
			(unsigned long long)d->trap_writes);
		print_bar_stats(d, f);
		print_host_irq_counts(a->devs[i].id.name, f);
	}
}
