// SPDX-License-Identifier: MIT
/*
 * The composition of the virtio devices (see virtio_devices.h): device
 * models from devices/virtio/, each on a virtio-pci transport, on the root
 * bus next to the passthrough devices.
 */
#include "vmm/virtio_devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/net.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/vsock.h"
#include "util/log.h"
#include "vmm/disks.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

#define CLASS_NET_ETHERNET	0x020000
#define CLASS_COMM_OTHER	0x078000	/* what vsock devices report elsewhere too */

/*
 * A device's threads (virtio-blk's I/O thread, virtio-net's control queue)
 * are started by a vCPU at DRIVER_OK and inherit its filter; each then adds
 * the I/O filter, so it runs under both and the vCPU's list need not carry
 * what only a data plane does.
 */
static int io_thread_filter(void)
{
	return seccomp_install(SECCOMP_IO);
}

int virtio_devices_add(struct virtio_devices *vd, struct virtio_dev *vdev, uint32_t class_code,
		       void (*destroy)(struct virtio_dev *vdev))
{
	vdev->thread_init = io_thread_filter;
	if (vd->nr == VIRTIO_DEVICES_MAX) {
		destroy(vdev);
		return -ENOSPC;
	}
	vd->vdev[vd->nr] = vdev;
	vd->destroy[vd->nr] = destroy;
	vd->class_code[vd->nr] = class_code;
	vd->vp[vd->nr] = NULL;
	vd->nr++;
	return 0;
}

int virtio_devices_open(const struct cli_opts *o, struct virtio_devices *vd, char *err,
			size_t errlen)
{
	struct virtio_dev *vdev;
	struct disks disks = { 0 };
	int ret;

	/* Disks first: a root disk gets the first virtio slot. */
	ret = disks_open(o->disks, o->nr_disks, o->vm.nr_cpus, &disks, err, errlen);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < disks.nr; i++) {
		ret = virtio_devices_add(vd, disks.devs[i], VIRTIO_BLK_PCI_CLASS, virtio_blk_destroy);
		disks.devs[i] = NULL;	/* vd's now, even on failure */
		if (ret) {
			for (unsigned int k = i + 1; k < disks.nr; k++)
				virtio_blk_destroy(disks.devs[k]);
			goto err;
		}
	}
	for (unsigned int i = 0; i < o->nr_nets; i++) {
		ret = virtio_net_create(&o->nets[i], NULL, &vdev, err, errlen);
		if (!ret)
			ret = virtio_devices_add(vd, vdev, CLASS_NET_ETHERNET, virtio_net_destroy);
		if (ret)
			goto err;
	}
	if (o->vsock_cid) {
		ret = virtio_vsock_create(o->vsock_cid, NULL, &vdev, err, errlen);
		if (!ret)
			ret = virtio_devices_add(vd, vdev, CLASS_COMM_OTHER, virtio_vsock_destroy);
		if (ret)
			goto err;
	}
	return 0;
err:
	if (ret == -ENOSPC)
		snprintf(err, errlen, "more than %d virtio devices", VIRTIO_DEVICES_MAX);
	virtio_devices_release(vd);
	return ret;
}

int virtio_devices_attach(struct vm *vm, struct virtio_devices *vd)
{
	for (unsigned int i = 0; i < vd->nr; i++) {
		struct virtio_pci *vp = calloc(1, sizeof(*vp));
		int ret;

		if (!vp) {
			log_err("%s: out of memory", vd->vdev[i]->name);
			return -ENOMEM;
		}
		ret = virtio_pci_init(vp, vd->vdev[i], vd->class_code[i], &vm->pci_host);
		if (ret) {
			log_err("%s: virtio-pci: %s", vd->vdev[i]->name, strerror(-ret));
			free(vp);
			return ret;
		}
		vd->vp[i] = vp;
		ret = pci_root_add(&vm->pci, &vp->pci);
		if (ret) {
			log_err("%s: no free slot on the PCI root bus", vd->vdev[i]->name);
			return ret;
		}
	}
	return 0;
}

void virtio_devices_print_stats(struct virtio_devices *vd, FILE *f)
{
	for (unsigned int i = 0; i < vd->nr; i++)
		if (vd->vp[i])
			virtio_pci_print_stats(vd->vp[i], f);
}

void virtio_devices_release(struct virtio_devices *vd)
{
	while (vd->nr) {
		unsigned int i = --vd->nr;

		/* The transport resets the device (vhost lets go) before the device closes. */
		if (vd->vp[i]) {
			virtio_pci_exit(vd->vp[i]);
			free(vd->vp[i]);
			vd->vp[i] = NULL;
		}
		vd->destroy[i](vd->vdev[i]);
		vd->vdev[i] = NULL;
	}
}
