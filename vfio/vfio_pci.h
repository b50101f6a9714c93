/* SPDX-License-Identifier: MIT */
#ifndef VFIO_VFIO_PCI_H
#define VFIO_VFIO_PCI_H

/*
 * A VFIO PCI function assigned to the guest: the logic layer. It knows the
 * VFIO device only through struct vfio_dev (an ops table), and the VM only
 * through struct vfio_pci_host_ops (callbacks for BAR mapping, GSI routes and
 * irqfds), so every decision here runs unchanged in unit tests against a
 * fake device and a recording fake VM. pci_passthrough.c binds both to the
 * real thing.
 *
 *   config.c  config-space virtualization (permission tables, capability
 *             chain with hidden capabilities unlinked)
 *   bar.c     BAR model: sizing, mapped/trapped split, placement, remapping
 *   msix.c    MSI-X table and PBA emulation
 *   msi.c     MSI capability, INTx, and the vector -> GSI/irqfd logic
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "vfio/vfio_dev.h"

#define VFIO_PCI_NR_BARS	7	/* BAR0-5 and the expansion ROM (index 6) */
/*
 * A BAR's directly mapped spans are its mmap-able areas, of which the MSI-X
 * table and the PBA can each split one in two; its pieces alternate trapped
 * and mapped, so there is at most one trapped piece before, between and
 * after the spans. Both bounds hold by construction (bar.c).
 */
#define VFIO_BAR_MAX_SPANS	(VFIO_MAX_MMAP_AREAS + 2)
#define VFIO_BAR_MAX_PIECES	(2 * VFIO_BAR_MAX_SPANS + 1)
#define VFIO_MSI_MAX_VECTORS	32

enum vfio_bar_type {
	VFIO_BAR_NONE,		/* not implemented (or the upper half of a 64-bit BAR) */
	VFIO_BAR_IO,
	VFIO_BAR_MEM32,
	VFIO_BAR_MEM64,
	VFIO_BAR_ROM,
};

/* A piece of a BAR: mapped straight into the guest, or trapped to us. */
struct vfio_bar_piece {
	uint64_t offset;	/* within the BAR */
	uint64_t size;
	bool direct;		/* an mmap backs it: a KVM memslot, no exits */
	void *hva;		/* the mmap when direct and mapped by vfio_pci_mmap_bars */
	int handle;		/* host ops' own (memslot number); -1 when none */
};

struct vfio_bar {
	unsigned int index;
	enum vfio_bar_type type;
	bool prefetch;
	uint64_t size;		/* 0: not implemented */
	uint32_t low_bits;	/* the read-only type bits of the BAR register */
	unsigned int nr_pieces;
	struct vfio_bar_piece pieces[VFIO_BAR_MAX_PIECES];
	bool mapped;		/* pieces are on the guest's buses at mapped_addr */
	uint64_t mapped_addr;
	uint64_t trap_reads, trap_writes;	/* this BAR's share of the device's */
};

/* One interrupt vector: a VFIO eventfd that KVM turns into a guest MSI. */
struct vfio_vector {
	int fd;			/* eventfd VFIO signals; -1 when none */
	int gsi;		/* KVM MSI route; -1 when none */
	bool attached;		/* irqfd attached: interrupts reach the guest */
	uint64_t addr;		/* the message the route carries */
	uint32_t data;
};

struct vfio_msix {
	uint8_t cap;		/* 0: no MSI-X */
	unsigned int nr;
	unsigned int table_bar, pba_bar;
	uint64_t table_off, pba_off;
	uint32_t *table;	/* nr entries of 4 dwords, the guest's view */
	struct vfio_vector *vec;
	bool enabled;		/* VFIO side is enabled (eventfds installed) */
};

struct vfio_msi {
	uint8_t cap;		/* 0: no MSI */
	bool is64, pvm;
	unsigned int max;	/* vectors the device can do (2^MMC) */
	unsigned int nr;	/* vectors enabled in VFIO (2^MME) */
	struct vfio_vector vec[VFIO_MSI_MAX_VECTORS];
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
	uint8_t first_cap;	/* visible chain head (0x34) */
	uint16_t first_ecap;
	uint8_t exp_cap;	/* PCI Express capability; 0: none */
	bool flr;		/* DevCap FLR offered: guest FLRs become VFIO_DEVICE_RESET */
	bool flr_failed;	/* a guest FLR's reset failed once (warned once) */
	uint8_t pm_cap;		/* PCI power management capability; 0: none */
	bool d3;		/* the device is in D3hot: its BARs are off the guest's buses */
};

