/* SPDX-License-Identifier: MIT */
#ifndef IOMMU_IOMMU_H
#define IOMMU_IOMMU_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The guest's DMA address space. One struct iommu per VM: it owns the
 * container (type1) that every assigned group joins, hands an opened VFIO
 * device fd to vfio/ for each --device, and maps guest RAM (IOVA = guest
 * physical address) so the devices can DMA into it.
 *
 * It knows nothing about PCI config space or KVM: the kernel-facing half
 * lives behind struct iommu_backend_ops (type1.c today; an iommufd backend
 * can sit beside it, see docs/iommu.md).
 *
 * Every function returns 0 (or a fd) or a negative errno, and has already
 * logged the reason once.
 */

#define IOMMU_MAX_IOVA_RANGES	32

/* Both ends inclusive, as the kernel reports them. */
struct iommu_iova_range {
	uint64_t start;
	uint64_t end;
};

/* What the backend says about the IOMMU behind the container. */
struct iommu_info {
	uint64_t pgsizes;	/* bit n set: 2^n byte IOMMU pages supported */
	unsigned int nr_ranges;	/* 0: the kernel did not say, all IOVAs usable */
	struct iommu_iova_range ranges[IOMMU_MAX_IOVA_RANGES];
	bool has_dma_avail;
	uint32_t dma_avail;	/* how many more MAP_DMA entries we may create */
};

enum iommu_dev_kind {
	IOMMU_DEV_PCI,
	IOMMU_DEV_MDEV,
};

/* One --device, resolved through sysfs. */
struct iommu_dev_id {
	enum iommu_dev_kind kind;
	char name[64];		/* for VFIO_GROUP_GET_DEVICE_FD: "0000:3e:00.0" or a UUID */
	char path[PATH_MAX];	/* its sysfs directory */
	int group;		/* IOMMU group number, -1 until resolved */
};

/* An assigned device as handed to vfio/: it owns and closes fd. */
struct iommu_device {
	struct iommu_dev_id id;
	int fd;
};

/* A piece of guest RAM: guest physical address, host mapping, length. */
struct iommu_ram {
	uint64_t gpa;
	void *hva;
	uint64_t size;
};

/* One live MAP_DMA entry (a chunk of RAM, or a chunk of an extra range). */
struct iommu_mapping {
	uint64_t iova;
	uint64_t size;
	void *hva;
	bool extra;		/* mapped by iommu_map_extra() */
	uint64_t base;		/* extra: the IOVA the whole range was mapped at */
};

/*
 * An extra range (a BAR, for peer-to-peer DMA) is mapped one MAP_DMA call
 * per IOVA-aligned GiB. On Linux 6.1 type1 resolves a VM_PFNMAP range one
 * 4 KiB page at a time and checks for no signal while doing it, so a
 * 256 GiB BAR in one call would hold the process for minutes, deaf even to
 * SIGKILL; a chunk is the longest we are deaf (docs/passthrough.md).
 */
#define IOMMU_EXTRA_CHUNK	(1ULL << 30)

/* Asked between MAP_DMA calls: true stops the mapping (-EINTR, undone). */
typedef bool (*iommu_stop_fn)(void *arg);

struct iommu;

struct iommu_backend_ops {
	const char *name;
	/* Creates the (still empty) DMA address space. */
	int (*open)(struct iommu *io);
	/* Joins the device's group to the address space; returns its device fd. */
	int (*attach)(struct iommu *io, const struct iommu_dev_id *id);
	/* Valid once at least one device is attached. */
	int (*get_info)(struct iommu *io, struct iommu_info *info);
	int (*map)(struct iommu *io, uint64_t iova, void *hva, uint64_t size, bool writable);
	int (*unmap)(struct iommu *io, uint64_t iova, uint64_t size);
	/* Releases everything open() and attach() created (not device fds). */
	void (*close)(struct iommu *io);
};

extern const struct iommu_backend_ops iommu_type1_ops;

struct iommu {
	const struct iommu_backend_ops *ops;
	void *priv;			/* the backend's state */
	const char *sysfs_root;		/* "/sys", or a fake tree in tests */
	const char *vfio_dev_dir;	/* "/dev/vfio" */

	bool have_info;
	struct iommu_info info;

	struct iommu_mapping *maps;
	size_t nr_maps, cap_maps;
	uint64_t ram_mapped;		/* bytes of guest RAM currently mapped */

	iommu_stop_fn stop;		/* NULL: never stop */
	void *stop_arg;
	uint64_t slow_ns;		/* an extra range taking longer shows progress (1 s) */
};

/* Sets up io (no devices yet). sysfs_root NULL means "/sys". */
int iommu_open(struct iommu *io, const struct iommu_backend_ops *ops, const char *sysfs_root);

/*
 * Resolves every argument (PCI address, sysfs path or mdev), checks every
 * group is viable, and only then attaches them all; fills out[0..n-1]
 * (out[i].fd belongs to the caller). On failure no device fd stays open;
 * groups already in the container leave it at iommu_close().
 */
int iommu_add_devices(struct iommu *io, const char *const *args, int n, struct iommu_device *out);

/* stop is asked between MAP_DMA calls of iommu_map_ram() and iommu_map_extra(). */
void iommu_set_stop(struct iommu *io, iommu_stop_fn stop, void *arg);

/*
 * Maps guest RAM at IOVA = gpa, refusing layouts the IOMMU cannot map and
 * checking RLIMIT_MEMLOCK first. page_size is the RAM's backing page size.
 * All or nothing: on failure nothing of this call stays mapped.
 */
int iommu_map_ram(struct iommu *io, const struct iommu_ram *ram, int nr, uint64_t page_size);

/*
 * Extra ranges (a BAR's mmap, for peer-to-peer DMA), in IOMMU_EXTRA_CHUNK
 * pieces, all or nothing: on a failure, or -EINTR when the stop function
 * says so between chunks, nothing of the range stays mapped. Progress on
 * stderr once it takes longer than io->slow_ns. iommu_unmap_extra() unmaps
 * every chunk of the range mapped at iova.
 */
int iommu_map_extra(struct iommu *io, uint64_t iova, void *hva, uint64_t size);
int iommu_unmap_extra(struct iommu *io, uint64_t iova);

/* Unmaps everything, newest first. Safe to call twice. */
void iommu_unmap_all(struct iommu *io);
/* Unmaps all, then closes groups and the container. */
void iommu_close(struct iommu *io);

#endif
