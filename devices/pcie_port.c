// SPDX-License-Identifier: MIT
/*
 * An emulated PCIe root port (see pcie_port.h): a type-1 header whose
 * writable bits are a mask, so a hostile write can only change what a real
 * port lets software change, and routing that reads the bus registers on
 * every access, so whatever they hold, the one device below is the only
 * thing a config cycle can reach.
 */
#include "devices/pcie_port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "devices/pci.h"
#include "util/log.h"

#define MiB		(1ull << 20)
#define IO_GRANULE	0x1000ull	/* I/O windows are 4 KiB-granular */
#define MEM_GRANULE	MiB		/* memory windows 1 MiB-granular */

static const struct pci_dev_ops pcie_port_ops;

#define EXP		PCIE_PORT_EXP_CAP
#define PM		PCIE_PORT_PM_CAP

static void put16(uint8_t *b, uint32_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, uint32_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *b, uint32_t off)
{
	return (uint16_t)(b[off] | b[off + 1] << 8);
}

static uint32_t get32(const uint8_t *b, uint32_t off)
{
	return get16(b, off) | (uint32_t)get16(b, off + 2) << 16;
}

/* The header and the PCI Express capability of a root port after reset. */
static void init_header(struct pcie_port *p)
{
	uint8_t *c = p->cfg, *m = p->wmask;

	put16(c, PCI_VENDOR_ID, PCIE_PORT_VENDOR);
	put16(c, PCI_DEVICE_ID, PCIE_PORT_DEVICE);
	put16(m, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			      PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_CLASS_PROG] = 0x00;
	put16(c, PCI_CLASS_DEVICE, 0x0604);	/* PCI-to-PCI bridge */
	m[PCI_CACHE_LINE_SIZE] = 0xff;
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;	/* single function */
	/* Bus numbers: all three writable; the secondary latency timer is not (PCIe). */
	m[PCI_PRIMARY_BUS] = m[PCI_SECONDARY_BUS] = m[PCI_SUBORDINATE_BUS] = 0xff;
	/* I/O: 16-bit decode (low nibble 0), 4 KiB granules. */
	m[PCI_IO_BASE] = m[PCI_IO_LIMIT] = 0xf0;
	/* Memory: 1 MiB granules. Prefetchable: the same, 64-bit (low nibble 1). */
	put16(m, PCI_MEMORY_BASE, 0xfff0);
	put16(m, PCI_MEMORY_LIMIT, 0xfff0);
	put16(c, PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_TYPE_64);
	put16(c, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_64);
	put16(m, PCI_PREF_MEMORY_BASE, 0xfff0);
	put16(m, PCI_PREF_MEMORY_LIMIT, 0xfff0);
	put32(m, PCI_PREF_BASE_UPPER32, 0xffffffff);
	put32(m, PCI_PREF_LIMIT_UPPER32, 0xffffffff);
	c[PCI_CAPABILITY_LIST] = EXP;
	m[PCI_INTERRUPT_LINE] = 0xff;	/* pin 0: the port raises no INTx of its own */
	/* Secondary bus reset is accepted and has no effect (docs/passthrough.md). */
	put16(m, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR |
				     PCI_BRIDGE_CTL_ISA | PCI_BRIDGE_CTL_VGA |
				     PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_BUS_RESET);
}

