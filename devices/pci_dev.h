/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_PCI_DEV_H
#define DEVICES_PCI_DEV_H

/*
 * The PCI device model every device kind uses, passthrough (vfio/) and
 * emulated (virtio) alike:
 *
 *  - struct pci_dev: what the root bus sees (config read/write) plus the
 *    device's BARs. A BAR is cut into pieces; a piece backed by host memory
 *    (hva: a VFIO region's mmap, say) becomes a KVM memslot and never exits,
 *    any other piece is trapped and its accesses come to the device's
 *    bar_read/bar_write with the offset into the BAR.
 *  - Decode and placement are done here for every device: the device calls
 *    pci_dev_update_bars() with its guest-visible header whenever the
 *    command register, a BAR register or its power state changes, and the
 *    pieces move through the host interface; a device that must follow its
 *    BAR (peer-to-peer DMA, ioeventfds on a notify area) gets bar_moved.
 *  - struct pci_host: what a PCI device needs from the VM, implemented once
 *    in vmm/ (pci_host_vm.c) and by a recording fake in the unit tests. No
 *    device sees KVM or struct vm.
 *  - struct pci_vector: one interrupt vector = an eventfd the device (or
 *    VFIO) signals + a KVM MSI route + an irqfd joining them, so interrupts
 *    never pass through our process.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PCI_CFG_SPACE_SIZE	256
#define PCI_CFG_SPACE_EXP_SIZE	4096
#define PCI_NR_BARS		7	/* BAR0-5 and the expansion ROM (index 6) */
#define PCI_ROM_BAR		6
/* Enough for a VFIO BAR: 8 mmap areas, 2 cut again by MSI-X, gaps between (vfio/bar.c). */
#define PCI_BAR_MAX_PIECES	21

struct pci_dev;
struct guest_mem;

enum pci_bar_type {
	PCI_BAR_NONE,		/* not implemented (or the upper half of a 64-bit BAR) */
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,
	PCI_BAR_ROM,
};

/* A piece of a BAR: mapped straight into the guest, or trapped to the device. */
struct pci_bar_piece {
	uint64_t offset;	/* within the BAR */
	uint64_t size;
	bool direct;		/* the device wants it mapped: hva backs it */
	void *hva;		/* the host memory behind a direct piece (NULL: trapped) */
	int handle;		/* the host's (memslot number); -1 when none */
	struct pci_dev *dev;	/* trapped accesses go to dev->ops->bar_read/write */
	uint8_t bar;
	bool io;		/* on the port I/O bus */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size;		/* power of two; 0: not implemented */
	uint32_t low_bits;	/* the read-only type bits of the BAR register */
	unsigned int nr_pieces;
	struct pci_bar_piece pieces[PCI_BAR_MAX_PIECES];
	bool mapped;		/* pieces are on the guest's buses at mapped_addr */
	uint64_t mapped_addr;
	uint64_t trap_reads, trap_writes;	/* exits on this BAR's trapped pieces */
};

/* What a PCI device needs from the VM. Every call returns 0 or -errno and does not log. */
struct pci_host_ops {
	/* A direct piece (p->direct && p->hva) becomes a memslot, any other a trapped range. */
	int (*bar_map)(void *opaque, struct pci_bar_piece *p, uint64_t gpa);
	void (*bar_unmap)(void *opaque, struct pci_bar_piece *p, uint64_t gpa);
	int (*route_add)(void *opaque, uint64_t addr, uint32_t data);	/* -> GSI */
	int (*route_update)(void *opaque, uint32_t gsi, uint64_t addr, uint32_t data);
	int (*route_remove)(void *opaque, uint32_t gsi);
	int (*irqfd_attach)(void *opaque, int fd, uint32_t gsi, int resample_fd);
	int (*irqfd_detach)(void *opaque, int fd, uint32_t gsi);
	/* A guest write of len bytes at gpa signals fd instead of exiting to us. */
	int (*ioeventfd)(void *opaque, bool assign, bool io, uint64_t gpa, uint32_t len, int fd);
	/* The IOAPIC pin (GSI) INTx pin (1-4) of the function at devfn reaches; < 0: none. */
	int (*intx_gsi)(void *opaque, uint8_t devfn, uint8_t pin);
};

