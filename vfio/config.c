// SPDX-License-Identifier: MIT
/*
 * Config space virtualization, table-driven. Every bit of the 4 KiB space
 * has three properties kept as byte masks in struct vfio_cfg:
 *   emu  the guest reads our shadow copy, not the device;
 *   wr   the guest may change it (everything else is read-only);
 *   fwd  a guest write also goes to the device.
 * A bit with none of them is read live from the device and never written:
 * that is the default, so anything we do not know about is read-only.
 * The tables below (header, then per capability) set these masks once at
 * init; reads and writes are then one generic merge, which is why a hostile
 * guest cannot change a read-only bit or reach past the shadow: the access
 * is clipped to the config size and every byte goes through the masks.
 *
 * Capabilities we cannot support are hidden by unlinking them from the
 * chain: the previous capability's next pointer is emulated to skip them,
 * and their bytes read as zero.
 */
#include "vfio/internal.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

/* One register (or bit range of it): masks are for its len bytes, little endian. */
struct cfg_rule {
	uint16_t off;
	uint8_t len;
	uint32_t emu, wr, fwd;
	uint32_t zero;	/* emulated bits we hide: they read 0 whatever the device says */
	uint32_t keep;	/* emulated bits a Function Level Reset leaves alone */
};

#define CMD_WRITABLE	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |	\
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define STATUS_RW1C	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |		\
			 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |	\
			 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)

/*
 * The type 0 header. BARs and the ROM BAR get their write masks from the
 * region sizes in bar.c; here they are only marked emulated.
 * Command: decode bits are emulated (they drive our BAR mapping) and also
 * forwarded, like bus master, parity, SERR and INTx disable, which the
 * device (through the kernel's own virtualization) must see.
 */
static const struct cfg_rule header_rules[] = {
	{ PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, CMD_WRITABLE, CMD_WRITABLE },
	{ PCI_STATUS, 2, PCI_STATUS_CAP_LIST, STATUS_RW1C, STATUS_RW1C },
	{ PCI_CACHE_LINE_SIZE, 1, 0xff, 0xff, 0 },
	{ PCI_LATENCY_TIMER, 1, 0xff, 0xff, 0 },
	{ PCI_HEADER_TYPE, 1, 0xff, 0, 0 },	/* multi-function bit hidden */
	{ PCI_BIST, 1, 0xff, 0, 0 },
	{ PCI_BASE_ADDRESS_0, 4, ~0u, 0, 0 },
	{ PCI_BASE_ADDRESS_1, 4, ~0u, 0, 0 },
	{ PCI_BASE_ADDRESS_2, 4, ~0u, 0, 0 },
	{ PCI_BASE_ADDRESS_3, 4, ~0u, 0, 0 },
	{ PCI_BASE_ADDRESS_4, 4, ~0u, 0, 0 },
	{ PCI_BASE_ADDRESS_5, 4, ~0u, 0, 0 },
	{ PCI_ROM_ADDRESS, 4, ~0u, 0, 0 },
	{ PCI_CAPABILITY_LIST, 4, ~0u, 0, 0 },	/* pointer + reserved */
	{ 0x38, 4, ~0u, 0, 0 },			/* reserved */
	{ PCI_INTERRUPT_LINE, 1, 0xff, 0xff, 0 },
	{ PCI_INTERRUPT_PIN, 1, 0xff, 0, 0 },
};

static const struct cfg_rule pm_rules[] = {
	/* Power state and PME enable pass through; PME status is RW1C. */
	{ PCI_PM_CTRL, 2, 0, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE |
		PCI_PM_CTRL_PME_STATUS, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE |
		PCI_PM_CTRL_PME_STATUS },
};

/*
 * PCI Express: what we virtualize and why.
 * - DevCap FLR is ours (cfg_exp_flr()): offered only when VFIO can reset the
 *   device and the device really has FLR. Initiate-FLR is never forwarded:
 *   the device resetting itself behind our back would leave our emulated
 *   state (decode, BARs, MSI/MSI-X, INTx) describing a device that no longer
 *   exists. A guest FLR is emulated instead (vfio_pci_flr()): our state goes
 *   to its reset values, then VFIO_DEVICE_RESET. Without a VFIO reset we
 *   could not keep that promise, and a device without FLR must not grow one,
 *   so then the bit stays hidden and the write does nothing. The bit itself
 *   always reads 0, as the spec says.
 * - Max payload / max read request are emulated: they must match what the
 *   host configured along the path to the root port.
 * - Link control is emulated entirely: a guest could otherwise disable or
 *   retrain the physical link, or change ASPM under the host.
 * - An FLR leaves link-specific bits and max payload alone (PCIe base spec,
 *   6.6.2), hence their keep masks; every other emulated bit returns to its
 *   value at open.
 * - Error reporting enables, relaxed ordering, extended tags, no snoop,
 *   DevCtl2 completion timeout / AtomicOp / IDO / LTR pass through;
 *   status RW1C bits pass through.
 */
