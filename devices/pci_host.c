// SPDX-License-Identifier: MIT
/*
 * The PCI root: CF8/CFC (mechanism #1) and ECAM both land in
 * pci_cfg_read/pci_cfg_write, which pick the function by devfn and hand
 * the access to its pci_dev_ops. Device 00:00.0 is an emulated host bridge.
 */
#include "devices/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define CF8_ENABLE	0x80000000u
#define HOST_BRIDGE_VENDOR	0x8086
#define HOST_BRIDGE_DEVICE	0x29c0	/* like Q35's MCH */

struct host_bridge {
	struct pci_dev dev;
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
};

static struct host_bridge host_bridge;

static void host_bridge_read(struct pci_dev *dev, uint32_t off, void *data, uint32_t len)
{
	struct host_bridge *hb = dev->opaque;

	memcpy(data, hb->cfg + off, len);
}

static void host_bridge_write(struct pci_dev *dev, uint32_t off, const void *data, uint32_t len)
{
	/* Everything is read-only except the command register's low bits. */
	(void)dev;
	(void)off;
	(void)data;
	(void)len;
}

static const struct pci_dev_ops host_bridge_ops = {
	.cfg_read = host_bridge_read,
	.cfg_write = host_bridge_write,
};

static void host_bridge_init(struct host_bridge *hb)
{
	memset(hb, 0, sizeof(*hb));
	hb->cfg[0x00] = HOST_BRIDGE_VENDOR & 0xff;
	hb->cfg[0x01] = HOST_BRIDGE_VENDOR >> 8;
	hb->cfg[0x02] = HOST_BRIDGE_DEVICE & 0xff;
	hb->cfg[0x03] = HOST_BRIDGE_DEVICE >> 8;
	hb->cfg[0x04] = 0x06;	/* memory space + bus master: always on */
	hb->cfg[0x0a] = 0x00;	/* subclass: host bridge */
	hb->cfg[0x0b] = 0x06;	/* class: bridge */
	hb->cfg[0x0e] = 0x00;	/* header type 0, single function */
	hb->dev.devfn = PCI_DEVFN(0, 0);
	hb->dev.ops = &host_bridge_ops;
	hb->dev.opaque = hb;
	hb->dev.name = "host-bridge";
}

static const char *cfg_reg_name(uint32_t off)
{
	static const char *names[] = {
		[0x00] = "VENDOR_ID", [0x02] = "DEVICE_ID", [0x04] = "COMMAND", [0x06] = "STATUS",
		[0x08] = "REVISION/CLASS", [0x0c] = "CACHE_LINE/LAT/HDR/BIST", [0x10] = "BAR0",
		[0x14] = "BAR1", [0x18] = "BAR2", [0x1c] = "BAR3", [0x20] = "BAR4", [0x24] = "BAR5",
		[0x2c] = "SUBSYSTEM", [0x30] = "ROM", [0x34] = "CAP_PTR", [0x3c] = "INTERRUPT",
	};

	if (off < sizeof(names) / sizeof(names[0]) && names[off])
		return names[off];
	return off < 0x40 ? "header" : off < 0x100 ? "capability" : "extended";
}

/* Split an access so the device never sees one crossing a dword. */
static bool cfg_access_ok(uint32_t off, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && (off & (len - 1)) == 0 &&
	       (uint64_t)off + len <= PCI_CFG_SPACE_EXP_SIZE;	/* off may be ~0 */
}

/* The function a config access reaches; the caller holds pci->lock. */
static struct pci_dev *cfg_target(const struct pci_root *pci, uint8_t bus, uint8_t devfn)
{
	struct pci_dev *dev;

	if (bus == 0)
		return pci->devs[devfn];
	/* The first port whose secondary bus it is (a hostile guest may give two the same). */
	for (unsigned int i = 0; i < pci->nr_ports; i++) {
		dev = pcie_port_route(pci->ports[i], bus, devfn);
		if (dev)
			return dev;
	}
	return NULL;
}

