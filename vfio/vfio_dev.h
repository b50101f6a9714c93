/* SPDX-License-Identifier: MIT */
#ifndef VFIO_VFIO_DEV_H
#define VFIO_VFIO_DEV_H

/*
 * Everything the passthrough device asks of a VFIO device, as one ops
 * table. The real implementation (device_ioctl.c) turns each call into an
 * ioctl, pread, pwrite or mmap on the device fd that iommu/ hands us; unit
 * tests plug in a fake built from a real config-space dump. Nothing above
 * this table knows whether a kernel is behind it.
 *
 * The types are our own small digests of the uapi structs: region info with
 * its capability chain already parsed, so callers never walk raw buffers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#define VFIO_MAX_MMAP_AREAS	8
#define VFIO_PCI_REGIONS	(VFIO_PCI_CONFIG_REGION_INDEX + 1)
#define VFIO_PCI_ROM_INDEX	VFIO_PCI_ROM_REGION_INDEX
#define VFIO_PCI_CFG_INDEX	VFIO_PCI_CONFIG_REGION_INDEX

struct vfio_dev_info {
	uint32_t flags;		/* VFIO_DEVICE_FLAGS_* (RESET, PCI) */
	uint32_t num_regions;
	uint32_t num_irqs;
};

struct vfio_mmap_area {
	uint64_t offset;	/* from the start of the region */
	uint64_t size;
};

struct vfio_region {
	uint32_t index;
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_{READ,WRITE,MMAP} */
	uint64_t size;
	uint64_t offset;	/* of the region within the device fd */
	/* Sparse mmap: only these areas may be mmapped (nr_areas 0: all of it). */
	bool sparse;
	unsigned int nr_areas;
	struct vfio_mmap_area areas[VFIO_MAX_MMAP_AREAS];
	/* The MSI-X table may be mmapped; we still trap it ourselves. */
	bool msix_mappable;
};

struct vfio_irq {
	uint32_t index;
	uint32_t flags;		/* VFIO_IRQ_INFO_{EVENTFD,MASKABLE,AUTOMASKED,NORESIZE} */
	uint32_t count;
};

struct vfio_dev_ops {
	int (*get_info)(void *h, struct vfio_dev_info *info);
	int (*region_info)(void *h, uint32_t index, struct vfio_region *r);
	/* Return bytes transferred or a negative errno. */
	ssize_t (*region_read)(void *h, const struct vfio_region *r, uint64_t off, void *buf,
			       size_t len);
	ssize_t (*region_write)(void *h, const struct vfio_region *r, uint64_t off,
				const void *buf, size_t len);
	/* Maps [off, off+size) of the region; returns NULL (and errno) on failure. */
	void *(*region_mmap)(void *h, const struct vfio_region *r, uint64_t off, uint64_t size);
	void (*region_munmap)(void *h, void *addr, uint64_t size);
	int (*irq_info)(void *h, uint32_t index, struct vfio_irq *irq);
	/*
	 * VFIO_DEVICE_SET_IRQS: flags = one DATA_* | one ACTION_*. fds holds
	 * count eventfds for DATA_EVENTFD (-1 unassigns one), NULL otherwise.
	 * count 0 with DATA_NONE|ACTION_TRIGGER disables the index.
	 */
	int (*set_irqs)(void *h, uint32_t index, uint32_t flags, uint32_t start, uint32_t count,
			const int32_t *fds);
	int (*reset)(void *h);
};

/* A device as the passthrough code sees it: an ops table and its handle. */
struct vfio_dev {
	const struct vfio_dev_ops *ops;
	void *h;
	const char *name;	/* for messages, e.g. "0000:3e:00.0" */
};

/* The real implementation over a VFIO device fd (device_ioctl.c). */
extern const struct vfio_dev_ops vfio_ioctl_ops;
/* Handle for vfio_ioctl_ops: the fd itself, boxed. */
struct vfio_ioctl_dev {
	int fd;
};

/* Parses a VFIO_DEVICE_GET_REGION_INFO reply (with caps) into r. */
int vfio_region_parse(const struct vfio_region_info *info, size_t buf_size,
		      struct vfio_region *r);

const char *vfio_region_name(uint32_t index);
const char *vfio_irq_name(uint32_t index);

#endif