#define DEVCTL_FWD	(PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE |	\
			 PCI_EXP_DEVCTL_URRE | PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_EXT_TAG |	\
			 PCI_EXP_DEVCTL_PHANTOM | PCI_EXP_DEVCTL_AUX_PME | PCI_EXP_DEVCTL_NOSNOOP_EN)
#define DEVCTL_EMU	(PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ)
#define DEVCTL2_FWD	(PCI_EXP_DEVCTL2_COMP_TIMEOUT | PCI_EXP_DEVCTL2_COMP_TMOUT_DIS |	\
			 PCI_EXP_DEVCTL2_ATOMIC_REQ | PCI_EXP_DEVCTL2_IDO_REQ_EN |		\
			 PCI_EXP_DEVCTL2_IDO_CMP_EN | PCI_EXP_DEVCTL2_LTR_EN)
#define LNKCTL_WR	(PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_RCB | PCI_EXP_LNKCTL_CCC |	\
			 PCI_EXP_LNKCTL_ES | PCI_EXP_LNKCTL_CLKREQ_EN | PCI_EXP_LNKCTL_HAWD |	\
			 PCI_EXP_LNKCTL_LBMIE | PCI_EXP_LNKCTL_LABIE)

static const struct cfg_rule exp_rules[] = {
	{ PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR, 0, 0 },
	{ PCI_EXP_DEVCTL, 2, DEVCTL_EMU | PCI_EXP_DEVCTL_BCR_FLR, DEVCTL_EMU | DEVCTL_FWD, DEVCTL_FWD,
	  PCI_EXP_DEVCTL_BCR_FLR, PCI_EXP_DEVCTL_PAYLOAD },
	{ PCI_EXP_DEVSTA, 2, 0, PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED |
		PCI_EXP_DEVSTA_URD, PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED |
		PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD },
	{ PCI_EXP_LNKCTL, 2, 0xffff, LNKCTL_WR, 0, 0, 0xffff },
	{ PCI_EXP_DEVCTL2, 2, 0, DEVCTL2_FWD, DEVCTL2_FWD },
	{ PCI_EXP_LNKCTL2, 2, 0xffff, 0xffff, 0, 0, 0xffff },
};

static const struct cfg_rule aer_rules[] = {
	{ PCI_ERR_UNCOR_STATUS, 4, 0, ~0u, ~0u },
	{ PCI_ERR_UNCOR_MASK, 4, 0, ~0u, ~0u },
	{ PCI_ERR_UNCOR_SEVER, 4, 0, ~0u, ~0u },
	{ PCI_ERR_COR_STATUS, 4, 0, ~0u, ~0u },
	{ PCI_ERR_COR_MASK, 4, 0, ~0u, ~0u },
	{ PCI_ERR_CAP, 4, 0, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE,
	  PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE },
};

/* The guest may program LTR latencies; the host's values stay in the device. */
static const struct cfg_rule ltr_rules[] = {
	{ PCI_LTR_MAX_SNOOP_LAT, 4, ~0u, ~0u, 0 },
};

struct cap_desc {
	uint16_t id;
	const struct cfg_rule *rules;
	unsigned int nr;
	bool hide;
	const char *name;
};

#define RULES(r) r, sizeof(r) / sizeof(r[0])

static const struct cap_desc std_caps[] = {
	{ PCI_CAP_ID_PM, RULES(pm_rules), false, "PM" },
	{ PCI_CAP_ID_AGP, NULL, 0, true, "AGP" },
	{ PCI_CAP_ID_VPD, NULL, 0, false, "VPD" },
	{ PCI_CAP_ID_MSI, NULL, 0, false, "MSI" },		/* rules set by msi.c */
	{ PCI_CAP_ID_PCIX, NULL, 0, true, "PCI-X" },
	{ PCI_CAP_ID_HT, NULL, 0, true, "HyperTransport" },
	{ PCI_CAP_ID_VNDR, NULL, 0, false, "vendor-specific" },	/* raw: cfg_vendor_raw() */
	{ PCI_CAP_ID_SHPC, NULL, 0, true, "hot-plug controller" },
	{ PCI_CAP_ID_SSVID, NULL, 0, true, "bridge SSVID" },
	{ PCI_CAP_ID_EXP, RULES(exp_rules), false, "PCIe" },
	{ PCI_CAP_ID_MSIX, NULL, 0, false, "MSI-X" },		/* rules set by msix.c */
	{ PCI_CAP_ID_AF, NULL, 0, true, "AF (conventional FLR)" },
	{ PCI_CAP_ID_EA, NULL, 0, true, "Enhanced Allocation" },
};

