/* SPDX-License-Identifier: MIT */
#ifndef TESTS_FUZZ_FUZZ_HOST_H
#define TESTS_FUZZ_FUZZ_HOST_H

/*
 * A checking PCI host interface for the fuzz targets that drive a whole PCI
 * device (fuzz_passthrough, fuzz_virtio_pci). It plays vmm/pci_host_vm.c's
 * part as KVM and the buses would, and refuses what they refuse: a memslot
 * (a direct piece with host memory) over guest RAM or another memslot is
 * -EEXIST, as KVM_SET_USER_MEMORY_REGION answers; a trapped range over
 * another on the same bus is -EEXIST, as bus_register answers. The target
 * may also make the next map, route or irqfd call fail (-ENOSPC), as a full
 * VM would.
 *
 * On every call it checks what the device promises and aborts through
 * fuzz_fail() when a promise is broken:
 *  - a route (added or updated) carries an MSI address 0xfeeXXXXX;
 *  - an irqfd is attached only with a live eventfd (one made by eventfd()
 *    and not closed since), on a GSI that has a route (or the INTx pin's),
 *    never twice; detached only when attached; a route is removed only with
 *    no irqfd on it;
 *  - a memslot's address, size and host address are page-aligned; a piece
 *    is never mapped twice, and unmapped only where it is mapped (with the
 *    memslot handle it was given);
 *  - an ioeventfd names a live eventfd; one is never registered twice nor
 *    removed when absent;
 *  - close() is never called on an eventfd an irqfd or an ioeventfd still
 *    uses, nor twice on one (this file replaces close() and eventfd() for
 *    the whole target, and reuses closed eventfds).
 */
#include <stdbool.h>
#include <stdint.h>

#include "devices/guest_mem.h"
#include "devices/pci_dev.h"

#define FH_MAX_MAPS	256
#define FH_MAX_ROUTES	64	/* GSIs 24..87: the fuzzer can fill them */
#define FH_GSI_BASE	24
#define FH_INTX_GSI	10
#define FH_MAX_IOEV	128
#define FH_MAX_FD	4096

enum fh_fail {
	FH_FAIL_MAP,		/* the next bar_map answers -ENOSPC (no free memslot) */
	FH_FAIL_ROUTE,		/* the next route_add answers -ENOSPC */
	FH_FAIL_IRQFD,		/* the next irqfd_attach answers -ENOSPC */
	FH_FAIL_IOEVENTFD,	/* the next ioeventfd assign answers -ENOSPC */
	FH_NR_FAIL,
};

struct fh_map {
	uint64_t gpa, size;
	bool slot;		/* a memslot (else a trapped range on a bus) */
	bool io;		/* trapped on the port bus */
	int handle;		/* memslot number given */
	struct pci_bar_piece *p;
};

struct fh_route {
	bool used;
	uint64_t addr;
	uint32_t data;
	int irqfd;		/* the fd attached to it; -1 none */
};

struct fh_ioev {
	bool used, io;
	uint64_t gpa;
	uint32_t len;
	int fd;
};

struct fuzz_host {
	struct pci_host pci;
	struct guest_mem mem;		/* RAM the host knows (memslots refused over it) */
	struct fh_map maps[FH_MAX_MAPS];	/* [0, nr_maps) in use */
	unsigned int nr_maps;
	struct fh_route routes[FH_MAX_ROUTES];
	int intx_fd, intx_resample;	/* irqfd on the INTx GSI; -1 none */
	struct fh_ioev ioev[FH_MAX_IOEV];
	int next_handle;
	bool fail[FH_NR_FAIL];		/* armed failures */
	bool failed;			/* some call failed on purpose or by refusal */
	bool refused[PCI_NR_BARS];	/* a map of this BAR was refused since it last went on */
	uint64_t calls;
};

/* Empty host with guest RAM mem (copied); the INTx GSI is FH_INTX_GSI. */
void fh_init(struct fuzz_host *h, const struct guest_mem *mem);

/* Live eventfds (made and not closed), counted across the whole process. */
unsigned int fh_live_eventfds(void);
/*
 * Open file descriptors of the process (/proc/self/fd), less the closed
 * eventfds fuzz_host.c keeps for reuse.
 */
int fh_fd_count(void);

/* Number of irqfds attached, routes present, pieces mapped, ioeventfds registered. */
unsigned int fh_irqfds(const struct fuzz_host *h);
unsigned int fh_routes(const struct fuzz_host *h);
unsigned int fh_maps(const struct fuzz_host *h);
unsigned int fh_ioeventfds(const struct fuzz_host *h);

/* The route of a GSI (NULL: none), the irqfd on it. */
const struct fh_route *fh_route(const struct fuzz_host *h, int gsi);

/*
 * The spec's decode of BAR i of dev from its guest-visible header (bytes
 * 0x00-0x3f, of which it reads the command register, the BARs and the ROM
 * BAR), written here independently of devices/pci_dev.c: should it be on
 * the buses, and where.
 */
bool fh_bar_wanted(const struct pci_dev *dev, unsigned int i, const uint8_t *hdr, bool quiesced,
		   uint64_t *addr);

/*
 * Checks dev's BARs against the host: each BAR is either wholly mapped at
 * the address fh_bar_wanted gives (every piece at addr + offset, as the
 * device's own bars[].mapped/mapped_addr say) or not at all; not at all when
 * it is not wanted; and when wanted but absent, a map of it was refused.
 */
void fh_check_bars(struct fuzz_host *h, const struct pci_dev *dev, const uint8_t *hdr,
		   bool quiesced);

/*
 * A guest access at gpa as the VM would route it: a memslot is read or
 * written through its host memory (and wins over a trapped range under it,
 * as in KVM), else a trapped piece gets pci_bar_trap_read/write, anything
 * else reads all-ones. io: the port bus. Returns the map that took the
 * access, or NULL.
 */
const struct fh_map *fh_access(struct fuzz_host *h, bool io, uint64_t gpa, void *data,
			       uint32_t len, bool write);

/* The i-th mapping in use (i modulo their number), or NULL when none. */
const struct fh_map *fh_map_nth(const struct fuzz_host *h, unsigned int i);

/* After the device's exit: nothing mapped, routed, attached or registered. */
void fh_check_empty(const struct fuzz_host *h, const char *when);

#endif
