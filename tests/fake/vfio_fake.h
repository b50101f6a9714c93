/* SPDX-License-Identifier: MIT */
#ifndef TESTS_FAKE_VFIO_FAKE_H
#define TESTS_FAKE_VFIO_FAKE_H

/*
 * A fake VFIO device built from the real H100 or H200 dump (tests/fixtures), and a
 * fake VM that records what the passthrough device asks of it. Both plug
 * into the same ops tables the real ioctl backend and vm.c glue fill.
 *
 * No test framework here: the unit tests (tests/unit/test_vfio_fake.c wraps
 * the loaders in criterion asserts) and the fuzz targets (tests/fuzz/) link
 * the same fake. What can fail returns -errno after one line on stderr.
 */
#include <stdbool.h>
#include <stdint.h>

#include "vfio/vfio_pci.h"

#define FAKE_MAX_CALLS	128
#define FAKE_BAR0_SIZE	(16u << 20)

struct fake_set_irqs {
	uint32_t index, flags, start, count;
	int32_t fds[16];
};

struct fake_vfio {
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];	/* the device's config space */
	uint8_t cfg_orig[PCI_CFG_SPACE_EXP_SIZE];
	uint64_t sizes[VFIO_PCI_REGIONS];	/* from h100-resource.txt */
	bool msix_mappable;			/* else: sparse mmap around the table */
	/* When set: BAR0's sparse mmap areas, instead of "all but the table page". */
	unsigned int nr_areas;
	struct { uint64_t offset, size; } areas[VFIO_MAX_MMAP_AREAS + 1];
	bool no_reset;				/* device info without FLAGS_RESET */
	bool no_intx;				/* INTx count 0, as VFIO says of a VF */
	int reset_ret;				/* what the reset op returns */
	uint8_t *bar0;				/* backing of BAR0 */
	uint8_t rom[4096];
	unsigned int cfg_writes;
	struct fake_set_irqs calls[FAKE_MAX_CALLS];
	unsigned int nr_calls;
	unsigned int resets;
	unsigned int mmaps;
};

/*
 * Loads DIR/MODEL-config.bin and DIR/MODEL-resource.txt ("h100", "h200": same
 * BAR0 and MSI-X layout) and allocates BAR0's backing. -errno (and a line on
 * stderr) when a fixture is missing or short, or memory runs out.
 */
int fake_vfio_load(struct fake_vfio *f, const char *dir, const char *model, bool msix_mappable);
void fake_vfio_free(struct fake_vfio *f);
extern const struct vfio_dev_ops fake_vfio_ops;

enum fake_ev {
	EV_MAP, EV_UNMAP, EV_ROUTE_ADD, EV_ROUTE_UPDATE, EV_ROUTE_REMOVE, EV_ATTACH, EV_DETACH,
	EV_IOEVENTFD, EV_IOEVENTFD_OFF,
};

struct fake_event {
	enum fake_ev ev;
	unsigned int bar;
	uint64_t offset, size, gpa;	/* EV_MAP / EV_UNMAP */
	bool direct;
	uint64_t addr;			/* routes */
	uint32_t data;
	int gsi, fd, resample_fd;
};

struct fake_host {
	struct fake_event ev[1024];
	unsigned int nr;
	int next_gsi;
	int attached;		/* irqfds currently attached */
	int routes;		/* routes currently present */
	int mapped;		/* pieces currently mapped */
	int intx_gsi;		/* what intx_gsi answers (10) */
	int ioeventfd_ret;	/* what an ioeventfd assign answers (0) */
	struct pci_host pci;	/* the interface handed to the device */
};

void fake_host_init(struct fake_host *h);
extern const struct pci_host_ops fake_host_ops;
/* Number of recorded events of one kind (since index from). */
unsigned int fake_count(const struct fake_host *h, enum fake_ev ev, unsigned int from);
/* The last event of a kind, or NULL. */
const struct fake_event *fake_last(const struct fake_host *h, enum fake_ev ev);

/* Guest-style config accessors. */
uint32_t cfg_rd(struct vfio_pci_dev *d, uint32_t off, uint32_t len);
void cfg_wr(struct vfio_pci_dev *d, uint32_t off, uint32_t len, uint32_t v);

/* The H100's MSI-X table in BAR0, and guest accesses to dword dw of entry v. */
#define FAKE_MSIX_TABLE	0xb90000
void msix_entry_write(struct vfio_pci_dev *d, unsigned int v, unsigned int dw, uint32_t val);
uint32_t msix_entry_read(struct vfio_pci_dev *d, unsigned int v, unsigned int dw);

/* A device over a fake loaded from dir, with the fake host: 0 or -errno. */
int fake_pci_setup(struct vfio_pci_dev *d, struct fake_vfio *f, struct fake_host *h,
		   const char *dir, const char *model, bool msix_mappable);

#endif