/* Unknown extended capabilities stay visible, read-only. */
static const struct cap_desc ext_caps[] = {
	{ 0, NULL, 0, true, "null" },
	{ PCI_EXT_CAP_ID_ERR, RULES(aer_rules), false, "AER" },
	{ PCI_EXT_CAP_ID_DSN, NULL, 0, false, "serial number" },
	{ PCI_EXT_CAP_ID_VNDR, NULL, 0, false, "vendor-specific" },		/* raw */
	{ PCI_EXT_CAP_ID_DVSEC, NULL, 0, false, "designated vendor-specific" },	/* raw */
	{ PCI_EXT_CAP_ID_LTR, RULES(ltr_rules), false, "LTR" },
	{ PCI_EXT_CAP_ID_ATS, NULL, 0, true, "ATS (no vIOMMU)" },
	{ PCI_EXT_CAP_ID_SRIOV, NULL, 0, true, "SR-IOV" },
	{ PCI_EXT_CAP_ID_MRIOV, NULL, 0, true, "MR-IOV" },
	{ PCI_EXT_CAP_ID_PRI, NULL, 0, true, "PRI (no vIOMMU)" },
	{ PCI_EXT_CAP_ID_REBAR, NULL, 0, true, "Resizable BAR" },
	{ PCI_EXT_CAP_ID_PASID, NULL, 0, true, "PASID (no vIOMMU)" },
	{ 0x24, NULL, 0, true, "VF Resizable BAR" },
};

static const struct cap_desc *cap_lookup(const struct cap_desc *t, unsigned int n, uint16_t id)
{
	for (unsigned int i = 0; i < n; i++)
		if (t[i].id == id)
			return &t[i];
	return NULL;
}

int vfio_cfg_dev_read(struct vfio_pci_dev *d, uint32_t off, void *buf, uint32_t len)
{
	const struct vfio_region *r = &d->regions[VFIO_PCI_CFG_INDEX];
	ssize_t n = d->vdev.ops->region_read(d->vdev.h, r, off, buf, len);

	if (n != (ssize_t)len) {
		log_err_rl("%s: config read at %#x len %u failed: %s", d->vdev.name, off, len,
			n < 0 ? strerror((int)-n) : "short read");
		return n < 0 ? (int)n : -EIO;
	}
	return 0;
}

static int cfg_dev_write(struct vfio_pci_dev *d, uint32_t off, const void *buf, uint32_t len)
{
	const struct vfio_region *r = &d->regions[VFIO_PCI_CFG_INDEX];
	ssize_t n = d->vdev.ops->region_write(d->vdev.h, r, off, buf, len);

	if (n != (ssize_t)len) {
		log_err_rl("%s: config write at %#x len %u failed: %s", d->vdev.name, off, len,
			n < 0 ? strerror((int)-n) : "short write");
		return n < 0 ? (int)n : -EIO;
	}
	return 0;
}

void vfio_cfg_rule(struct vfio_pci_dev *d, uint32_t off, uint32_t len, uint32_t emu,
		   uint32_t wr, uint32_t fwd)
{
	for (uint32_t i = 0; i < len && off + i < d->cfg.size; i++) {
		d->cfg.emu[off + i] = emu >> (8 * i);
		d->cfg.wr[off + i] = wr >> (8 * i);
		/* A writable bit we do not emulate can only live in the device. */
		d->cfg.fwd[off + i] = (fwd | (wr & ~emu)) >> (8 * i);
		/* Only here do bits become emulated and writable (what an FLR restores). */
		if ((uint8_t)((emu & wr) >> (8 * i)) && off + i >= d->cfg.flr_end)
			d->cfg.flr_end = off + i + 1;
	}
}

static void apply_rules(struct vfio_pci_dev *d, uint32_t base, const struct cfg_rule *r,
			unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint32_t off = base + r[i].off;

		vfio_cfg_rule(d, off, r[i].len, r[i].emu, r[i].wr, r[i].fwd);
		if (off + r[i].len > d->cfg.size)
			continue;
		if (r[i].zero)
			cfg_set(d, off, r[i].len, cfg_get(d, off, r[i].len) & ~r[i].zero);
		for (uint32_t b = 0; b < r[i].len; b++)
			d->cfg.keep[off + b] = r[i].keep >> (8 * b);
	}
}

/*
 * The guest sees DevCap FLR only when we can honour it: VFIO resets the
 * device (VFIO_DEVICE_FLAGS_RESET) and the device has FLR itself, so the
 * guest is promised no more than the hardware does.
 */
static void cfg_exp_flr(struct vfio_pci_dev *d, uint32_t pos)
{
	uint32_t devcap = cfg_get(d, pos + PCI_EXP_DEVCAP, 4);
	bool has = devcap & PCI_EXP_DEVCAP_FLR;
	bool can = d->info.flags & VFIO_DEVICE_FLAGS_RESET;

	d->cfg.exp_cap = pos;
	d->cfg.flr = has && can;
	if (!d->cfg.flr)
		cfg_set(d, pos + PCI_EXP_DEVCAP, 4, devcap & ~PCI_EXP_DEVCAP_FLR);
	trace(LOG_PCI, "%s: DevCap FLR %s", d->vdev.name,
	      d->cfg.flr ? "offered: a guest FLR becomes VFIO_DEVICE_RESET" :
	      has ? "hidden: VFIO cannot reset the device" : "absent: the device has none");
}

