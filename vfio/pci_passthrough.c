// SPDX-License-Identifier: MIT
/*
 * A VFIO device fd as a PCI device: the ioctl backend (device_ioctl.c)
 * under a vfio_pci_dev, the device reset to a clean state where it can be
 * and its BARs mmapped, ready for the composition root to put on a bus.
 */
#include "vfio/pci_passthrough.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct vfio_passthrough {
	struct vfio_ioctl_dev fd;
	struct vfio_pci_dev dev;
	char name[64];
};

static struct vfio_passthrough *passthrough_new(const char *name, int fd)
{
	struct vfio_passthrough *pt = calloc(1, sizeof(*pt));

	if (!pt)
		return NULL;
	pt->fd.fd = fd;
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	return pt;
}

static int passthrough_start(struct vfio_passthrough *pt, const struct vfio_dev_ops *ops,
			     void *h, const struct pci_host *host)
{
	int ret = vfio_pci_init(&pt->dev, ops, h, pt->name, host);

	if (ret)
		return ret;
	/* Start from a clean device where it can be reset (-ENOTSUP is fine). */
	vfio_pci_reset(&pt->dev);
	vfio_pci_mmap_bars(&pt->dev);
	return 0;
}

int vfio_passthrough_open(int device_fd, const char *name, const struct pci_host *host,
			  struct vfio_passthrough **out)
{
	struct vfio_passthrough *pt = passthrough_new(name, device_fd);
	int ret = -ENOMEM;

	if (pt)
		ret = passthrough_start(pt, &vfio_ioctl_ops, &pt->fd, host);
	if (ret) {
		close(device_fd);
		free(pt);
		return ret;
	}
	*out = pt;
	return 0;
}

int vfio_passthrough_open_ops(const struct vfio_dev_ops *ops, void *h, const char *name,
			      const struct pci_host *host, struct vfio_passthrough **out)
{
	struct vfio_passthrough *pt = passthrough_new(name, -1);
	int ret = -ENOMEM;

	if (pt)
		ret = passthrough_start(pt, ops, h, host);
	if (ret) {
		free(pt);
		return ret;
	}
	*out = pt;
	return 0;
}

void vfio_passthrough_close(struct vfio_passthrough *pt)
{
	if (!pt)
		return;
	vfio_pci_exit(&pt->dev);
	vfio_pci_reset(&pt->dev);
	if (pt->fd.fd >= 0)
		close(pt->fd.fd);
	free(pt);
}

struct vfio_pci_dev *vfio_passthrough_dev(struct vfio_passthrough *pt)
{
	return &pt->dev;
}

struct pci_dev *vfio_passthrough_pci(struct vfio_passthrough *pt)
{
	return &pt->dev.pci;
}
