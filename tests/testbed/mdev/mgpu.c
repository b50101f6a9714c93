// SPDX-License-Identifier: GPL-2.0
/*
 * mgpu: a GPU-shaped mediated device for the vfio-vmm testbed (docs/testbed.md,
 * scenario mdev). It registers an mdev parent "mgpu" whose types look like an
 * NVIDIA H100/H200 function to a VMM: the real cards' config space (from
 * tests/fixtures, embedded by host/mdev.sh as mgpu_fixtures.h), BAR0 16 MiB with
 * the MSI-X table and PBA at the cards' offsets, BAR2 128 or 256 GiB (or a MIG-like
 * fraction), BAR4 32 MiB. The BARs are memory allocated page by page on first touch,
 * up to a cap, so a 256 GiB BAR costs L1 only what the guest touched.
 *
 * BAR0's first page holds a copy engine: it moves data between guest RAM (an IOVA
 * in the container's mappings, through vfio_dma_rw) and BAR2, then signals an MSI-X
 * vector through the eventfd VFIO_DEVICE_SET_IRQS gave it.
 *
 * GPL-2.0, not the project's MIT: it uses GPL-only kernel exports
 * (_vfio_alloc_device, vfio_register_emulated_iommu_dev, eventfd_ctx_fdget,
 * eventfd_signal), which only a module declaring a GPL-compatible licence may
 * link against.
 *
 * Written for the Debian 6.1 kernel's mdev API (struct mdev_parent, mdev_type);
 * the few calls that changed by 6.12 (bookworm-security's kernel, run.sh
 * --kernel 6.12) go through the helpers under "kernel versions" below.
 */
#include <linux/module.h>
#include <linux/device.h>
#include <linux/mdev.h>
#include <linux/vfio.h>
#include <linux/pci_regs.h>
#include <linux/eventfd.h>
#include <linux/xarray.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "mgpu_fixtures.h"	/* mgpu_h100_config[], mgpu_h200_config[] (4096 bytes) */
#include "mgpu_regs.h"

/* ---- kernel versions: 6.1 and 6.12 differ here ---- */

/* 6.8 dropped eventfd_signal()'s count argument (it always added 1). */
static void mgpu_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/* 6.3 made vma->vm_flags read-only outside vm_flags_set(). */
static void mgpu_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	vma->vm_flags |= flags;
#else
	vm_flags_set(vma, flags);
#endif
}

#define MGPU_CFG_SIZE		4096
#define MGPU_BAR0_SIZE		(16ull << 20)
#define MGPU_BAR4_SIZE		(32ull << 20)
#define MGPU_MSIX_NR		9
#define MGPU_MSIX_TABLE		0xb90000ull	/* the fixtures' offsets in BAR0 */
#define MGPU_MSIX_PBA		0xba0000ull
#define MGPU_MSIX_CAP		0xb0
#define MGPU_MSI_CAP		0x48
#define MGPU_PM_CAP		0x40
#define MGPU_CE_MAX_LEN		(1u << 20)

/* Region offsets in the device fd, as vfio-pci lays them out. */
#define MGPU_OFFSET_SHIFT	40
#define MGPU_INDEX(off)		((unsigned int)((off) >> MGPU_OFFSET_SHIFT))
#define MGPU_OFFSET(index)	((u64)(index) << MGPU_OFFSET_SHIFT)
#define MGPU_OFFSET_MASK	(MGPU_OFFSET(1) - 1)

static unsigned int backing_max_mb = 64;
module_param(backing_max_mb, uint, 0644);
MODULE_PARM_DESC(backing_max_mb, "RAM one instance may allocate for its BARs (MiB)");

/* BAR pages ever allocated, all instances (read-only parameter: what the sparse backing cost). */
static atomic_long_t mgpu_pages_allocated = ATOMIC_LONG_INIT(0);

static int mgpu_pages_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&mgpu_pages_allocated));
}

static const struct kernel_param_ops mgpu_pages_ops = { .get = mgpu_pages_get };
module_param_cb(pages_allocated, &mgpu_pages_ops, NULL, 0444);
MODULE_PARM_DESC(pages_allocated, "BAR pages allocated since load, all instances");

