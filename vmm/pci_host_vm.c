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
#include <stdlib.h>

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

/* Ports with the most demanding prefetchable window first: the tightest packing. */
static int cmp_port(const void *x, const void *y)
{
	struct pcie_port_need a, b;

	pcie_port_need(*(struct pcie_port *const *)x, &a);
	pcie_port_need(*(struct pcie_port *const *)y, &b);
	if (a.pref_align != b.pref_align)
		return a.pref_align > b.pref_align ? -1 : 1;
	return a.mem_align > b.mem_align ? -1 : a.mem_align < b.mem_align;
}

int vm_place_pci_bars(struct vm *vm)
{
	struct pci_dev *devs[256];
	struct pcie_port *ports[PCI_MAX_PORTS];
	struct pci_window io;
	unsigned int n = 0;

	for (unsigned int i = 0; i < 256; i++)
		if (vm->pci.devs[i])
			devs[n++] = vm->pci.devs[i];
	for (unsigned int i = 0; i < vm->pci.nr_ports; i++)
		ports[i] = vm->pci.ports[i];
	/*
	 * I/O BARs go in the top quarter of port space, inside the range the
	 * ACPI _CRS hands to the root bus and clear of our fixed ports.
	 */
	pci_window_init(&io, 0xc000, 0x10000);
	return vm_place_all(&vm->layout, devs, n, ports, vm->pci.nr_ports, &vm->mmio32,
			    &vm->mmio64, &io);
}

/* Where the ports' prefetchable windows would end, from base, with no upper bound. */
static void ports_pref_need(struct pcie_port **ports, unsigned int nr, uint64_t base,
			    struct pci_mmio64_need *need)
{
	uint64_t next = base;

	*need = (struct pci_mmio64_need){ .end = base };
	for (unsigned int i = 0; i < nr; i++) {
		struct pcie_port_need pn;

		pcie_port_need(ports[i], &pn);
		if (!pn.pref_size)
			continue;
		need->nr_devs++;
		need->total += pn.pref_size;
		if (next > UINT64_MAX - (pn.pref_align - 1)) {
			next = UINT64_MAX;
			break;
		}
		next = (next + pn.pref_align - 1) & ~(pn.pref_align - 1);
		if (next > UINT64_MAX - pn.pref_size) {
			next = UINT64_MAX;
			break;
		}
		next += pn.pref_size;
	}
	need->end = next;
}

int vm_place_all(const struct layout *l, struct pci_dev **devs, unsigned int n,
		 struct pcie_port **ports, unsigned int nr_ports, struct pci_window *w32,
		 struct pci_window *w64, struct pci_window *io)
{
	struct pci_mmio64_need pneed, need;
	char err[512];
	int ret;

	if (nr_ports)	/* qsort(NULL, 0, ...) is undefined */
		qsort(ports, nr_ports, sizeof(ports[0]), cmp_port);
	/* The whole 64-bit need first, ports then root-bus BARs, as they will be placed. */
	ports_pref_need(ports, nr_ports, w64->next, &pneed);
	if (pneed.end == UINT64_MAX)
		need = (struct pci_mmio64_need){ .end = UINT64_MAX };
	else if ((ret = pci_mmio64_need(devs, n, pneed.end, &need)))
		return ret;
	need.total += pneed.total;
	need.nr_devs += pneed.nr_devs;
	trace(LOG_PCI, "64-bit BARs of %u devices: %#llx bytes, up to %#llx (window ends at %#llx)",
	      need.nr_devs, (unsigned long long)need.total, (unsigned long long)need.end,
	      (unsigned long long)w64->end);
	ret = layout_check_mmio64(l, need.nr_devs, need.total, need.end, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	/* Bus numbers in slot order would be nicer to read; placement order is what packs. */
	for (unsigned int i = 0; i < nr_ports; i++) {
		ret = pcie_port_place(ports[i], (uint8_t)(pcie_port_nr(ports[i]) + 1), w32, w64, io);
		if (ret)
			return ret;
	}
	return pci_place_bars(devs, n, w32, w64, io);
}

int vm_place_bars(const struct layout *l, struct pci_dev **devs, unsigned int n,
		  struct pci_window *w32, struct pci_window *w64, struct pci_window *io)
{
	return vm_place_all(l, devs, n, NULL, 0, w32, w64, io);
}

void vm_pci_host_init(struct vm *vm)
{
	vm->pci_host = (struct pci_host){ .ops = &vm_pci_host_ops, .opaque = vm };
}
