// SPDX-License-Identifier: MIT
/*
 * vfio_dev_ops over a real VFIO device fd: each op is one ioctl, pread,
 * pwrite or mmap at the region's offset within the fd. Region info is read
 * twice when the kernel says its capability chain did not fit (argsz grew),
 * and the chain is digested here once so nobody else parses raw buffers.
 */
#include "vfio/vfio_dev.h"
#include "util/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const region_names[] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
};

static const char *const irq_names[] = { "INTx", "MSI", "MSI-X", "ERR", "REQ" };

const char *vfio_region_name(uint32_t index)
{
	return index < sizeof(region_names) / sizeof(region_names[0]) ? region_names[index]
								       : "region";
}

const char *vfio_irq_name(uint32_t index)
{
	return index < sizeof(irq_names) / sizeof(irq_names[0]) ? irq_names[index] : "irq";
}

static int fd_of(void *h)
{
	return ((struct vfio_ioctl_dev *)h)->fd;
}

static int ioctl_get_info(void *h, struct vfio_dev_info *out)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (ioctl(fd_of(h), VFIO_DEVICE_GET_INFO, &info) < 0)
		return -errno;
	out->flags = info.flags;
	out->num_regions = info.num_regions;
	out->num_irqs = info.num_irqs;
	trace(LOG_VFIO, "VFIO_DEVICE_GET_INFO: flags %#x (%s%s) regions %u irqs %u", info.flags,
	      info.flags & VFIO_DEVICE_FLAGS_PCI ? "pci" : "",
	      info.flags & VFIO_DEVICE_FLAGS_RESET ? ",reset" : "", info.num_regions,
	      info.num_irqs);
	return 0;
}

static int parse_sparse(const struct vfio_info_cap_header *hdr, size_t room,
			struct vfio_region *r)
{
	const struct vfio_region_info_cap_sparse_mmap *sp = (const void *)hdr;

	if (room < sizeof(*sp) || room < sizeof(*sp) + sp->nr_areas * sizeof(sp->areas[0]))
		return -EINVAL;
	if (sp->nr_areas > VFIO_MAX_MMAP_AREAS)
		return -E2BIG;
	r->sparse = true;
	r->nr_areas = sp->nr_areas;
	for (unsigned int i = 0; i < sp->nr_areas; i++) {
		r->areas[i].offset = sp->areas[i].offset;
		r->areas[i].size = sp->areas[i].size;
	}
	return 0;
}

int vfio_region_parse(const struct vfio_region_info *info, size_t buf_size,
		      struct vfio_region *r)
{
	uint32_t off;
	int hops = 0, ret;

	memset(r, 0, sizeof(*r));
	r->index = info->index;
	r->flags = info->flags;
	r->size = info->size;
	r->offset = info->offset;
	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	/* Offsets are from the start of the info struct; a loop guard stops cycles. */
	for (off = info->cap_offset; off; hops++) {
		const struct vfio_info_cap_header *hdr = (const void *)((const char *)info + off);

		if (hops > 16 || off < sizeof(*info) || off + sizeof(*hdr) > buf_size)
			return -EINVAL;
		if (hdr->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			ret = parse_sparse(hdr, buf_size - off, r);
			if (ret)
				return ret;
		} else if (hdr->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
			r->msix_mappable = true;
		}
		off = hdr->next;
	}
	return 0;
}