struct mgpu_type {
	struct mdev_type type;
	const u8 *config;
	u64 bar2_size;
	unsigned int max_instances;
	unsigned int instances;		/* under mgpu_lock */
};

static struct mgpu_type mgpu_types[] = {
	{ .type.sysfs_name = "h100", .type.pretty_name = "H100 80GB (BAR2 128 GiB)",
	  .config = mgpu_h100_config, .bar2_size = 128ull << 30, .max_instances = 2 },
	{ .type.sysfs_name = "h200", .type.pretty_name = "H200 141GB (BAR2 256 GiB)",
	  .config = mgpu_h200_config, .bar2_size = 256ull << 30, .max_instances = 2 },
	/* MIG-like slices: a power-of-two fraction of the H100's BAR2. */
	{ .type.sysfs_name = "h100-1g", .type.pretty_name = "H100 MIG 1g slice (BAR2 16 GiB)",
	  .config = mgpu_h100_config, .bar2_size = 16ull << 30, .max_instances = 7 },
	{ .type.sysfs_name = "h100-3g", .type.pretty_name = "H100 MIG 3g slice (BAR2 64 GiB)",
	  .config = mgpu_h100_config, .bar2_size = 64ull << 30, .max_instances = 2 },
};
static struct mdev_type *mgpu_type_ptrs[ARRAY_SIZE(mgpu_types)];
static DEFINE_MUTEX(mgpu_lock);

struct mgpu {
	struct vfio_device vdev;
	struct mgpu_type *t;
	/*
	 * lock: config space, registers, MSI-X triggers. The BAR pages have a
	 * lock of their own, taken alone: the page fault handler needs it, and a
	 * copy can fault on this device's own mapping (--p2p maps BARs for DMA).
	 */
	struct mutex lock;
	struct mutex backing_lock;	/* allocation in backing[], backing_pages */
	u8 cfg[MGPU_CFG_SIZE];
	u8 cfg_wmask[PCI_STD_HEADER_SIZEOF + 0xc0];	/* writable bits of the first 256 bytes */
	u64 bar_size[PCI_STD_NUM_BARS];
	struct xarray backing[PCI_STD_NUM_BARS];	/* page index -> struct page */
	unsigned long backing_pages;
	u8 msix_table[MGPU_MSIX_NR * 16];
	struct eventfd_ctx *msix_trigger[MGPU_MSIX_NR];
	u64 ce_src, ce_dst;
	u32 ce_len, ce_status, ce_done, ce_ctrl;
	u32 scratch;
};

static struct mgpu *to_mgpu(struct vfio_device *vdev)
{
	return container_of(vdev, struct mgpu, vdev);
}

/* ---- BAR backing: pages allocated on first touch, up to backing_max_mb ---- */

static struct page *mgpu_page(struct mgpu *m, unsigned int bar, pgoff_t idx, bool alloc)
{
	struct page *page, *old;

	/* Pages stay until the device is released: a lockless lookup is safe. */
	page = xa_load(&m->backing[bar], idx);
	if (page || !alloc)
		return page;
	mutex_lock(&m->backing_lock);
	page = xa_load(&m->backing[bar], idx);
	if (page)
		goto out;
	if (m->backing_pages >= ((unsigned long)backing_max_mb << (20 - PAGE_SHIFT))) {
		pr_warn_ratelimited("mgpu %s: BAR%u page %#lx refused: backing_max_mb=%u used up\n",
				    dev_name(m->vdev.dev), bar, idx, backing_max_mb);
		goto out;
	}
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		goto out;
	old = xa_store(&m->backing[bar], idx, page, GFP_KERNEL);
	if (xa_is_err(old)) {
		__free_page(page);
		page = NULL;
		goto out;
	}
	m->backing_pages++;
	atomic_long_inc(&mgpu_pages_allocated);
out:
	mutex_unlock(&m->backing_lock);
	return page;
}

static void mgpu_free_backing(struct mgpu *m)
{
	struct page *page;
	unsigned long idx;
	unsigned int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		xa_for_each(&m->backing[i], idx, page)
			put_page(page);
		xa_destroy(&m->backing[i]);
	}
	m->backing_pages = 0;
}