struct vfio_pci_dev;

/* What the device needs from the VM; pci_passthrough.c implements it over vm_*. */
struct vfio_pci_host_ops {
	int (*bar_map)(void *opaque, struct vfio_pci_dev *d, struct vfio_bar *bar,
		       struct vfio_bar_piece *p, uint64_t gpa);
	void (*bar_unmap)(void *opaque, struct vfio_pci_dev *d, struct vfio_bar *bar,
			  struct vfio_bar_piece *p, uint64_t gpa);
	int (*route_add)(void *opaque, uint64_t addr, uint32_t data);	/* -> GSI */
	int (*route_update)(void *opaque, uint32_t gsi, uint64_t addr, uint32_t data);
	int (*route_remove)(void *opaque, uint32_t gsi);
	int (*irqfd_attach)(void *opaque, int fd, uint32_t gsi, int resample_fd);
	int (*irqfd_detach)(void *opaque, int fd, uint32_t gsi);
};

enum vfio_irq_mode { VFIO_IRQ_NONE, VFIO_IRQ_INTX, VFIO_IRQ_MSI, VFIO_IRQ_MSIX };

struct vfio_pci_dev {
	struct vfio_dev vdev;
	struct vfio_dev_info info;
	struct vfio_region regions[VFIO_PCI_REGIONS];
	struct vfio_irq irqs[VFIO_PCI_NUM_IRQS];
	struct vfio_cfg cfg;
	struct vfio_bar bars[VFIO_PCI_NR_BARS];
	struct vfio_msix msix;
	struct vfio_msi msi;
	struct vfio_intx intx;
	enum vfio_irq_mode mode;
	const struct vfio_pci_host_ops *host;
	void *host_opaque;
	pthread_mutex_t lock;	/* config state vs trapped MSI-X accesses */
	uint64_t page_size;
	struct pci_dev pci;	/* what the root bus sees */
	uint64_t trap_reads, trap_writes;	/* exits on trapped BAR pieces */
};

/* Reads device/region/irq info and config space, builds the tables. */
int vfio_pci_init(struct vfio_pci_dev *d, const struct vfio_dev_ops *ops, void *h,
		  const char *name, const struct vfio_pci_host_ops *host, void *host_opaque);
/* Disables interrupts, unmaps BARs, frees; the device fd stays the caller's. */
void vfio_pci_exit(struct vfio_pci_dev *d);
int vfio_pci_reset(struct vfio_pci_dev *d);

/* Guest config accesses (the pci_dev_ops of d->pci call these). */
void vfio_pci_cfg_read(struct vfio_pci_dev *d, uint32_t off, void *data, uint32_t len);
void vfio_pci_cfg_write(struct vfio_pci_dev *d, uint32_t off, const void *data, uint32_t len);
extern const struct pci_dev_ops vfio_pci_dev_ops;

/* BARs (bar.c). */
int vfio_pci_mmap_bars(struct vfio_pci_dev *d);
void vfio_pci_munmap_bars(struct vfio_pci_dev *d);
uint64_t vfio_bar_guest_addr(const struct vfio_pci_dev *d, unsigned int i);
/* A trapped access at offset off into BAR i (the host's bus handler calls it). */
void vfio_pci_bar_read(struct vfio_pci_dev *d, unsigned int i, uint64_t off, void *data,
		       uint32_t len);
void vfio_pci_bar_write(struct vfio_pci_dev *d, unsigned int i, uint64_t off, const void *data,
			uint32_t len);
/*
 * Firmware's job, done by the VMM before boot: give every BAR of every
 * device an address, largest first; 64-bit BARs in w64, the rest in w32,
 * I/O BARs in io (may be NULL: they stay unassigned). -ENOSPC names the BAR.
 */
int vfio_pci_place_bars(struct vfio_pci_dev **devs, unsigned int n, struct pci_window *w32,
			struct pci_window *w64, struct pci_window *io);

/* Interrupts (msi.c). The host says which IOAPIC pin the INTx pin reaches. */
int vfio_pci_intx_setup(struct vfio_pci_dev *d, int gsi);

#endif
