/* SPDX-License-Identifier: MIT */
#ifndef VFIO_VFIO_PCI_H
#define VFIO_VFIO_PCI_H

/*
 * A VFIO PCI function assigned to the guest: one user of the PCI device
 * model (devices/pci_dev.h), as virtio devices are. It knows the VFIO device
 * only through struct vfio_dev (an ops table) and the VM only through struct
 * pci_host, so every decision here runs unchanged in unit tests against a
 * fake device and a recording fake host. What stays here is what is VFIO:
 *
 *   config.c  config-space virtualization (permission tables, capability
 *             chain with hidden capabilities unlinked, power state, FLR)
 *   bar.c     BAR sizes from the regions, the mapped/trapped split from the
 *             region's sparse mmap areas and the MSI-X pages, region I/O
 *   msix.c    the MSI-X capability over devices/msix.c, VFIO's vectors
 *   msi.c     the MSI capability, INTx, SET_IRQS
 * Decode, BAR placement and moves, the MSI-X table and the interrupt vector
 * logic are devices/'s, shared with every other PCI device.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "vfio/vfio_dev.h"

#define VFIO_PCI_NR_BARS	PCI_NR_BARS	/* BAR0-5 and the expansion ROM (index 6) */
/*
 * A BAR's directly mapped spans are its mmap-able areas, of which the MSI-X
 * table and the PBA can each split one in two; a PBA with a mappable page of
 * its own is then put back as a span of its own (one more). The pieces
 * alternate trapped and mapped runs, at most one trapped piece before,
 * between and after the runs. Runs: the areas + 1 (the table's cut) + 1 (the
 * PBA's, when its page is not mappable), or the areas + 1 with the PBA's span
 * and its neighbours as three pieces inside one run; either way at most
 * 2 * areas + 5 pieces. Both bounds hold by construction (bar.c).
 */
#define VFIO_BAR_MAX_SPANS	(VFIO_MAX_MMAP_AREAS + 3)
#define VFIO_BAR_MAX_PIECES	(2 * VFIO_MAX_MMAP_AREAS + 5)
_Static_assert(VFIO_BAR_MAX_PIECES <= PCI_BAR_MAX_PIECES, "PCI_BAR_MAX_PIECES too small for VFIO");
#define VFIO_MSI_MAX_VECTORS	32

struct vfio_msi {
	uint8_t cap;		/* 0: no MSI */
	bool is64, pvm;
	unsigned int max;	/* vectors the device can do (2^MMC) */
	unsigned int nr;	/* vectors enabled in VFIO (2^MME) */
	struct pci_vector vec[VFIO_MSI_MAX_VECTORS];
};

struct vfio_intx {
	bool present;		/* pin != 0 and VFIO has an INTx irq */
	bool enabled;
	int fd, resample_fd;
	int gsi;		/* IOAPIC pin given by the host; -1: INTx not wired */
};

/* Config space permission tables and our shadow copy (config.c). */
struct vfio_cfg {
	uint32_t size;		/* 256, or 4096 with extended space */
	uint8_t shadow[PCI_CFG_SPACE_EXP_SIZE];
	uint8_t emu[PCI_CFG_SPACE_EXP_SIZE];	/* bits read from the shadow */
	uint8_t wr[PCI_CFG_SPACE_EXP_SIZE];	/* bits the guest may change */
	uint8_t fwd[PCI_CFG_SPACE_EXP_SIZE];	/* bits written to the device */
	uint8_t keep[PCI_CFG_SPACE_EXP_SIZE];	/* emulated bits an FLR leaves alone */
	uint8_t start[PCI_CFG_SPACE_EXP_SIZE];	/* the shadow at open: what an FLR restores */
	uint16_t flr_end;	/* past the last byte with bits both emulated and writable */
	uint8_t first_cap;	/* visible chain head (0x34) */
	uint16_t first_ecap;
	uint8_t exp_cap;	/* PCI Express capability; 0: none */
	bool flr;		/* DevCap FLR offered: guest FLRs become VFIO_DEVICE_RESET */
	bool flr_failed;	/* a guest FLR's reset failed once (warned once) */
	uint8_t pm_cap;		/* PCI power management capability; 0: none */
	bool d3;		/* the device is in D3hot: its BARs are off the guest's buses */
};