/* Copies between a kernel buffer and BAR memory; reads of untouched pages give zeros. */
static int mgpu_backing_rw(struct mgpu *m, unsigned int bar, u64 off, void *buf, size_t len,
			   bool write)
{
	while (len) {
		size_t in = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		struct page *page = mgpu_page(m, bar, off >> PAGE_SHIFT, write);
		void *va;

		if (!page) {
			if (write)
				return -ENOMEM;
			memset(buf, 0, in);
		} else {
			va = kmap_local_page(page);
			if (write)
				memcpy(va + offset_in_page(off), buf, in);
			else
				memcpy(buf, va + offset_in_page(off), in);
			kunmap_local(va);
		}
		off += in;
		buf += in;
		len -= in;
	}
	return 0;
}

/* ---- config space ---- */

static void mgpu_cfg_set_bar_masks(struct mgpu *m, unsigned int bar)
{
	u64 mask = ~(m->bar_size[bar] - 1) & ~0xfull;
	unsigned int b;

	for (b = 0; b < 8; b++)
		m->cfg_wmask[PCI_BASE_ADDRESS_0 + bar * 4 + b] = mask >> (8 * b);
}

static void mgpu_cfg_init(struct mgpu *m)
{
	unsigned int bar;

	memcpy(m->cfg, m->t->config, MGPU_CFG_SIZE);
	/* Unassigned BARs: keep the flag bits, drop the dump's addresses. */
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		u32 *reg = (u32 *)&m->cfg[PCI_BASE_ADDRESS_0 + bar * 4];
		u32 v = le32_to_cpu(*reg);

		*reg = cpu_to_le32(m->bar_size[bar] ? v & 0xf : 0);
		if (!m->bar_size[bar] && bar && m->bar_size[bar - 1])
			*reg = 0;	/* upper half of a 64-bit BAR */
	}
	m->cfg[PCI_COMMAND] &= ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* No INTx and no MSI (only MSI-X is offered): unlink MSI, no pin. */
	m->cfg[PCI_INTERRUPT_PIN] = 0;
	m->cfg[PCI_INTERRUPT_LINE] = 0xff;
	if (m->cfg[MGPU_PM_CAP + PCI_CAP_LIST_NEXT] == MGPU_MSI_CAP)
		m->cfg[MGPU_PM_CAP + PCI_CAP_LIST_NEXT] = m->cfg[MGPU_MSI_CAP + PCI_CAP_LIST_NEXT];
	/* MSI-X starts disabled, whatever the dump's driver had set. */
	m->cfg[MGPU_MSIX_CAP + PCI_MSIX_FLAGS + 1] &= ~0xc0;

	memset(m->cfg_wmask, 0, sizeof(m->cfg_wmask));
	m->cfg_wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				    PCI_COMMAND_PARITY;
	m->cfg_wmask[PCI_COMMAND + 1] = (PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE) >> 8;
	m->cfg_wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	m->cfg_wmask[PCI_LATENCY_TIMER] = 0xff;
	m->cfg_wmask[PCI_INTERRUPT_LINE] = 0xff;
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar += 2)
		if (m->bar_size[bar])
			mgpu_cfg_set_bar_masks(m, bar);
	m->cfg_wmask[MGPU_MSIX_CAP + PCI_MSIX_FLAGS + 1] = 0xc0;	/* enable, function mask */
}

static void mgpu_cfg_write(struct mgpu *m, unsigned int off, const u8 *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++, off++) {
		u8 wm = off < sizeof(m->cfg_wmask) ? m->cfg_wmask[off] : 0;

		m->cfg[off] = (m->cfg[off] & ~wm) | (buf[i] & wm);
	}
}

/* ---- the copy engine and BAR0's registers ---- */