struct pci_host {
	const struct pci_host_ops *ops;
	void *opaque;
	const struct guest_mem *mem;	/* the one bounded way to guest RAM */
};

struct pci_dev_ops {
	/* off + len never crosses a naturally aligned 4-byte boundary. */
	void (*cfg_read)(struct pci_dev *dev, uint32_t off, void *data, uint32_t len);
	void (*cfg_write)(struct pci_dev *dev, uint32_t off, const void *data, uint32_t len);
	/* A trapped piece was accessed; off is into the BAR, len 1-8. */
	void (*bar_read)(struct pci_dev *dev, unsigned int bar, uint64_t off, void *data,
			 uint32_t len);
	void (*bar_write)(struct pci_dev *dev, unsigned int bar, uint64_t off, const void *data,
			  uint32_t len);
	/* Optional: BAR bar appeared at addr (on) or is about to go (off). */
	void (*bar_moved)(struct pci_dev *dev, unsigned int bar, bool on, uint64_t addr);
};

struct pci_dev {
	uint8_t devfn;
	const struct pci_dev_ops *ops;
	void *opaque;
	const char *name;
	const struct pci_host *host;
	struct pci_bar bars[PCI_NR_BARS];
	uint64_t page_size;
	struct pci_dev *upstream;	/* the root port above it; NULL: on the root bus */
};

void pci_dev_init(struct pci_dev *dev, const struct pci_dev_ops *ops, void *opaque,
		  const char *name, const struct pci_host *host);
const char *pci_bar_name(unsigned int i);	/* "BAR0".."BAR5", "ROM" */
uint32_t pci_bar_reg(unsigned int i);		/* its config offset */

/*
 * BAR i from a type and a size (rounded up to a power of two; the ROM to 2
 * KiB at least): one piece covering it, trapped. Returns how many BAR
 * registers it takes (2 for a 64-bit BAR) so callers can step over them.
 * The read-only type bits and the write mask of the register(s) follow.
 */
unsigned int pci_bar_init(struct pci_dev *dev, unsigned int i, enum pci_bar_type type,
			  uint64_t size, bool prefetch);
/* The write mask of BAR register reg (0x10-0x24, 0x30): sizing needs nothing else. */
uint32_t pci_bar_reg_mask(const struct pci_dev *dev, uint32_t reg);
/* Replaces BAR i's pieces; they must cover [0, size) in order. -E2BIG beyond the bound. */
int pci_bar_add_piece(struct pci_dev *dev, unsigned int i, uint64_t off, uint64_t size,
		      bool direct);

/*
 * Turns piece k of BAR i direct (its hva becomes a memslot) or trapped, in
 * place, while the BAR stays where it is. The new mapping goes in before the
 * old one comes out, so a vCPU on another CPU finds one or the other, never
 * neither. A direct piece needs an hva. 0, or -errno with the piece as it
 * was (the caller logs).
 */
int pci_bar_piece_switch(struct pci_dev *dev, unsigned int i, unsigned int k, bool direct);

/* The address header hdr (the guest's config bytes 0x00-0x3f) gives BAR i. */
uint64_t pci_bar_addr(const struct pci_dev *dev, unsigned int i, const uint8_t *hdr);
/*
 * Puts every BAR where hdr says, if its decode is on, or takes it off the
 * buses; quiesced (a device in D3hot) takes them all off. Call it whenever
 * the command register, a BAR register or the power state changed.
 */
void pci_dev_update_bars(struct pci_dev *dev, const uint8_t *hdr, bool quiesced);
void pci_dev_unmap_bars(struct pci_dev *dev);

/* A trapped access from the host's bus handler: counted, then to the device. */
void pci_bar_trap_read(struct pci_bar_piece *p, uint64_t off, void *data, uint32_t len);
void pci_bar_trap_write(struct pci_bar_piece *p, uint64_t off, const void *data, uint32_t len);

