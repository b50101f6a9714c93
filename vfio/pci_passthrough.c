// SPDX-License-Identifier: MIT
/*
 * Passthrough glue: implements vfio_pci_host_ops over struct vm.
 *   direct BAR piece  -> a KVM memslot backed by the region's mmap: guest
 *                        accesses go straight to the device, no exits;
 *   trapped piece     -> a range on the MMIO (or PIO) bus whose handlers
 *                        call vfio_pci_bar_read/write with the BAR offset;
 *   routes and irqfds -> vm_msi_route_* and vm_irqfd_*.
 * Nothing here decides policy; vfio_pci_dev does, and is unit-tested
 * against the same ops with a recording fake.
 */
#include "vfio/pci_passthrough.h"
#include "vmm/acpi.h"
#include "util/log.h"
#include "vmm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

/* The bus hands a handler its offset into the range: remember where the piece starts. */
struct vfio_trap {
	struct vfio_passthrough *pt;
	unsigned int bar;
	uint64_t piece_off;
};

struct vfio_passthrough {
	struct vm *vm;
	struct vfio_ioctl_dev fd;
	struct vfio_pci_dev dev;
	char name[64];
	struct vfio_trap traps[VFIO_PCI_NR_BARS][VFIO_BAR_MAX_PIECES];
	vfio_passthrough_dma_fn dma_hook;	/* --p2p: BAR pieces as DMA targets */
	void *dma_opaque;
};

static void trap_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct vfio_trap *t = opaque;

	vfio_pci_bar_read(&t->pt->dev, t->bar, t->piece_off + off, data, len);
}

static void trap_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct vfio_trap *t = opaque;

	vfio_pci_bar_write(&t->pt->dev, t->bar, t->piece_off + off, data, len);
}

static const struct bus_ops trap_ops = { .read = trap_read, .write = trap_write };

static struct vfio_trap *trap_of(struct vfio_passthrough *pt, struct vfio_bar *bar,
				 struct vfio_bar_piece *p)
{
	struct vfio_trap *t = &pt->traps[bar->index][p - bar->pieces];

	*t = (struct vfio_trap){ .pt = pt, .bar = bar->index, .piece_off = p->offset };
	return t;
}

static struct bus *bus_of(struct vfio_passthrough *pt, struct vfio_bar *bar)
{
	return bar->type == VFIO_BAR_IO ? &pt->vm->pio : &pt->vm->mmio;
}

static int host_bar_map(void *opaque, struct vfio_pci_dev *d, struct vfio_bar *bar,
			struct vfio_bar_piece *p, uint64_t gpa)
{
	struct vfio_passthrough *pt = opaque;
	int ret;

	(void)d;
	if (p->direct && p->hva) {
		ret = vm_add_memslot(pt->vm, gpa, p->size, p->hva);
		if (ret < 0)
			return ret;
		p->handle = ret;
		ret = pt->dma_hook ? pt->dma_hook(pt->dma_opaque, true, gpa, p->hva, p->size) : 0;
		if (ret)
			log_warn_rl("%s: BAR%u +%#llx at %#llx is not a DMA target for peers: %s",
				 pt->name, bar->index, (unsigned long long)p->offset,
				 (unsigned long long)gpa, strerror(-ret));
		return 0;
	}
	return bus_register(bus_of(pt, bar), gpa, p->size, &trap_ops, trap_of(pt, bar, p),
			    pt->name);
}

static void host_bar_unmap(void *opaque, struct vfio_pci_dev *d, struct vfio_bar *bar,
			   struct vfio_bar_piece *p, uint64_t gpa)
{
	struct vfio_passthrough *pt = opaque;

	(void)d;
	if (p->direct && p->hva) {
		/* Peers stop reaching the piece before the guest does. */
		if (pt->dma_hook && p->handle >= 0)
			pt->dma_hook(pt->dma_opaque, false, gpa, p->hva, p->size);
		if (p->handle >= 0)
			vm_del_memslot(pt->vm, p->handle);
		p->handle = -1;
		return;
	}
	bus_unregister(bus_of(pt, bar), gpa, &pt->traps[bar->index][p - bar->pieces]);
}

static int host_route_add(void *opaque, uint64_t addr, uint32_t data)
{
	return vm_msi_route_add(((struct vfio_passthrough *)opaque)->vm, addr, data);
}

static int host_route_update(void *opaque, uint32_t gsi, uint64_t addr, uint32_t data)
{
	return vm_msi_route_update(((struct vfio_passthrough *)opaque)->vm, gsi, addr, data);
}

static int host_route_remove(void *opaque, uint32_t gsi)
{
	return vm_msi_route_remove(((struct vfio_passthrough *)opaque)->vm, gsi);
}

static int host_irqfd_attach(void *opaque, int fd, uint32_t gsi, int resample_fd)
{
	return vm_irqfd_attach(((struct vfio_passthrough *)opaque)->vm, fd, gsi, resample_fd);
}