/*
 * Vendor-specific capabilities (standard id 0x09, extended 0x0b and DVSEC
 * 0x23) get raw access past their header, as the kernel's vfio-pci gives
 * them (vfio_pci_config.c: the vendor capabilities' writefn is
 * vfio_raw_config_write, reads go to the hardware): their layout is the
 * vendor's, so no table can say which bits are safe, and the vendor's own
 * driver in the guest is what uses them (mailboxes, debug and feature
 * registers). A config write reaches only this function, which the IOMMU
 * already isolates and whose BARs the guest drives directly anyway; what
 * could break our emulation lives in the standard capabilities, never in
 * these. So: reads live from the device, guest writes forwarded as they
 * are. The capability header (id and next pointer) stays ours, since we
 * rewrite the chain, and the raw range ends at the capability's own length
 * or at the next capability in address order, whichever comes first, so a
 * device whose length byte overlaps MSI-X cannot open MSI-X to raw writes.
 */
static void cfg_vendor_raw(struct vfio_pci_dev *d, uint32_t from, uint32_t to)
{
	if (to > d->cfg.size)
		to = d->cfg.size;
	for (uint32_t o = from; o < to; o++)
		vfio_cfg_rule(d, o, 1, 0, 0xff, 0xff);
	if (to > from)
		trace(LOG_PCI, "%s: vendor-specific bytes %#x-%#x pass through raw", d->vdev.name,
		      from, to - 1);
}

/* Bytes of a hidden capability read as zero and ignore writes. */
static void cfg_hide(struct vfio_pci_dev *d, uint32_t off, uint32_t len)
{
	if (off + len > d->cfg.size)
		len = d->cfg.size - off;
	memset(d->cfg.shadow + off, 0, len);
	memset(d->cfg.emu + off, 0xff, len);
	memset(d->cfg.wr + off, 0, len);
	memset(d->cfg.fwd + off, 0, len);
}

struct found_cap {
	uint16_t off, id;
	bool hide;
};

static int cmp_cap(const void *a, const void *b)
{
	return (int)((const struct found_cap *)a)->off - (int)((const struct found_cap *)b)->off;
}

/* Length of caps[i] for hiding: up to the next capability in address order. */
static uint32_t cap_extent(struct found_cap *sorted, unsigned int n, unsigned int i,
			   uint32_t end)
{
	return (i + 1 < n ? sorted[i + 1].off : end) - sorted[i].off;
}

static bool std_cap_hidden(struct vfio_pci_dev *d, uint8_t id)
{
	const struct cap_desc *c = cap_lookup(std_caps, sizeof(std_caps) / sizeof(std_caps[0]), id);

	if (id == PCI_CAP_ID_MSI)
		return !d->irqs[VFIO_PCI_MSI_IRQ_INDEX].count;
	if (id == PCI_CAP_ID_MSIX)
		return !d->irqs[VFIO_PCI_MSIX_IRQ_INDEX].count;
	return c && c->hide;
}