/* One line per implemented BAR: where, mapped and trapped bytes, trapped accesses. */
void pci_dev_print_bars(const struct pci_dev *dev, const uint8_t *hdr, FILE *f);

/*
 * A bump allocator over an MMIO window: BARs are naturally aligned to
 * their size. Callers place the largest BARs first to keep packing tight.
 */
struct pci_window {
	uint64_t base;
	uint64_t end;	/* exclusive */
	uint64_t next;
};

void pci_window_init(struct pci_window *w, uint64_t base, uint64_t end);
/* Returns 0 and the address, or -ENOSPC when size does not fit. */
int pci_window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr);
/* size bytes (any size) at an address aligned to align (a power of two). */
int pci_window_alloc_aligned(struct pci_window *w, uint64_t size, uint64_t align,
			     uint64_t *addr);

/*
 * Firmware's job, done by the VMM before boot: give every BAR of every
 * device an address, largest first, by writing its BAR registers through
 * the device's own config write (as firmware would); 64-bit BARs in w64,
 * the rest in w32, I/O BARs in io (NULL: they stay unassigned). -ENOSPC
 * names the BAR that did not fit.
 */
int pci_place_bars(struct pci_dev **devs, unsigned int n, struct pci_window *w32,
		   struct pci_window *w64, struct pci_window *io);
/*
 * The same for one device behind a bridge: 64-bit prefetchable BARs in
 * pref (the bridge's prefetchable window), every other memory BAR and the
 * ROM in mem (its memory window, below 4 GiB), I/O BARs in io.
 */
int pci_place_bars_bridged(struct pci_dev *dev, struct pci_window *mem, struct pci_window *pref,
			   struct pci_window *io);
/* The room BAR i takes when placed (small memory BARs get a whole page); 0: none. */
uint64_t pci_bar_placed_size(const struct pci_dev *dev, unsigned int i);
/* Does the BAR go in a bridge's prefetchable window (64-bit prefetchable)? */
bool pci_bar_in_pref_window(const struct pci_bar *bar);
/*
 * The root-bus function and pin the INTx pin (1-4) of dev arrives at, with
 * the standard swizzle through each bridge above it: what a guest without
 * a _PRT for the bridge computes, so the host's intx_gsi gets the same.
 */
uint8_t pci_dev_intx_root(const struct pci_dev *dev, uint8_t pin, uint8_t *root_pin);

/*
 * What the 64-bit BARs of devs need when placed as pci_place_bars places
 * them, from base: end is where the last one ends (exclusive; UINT64_MAX
 * when it would pass the top of the address space), total their sizes,
 * nr_devs how many devices have one.
 */
struct pci_mmio64_need {
	uint64_t end;
	uint64_t total;
	unsigned int nr_devs;
};

int pci_mmio64_need(struct pci_dev **devs, unsigned int n, uint64_t base,
		    struct pci_mmio64_need *need);

/* One interrupt vector: an eventfd KVM turns into a guest MSI. */
struct pci_vector {
	int fd;			/* eventfd the device signals; -1 when none */
	int gsi;		/* KVM MSI route; -1 when none */
	bool attached;		/* irqfd attached: interrupts reach the guest */
	uint64_t addr;		/* the message the route carries */
	uint32_t data;
};

void pci_vector_init(struct pci_vector *v);
/* An MSI address the guest may use: the LAPIC window 0xfeeXXXXX. */
bool pci_msi_addr_valid(uint64_t addr);
/*
 * Makes v deliver (addr, data) when active (route added or updated, irqfd
 * attached), else detaches the irqfd so signals wait in the eventfd (what
 * the PBA shows). Failures are logged rate-limited with who/what/nr.
 */
void pci_vector_sync(struct pci_dev *dev, struct pci_vector *v, bool active, uint64_t addr,
		     uint32_t data, const char *what, unsigned int nr);
/* Detaches, removes the route, closes the eventfd. */
void pci_vector_release(struct pci_dev *dev, struct pci_vector *v);
/* Signalled while detached (masked)? Reads the eventfd without consuming it. */
bool pci_vector_pending(const struct pci_vector *v);

#endif