static void mgpu_ce_run(struct mgpu *m)
{
	bool to_ram = m->ce_ctrl & MGPU_CE_CTRL_TO_RAM;
	unsigned int vec = (m->ce_ctrl & MGPU_CE_CTRL_VEC_MASK) >> MGPU_CE_CTRL_VEC_SHIFT;
	u64 ram = to_ram ? m->ce_dst : m->ce_src;
	u64 vram = to_ram ? m->ce_src : m->ce_dst;
	u32 len = m->ce_len, done = 0;
	void *bounce;
	int ret = 0;

	if (!(m->cfg[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
		ret = -EPERM;		/* bus mastering off: no DMA */
		goto out;
	}
	if (len > MGPU_CE_MAX_LEN || vram >= m->bar_size[2] || len > m->bar_size[2] - vram) {
		ret = -EINVAL;
		goto out;
	}
	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < len && !ret) {
		size_t n = min_t(size_t, len - done, PAGE_SIZE);

		if (to_ram) {
			ret = mgpu_backing_rw(m, 2, vram + done, bounce, n, false);
			if (!ret)
				ret = vfio_dma_rw(&m->vdev, ram + done, bounce, n, true);
		} else {
			ret = vfio_dma_rw(&m->vdev, ram + done, bounce, n, false);
			if (!ret)
				ret = mgpu_backing_rw(m, 2, vram + done, bounce, n, true);
		}
		if (!ret)
			done += n;
	}
	kfree(bounce);
out:
	if (ret) {
		m->ce_status = MGPU_CE_STATUS_ERROR | (u32)-ret;
		pr_warn_ratelimited("mgpu %s: copy %s %#llx len %#x failed: %d\n",
				    dev_name(m->vdev.dev), to_ram ? "to RAM" : "from RAM",
				    ram, len, ret);
	} else {
		m->ce_status = MGPU_CE_STATUS_DONE;
	}
	m->ce_done++;
	/*
	 * A vector the VMM gave an eventfd is enabled: as with vfio-pci, MSI-X is
	 * switched on through SET_IRQS, not by a config write, and masking is the VMM's.
	 */
	if (vec < MGPU_MSIX_NR && m->msix_trigger[vec])
		mgpu_eventfd_signal(m->msix_trigger[vec]);
}

static u32 mgpu_reg_read(struct mgpu *m, unsigned int off)
{
	switch (off) {
	case MGPU_REG_ID:		return MGPU_ID;
	case MGPU_REG_CE_SRC_LO:	return lower_32_bits(m->ce_src);
	case MGPU_REG_CE_SRC_HI:	return upper_32_bits(m->ce_src);
	case MGPU_REG_CE_DST_LO:	return lower_32_bits(m->ce_dst);
	case MGPU_REG_CE_DST_HI:	return upper_32_bits(m->ce_dst);
	case MGPU_REG_CE_LEN:		return m->ce_len;
	case MGPU_REG_CE_DOORBELL:	return m->ce_ctrl;
	case MGPU_REG_CE_STATUS:	return m->ce_status;
	case MGPU_REG_CE_DONE:		return m->ce_done;
	case MGPU_REG_BAR2_SIZE_LO:	return lower_32_bits(m->bar_size[2]);
	case MGPU_REG_BAR2_SIZE_HI:	return upper_32_bits(m->bar_size[2]);
	case MGPU_REG_SCRATCH:		return m->scratch;
	}
	return 0;
}

static void mgpu_reg_write(struct mgpu *m, unsigned int off, u32 v)
{
	switch (off) {
	case MGPU_REG_CE_SRC_LO: m->ce_src = (m->ce_src & ~0xffffffffull) | v; break;
	case MGPU_REG_CE_SRC_HI: m->ce_src = (m->ce_src & 0xffffffffull) | (u64)v << 32; break;
	case MGPU_REG_CE_DST_LO: m->ce_dst = (m->ce_dst & ~0xffffffffull) | v; break;
	case MGPU_REG_CE_DST_HI: m->ce_dst = (m->ce_dst & 0xffffffffull) | (u64)v << 32; break;
	case MGPU_REG_CE_LEN:	 m->ce_len = v; break;
	case MGPU_REG_CE_DOORBELL:
		m->ce_ctrl = v;
		m->ce_status = MGPU_CE_STATUS_BUSY;
		mgpu_ce_run(m);
		break;
	case MGPU_REG_SCRATCH:	 m->scratch = v; break;
	}
}

/* The trapped parts of BAR0: registers (dword access), MSI-X table and PBA. */
static int mgpu_bar0_rw(struct mgpu *m, u64 off, u8 *buf, size_t len, bool write)
{
	u32 v;

	if (off < MGPU_REGS_SIZE) {
		/* Dwords; an aligned 8-byte access is two, low first. */
		if ((len != 4 && len != 8) || (off & (len - 1)))
			return -EINVAL;
		for (; len; len -= 4, off += 4, buf += 4) {
			if (write) {
				memcpy(&v, buf, 4);
				mgpu_reg_write(m, off, le32_to_cpu(v));
			} else {
				v = cpu_to_le32(mgpu_reg_read(m, off));
				memcpy(buf, &v, 4);
			}
		}
		return 0;
	}
	if (off >= MGPU_MSIX_TABLE && off + len <= MGPU_MSIX_TABLE + sizeof(m->msix_table)) {
		if (write)
			memcpy(m->msix_table + off - MGPU_MSIX_TABLE, buf, len);
		else
			memcpy(buf, m->msix_table + off - MGPU_MSIX_TABLE, len);
		return 0;
	}
	if (off >= MGPU_MSIX_TABLE && off < MGPU_MSIX_TABLE + PAGE_SIZE)
		goto zero;
	if (off >= MGPU_MSIX_PBA && off < MGPU_MSIX_PBA + PAGE_SIZE)
		goto zero;	/* no pending bits: the VMM emulates the PBA */
	return mgpu_backing_rw(m, 0, off, buf, len, write);
zero:
	if (!write)
		memset(buf, 0, len);
	return 0;
}

static ssize_t mgpu_rw(struct vfio_device *vdev, char __user *ubuf, size_t count, loff_t *ppos,
		       bool write)
{
	struct mgpu *m = to_mgpu(vdev);
	unsigned int index = MGPU_INDEX(*ppos);
	u64 off = *ppos & MGPU_OFFSET_MASK;
	u8 *buf;
	int ret = 0;

	if (!count)
		return 0;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (off >= MGPU_CFG_SIZE || count > MGPU_CFG_SIZE - off)
			return -EINVAL;
	} else if (index < PCI_STD_NUM_BARS && m->bar_size[index]) {
		if (off >= m->bar_size[index] || count > m->bar_size[index] - off ||
		    count > MGPU_CE_MAX_LEN)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	buf = kvzalloc(count, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (write && copy_from_user(buf, ubuf, count)) {
		ret = -EFAULT;
		goto out;
	}
	mutex_lock(&m->lock);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (write)
			mgpu_cfg_write(m, off, buf, count);
		else
			memcpy(buf, m->cfg + off, count);
	} else if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		ret = mgpu_bar0_rw(m, off, buf, count, write);
	} else {
		ret = mgpu_backing_rw(m, index, off, buf, count, write);
	}
	mutex_unlock(&m->lock);
	if (!ret && !write && copy_to_user(ubuf, buf, count))
		ret = -EFAULT;
out:
	kvfree(buf);
	if (ret)
		return ret;
	*ppos += count;
	return count;
}