static void trace_cfg(const char *what, uint8_t bus, uint8_t devfn, uint32_t off, const void *data,
		      uint32_t len, const struct pci_dev *dev)
{
	uint32_t v = 0;

	memcpy(&v, data, len);
	log_trace(LOG_PCI, "cfg %-5s %02x:%02x.%x %-22s +0x%03x/%u = 0x%x (%s)", what, bus,
		  PCI_SLOT(devfn), PCI_FUNC(devfn), cfg_reg_name(off & ~3u), off, len, v,
		  dev->name);
}

void pci_cfg_read_bus(struct pci_root *pci, uint8_t bus, uint8_t devfn, uint32_t off, void *data,
		      uint32_t len)
{
	struct pci_dev *dev;

	memset(data, 0xff, len);
	if (!cfg_access_ok(off, len))
		return;
	pthread_mutex_lock(&pci->lock);
	dev = cfg_target(pci, bus, devfn);
	if (dev)
		dev->ops->cfg_read(dev, off, data, len);
	pthread_mutex_unlock(&pci->lock);
	if (dev && trace_on(LOG_PCI))
		trace_cfg("read", bus, devfn, off, data, len, dev);
}

void pci_cfg_write_bus(struct pci_root *pci, uint8_t bus, uint8_t devfn, uint32_t off,
		       const void *data, uint32_t len)
{
	struct pci_dev *dev;

	if (!cfg_access_ok(off, len))
		return;
	pthread_mutex_lock(&pci->lock);
	dev = cfg_target(pci, bus, devfn);
	if (dev)
		dev->ops->cfg_write(dev, off, data, len);
	pthread_mutex_unlock(&pci->lock);
	if (dev && trace_on(LOG_PCI))
		trace_cfg("write", bus, devfn, off, data, len, dev);
}

void pci_cfg_read(struct pci_root *pci, uint8_t devfn, uint32_t off, void *data, uint32_t len)
{
	pci_cfg_read_bus(pci, 0, devfn, off, data, len);
}

void pci_cfg_write(struct pci_root *pci, uint8_t devfn, uint32_t off, const void *data,
		   uint32_t len)
{
	pci_cfg_write_bus(pci, 0, devfn, off, data, len);
}

/* ---- CF8/CFC ---- */

static void cf8_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pci_root *pci = opaque;

	if (off == 0 && len == 4)
		memcpy(data, &pci->cf8, 4);
	else
		memset(data, 0xff, len);
}

static void cf8_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pci_root *pci = opaque;

	/* Only a dword write at CF8 latches the address (byte 0xcf9 is reset). */
	if (off == 0 && len == 4)
		memcpy(&pci->cf8, data, 4);
}

static bool cfc_target(struct pci_root *pci, uint64_t off, uint8_t *bus, uint8_t *devfn,
		       uint32_t *reg)
{
	uint32_t a = pci->cf8;

	/* Mechanism #1 reaches the first 256 bytes. */
	if (!(a & CF8_ENABLE))
		return false;
	*bus = (a >> 16) & 0xff;
	*devfn = (a >> 8) & 0xff;
	*reg = (a & 0xfc) + (uint32_t)off;
	return true;
}

static void cfc_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pci_root *pci = opaque;
	uint8_t bus, devfn;
	uint32_t reg;

	if (!cfc_target(pci, off, &bus, &devfn, &reg))
		memset(data, 0xff, len);
	else
		pci_cfg_read_bus(pci, bus, devfn, reg, data, len);
}

static void cfc_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pci_root *pci = opaque;
	uint8_t bus, devfn;
	uint32_t reg;

	if (cfc_target(pci, off, &bus, &devfn, &reg))
		pci_cfg_write_bus(pci, bus, devfn, reg, data, len);
}

static const struct bus_ops cf8_ops = { .read = cf8_read, .write = cf8_write };
static const struct bus_ops cfc_ops = { .read = cfc_read, .write = cfc_write };

/* ---- ECAM ---- */

