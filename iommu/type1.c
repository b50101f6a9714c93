// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 backend: the "container" API every Linux since 3.6 has.
 *
 *   /dev/vfio/vfio      the container: one IOMMU address space (ours: the
 *                       guest's physical address space) shared by all the
 *                       groups we add to it
 *   /dev/vfio/<N>       a group: the smallest set of devices the IOMMU can
 *                       isolate; joins the container with SET_CONTAINER
 *   GET_DEVICE_FD       a device fd from its group, for vfio/
 *
 * The order matters: SET_IOMMU is refused until a group is in the
 * container, because the IOMMU driver is chosen from the group's devices.
 * So the first attach sets the IOMMU type; later groups join the domain
 * (or, if their IOMMU cannot, a second one the kernel keeps in sync).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu/iommu.h"
#include "iommu/type1_info.h"
#include "util/log.h"

struct type1_group {
	int nr;
	int fd;
};

struct type1 {
	int container;
	int type;	/* VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU */
	bool iommu_set;
	struct type1_group *groups;
	unsigned int nr_groups;
};

static int type1_open(struct iommu *io)
{
	struct type1 *t;
	char path[64];
	int ret, ver;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/vfio", io->vfio_dev_dir);
	t->container = open(path, O_RDWR | O_CLOEXEC);
	if (t->container < 0) {
		ret = -errno;
		log_err("open %s: %s%s", path, strerror(-ret), ret == -ENOENT ?
			": the vfio module is not loaded (modprobe vfio-pci)" : "");
		goto out_free;
	}
	ver = ioctl(t->container, VFIO_GET_API_VERSION);
	trace(LOG_IOMMU, "VFIO_GET_API_VERSION -> %d", ver);
	if (ver != VFIO_API_VERSION) {
		log_err("%s speaks VFIO API %d, we speak %d", path, ver, VFIO_API_VERSION);
		ret = -EPROTO;
		goto out_close;
	}
	/* v2 unmaps only whole mappings and reports dirty pages; prefer it. */
	if (ioctl(t->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0) {
		t->type = VFIO_TYPE1v2_IOMMU;
	} else if (ioctl(t->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0) {
		t->type = VFIO_TYPE1_IOMMU;
	} else {
		log_err("%s supports neither type1v2 nor type1 IOMMU (is vfio_iommu_type1 loaded?)",
			path);
		ret = -ENODEV;
		goto out_close;
	}
	trace(LOG_IOMMU, "VFIO_CHECK_EXTENSION: using %s", t->type == VFIO_TYPE1v2_IOMMU ?
	      "VFIO_TYPE1v2_IOMMU" : "VFIO_TYPE1_IOMMU");
	io->priv = t;
	return 0;

out_close:
	close(t->container);
out_free:
	free(t);
	return ret;
}

static int group_open_fd(struct iommu *io, int nr)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%d", io->vfio_dev_dir, nr);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
	if (ret == -ENOENT)
		log_err("open %s: no such group file: load vfio-pci (modprobe vfio-pci) and bind "
			"the group's devices to it", path);
	else if (ret == -EACCES || ret == -EPERM)
		log_err("open %s: permission denied: run as root or give this user the file "
			"(chown, or a udev rule for /dev/vfio/*)", path);
	else if (ret == -EBUSY)
		log_err("open %s: group %d is already in use (another VM or VFIO user?)", path,
			nr);
	else
		log_err("open %s: %s", path, strerror(-ret));
	return ret;
}

static int group_check_status(int fd, int nr)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		int ret = -errno;

		log_err("VFIO_GROUP_GET_STATUS on group %d: %s", nr, strerror(-ret));
		return ret;
	}
	trace(LOG_IOMMU, "VFIO_GROUP_GET_STATUS group %d: flags %#x (%sviable%s)", nr, st.flags,
	      st.flags & VFIO_GROUP_FLAGS_VIABLE ? "" : "not ",
	      st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET ? ", container set" : "");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		/* sysfs looked fine, so a driver bound since, or one we allow wrongly. */
		log_err("group %d is not viable: a device in it is bound to a host driver "
			"(ls /sys/kernel/iommu_groups/%d/devices; bind them all to vfio-pci)", nr,
			nr);
		return -EBUSY;
	}
	return 0;
}

static int set_iommu(struct type1 *t, int nr)
{
	if (ioctl(t->container, VFIO_SET_IOMMU, t->type)) {
		int ret = -errno;

		if (ret == -EPERM)
			log_err("VFIO_SET_IOMMU (group %d): not permitted: the host has no interrupt "
				"remapping; set vfio_iommu_type1.allow_unsafe_interrupts=1 or enable "
				"interrupt remapping", nr);
		else
			log_err("VFIO_SET_IOMMU (group %d): %s", nr, strerror(-ret));
		return ret;
	}
	trace(LOG_IOMMU, "VFIO_SET_IOMMU %s", t->type == VFIO_TYPE1v2_IOMMU ? "TYPE1v2" : "TYPE1");
	t->iommu_set = true;
	return 0;
}