static ssize_t mgpu_read(struct vfio_device *vdev, char __user *buf, size_t count, loff_t *ppos)
{
	return mgpu_rw(vdev, buf, count, ppos, false);
}

static ssize_t mgpu_write(struct vfio_device *vdev, const char __user *buf, size_t count,
			  loff_t *ppos)
{
	return mgpu_rw(vdev, (char __user *)buf, count, ppos, true);
}

/* ---- mmap: BAR pages allocated on fault ---- */

static vm_fault_t mgpu_fault(struct vm_fault *vmf)
{
	struct mgpu *m = vmf->vma->vm_private_data;
	u64 off = ((u64)vmf->pgoff << PAGE_SHIFT);
	unsigned int index = MGPU_INDEX(off);
	struct page *page;

	off &= MGPU_OFFSET_MASK;
	page = mgpu_page(m, index, off >> PAGE_SHIFT, true);
	if (page)
		get_page(page);
	if (!page)
		return VM_FAULT_SIGBUS;
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mgpu_vm_ops = {
	.fault = mgpu_fault,
};

/* The sparse-mmap areas of BAR0: all but the register page and the MSI-X pages. */
static const struct vfio_region_sparse_mmap_area mgpu_bar0_areas[] = {
	{ MGPU_REGS_SIZE, MGPU_MSIX_TABLE - MGPU_REGS_SIZE },
	{ MGPU_MSIX_TABLE + PAGE_SIZE, MGPU_MSIX_PBA - MGPU_MSIX_TABLE - PAGE_SIZE },
	{ MGPU_MSIX_PBA + PAGE_SIZE, MGPU_BAR0_SIZE - MGPU_MSIX_PBA - PAGE_SIZE },
};

static bool mgpu_mmap_allowed(struct mgpu *m, unsigned int index, u64 off, u64 len)
{
	unsigned int i;

	if (index >= PCI_STD_NUM_BARS || !m->bar_size[index] || off >= m->bar_size[index] ||
	    len > m->bar_size[index] - off)
		return false;
	if (index != VFIO_PCI_BAR0_REGION_INDEX)
		return true;
	for (i = 0; i < ARRAY_SIZE(mgpu_bar0_areas); i++)
		if (off >= mgpu_bar0_areas[i].offset &&
		    off + len <= mgpu_bar0_areas[i].offset + mgpu_bar0_areas[i].size)
			return true;
	return false;
}

static int mgpu_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct mgpu *m = to_mgpu(vdev);
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (!mgpu_mmap_allowed(m, MGPU_INDEX(off), off & MGPU_OFFSET_MASK, len))
		return -EINVAL;
	mgpu_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &mgpu_vm_ops;
	vma->vm_private_data = m;
	return 0;
}