/* Walks the standard chain, unlinks hidden capabilities, applies the tables. */
static void cfg_std_caps(struct vfio_pci_dev *d)
{
	struct found_cap caps[48];
	unsigned int n = 0, i;
	uint8_t pos = d->cfg.shadow[PCI_CAPABILITY_LIST] & ~3u, *link = &d->cfg.first_cap;

	if (!(cfg_get(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		pos = 0;
	/* 48 hops at most: a looping chain (broken or hostile device) ends here. */
	while (pos >= PCI_STD_HEADER_SIZEOF && n < 48) {
		caps[n].off = pos;
		caps[n].id = d->cfg.shadow[pos];
		caps[n].hide = std_cap_hidden(d, caps[n].id);
		pos = d->cfg.shadow[pos + 1] & ~3u;
		n++;
	}
	*link = 0;
	for (i = 0; i < n; i++) {
		const struct cap_desc *c = cap_lookup(std_caps, sizeof(std_caps) / sizeof(std_caps[0]),
						      caps[i].id);

		trace(LOG_PCI, "%s: cap %#04x at %#x (%s)%s", d->vdev.name, caps[i].id, caps[i].off,
		      c ? c->name : "unknown", caps[i].hide ? ": hidden" : "");
		if (caps[i].hide)
			continue;
		*link = caps[i].off;
		/* Our next pointer is ours to rewrite, the id stays read-only. */
		vfio_cfg_rule(d, caps[i].off, 2, 0xffff, 0, 0);
		link = &d->cfg.shadow[caps[i].off + 1];
		*link = 0;
		if (c && c->rules)
			apply_rules(d, caps[i].off, c->rules, c->nr);
		if (caps[i].id == PCI_CAP_ID_EXP)
			cfg_exp_flr(d, caps[i].off);
		else if (caps[i].id == PCI_CAP_ID_MSI)
			d->msi.cap = caps[i].off;
		else if (caps[i].id == PCI_CAP_ID_MSIX)
			d->msix.cap = caps[i].off;
		else if (caps[i].id == PCI_CAP_ID_PM)
			d->cfg.pm_cap = caps[i].off;
	}
	d->cfg.shadow[PCI_CAPABILITY_LIST] = d->cfg.first_cap;
	if (!d->cfg.first_cap)
		cfg_set(d, PCI_STATUS, 2, cfg_get(d, PCI_STATUS, 2) & ~PCI_STATUS_CAP_LIST);

	qsort(caps, n, sizeof(caps[0]), cmp_cap);
	for (i = 0; i < n; i++) {
		uint32_t ext = cap_extent(caps, n, i, PCI_CFG_SPACE_SIZE);
		uint8_t len;

		if (caps[i].hide || caps[i].id != PCI_CAP_ID_VNDR)
			continue;
		/* Byte 2 is the capability's length, header included. */
		len = d->cfg.shadow[caps[i].off + PCI_CAP_FLAGS];
		cfg_vendor_raw(d, caps[i].off + PCI_CAP_FLAGS,
			       caps[i].off + (len < ext ? len : ext));
	}
	for (i = 0; i < n; i++)
		if (caps[i].hide)
			cfg_hide(d, caps[i].off, cap_extent(caps, n, i, PCI_CFG_SPACE_SIZE));
}

static void ecap_set_next(struct vfio_pci_dev *d, uint32_t at, uint32_t next)
{
	uint32_t hdr = cfg_get(d, at, 4);

	cfg_set(d, at, 4, (hdr & 0xfffff) | (next << 20));
}

/* The same for extended capabilities (0x100-0xfff), which chain by 12-bit pointers. */
static void cfg_ext_caps(struct vfio_pci_dev *d)
{
	struct found_cap caps[128], sorted[128];
	unsigned int n = 0, i;
	uint32_t pos = PCI_CFG_SPACE_SIZE, prev = 0;

	if (d->cfg.size <= PCI_CFG_SPACE_SIZE || !cfg_get(d, pos, 4))
		return;
	while (pos >= PCI_CFG_SPACE_SIZE && pos + 4 <= d->cfg.size && n < 128) {
		uint32_t hdr = cfg_get(d, pos, 4);
		const struct cap_desc *c;

		c = cap_lookup(ext_caps, sizeof(ext_caps) / sizeof(ext_caps[0]), hdr & 0xffff);
		caps[n].off = pos;
		caps[n].id = hdr & 0xffff;
		caps[n].hide = c && c->hide;
		trace(LOG_PCI, "%s: ext cap %#06x at %#x (%s)%s", d->vdev.name, caps[n].id, pos,
		      c ? c->name : "unknown, read-only", caps[n].hide ? ": hidden" : "");
		n++;
		pos = (hdr >> 20) & ~3u;
	}
	d->cfg.first_ecap = 0;
	for (i = 0; i < n; i++) {
		const struct cap_desc *c;

		if (caps[i].hide)
			continue;
		c = cap_lookup(ext_caps, sizeof(ext_caps) / sizeof(ext_caps[0]), caps[i].id);
		vfio_cfg_rule(d, caps[i].off, 4, ~0u, 0, 0);
		if (c && c->rules)
			apply_rules(d, caps[i].off, c->rules, c->nr);
		if (prev)
			ecap_set_next(d, prev, caps[i].off);
		else
			d->cfg.first_ecap = caps[i].off;
		prev = caps[i].off;
	}
	if (prev)
		ecap_set_next(d, prev, 0);

	memcpy(sorted, caps, n * sizeof(caps[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_cap);
	for (i = 0; i < n; i++) {
		uint32_t ext = cap_extent(sorted, n, i, d->cfg.size), len;

		if (sorted[i].hide || (sorted[i].id != PCI_EXT_CAP_ID_VNDR &&
				       sorted[i].id != PCI_EXT_CAP_ID_DVSEC))
			continue;
		/* VSEC and DVSEC alike: the length, header included, in bits 31:20 of +4. */
		if (sorted[i].off + 8u > d->cfg.size)
			continue;
		len = cfg_get(d, sorted[i].off + PCI_VSEC_HDR, 4) >> PCI_VSEC_HDR_LEN_SHIFT;
		cfg_vendor_raw(d, sorted[i].off + PCI_VSEC_HDR,
			       sorted[i].off + (len < ext ? len : ext));
	}
	for (i = 0; i < n; i++)
		if (sorted[i].hide)
			cfg_hide(d, sorted[i].off, cap_extent(sorted, n, i, d->cfg.size));
	/*
	 * The chain must start at 0x100. When the capability there is hidden,
	 * a null header (id 0) points on to the first visible one, which is
	 * how guests already skip the kernel's own hidden capabilities.
	 */
	if (d->cfg.first_ecap != PCI_CFG_SPACE_SIZE)
		cfg_set(d, PCI_CFG_SPACE_SIZE, 4, (uint32_t)d->cfg.first_ecap << 20);
}

/* Bytes a visible standard capability occupies (conservative when unknown). */
static uint32_t std_cap_len(struct vfio_pci_dev *d, uint8_t off)
{
	uint16_t flags = cfg_get(d, off + 2, 2);
	uint32_t next = PCI_CFG_SPACE_SIZE;

	switch (d->cfg.shadow[off]) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		return 10 + (flags & PCI_MSI_FLAGS_64BIT ? 4 : 0) +
		       (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		return (flags & PCI_EXP_FLAGS_VERS) > 1 ? PCI_CAP_EXP_ENDPOINT_SIZEOF_V2
							: PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	case PCI_CAP_ID_VNDR:
		return d->cfg.shadow[off + PCI_CAP_FLAGS];
	}
	/* Unknown: up to the next visible capability in address order. */
	for (uint8_t p = d->cfg.first_cap, hops = 0; p && hops < 48;
	     p = d->cfg.shadow[p + 1] & ~3u, hops++)
		if (p > off && p < next)
			next = p;
	return next - off;
}

/* Does [at, at + len) overlap a visible standard capability? */
static bool std_caps_overlap(struct vfio_pci_dev *d, uint32_t at, uint32_t len)
{
	for (uint8_t p = d->cfg.first_cap, hops = 0; p && hops < 48;
	     p = d->cfg.shadow[p + 1] & ~3u, hops++)
		if (at < p + std_cap_len(d, p) && p < at + len)
			return true;
	return false;
}

int vfio_pci_add_gpudirect_clique(struct vfio_pci_dev *d, unsigned int clique)
{
	static const uint8_t where[] = { 0xc8, 0xd4 };
	uint8_t cap[8] = { PCI_CAP_ID_VNDR, 0, 8, 'P', '2', 'P', 0, 0 };
	uint16_t vendor = cfg_get(d, PCI_VENDOR_ID, 2);
	uint8_t base_class = d->cfg.shadow[PCI_CLASS_DEVICE + 1];
	uint8_t pos = 0;

	if (clique > VFIO_CLIQUE_MAX) {
		log_err("%s: clique=%u: must be a number from 0 to %d", d->vdev.name, clique,
			VFIO_CLIQUE_MAX);
		return -EINVAL;
	}
	if (vendor != 0x10de || base_class != 0x03) {
		log_err("%s: clique=%u: the device is %04x:%04x class %02x, not an NVIDIA GPU "
			"(vendor 10de, class 03): the GPUDirect clique capability is NVIDIA's; "
			"drop clique= for this device", d->vdev.name, clique, vendor,
			cfg_get(d, PCI_DEVICE_ID, 2), base_class);
		return -EINVAL;
	}
	/* NVIDIA's offset is 0xc8; newer GPUs have MSI-X there, then 0xd4 (as QEMU does). */
	for (unsigned int i = 0; i < sizeof(where) && !pos; i++)
		if (!std_caps_overlap(d, where[i], sizeof(cap)))
			pos = where[i];
	if (!pos) {
		log_err("%s: clique=%u: no room for the GPUDirect capability at 0xc8 or 0xd4 "
			"(other capabilities are there); drop clique= for this device",
			d->vdev.name, clique);
		return -ENOSPC;
	}
	cap[1] = d->cfg.first_cap;
	cap[6] = (uint8_t)(clique << 3);	/* bits 2:0: version 0 */
	memcpy(d->cfg.shadow + pos, cap, sizeof(cap));
	memcpy(d->cfg.start + pos, cap, sizeof(cap));
	memset(d->cfg.emu + pos, 0xff, sizeof(cap));
	memset(d->cfg.wr + pos, 0, sizeof(cap));
	memset(d->cfg.fwd + pos, 0, sizeof(cap));
	d->cfg.first_cap = pos;
	d->cfg.shadow[PCI_CAPABILITY_LIST] = pos;
	d->cfg.start[PCI_CAPABILITY_LIST] = pos;
	cfg_set(d, PCI_STATUS, 2, cfg_get(d, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
	trace(LOG_PCI, "%s: GPUDirect P2P clique %u: vendor capability at %#x", d->vdev.name,
	      clique, pos);
	return 0;
}

static void cfg_header_init(struct vfio_pci_dev *d)
{
	uint8_t pin = d->cfg.shadow[PCI_INTERRUPT_PIN];

	apply_rules(d, 0, header_rules, sizeof(header_rules) / sizeof(header_rules[0]));
	/* The guest starts as after reset: no decode until it (or firmware) says so. */
	cfg_set(d, PCI_COMMAND, 2, cfg_get(d, PCI_COMMAND, 2) & ~(PCI_COMMAND_IO |
							      PCI_COMMAND_MEMORY));
	d->cfg.shadow[PCI_HEADER_TYPE] &= 0x7f;
	d->cfg.shadow[PCI_BIST] = 0;
	memset(d->cfg.shadow + PCI_CAPABILITY_LIST + 1, 0, 0x3c - PCI_CAPABILITY_LIST - 1);
	d->cfg.shadow[PCI_INTERRUPT_LINE] = 0xff;
	if (!d->irqs[VFIO_PCI_INTX_IRQ_INDEX].count)
		pin = 0;
	d->cfg.shadow[PCI_INTERRUPT_PIN] = pin;
	d->intx.present = pin != 0;
}

int vfio_cfg_init(struct vfio_pci_dev *d)
{
	uint64_t size = d->regions[VFIO_PCI_CFG_INDEX].size;
	int ret;

	if (size < PCI_CFG_SPACE_SIZE) {
		log_err("%s: config region is only %llu bytes", d->vdev.name,
			(unsigned long long)size);
		return -EINVAL;
	}
	d->cfg.size = size >= PCI_CFG_SPACE_EXP_SIZE ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
	ret = vfio_cfg_dev_read(d, 0, d->cfg.shadow, d->cfg.size);
	if (ret)
		return ret;
	memset(d->cfg.emu, 0, sizeof(d->cfg.emu));
	memset(d->cfg.wr, 0, sizeof(d->cfg.wr));
	memset(d->cfg.fwd, 0, sizeof(d->cfg.fwd));
	memset(d->cfg.keep, 0, sizeof(d->cfg.keep));
	d->cfg.flr_end = 0;
	d->cfg.exp_cap = 0;
	d->cfg.flr = false;
	d->cfg.pm_cap = 0;
	d->cfg.d3 = false;
	cfg_header_init(d);
	cfg_std_caps(d);
	cfg_ext_caps(d);
	trace(LOG_PCI, "%s: %04x:%04x class %06x, config %u bytes, caps at %#x, ext caps at %#x",
	      d->vdev.name, cfg_get(d, PCI_VENDOR_ID, 2), cfg_get(d, PCI_DEVICE_ID, 2),
	      cfg_get(d, PCI_CLASS_REVISION, 4) >> 8, d->cfg.size, d->cfg.first_cap,
	      d->cfg.first_ecap);
	return 0;
}

static bool in_range(uint32_t off, uint32_t len, uint32_t start, uint32_t size)
{
	return off < start + size && start < off + len;
}

bool vfio_pci_is_express(const struct vfio_pci_dev *d)
{
	return d->cfg.exp_cap != 0;
}

void vfio_pci_cfg_read(struct vfio_pci_dev *d, uint32_t off, void *data, uint32_t len)
{
	uint8_t dev[4], *out = data;
	bool need_dev = false;

	if (len == 0 || len > 4 || off >= d->cfg.size || d->cfg.size - off < len) {
		memset(data, 0xff, len > 4 ? 4 : len);
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (uint32_t i = 0; i < len; i++)
		need_dev |= d->cfg.emu[off + i] != 0xff;
	if (!need_dev || vfio_cfg_dev_read(d, off, dev, len))
		memset(dev, 0xff, sizeof(dev));
	for (uint32_t i = 0; i < len; i++) {
		uint8_t emu = d->cfg.emu[off + i];

		out[i] = (dev[i] & ~emu) | (d->cfg.shadow[off + i] & emu);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Writes the forwarded bits of [a, b) to the device, keeping its other bits. */
static void cfg_forward(struct vfio_pci_dev *d, uint32_t a, uint32_t b, const uint8_t *val)
{
	uint8_t dev[4];

	if (vfio_cfg_dev_read(d, a, dev, b - a))
		return;
	for (uint32_t o = a; o < b; o++) {
		uint8_t f = d->cfg.fwd[o];

		dev[o - a] = (dev[o - a] & ~f) | (val[o - a] & f);
	}
	cfg_dev_write(d, a, dev, b - a);
}

/*
 * The power state goes to the device (through vfio-pci, which does the
 * transition). In D3hot a function decodes nothing but config space, and
 * vfio-pci zaps our BAR mmaps: a guest access through a memslot would then
 * fail inside KVM_RUN (EFAULT) and end the VM. So a device in D3hot has its
 * BARs taken off the guest's buses like decode off - accesses read all-ones,
 * as on hardware - and put back when it returns to D0. The state is read
 * back from the device, which may refuse a transition.
 */
void vfio_cfg_power_changed(struct vfio_pci_dev *d)
{
	uint16_t pmcsr;
	bool d3;

	if (!d->cfg.pm_cap || vfio_cfg_dev_read(d, d->cfg.pm_cap + PCI_PM_CTRL, &pmcsr, 2))
		return;
	d3 = (pmcsr & PCI_PM_CTRL_STATE_MASK) == 3;
	if (d3 == d->cfg.d3)
		return;
	d->cfg.d3 = d3;
	trace(LOG_PCI, "%s: power state D%u: BARs %s the guest's buses", d->vdev.name,
	      pmcsr & PCI_PM_CTRL_STATE_MASK, d3 ? "off" : "back on");
	vfio_bars_update(d);
	/* An MSI or MSI-X enable the guest wrote in D3hot was deferred: do it now. */
	if (!d3 && d->msix.cap)
		vfio_msix_cfg_written(d);
	if (!d3 && d->msi.cap)
		vfio_msi_cfg_written(d);
}

/* Did this write set Initiate FLR (DevCtl bit 15) on a device we offer FLR for? */
static bool flr_initiated(const struct vfio_pci_dev *d, uint32_t off, uint32_t len,
			  const uint8_t *in)
{
	uint32_t at = d->cfg.exp_cap + PCI_EXP_DEVCTL + 1;

	return d->cfg.flr && in_range(off, len, at, 1) &&
	       (in[at - off] & (PCI_EXP_DEVCTL_BCR_FLR >> 8));
}

/*
 * An FLR, as far as our emulation goes: every emulated writable bit back to
 * its value at open (command decode off, BARs at 0 with their type bits,
 * MSI and MSI-X control, addresses and masks cleared, interrupt line,
 * max read request...) except what an FLR keeps (cfg.keep). The device's
 * own command bits (bus master, INTx disable, ...) are cleared there too,
 * before the reset: VFIO_DEVICE_RESET saves and restores the function's
 * config around it, and DMA must be off while it happens.
 */
void vfio_cfg_flr(struct vfio_pci_dev *d)
{
	const uint8_t zero[2] = { 0 };

	/*
	 * Eight bytes at a time, and only up to the last byte a guest can
	 * change in our shadow (cfg.flr_end: 0x134 on an H100, not 4 KiB): a
	 * guest may loop on FLR. The arrays are 4 KiB, so o + 8 stays inside.
	 */
	for (uint32_t o = 0; o < d->cfg.flr_end; o += 8) {
		uint64_t emu, wr, keep, shadow, start, m;

		memcpy(&emu, d->cfg.emu + o, 8);
		memcpy(&wr, d->cfg.wr + o, 8);
		memcpy(&keep, d->cfg.keep + o, 8);
		memcpy(&shadow, d->cfg.shadow + o, 8);
		memcpy(&start, d->cfg.start + o, 8);
		m = emu & wr & ~keep;
		shadow = (shadow & ~m) | (start & m);
		memcpy(d->cfg.shadow + o, &shadow, 8);
	}
	cfg_forward(d, PCI_COMMAND, PCI_COMMAND + 2, zero);
}

void vfio_pci_cfg_write(struct vfio_pci_dev *d, uint32_t off, const void *data, uint32_t len)
{
	const uint8_t *in = data;
	uint32_t i, run;

	if (len == 0 || len > 4 || off >= d->cfg.size || d->cfg.size - off < len)
		return;
	pthread_mutex_lock(&d->lock);
	if (trace_on(LOG_PCI)) {
		uint32_t v = 0;

		memcpy(&v, data, len);
		log_trace(LOG_PCI, "%s: config write %#x len %u value %#x", d->vdev.name, off,
			  len, v);
	}
	for (i = 0; i < len; i++) {
		uint8_t m = d->cfg.wr[off + i] & d->cfg.emu[off + i];

		d->cfg.shadow[off + i] = (d->cfg.shadow[off + i] & ~m) | (in[i] & m);
	}
	/* Forward in runs of bytes that carry device bits, never touching others. */
	for (i = 0; i < len; i = run) {
		for (run = i; run < len && d->cfg.fwd[off + run]; run++)
			;
		if (run > i)
			cfg_forward(d, off + i, off + run, in + i);
		else
			run++;
	}
	if (in_range(off, len, PCI_COMMAND, 2) || in_range(off, len, PCI_BASE_ADDRESS_0, 24) ||
	    in_range(off, len, PCI_ROM_ADDRESS, 4))
		vfio_bars_update(d);
	if (d->msi.cap && in_range(off, len, d->msi.cap, 24))
		vfio_msi_cfg_written(d);
	if (d->msix.cap && in_range(off, len, d->msix.cap + PCI_MSIX_FLAGS, 2))
		vfio_msix_cfg_written(d);
	if (d->cfg.pm_cap && in_range(off, len, d->cfg.pm_cap + PCI_PM_CTRL, 2))
		vfio_cfg_power_changed(d);
	if (flr_initiated(d, off, len, in))
		vfio_pci_flr(d);
	pthread_mutex_unlock(&d->lock);
}

static void pci_cfg_read_op(struct pci_dev *pd, uint32_t off, void *data, uint32_t len)
{
	vfio_pci_cfg_read(pd->opaque, off, data, len);
}

static void pci_cfg_write_op(struct pci_dev *pd, uint32_t off, const void *data, uint32_t len)
{
	vfio_pci_cfg_write(pd->opaque, off, data, len);
}

static void bar_read_op(struct pci_dev *pd, unsigned int bar, uint64_t off, void *data,
			uint32_t len)
{
	vfio_pci_bar_read(pd->opaque, bar, off, data, len);
}

static void bar_write_op(struct pci_dev *pd, unsigned int bar, uint64_t off, const void *data,
			 uint32_t len)
{
	vfio_pci_bar_write(pd->opaque, bar, off, data, len);
}

static void bar_moved_op(struct pci_dev *pd, unsigned int bar, bool on, uint64_t addr)
{
	vfio_pci_bar_moved(pd->opaque, bar, on, addr);
}

const struct pci_dev_ops vfio_pci_dev_ops = {
	.cfg_read = pci_cfg_read_op,
	.cfg_write = pci_cfg_write_op,
	.bar_read = bar_read_op,
	.bar_write = bar_write_op,
	.bar_moved = bar_moved_op,
};