static void ecam_decode(uint64_t off, uint8_t *bus, uint8_t *devfn, uint32_t *reg)
{
	*bus = (off >> 20) & 0xff;
	*devfn = (off >> 12) & 0xff;
	*reg = off & 0xfff;
}

static void ecam_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	const struct pci_root *pci = opaque;
	uint8_t bus, devfn;
	uint32_t reg;

	ecam_decode(off, &bus, &devfn, &reg);
	if (len == 8) {	/* a 64-bit access is two dwords */
		ecam_read(opaque, off, data, 4);
		/* Past the window's end the bus number would wrap to bus 0. */
		if (off + 4 < pci->ecam_size)
			ecam_read(opaque, off + 4, (uint8_t *)data + 4, 4);
		else
			memset((uint8_t *)data + 4, 0xff, 4);
		return;
	}
	pci_cfg_read_bus(opaque, bus, devfn, reg, data, len);
}

static void ecam_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	const struct pci_root *pci = opaque;
	uint8_t bus, devfn;
	uint32_t reg;

	ecam_decode(off, &bus, &devfn, &reg);
	if (len == 8) {
		ecam_write(opaque, off, data, 4);
		if (off + 4 < pci->ecam_size)
			ecam_write(opaque, off + 4, (const uint8_t *)data + 4, 4);
		return;
	}
	pci_cfg_write_bus(opaque, bus, devfn, reg, data, len);
}

static const struct bus_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

int pci_root_init(struct pci_root *pci, struct bus *pio, struct bus *mmio, uint64_t ecam_base,
		  uint64_t ecam_size)
{
	int ret;

	memset(pci, 0, sizeof(*pci));
	pthread_mutex_init(&pci->lock, NULL);
	pci->ecam_base = ecam_base;
	pci->ecam_size = ecam_size;
	ret = bus_register(pio, 0xcf8, 1, &cf8_ops, pci, "pci-cf8");
	if (!ret)
		ret = bus_register(pio, 0xcfc, 4, &cfc_ops, pci, "pci-cfc");
	if (!ret)
		ret = bus_register(mmio, ecam_base, ecam_size, &ecam_ops, pci, "pci-ecam");
	if (ret)
		return ret;
	/* Each root has its own bridge; the static one serves the one VM. */
	host_bridge_init(&host_bridge);
	return pci_root_add(pci, &host_bridge.dev);
}

int pci_root_add(struct pci_root *pci, struct pci_dev *dev)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&pci->lock);
	if (dev->devfn == 0 && pci->devs[0] == NULL) {
		pci->devs[0] = dev;
		ret = 0;
	} else {
		for (unsigned int slot = 1; slot < 32; slot++) {
			if (!pci->devs[PCI_DEVFN(slot, 0)]) {
				dev->devfn = PCI_DEVFN(slot, 0);
				pci->devs[dev->devfn] = dev;
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&pci->lock);
	if (!ret)
		trace(LOG_PCI, "%s at 00:%02x.%x", dev->name, PCI_SLOT(dev->devfn),
		      PCI_FUNC(dev->devfn));
	return ret;
}

int pci_root_add_port(struct pci_root *pci, struct pci_dev *child, const struct pci_host *host)
{
	struct pcie_port *port;
	int ret;

	if (pci->nr_ports == PCI_MAX_PORTS)
		return -ENOSPC;
	port = malloc(sizeof(*port));
	if (!port)
		return -ENOMEM;
	pcie_port_init(port, pci->nr_ports, host);
	ret = pci_root_add(pci, &port->dev);
	if (ret) {
		free(port);
		return ret;
	}
	pthread_mutex_lock(&pci->lock);
	pcie_port_attach(port, child);
	pci->ports[pci->nr_ports++] = port;
	pthread_mutex_unlock(&pci->lock);
	return 0;
}

void pci_root_release(struct pci_root *pci)
{
	for (unsigned int i = 0; i < pci->nr_ports; i++) {
		pci->devs[pci->ports[i]->dev.devfn] = NULL;
		free(pci->ports[i]);
		pci->ports[i] = NULL;
	}
	pci->nr_ports = 0;
}