/* ---- ioctls ---- */

static long mgpu_region_info(struct mgpu *m, void __user *arg)
{
	struct vfio_region_info info;
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info_cap_sparse_mmap *sparse = NULL;
	size_t minsz = offsetofend(struct vfio_region_info, offset), ssz;
	int ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = 0;
	info.cap_offset = 0;
	info.size = 0;
	info.offset = MGPU_OFFSET(info.index);
	if (info.index == VFIO_PCI_CONFIG_REGION_INDEX) {
		info.size = MGPU_CFG_SIZE;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	} else if (info.index < PCI_STD_NUM_BARS) {
		info.size = m->bar_size[info.index];
		if (info.size)
			info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				     VFIO_REGION_INFO_FLAG_MMAP;
	} else if (info.index >= VFIO_PCI_NUM_REGIONS) {
		return -EINVAL;
	}
	if (info.index == VFIO_PCI_BAR0_REGION_INDEX) {
		ssz = struct_size(sparse, areas, ARRAY_SIZE(mgpu_bar0_areas));
		sparse = kzalloc(ssz, GFP_KERNEL);
		if (!sparse)
			return -ENOMEM;
		sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sparse->header.version = 1;
		sparse->nr_areas = ARRAY_SIZE(mgpu_bar0_areas);
		memcpy(sparse->areas, mgpu_bar0_areas, sizeof(mgpu_bar0_areas));
		ret = vfio_info_add_capability(&caps, &sparse->header, ssz);
		kfree(sparse);
		if (ret)
			return ret;
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf, caps.size))
				ret = -EFAULT;
			info.cap_offset = sizeof(info);
		}
		kfree(caps.buf);
		if (ret)
			return ret;
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long mgpu_irq_info(void __user *arg)
{
	struct vfio_irq_info info;
	size_t minsz = offsetofend(struct vfio_irq_info, count);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	info.count = info.index == VFIO_PCI_MSIX_IRQ_INDEX ? MGPU_MSIX_NR : 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static void mgpu_msix_release(struct mgpu *m, unsigned int start, unsigned int count)
{
	unsigned int i;

	for (i = start; i < start + count && i < MGPU_MSIX_NR; i++) {
		if (m->msix_trigger[i])
			eventfd_ctx_put(m->msix_trigger[i]);
		m->msix_trigger[i] = NULL;
	}
}

static long mgpu_set_irqs(struct mgpu *m, void __user *arg)
{
	struct vfio_irq_set hdr;
	size_t minsz = offsetofend(struct vfio_irq_set, count), data_size = 0;
	s32 *fds = NULL;
	unsigned int i;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	ret = vfio_set_irqs_validate_and_prepare(&hdr, MGPU_MSIX_NR, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	if (hdr.index != VFIO_PCI_MSIX_IRQ_INDEX)
		return hdr.count ? -EINVAL : 0;
	if ((hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;		/* mask/unmask of MSI-X is the VMM's, as with vfio-pci */
	if (data_size) {
		fds = memdup_user(arg + minsz, data_size);
		if (IS_ERR(fds))
			return PTR_ERR(fds);
	}
	mutex_lock(&m->lock);
	if (!hdr.count && (hdr.flags & VFIO_IRQ_SET_DATA_NONE)) {
		mgpu_msix_release(m, 0, MGPU_MSIX_NR);	/* disable all */
	} else if (hdr.flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		for (i = 0; i < hdr.count; i++) {
			struct eventfd_ctx *ctx = NULL;

			if (fds[i] >= 0) {
				ctx = eventfd_ctx_fdget(fds[i]);
				if (IS_ERR(ctx)) {
					ret = PTR_ERR(ctx);
					break;
				}
			}
			mgpu_msix_release(m, hdr.start + i, 1);
			m->msix_trigger[hdr.start + i] = ctx;
		}
	} else {
		/* DATA_NONE / DATA_BOOL: fire the vectors now (a loopback test). */
		for (i = 0; i < hdr.count; i++) {
			bool fire = true;

			if (hdr.flags & VFIO_IRQ_SET_DATA_BOOL)
				fire = ((u8 *)fds)[i];
			if (fire && m->msix_trigger[hdr.start + i])
				mgpu_eventfd_signal(m->msix_trigger[hdr.start + i]);
		}
	}
	mutex_unlock(&m->lock);
	kfree(fds);
	return ret;
}

static void mgpu_reset_locked(struct mgpu *m)
{
	m->ce_src = m->ce_dst = 0;
	m->ce_len = m->ce_ctrl = m->ce_done = 0;
	m->ce_status = MGPU_CE_STATUS_IDLE;
	m->scratch = 0;
	memset(m->msix_table, 0, sizeof(m->msix_table));
	/* A function reset turns decode, bus mastering and MSI-X off, as on a real card. */
	m->cfg[PCI_COMMAND] &= ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	m->cfg[MGPU_MSIX_CAP + PCI_MSIX_FLAGS + 1] &= ~0xc0;
}

static long mgpu_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct mgpu *m = to_mgpu(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;
		size_t minsz = offsetofend(struct vfio_device_info, num_irqs);

		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		return mgpu_region_info(m, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return mgpu_irq_info(uarg);
	case VFIO_DEVICE_SET_IRQS:
		return mgpu_set_irqs(m, uarg);
	case VFIO_DEVICE_RESET:
		mutex_lock(&m->lock);
		mgpu_reset_locked(m);
		mutex_unlock(&m->lock);
		return 0;
	}
	return -ENOTTY;
}

static void mgpu_close_device(struct vfio_device *vdev)
{
	struct mgpu *m = to_mgpu(vdev);

	mutex_lock(&m->lock);
	mgpu_msix_release(m, 0, MGPU_MSIX_NR);
	mgpu_reset_locked(m);
	mutex_unlock(&m->lock);
}

/* vfio_dma_rw needs no pinned pages; an unmap needs nothing from us. */
static void mgpu_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
}

static int mgpu_init_dev(struct vfio_device *vdev)
{
	struct mgpu *m = to_mgpu(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct mgpu_type *t = container_of(mdev->type, struct mgpu_type, type);
	unsigned int i;

	mutex_lock(&mgpu_lock);
	if (t->instances >= t->max_instances) {
		mutex_unlock(&mgpu_lock);
		return -ENOSPC;
	}
	t->instances++;
	mutex_unlock(&mgpu_lock);

	m->t = t;
	mutex_init(&m->lock);
	mutex_init(&m->backing_lock);
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		xa_init(&m->backing[i]);
	m->bar_size[0] = MGPU_BAR0_SIZE;
	m->bar_size[2] = t->bar2_size;
	m->bar_size[4] = MGPU_BAR4_SIZE;
	mgpu_cfg_init(m);
	mgpu_reset_locked(m);
	return 0;
}

static void mgpu_release_dev(struct vfio_device *vdev)
{
	struct mgpu *m = to_mgpu(vdev);

	mgpu_free_backing(m);
	mutex_destroy(&m->backing_lock);
	mutex_destroy(&m->lock);
	mutex_lock(&mgpu_lock);
	m->t->instances--;
	mutex_unlock(&mgpu_lock);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev);		/* 6.2 on, the core frees after .release */
#endif
}

static const struct vfio_device_ops mgpu_dev_ops = {
	.name = "mgpu",
	.init = mgpu_init_dev,
	.release = mgpu_release_dev,
	.close_device = mgpu_close_device,
	.read = mgpu_read,
	.write = mgpu_write,
	.ioctl = mgpu_ioctl,
	.mmap = mgpu_mmap,
	.dma_unmap = mgpu_dma_unmap,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	/* Required by the core when CONFIG_IOMMUFD is on (NULL stubs when off). */
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
#endif
};

/* ---- the mdev driver and parent ---- */

static int mgpu_probe(struct mdev_device *mdev)
{
	struct mgpu *m;
	int ret;

	m = vfio_alloc_device(mgpu, vdev, &mdev->dev, &mgpu_dev_ops);
	if (IS_ERR(m))
		return PTR_ERR(m);
	ret = vfio_register_emulated_iommu_dev(&m->vdev);
	if (ret) {
		vfio_put_device(&m->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, m);
	return 0;
}

static void mgpu_remove(struct mdev_device *mdev)
{
	struct mgpu *m = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&m->vdev);
	vfio_put_device(&m->vdev);
}

static unsigned int mgpu_get_available(struct mdev_type *mtype)
{
	struct mgpu_type *t = container_of(mtype, struct mgpu_type, type);
	unsigned int n;

	mutex_lock(&mgpu_lock);
	n = t->max_instances - t->instances;
	mutex_unlock(&mgpu_lock);
	return n;
}

static ssize_t mgpu_show_description(struct mdev_type *mtype, char *buf)
{
	struct mgpu_type *t = container_of(mtype, struct mgpu_type, type);

	return sysfs_emit(buf, "BAR0 16 MiB, BAR2 %llu GiB, BAR4 32 MiB, %u MSI-X vectors\n",
			  t->bar2_size >> 30, MGPU_MSIX_NR);
}

static struct mdev_driver mgpu_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "mgpu",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = mgpu_probe,
	.remove = mgpu_remove,
	.get_available = mgpu_get_available,
	.show_description = mgpu_show_description,
};

static struct mgpu_parent {
	struct device dev;
	struct mdev_parent parent;
} mgpu_parent;
static struct class *mgpu_class;

static void mgpu_parent_release(struct device *dev)
{
}

static int __init mgpu_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(mgpu_types); i++)
		mgpu_type_ptrs[i] = &mgpu_types[i].type;
	ret = mdev_register_driver(&mgpu_driver);
	if (ret)
		return ret;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
	mgpu_class = class_create(THIS_MODULE, "mgpu");
#else
	mgpu_class = class_create("mgpu");
#endif
	if (IS_ERR(mgpu_class)) {
		ret = PTR_ERR(mgpu_class);
		goto out_driver;
	}
	mgpu_parent.dev.class = mgpu_class;
	mgpu_parent.dev.release = mgpu_parent_release;
	dev_set_name(&mgpu_parent.dev, "mgpu");
	ret = device_register(&mgpu_parent.dev);
	if (ret)
		goto out_put;
	ret = mdev_register_parent(&mgpu_parent.parent, &mgpu_parent.dev, &mgpu_driver,
				   mgpu_type_ptrs, ARRAY_SIZE(mgpu_type_ptrs));
	if (ret)
		goto out_unreg;
	return 0;
out_unreg:
	device_unregister(&mgpu_parent.dev);
	goto out_class;
out_put:
	put_device(&mgpu_parent.dev);
out_class:
	class_destroy(mgpu_class);
out_driver:
	mdev_unregister_driver(&mgpu_driver);
	return ret;
}

static void __exit mgpu_exit(void)
{
	mdev_unregister_parent(&mgpu_parent.parent);
	device_unregister(&mgpu_parent.dev);
	class_destroy(mgpu_class);
	mdev_unregister_driver(&mgpu_driver);
}

module_init(mgpu_init);
module_exit(mgpu_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("GPU-shaped mediated device for the vfio-vmm testbed");