/* Opens group nr and puts it in the container (once). Returns its fd. */
static int group_get(struct iommu *io, struct type1 *t, int nr)
{
	struct type1_group *g;
	int fd, ret;

	for (unsigned int i = 0; i < t->nr_groups; i++)
		if (t->groups[i].nr == nr)
			return t->groups[i].fd;
	g = realloc(t->groups, (t->nr_groups + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	t->groups = g;
	fd = group_open_fd(io, nr);
	if (fd < 0)
		return fd;
	ret = group_check_status(fd, nr);
	if (ret)
		goto out_close;
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &t->container)) {
		ret = -errno;
		log_err("VFIO_GROUP_SET_CONTAINER (group %d): %s", nr, strerror(-ret));
		goto out_close;
	}
	trace(LOG_IOMMU, "VFIO_GROUP_SET_CONTAINER group %d", nr);
	if (!t->iommu_set) {
		ret = set_iommu(t, nr);
		if (ret)
			goto out_unset;
	}
	t->groups[t->nr_groups++] = (struct type1_group){ nr, fd };
	return fd;

out_unset:
	ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
out_close:
	close(fd);
	return ret;
}

static int type1_attach(struct iommu *io, const struct iommu_dev_id *id)
{
	struct type1 *t = io->priv;
	int gfd, fd;

	gfd = group_get(io, t, id->group);
	if (gfd < 0)
		return gfd;
	fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, id->name);
	if (fd < 0) {
		int ret = -errno;

		log_err("VFIO_GROUP_GET_DEVICE_FD %s (group %d): %s%s", id->name, id->group,
			strerror(-ret), ret == -EBUSY ? ": the device is already open elsewhere" : "");
		return ret;
	}
	trace(LOG_IOMMU, "VFIO_GROUP_GET_DEVICE_FD %s -> fd %d", id->name, fd);
	return fd;
}

static int type1_get_info(struct iommu *io, struct iommu_info *info)
{
	struct type1 *t = io->priv;
	struct vfio_iommu_type1_info *buf;
	uint32_t size = sizeof(*buf);
	char why[256];
	int ret;

	/* The first call tells how big the capability chain is. */
	for (int pass = 0; pass < 2; pass++) {
		buf = calloc(1, size);
		if (!buf)
			return -ENOMEM;
		buf->argsz = size;
		if (ioctl(t->container, VFIO_IOMMU_GET_INFO, buf)) {
			ret = -errno;
			log_err("VFIO_IOMMU_GET_INFO: %s", strerror(-ret));
			goto out_free;
		}
		if (buf->argsz <= size)
			break;
		size = buf->argsz;
		free(buf);
	}
	trace(LOG_IOMMU, "VFIO_IOMMU_GET_INFO: %u bytes, flags %#x, iova_pgsizes %#llx, "
	      "first cap at %u", size, buf->flags, (unsigned long long)buf->iova_pgsizes,
	      buf->cap_offset);
	ret = iommu_parse_type1_info(buf, size, info, why, sizeof(why));
	if (ret)
		log_err("VFIO_IOMMU_GET_INFO: %s", why);
out_free:
	free(buf);
	return ret;
}

static int type1_map(struct iommu *io, uint64_t iova, void *hva, uint64_t size, bool writable)
{
	struct type1 *t = io->priv;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)hva,
		.iova = iova,
		.size = size,
	};
	int ret;

	if (ioctl(t->container, VFIO_IOMMU_MAP_DMA, &map)) {
		ret = -errno;
		log_err("VFIO_IOMMU_MAP_DMA iova %#" PRIx64 " size %#" PRIx64 ": %s%s", iova, size,
			strerror(-ret), ret == -ENOMEM ? " (RLIMIT_MEMLOCK, or out of memory)" :
			ret == -ENOSPC ? " (out of DMA mapping entries)" : "");
		return ret;
	}
	trace(LOG_IOMMU, "VFIO_IOMMU_MAP_DMA iova %#" PRIx64 " size %#" PRIx64 " vaddr %p %s", iova,
	      size, hva, writable ? "rw" : "ro");
	return 0;
}

static int type1_unmap(struct iommu *io, uint64_t iova, uint64_t size)
{
	struct type1 *t = io->priv;
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(t->container, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
		int ret = -errno;

		log_err("VFIO_IOMMU_UNMAP_DMA iova %#" PRIx64 " size %#" PRIx64 ": %s", iova, size,
			strerror(-ret));
		return ret;
	}
	trace(LOG_IOMMU, "VFIO_IOMMU_UNMAP_DMA iova %#" PRIx64 " size %#" PRIx64 " (%#llx unmapped)",
	      iova, size, (unsigned long long)unmap.size);
	return 0;
}

static void type1_close(struct iommu *io)
{
	struct type1 *t = io->priv;

	if (!t)
		return;
	/* Groups leave the container before it closes; closing does that too. */
	for (unsigned int i = t->nr_groups; i-- > 0;) {
		ioctl(t->groups[i].fd, VFIO_GROUP_UNSET_CONTAINER);
		close(t->groups[i].fd);
	}
	close(t->container);
	free(t->groups);
	free(t);
	io->priv = NULL;
}

const struct iommu_backend_ops iommu_type1_ops = {
	.name = "vfio-type1",
	.open = type1_open,
	.attach = type1_attach,
	.get_info = type1_get_info,
	.map = type1_map,
	.unmap = type1_unmap,
	.close = type1_close,
};