static int host_irqfd_detach(void *opaque, int fd, uint32_t gsi)
{
	return vm_irqfd_detach(((struct vfio_passthrough *)opaque)->vm, fd, gsi);
}

static const struct vfio_pci_host_ops vm_host_ops = {
	.bar_map = host_bar_map,
	.bar_unmap = host_bar_unmap,
	.route_add = host_route_add,
	.route_update = host_route_update,
	.route_remove = host_route_remove,
	.irqfd_attach = host_irqfd_attach,
	.irqfd_detach = host_irqfd_detach,
};

/* Common bring-up over any device ops (the ioctl backend, or a test's fake). */
static int passthrough_start(struct vfio_passthrough *pt, const struct vfio_dev_ops *ops,
			     void *h)
{
	uint8_t pin = 0;
	int ret;

	ret = vfio_pci_init(&pt->dev, ops, h, pt->name, &vm_host_ops, pt);
	if (ret)
		return ret;
	/* Start from a clean device where it can be reset (-ENOTSUP is fine). */
	vfio_pci_reset(&pt->dev);
	vfio_pci_mmap_bars(&pt->dev);
	ret = pci_root_add(&pt->vm->pci, &pt->dev.pci);
	if (ret) {
		log_err("%s: no free slot on the PCI root bus", pt->name);
		vfio_pci_exit(&pt->dev);
		return ret;
	}
	vfio_pci_cfg_read(&pt->dev, PCI_INTERRUPT_PIN, &pin, 1);
	if (pin) {
		unsigned int gsi = acpi_pci_intx_gsi(PCI_SLOT(pt->dev.pci.devfn), pin - 1);

		/* Not fatal: MSI and MSI-X work without INTx. */
		if (vfio_pci_intx_setup(&pt->dev, gsi))
			log_warn("%s: INTx unavailable; the guest must use MSI/MSI-X", pt->name);
	}
	return 0;
}

static struct vfio_passthrough *passthrough_new(struct vm *vm, const char *name, int fd)
{
	struct vfio_passthrough *pt = calloc(1, sizeof(*pt));

	if (!pt)
		return NULL;
	pt->vm = vm;
	pt->fd.fd = fd;
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	return pt;
}

int vfio_passthrough_add(struct vm *vm, int device_fd, const char *name,
			 struct vfio_passthrough **out)
{
	struct vfio_passthrough *pt = passthrough_new(vm, name, device_fd);
	int ret = -ENOMEM;

	if (pt)
		ret = passthrough_start(pt, &vfio_ioctl_ops, &pt->fd);
	if (ret) {
		close(device_fd);
		free(pt);
		return ret;
	}
	*out = pt;
	return 0;
}

int vfio_passthrough_add_ops(struct vm *vm, const struct vfio_dev_ops *ops, void *h,
			     const char *name, struct vfio_passthrough **out)
{
	struct vfio_passthrough *pt = passthrough_new(vm, name, -1);
	int ret = -ENOMEM;

	if (pt)
		ret = passthrough_start(pt, ops, h);
	if (ret) {
		free(pt);
		return ret;
	}
	*out = pt;
	return 0;
}

int vfio_passthrough_place(struct vm *vm, struct vfio_passthrough **pts, unsigned int n)
{
	struct vfio_pci_dev **devs = calloc(n ? n : 1, sizeof(*devs));
	struct pci_window io;
	int ret;

	if (!devs)
		return -ENOMEM;
	/*
	 * I/O BARs go in the top quarter of port space, inside the range the
	 * ACPI _CRS hands to the root bus and clear of our fixed ports. (A
	 * vm->pio window next to mmio32/mmio64 would be the better home.)
	 */
	pci_window_init(&io, 0xc000, 0x10000);
	for (unsigned int i = 0; i < n; i++)
		devs[i] = &pts[i]->dev;
	ret = vfio_pci_place_bars(devs, n, &vm->mmio32, &vm->mmio64, &io);
	free(devs);
	return ret;
}

void vfio_passthrough_remove(struct vfio_passthrough *pt)
{
	if (!pt)
		return;
	vfio_pci_exit(&pt->dev);
	vfio_pci_reset(&pt->dev);
	if (pt->fd.fd >= 0)
		close(pt->fd.fd);
	free(pt);
}

void vfio_passthrough_set_dma_hook(struct vfio_passthrough *pt, vfio_passthrough_dma_fn fn,
				   void *opaque)
{
	pthread_mutex_lock(&pt->dev.lock);
	pt->dma_hook = fn;
	pt->dma_opaque = opaque;
	pthread_mutex_unlock(&pt->dev.lock);
}

struct vfio_pci_dev *vfio_passthrough_dev(struct vfio_passthrough *pt)
{
	return &pt->dev;
}