static int ioctl_region_info(void *h, uint32_t index, struct vfio_region *r)
{
	struct vfio_region_info *info;
	size_t sz = sizeof(*info);
	int ret;

	for (int tries = 0; tries < 2; tries++) {
		info = calloc(1, sz);
		if (!info)
			return -ENOMEM;
		info->argsz = sz;
		info->index = index;
		if (ioctl(fd_of(h), VFIO_DEVICE_GET_REGION_INFO, info) < 0) {
			ret = -errno;
			goto out_free;
		}
		if (info->argsz <= sz)
			break;
		sz = info->argsz;	/* the caps did not fit: ask again */
		free(info);
		info = NULL;
	}
	if (!info)
		return -EIO;
	ret = vfio_region_parse(info, sz, r);
	trace(LOG_VFIO, "VFIO_DEVICE_GET_REGION_INFO %s: size %#llx offset %#llx flags %#x%s%s",
	      vfio_region_name(index), (unsigned long long)r->size,
	      (unsigned long long)r->offset, r->flags, r->sparse ? " sparse-mmap" : "",
	      r->msix_mappable ? " msix-mappable" : "");
out_free:
	free(info);
	return ret;
}

static ssize_t ioctl_region_read(void *h, const struct vfio_region *r, uint64_t off, void *buf,
				 size_t len)
{
	ssize_t n = pread(fd_of(h), buf, len, r->offset + off);

	return n < 0 ? -errno : n;
}

static ssize_t ioctl_region_write(void *h, const struct vfio_region *r, uint64_t off,
				  const void *buf, size_t len)
{
	ssize_t n = pwrite(fd_of(h), buf, len, r->offset + off);

	return n < 0 ? -errno : n;
}

static void *ioctl_region_mmap(void *h, const struct vfio_region *r, uint64_t off,
			       uint64_t size)
{
	int prot = 0;
	void *p;

	if (r->flags & VFIO_REGION_INFO_FLAG_READ)
		prot |= PROT_READ;
	if (r->flags & VFIO_REGION_INFO_FLAG_WRITE)
		prot |= PROT_WRITE;
	p = mmap(NULL, size, prot, MAP_SHARED, fd_of(h), r->offset + off);
	return p == MAP_FAILED ? NULL : p;
}

static void ioctl_region_munmap(void *h, void *addr, uint64_t size)
{
	(void)h;
	munmap(addr, size);
}

static int ioctl_irq_info(void *h, uint32_t index, struct vfio_irq *out)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(fd_of(h), VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return -errno;
	out->index = index;
	out->flags = info.flags;
	out->count = info.count;
	trace(LOG_VFIO, "VFIO_DEVICE_GET_IRQ_INFO %s: count %u flags %#x", vfio_irq_name(index),
	      info.count, info.flags);
	return 0;
}

static int ioctl_set_irqs(void *h, uint32_t index, uint32_t flags, uint32_t start,
			  uint32_t count, const int32_t *fds)
{
	size_t data = (flags & VFIO_IRQ_SET_DATA_EVENTFD) ? count * sizeof(int32_t) : 0;
	struct vfio_irq_set *set;
	int ret = 0;

	set = calloc(1, sizeof(*set) + data);
	if (!set)
		return -ENOMEM;
	set->argsz = sizeof(*set) + data;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (data)
		memcpy(set->data, fds, data);
	if (ioctl(fd_of(h), VFIO_DEVICE_SET_IRQS, set) < 0)
		ret = -errno;
	trace(LOG_VFIO, "VFIO_DEVICE_SET_IRQS %s flags %#x start %u count %u: %d",
	      vfio_irq_name(index), flags, start, count, ret);
	free(set);
	return ret;
}

static int ioctl_reset(void *h)
{
	if (ioctl(fd_of(h), VFIO_DEVICE_RESET) < 0)
		return -errno;
	trace(LOG_VFIO, "VFIO_DEVICE_RESET");
	return 0;
}

const struct vfio_dev_ops vfio_ioctl_ops = {
	.get_info = ioctl_get_info,
	.region_info = ioctl_region_info,
	.region_read = ioctl_region_read,
	.region_write = ioctl_region_write,
	.region_mmap = ioctl_region_mmap,
	.region_munmap = ioctl_region_munmap,
	.irq_info = ioctl_irq_info,
	.set_irqs = ioctl_set_irqs,
	.reset = ioctl_reset,
};