static void init_exp_cap(struct pcie_port *p)
{
	uint8_t *c = p->cfg, *m = p->wmask;
	uint32_t link = PCIE_PORT_LINK_SPEED | PCIE_PORT_LINK_WIDTH << 4;

	c[EXP + PCI_CAP_LIST_ID] = PCI_CAP_ID_EXP;
	c[EXP + PCI_CAP_LIST_NEXT] = PM;
	put16(c, EXP + PCI_EXP_FLAGS, 2 | PCI_EXP_TYPE_ROOT_PORT << 4 | PCI_EXP_FLAGS_SLOT);
	/* 128-byte payloads; role-based error reporting, as every port since 1.1. */
	put32(c, EXP + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
	/* Error reporting enables, relaxed ordering, payload and read sizes, no snoop. */
	put16(c, EXP + PCI_EXP_DEVCTL, 0x2000);	/* max read request 512 bytes */
	put16(m, EXP + PCI_EXP_DEVCTL, 0x7fff);
	/* Link: 16 GT/s x16, data-link-layer active reporting, port number. */
	put32(c, EXP + PCI_EXP_LNKCAP, link | PCI_EXP_LNKCAP_DLLLARC | (p->nr & 0xff) << 24);
	/* ASPM control, RCB, link disable, common clock, extended sync (retrain reads 0). */
	put16(m, EXP + PCI_EXP_LNKCTL, PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_RCB |
				       PCI_EXP_LNKCTL_LD | PCI_EXP_LNKCTL_CCC | PCI_EXP_LNKCTL_ES);
	/* Trained: current speed and width, slot clock, data link layer up. */
	put16(c, EXP + PCI_EXP_LNKSTA, (uint16_t)(link | PCI_EXP_LNKSTA_SLC | PCI_EXP_LNKSTA_DLLLA));
	/* A slot without hotplug: its physical slot number, a card present. */
	put32(c, EXP + PCI_EXP_SLTCAP, (p->nr + 1) << 19);
	put16(c, EXP + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
	/* System error enables; the port raises no PME interrupt to enable. */
	put16(m, EXP + PCI_EXP_RTCTL, PCI_EXP_RTCTL_SECEE | PCI_EXP_RTCTL_SENFEE |
				      PCI_EXP_RTCTL_SEFEE);
	/* Completion timeout value and disable. */
	put16(m, EXP + PCI_EXP_DEVCTL2, 0x001f);
	/* Supported speeds 2.5 to 16 GT/s; target speed writable. */
	put32(c, EXP + PCI_EXP_LNKCAP2, 0x1e);
	put16(c, EXP + PCI_EXP_LNKCTL2, PCIE_PORT_LINK_SPEED);
	put16(m, EXP + PCI_EXP_LNKCTL2, 0x000f);
}

static void init_pm_cap(struct pcie_port *p)
{
	uint8_t *c = p->cfg, *m = p->wmask;

	c[PM + PCI_CAP_LIST_ID] = PCI_CAP_ID_PM;
	c[PM + PCI_CAP_LIST_NEXT] = 0;
	put16(c, PM + PCI_PM_PMC, 3);	/* version 1.2; D0 and D3hot only, no PME */
	/* No soft reset: leaving D3hot keeps the bus numbers and windows. */
	put16(c, PM + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
	put16(m, PM + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK);
}

void pcie_port_init(struct pcie_port *p, unsigned int nr, const struct pci_host *host)
{
	memset(p, 0, sizeof(*p));
	p->nr = nr;
	snprintf(p->name, sizeof(p->name), "root-port-%u", nr);
	pci_dev_init(&p->dev, &pcie_port_ops, p, p->name, host);
	init_header(p);
	init_exp_cap(p);
	init_pm_cap(p);
}

void pcie_port_attach(struct pcie_port *p, struct pci_dev *child)
{
	p->child = child;
	child->devfn = 0;
	child->upstream = &p->dev;
}

uint8_t pcie_port_secondary(const struct pcie_port *p)
{
	return p->cfg[PCI_SECONDARY_BUS];
}

unsigned int pcie_port_nr(const struct pcie_port *p)
{
	return p->nr;
}

struct pci_dev *pcie_port_route(const struct pcie_port *p, uint8_t bus, uint8_t devfn)
{
	uint8_t sec = p->cfg[PCI_SECONDARY_BUS], sub = p->cfg[PCI_SUBORDINATE_BUS];

	/*
	 * Bus 0 is the root bus's, never a port's; a subordinate below the
	 * secondary closes the port; a downstream port reaches device 0 only.
	 * Buses between secondary and subordinate would be behind a switch,
	 * and there is none.
	 */
	if (!p->child || bus == 0 || bus != sec || sub < sec || devfn != 0)
		return NULL;
	return p->child;
}

static void port_read(struct pci_dev *dev, uint32_t off, void *data, uint32_t len)
{
	struct pcie_port *p = dev->opaque;

	memcpy(data, p->cfg + off, len);
}

static void trace_windows(const struct pcie_port *p)
{
	const uint8_t *c = p->cfg;
	uint64_t pb = (uint64_t)(get16(c, PCI_PREF_MEMORY_BASE) & 0xfff0) << 16 |
		      (uint64_t)get32(c, PCI_PREF_BASE_UPPER32) << 32;
	uint64_t pl = ((uint64_t)(get16(c, PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 |
		       (uint64_t)get32(c, PCI_PREF_LIMIT_UPPER32) << 32) | 0xfffff;

	trace(LOG_PCI, "%s: buses %u/%u-%u, io [%#x-%#x], mem [%#x-%#x], pref [%#llx-%#llx]",
	      p->name, c[PCI_PRIMARY_BUS], c[PCI_SECONDARY_BUS], c[PCI_SUBORDINATE_BUS],
	      (c[PCI_IO_BASE] & 0xf0) << 8, (c[PCI_IO_LIMIT] & 0xf0) << 8 | 0xfff,
	      (uint32_t)(get16(c, PCI_MEMORY_BASE) & 0xfff0) << 16,
	      (uint32_t)(get16(c, PCI_MEMORY_LIMIT) & 0xfff0) << 16 | 0xfffff, (unsigned long long)pb,
	      (unsigned long long)pl);
}

static void port_write(struct pci_dev *dev, uint32_t off, const void *data, uint32_t len)
{
	struct pcie_port *p = dev->opaque;
	const uint8_t *v = data;
	uint8_t old_state = p->cfg[PM + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK;

	/* Extended space is all zeros and read-only: no extended capabilities. */
	if (off >= PCI_CFG_SPACE_SIZE)
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t m = p->wmask[off + i];

		p->cfg[off + i] = (uint8_t)((p->cfg[off + i] & ~m) | (v[i] & m));
	}
	/* D1 and D2 are not supported: such a write leaves the state alone. */
	if ((p->cfg[PM + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK) == 1 ||
	    (p->cfg[PM + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK) == 2)
		p->cfg[PM + PCI_PM_CTRL] = (uint8_t)((p->cfg[PM + PCI_PM_CTRL] &
						      ~PCI_PM_CTRL_STATE_MASK) | old_state);
	if (off < PCI_CAPABILITY_LIST && off + len > PCI_PRIMARY_BUS && trace_on(LOG_PCI))
		trace_windows(p);
}

static const struct pci_dev_ops pcie_port_ops = {
	.cfg_read = port_read,
	.cfg_write = port_write,
};

/* ---- firmware: bus numbers, windows and the child's BARs ---- */

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) & ~(to - 1);
}

static void need_add(uint64_t *size, uint64_t *align, uint64_t sz)
{
	*size += sz;
	if (sz > *align)
		*align = sz;
}

static void need_round(uint64_t *size, uint64_t *align, uint64_t granule)
{
	if (!*size)
		return;
	if (*align < granule)
		*align = granule;
	*size = round_up(*size, granule);
}

void pcie_port_need(const struct pcie_port *p, struct pcie_port_need *n)
{
	memset(n, 0, sizeof(*n));
	if (!p->child)
		return;
	/*
	 * Placed largest first, every power-of-two BAR lands aligned right
	 * after the previous one, so a window is the sum of the sizes, aligned
	 * to the largest.
	 */
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *bar = &p->child->bars[i];
		uint64_t sz = pci_bar_placed_size(p->child, i);

		if (!sz)
			continue;
		if (bar->type == PCI_BAR_IO)
			need_add(&n->io_size, &n->io_align, sz);
		else if (pci_bar_in_pref_window(bar))
			need_add(&n->pref_size, &n->pref_align, sz);
		else
			need_add(&n->mem_size, &n->mem_align, sz);
	}
	need_round(&n->mem_size, &n->mem_align, MEM_GRANULE);
	need_round(&n->pref_size, &n->pref_align, MEM_GRANULE);
	need_round(&n->io_size, &n->io_align, IO_GRANULE);
}

static void wr16(struct pcie_port *p, uint32_t off, uint16_t v)
{
	port_write(&p->dev, off, &v, 2);
}

static void wr32(struct pcie_port *p, uint32_t off, uint32_t v)
{
	port_write(&p->dev, off, &v, 4);
}

static int carve(struct pcie_port *p, const char *what, struct pci_window *from, uint64_t size,
		 uint64_t align, struct pci_window *w)
{
	uint64_t addr;

	pci_window_init(w, 0, 0);
	if (!size)
		return 0;
	if (!from || pci_window_alloc_aligned(from, size, align, &addr)) {
		log_err("%s: its %s window (%llu MiB for %s) does not fit%s", p->name, what,
			(unsigned long long)(size >> 20), p->child->name,
			from ? " in the guest's MMIO space" : "");
		return -ENOSPC;
	}
	pci_window_init(w, addr, addr + size);
	return 0;
}

/* Base/limit registers from a window; an empty one is closed (base above limit). */
static void program_windows(struct pcie_port *p, const struct pci_window *mem,
			    const struct pci_window *pref, const struct pci_window *io)
{
	uint8_t iob = 0xf0, iol = 0;

	if (io->end > io->base) {
		iob = (uint8_t)(io->base >> 8 & 0xf0);
		iol = (uint8_t)((io->end - 1) >> 8 & 0xf0);
	}
	wr16(p, PCI_IO_BASE, (uint16_t)(iob | iol << 8));
	if (mem->end > mem->base) {
		wr16(p, PCI_MEMORY_BASE, (uint16_t)(mem->base >> 16));
		wr16(p, PCI_MEMORY_LIMIT, (uint16_t)((mem->end - 1) >> 16));
	} else {
		wr16(p, PCI_MEMORY_BASE, 0xfff0);
		wr16(p, PCI_MEMORY_LIMIT, 0);
	}
	if (pref->end > pref->base) {
		wr16(p, PCI_PREF_MEMORY_BASE, (uint16_t)(pref->base >> 16));
		wr16(p, PCI_PREF_MEMORY_LIMIT, (uint16_t)((pref->end - 1) >> 16));
		wr32(p, PCI_PREF_BASE_UPPER32, (uint32_t)(pref->base >> 32));
		wr32(p, PCI_PREF_LIMIT_UPPER32, (uint32_t)((pref->end - 1) >> 32));
	} else {
		wr16(p, PCI_PREF_MEMORY_BASE, 0xfff0);
		wr16(p, PCI_PREF_MEMORY_LIMIT, 0);
		wr32(p, PCI_PREF_BASE_UPPER32, 0);
		wr32(p, PCI_PREF_LIMIT_UPPER32, 0);
	}
}

int pcie_port_place(struct pcie_port *p, uint8_t bus, struct pci_window *w32,
		    struct pci_window *w64, struct pci_window *io)
{
	struct pci_window mw, pw, iw;
	struct pcie_port_need n;
	bool io_ok;
	int ret;

	wr32(p, PCI_PRIMARY_BUS, (uint32_t)bus << 8 | (uint32_t)bus << 16);
	pcie_port_need(p, &n);
	ret = carve(p, "memory", w32, n.mem_size, n.mem_align, &mw);
	if (!ret)
		ret = carve(p, "prefetchable", w64, n.pref_size, n.pref_align, &pw);
	if (ret)
		return ret;
	io_ok = io && n.io_size && !pci_window_alloc_aligned(io, n.io_size, n.io_align, &iw.base);
	if (io_ok)
		pci_window_init(&iw, iw.base, iw.base + n.io_size);
	else
		pci_window_init(&iw, 0, 0);
	program_windows(p, &mw, &pw, &iw);
	wr16(p, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | (io_ok ? PCI_COMMAND_IO : 0));
	if (!p->child)
		return 0;
	trace(LOG_PCI, "%s: %s at %02x:00.0", p->name, p->child->name, bus);
	return pci_place_bars_bridged(p->child, &mw, &pw, io_ok ? &iw : NULL);
}
