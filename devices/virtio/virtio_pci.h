/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_VIRTIO_PCI_H
#define DEVICES_VIRTIO_VIRTIO_PCI_H

/*
 * The modern virtio-pci transport (virtio 1.x, no legacy I/O BAR): a PCI
 * device on the shared device model (devices/pci_dev.h) whose one BAR holds
 * the common, ISR, device-specific and notify structures and the MSI-X
 * table and PBA (devices/msix.c, the same emulation a passthrough device
 * uses). Queue notifies are KVM ioeventfds on the notify addresses, queue
 * interrupts irqfds on the MSI-X vectors' eventfds: the data path never
 * enters our process. Layout of BAR0 (32-bit, 32 KiB, all trapped):
 *
 *   0x0000  common configuration (struct virtio_pci_common_cfg)
 *   0x1000  ISR status
 *   0x2000  device-specific configuration (the device model's)
 *   0x3000  notify area: queue q at 0x3000 + 4 * q
 *   0x4000  MSI-X table: one vector per queue + one for configuration
 *   0x5000  MSI-X PBA
 */
#include "devices/msix.h"
#include "devices/pci_dev.h"
#include "devices/virtio/virtio.h"

#define VPCI_BAR_SIZE	0x8000
#define VPCI_COMMON	0x0000
#define VPCI_ISR		0x1000
#define VPCI_DEVICE	0x2000
#define VPCI_NOTIFY	0x3000
#define VPCI_NOTIFY_MULT	4
#define VPCI_MSIX_TABLE	0x4000
#define VPCI_MSIX_PBA	0x5000

struct virtio_pci_queue_regs {
	uint16_t size;		/* the driver may shrink it (power of 2) */
	uint16_t msix_vector;
	bool enable;
	uint64_t desc, driver, device;
};

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *vdev;
	pthread_mutex_t lock;	/* guest register accesses (vCPU threads) */
	uint8_t cfg[PCI_CFG_SPACE_SIZE];	/* config space, all emulated */
	uint8_t wmask[PCI_CFG_SPACE_SIZE];	/* bits the guest may write */
	uint8_t pci_cfg_cap;	/* the VIRTIO_PCI_CAP_PCI_CFG window's offset */
	struct msix msix;
	uint16_t nr_vectors;
	/* Common configuration. */
	uint32_t dev_feature_sel, drv_feature_sel;
	uint64_t drv_features;
	uint16_t config_vector;
	uint8_t status;		/* NEEDS_RESET may be set from an I/O thread (atomic) */
	uint8_t config_generation;
	uint8_t isr;
	uint16_t queue_sel;
	struct virtio_pci_queue_regs q[VIRTIO_MAX_QUEUES];
	bool active;		/* the device model is serving (DRIVER_OK accepted) */
	bool ioeventfds;	/* kick fds are to be registered at bar_addr */
	uint64_t ioeventfd_on;	/* by queue: its registration succeeded */
	uint64_t bar_addr;
	uint64_t notify_exits;	/* queue notifies the ioeventfds did not catch */
	char name[32];
};

/*
 * Wraps vdev (filled by its device model) as a PCI function with the given
 * class code; host is the VM's PCI host interface, its mem the guest RAM
 * the queues may use. The caller puts &vp->pci on the root bus.
 */
int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vdev, uint32_t class_code,
		    const struct pci_host *host);
/* --stats: notify exits (0 when every kick went through an ioeventfd) and BAR0's line. */
void virtio_pci_print_stats(struct virtio_pci *vp, FILE *f);
/* Stops the device (reset), takes the BAR off the buses, frees vectors. */
void virtio_pci_exit(struct virtio_pci *vp);

#endif
