// SPDX-License-Identifier: MIT
/*
 * The PCI layer's host interface (devices/pci_dev.h), implemented once over
 * struct vm for every PCI device, passthrough or emulated:
 *   direct BAR piece  -> a KVM memslot backed by the piece's host memory:
 *                        guest accesses go straight to it, no exits;
 *   trapped piece     -> a range on the MMIO (or PIO) bus whose handlers
 *                        give the device the offset into its BAR;
 *   routes, irqfds    -> vm_msi_route_* and vm_irqfd_*;
 *   ioeventfds        -> KVM_IOEVENTFD (a guest write signals an eventfd);
 *   INTx              -> the IOAPIC pin the ACPI _PRT names for the slot.
 * Nothing here decides policy; the devices do, and are unit-tested against
 * the same interface with a recording fake.
 */
#include "vmm/pci_host_vm.h"

#include <errno.h>

#include "devices/pci.h"
#include "util/log.h"
#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

static void trap_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	pci_bar_trap_read(opaque, off, data, len);
}

static void trap_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	pci_bar_trap_write(opaque, off, data, len);
}

static const struct bus_ops trap_ops = { .read = trap_read, .write = trap_write };

static struct bus *bus_of(struct vm *vm, const struct pci_bar_piece *p)
{
	return p->io ? &vm->pio : &vm->mmio;
}

static int host_bar_map(void *opaque, struct pci_bar_piece *p, uint64_t gpa)
{
	struct vm *vm = opaque;
	int ret;

	if (p->direct && p->hva) {
		ret = vm_add_memslot(vm, gpa, p->size, p->hva);
		if (ret < 0)
			return ret;
		p->handle = ret;
		return 0;
	}
	return bus_register(bus_of(vm, p), gpa, p->size, &trap_ops, p, p->dev->name);
}

static void host_bar_unmap(void *opaque, struct pci_bar_piece *p, uint64_t gpa)
{
	struct vm *vm = opaque;

	if (p->direct && p->hva) {
		if (p->handle >= 0)
			vm_del_memslot(vm, p->handle);
		p->handle = -1;
		return;
	}
	bus_unregister(bus_of(vm, p), gpa, p);
}

static int host_route_add(void *opaque, uint64_t addr, uint32_t data)
{
	return vm_msi_route_add(opaque, addr, data);
}

static int host_route_update(void *opaque, uint32_t gsi, uint64_t addr, uint32_t data)
{
	return vm_msi_route_update(opaque, gsi, addr, data);
}

static int host_route_remove(void *opaque, uint32_t gsi)
{
	return vm_msi_route_remove(opaque, gsi);
}

static int host_irqfd_attach(void *opaque, int fd, uint32_t gsi, int resample_fd)
{
	return vm_irqfd_attach(opaque, fd, gsi, resample_fd);
}

static int host_irqfd_detach(void *opaque, int fd, uint32_t gsi)
{
	return vm_irqfd_detach(opaque, fd, gsi);
}

static int host_ioeventfd(void *opaque, bool assign, bool io, uint64_t gpa, uint32_t len, int fd)
{
	return vm_ioeventfd(opaque, assign, io, gpa, len, fd);
}

static int host_intx_gsi(void *opaque, uint8_t devfn, uint8_t pin)
{
	(void)opaque;
	if (pin < 1 || pin > 4)
		return -1;
	return (int)acpi_pci_intx_gsi(PCI_SLOT(devfn), pin - 1u);
}

static const struct pci_host_ops vm_pci_host_ops = {
	.bar_map = host_bar_map,
	.bar_unmap = host_bar_unmap,
	.route_add = host_route_add,
	.route_update = host_route_update,
	.route_remove = host_route_remove,
	.irqfd_attach = host_irqfd_attach,
	.irqfd_detach = host_irqfd_detach,
	.ioeventfd = host_ioeventfd,
	.intx_gsi = host_intx_gsi,
};

int vm_place_pci_bars(struct vm *vm)
{
	struct pci_dev *devs[256];
	struct pci_window io;
	unsigned int n = 0;

	for (unsigned int i = 0; i < 256; i++)
		if (vm->pci.devs[i])
			devs[n++] = vm->pci.devs[i];
	/*
	 * I/O BARs go in the top quarter of port space, inside the range the
	 * ACPI _CRS hands to the root bus and clear of our fixed ports.
	 */
	pci_window_init(&io, 0xc000, 0x10000);
	return vm_place_bars(&vm->layout, devs, n, &vm->mmio32, &vm->mmio64, &io);
}

int vm_place_bars(const struct layout *l, struct pci_dev **devs, unsigned int n,
		  struct pci_window *w32, struct pci_window *w64, struct pci_window *io)
{
	struct pci_mmio64_need need;
	char err[512];
	int ret;

	ret = pci_mmio64_need(devs, n, w64->next, &need);
	if (ret)
		return ret;
	trace(LOG_PCI, "64-bit BARs of %u devices: %#llx bytes, up to %#llx (window ends at %#llx)",
	      need.nr_devs, (unsigned long long)need.total, (unsigned long long)need.end,
	      (unsigned long long)w64->end);
	ret = layout_check_mmio64(l, need.nr_devs, need.total, need.end, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	return pci_place_bars(devs, n, w32, w64, io);
}

void vm_pci_host_init(struct vm *vm)
{
	vm->pci_host = (struct pci_host){ .ops = &vm_pci_host_ops, .opaque = vm };
}