/*
 * Peer-to-peer DMA: called with map=true for each directly mapped BAR piece
 * when it appears at a guest address (the guest turned decode on or moved
 * the BAR), and map=false before it goes away, so the IOMMU can make the
 * piece a DMA target at IOVA = its guest address and follow it. Runs in the
 * vCPU thread that wrote config space; a failure only costs the peers'
 * access, the guest's own accesses keep working.
 */
typedef int (*vfio_dma_fn)(void *opaque, bool map, uint64_t gpa, void *hva, uint64_t size);

enum vfio_irq_mode { VFIO_IRQ_NONE, VFIO_IRQ_INTX, VFIO_IRQ_MSI, VFIO_IRQ_MSIX };

struct vfio_pci_dev {
	struct pci_dev pci;	/* the device model: root bus view, BARs, host */
	struct vfio_dev vdev;
	struct vfio_dev_info info;
	struct vfio_region regions[VFIO_PCI_REGIONS];
	struct vfio_irq irqs[VFIO_PCI_NUM_IRQS];
	struct vfio_cfg cfg;
	struct msix msix;
	struct vfio_msi msi;
	struct vfio_intx intx;
	enum vfio_irq_mode mode;
	pthread_mutex_t lock;	/* config state vs trapped MSI-X accesses */
	uint64_t trap_reads, trap_writes;	/* exits on trapped BAR pieces */
	/*
	 * The piece of BAR msix.pba_bar holding the PBA when that page can be
	 * mapped (-1: it cannot, always trapped): mapped while msix_pba_emulated()
	 * is false, trapped while true (bar.c, vfio_pba_update()).
	 */
	int pba_piece;
	uint64_t pba_maps, pba_traps;		/* switches of that piece */
	vfio_dma_fn dma_hook;	/* --p2p: BAR pieces as DMA targets */
	void *dma_opaque;
};

/* Reads device/region/irq info and config space, builds the tables. */
int vfio_pci_init(struct vfio_pci_dev *d, const struct vfio_dev_ops *ops, void *h,
		  const char *name, const struct pci_host *host);
/* Disables interrupts, unmaps BARs, frees; the device fd stays the caller's. */
void vfio_pci_exit(struct vfio_pci_dev *d);
int vfio_pci_reset(struct vfio_pci_dev *d);
/*
 * NVIDIA's GPUDirect P2P clique capability (--device DEV,clique=N): an
 * 8-byte vendor-specific capability at 0xc8 (or 0xd4 when 0xc8 is taken),
 * 'P' '2' 'P', clique ID (0-15) in bits 6:3 of byte 6, read-only to the
 * guest, linked at the head of the chain. Only on an NVIDIA display-class
 * function; -EINVAL or -ENOSPC with one error line otherwise.
 */
#define VFIO_CLIQUE_MAX	15
int vfio_pci_add_gpudirect_clique(struct vfio_pci_dev *d, unsigned int clique);

/* Guest config accesses (the pci_dev_ops of d->pci call these). */
void vfio_pci_cfg_read(struct vfio_pci_dev *d, uint32_t off, void *data, uint32_t len);
/* Does the guest see a PCI Express capability (the device is PCIe)? */
bool vfio_pci_is_express(const struct vfio_pci_dev *d);
void vfio_pci_cfg_write(struct vfio_pci_dev *d, uint32_t off, const void *data, uint32_t len);
extern const struct pci_dev_ops vfio_pci_dev_ops;

/* BARs (bar.c). */
int vfio_pci_mmap_bars(struct vfio_pci_dev *d);
void vfio_pci_munmap_bars(struct vfio_pci_dev *d);
uint64_t vfio_bar_guest_addr(const struct vfio_pci_dev *d, unsigned int i);
/* A trapped access at offset off into BAR i (dev ops bar_read/bar_write). */
void vfio_pci_bar_read(struct vfio_pci_dev *d, unsigned int i, uint64_t off, void *data,
		       uint32_t len);
void vfio_pci_bar_write(struct vfio_pci_dev *d, unsigned int i, uint64_t off, const void *data,
			uint32_t len);
/* Sets the P2P hook and calls it at once for the pieces already on the guest's buses. */
int vfio_pci_set_dma_hook(struct vfio_pci_dev *d, vfio_dma_fn fn, void *opaque);

/* Interrupts (msi.c): INTx to the IOAPIC pin the host says its pin reaches. */
int vfio_pci_intx_setup(struct vfio_pci_dev *d);

#endif
