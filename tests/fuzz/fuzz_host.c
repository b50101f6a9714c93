// SPDX-License-Identifier: MIT
/* The checking PCI host of the device fuzz targets (see fuzz_host.h). */
#include "tests/fuzz/fuzz_host.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "tests/fuzz/fuzz_input.h"

#define PAGE	4096ull

static uint8_t live[FH_MAX_FD];		/* 1: an eventfd we handed out */
static unsigned int nr_live;
static struct fuzz_host *cur;		/* the host whose irqfds/ioeventfds close() checks */

/*
 * Closed eventfds kept for the next eventfd() call instead of the two system
 * calls (an input makes and closes about 50: a third of an execution). Only
 * the kind the code under test makes (counter 0, EFD_CLOEXEC | EFD_NONBLOCK).
 * A closed one is parked as it is; when eventfd() finds no clean one left,
 * one poll() over the parked ones finds those with a count, which are
 * drained (read), and all of them are clean again: a reused eventfd starts
 * at 0 like a new one. A parked number stays open in the kernel, so no other
 * file can take it: a close() of a parked number is an eventfd closed twice,
 * which the kernel would have let pass (EBADF, or another file's fd closed).
 */
#define FH_EFD_FLAGS	(EFD_CLOEXEC | EFD_NONBLOCK)
static uint8_t parked[FH_MAX_FD];	/* 1: closed by the program, in clean[] or dirty[] */
static uint8_t poolable[FH_MAX_FD];	/* 1: made with counter 0 and FH_EFD_FLAGS */
static int clean[FH_MAX_FD], dirty[FH_MAX_FD];
static unsigned int nr_clean, nr_dirty;
static struct pollfd pfd[FH_MAX_FD];

/* The parked eventfds not known to be at 0 drained, with one poll(). */
FUZZ_CHECKER
static void drain_dirty(void)
{
	uint64_t n;
	int ret;

	for (unsigned int i = 0; i < nr_dirty; i++)
		pfd[i] = (struct pollfd){ .fd = dirty[i], .events = POLLIN };
	/* libFuzzer's SIGALRM (-timeout) may interrupt it. */
	while ((ret = poll(pfd, nr_dirty, 0)) < 0 && errno == EINTR)
		;
	FUZZ_CHECK(ret >= 0, "poll of %u parked eventfds: %s", nr_dirty, strerror(errno));
	for (unsigned int i = 0; i < nr_dirty; i++) {
		FUZZ_CHECK(!(pfd[i].revents & ~POLLIN), "parked eventfd %d: poll says %#x",
			   pfd[i].fd, pfd[i].revents);
		if (pfd[i].revents & POLLIN) {
			while ((ret = (int)read(pfd[i].fd, &n, 8)) < 0 && errno == EINTR)
				;
			FUZZ_CHECK(ret == 8, "parked eventfd %d: drain: %s", pfd[i].fd,
				   strerror(errno));
		}
		clean[nr_clean++] = dirty[i];
	}
	nr_dirty = 0;
}

/*
 * eventfd() and close() for the whole target (the code under test, libc's
 * callers and libFuzzer alike): the real system calls (or the parked
 * eventfds above), plus the bookkeeping that lets the host tell a live
 * eventfd from a closed (or reused) number.
 */
FUZZ_CHECKER
int eventfd(unsigned int initval, int flags)
{
	long fd;

	if (!initval && flags == FH_EFD_FLAGS && !nr_clean && nr_dirty)
		drain_dirty();
	if (!initval && flags == FH_EFD_FLAGS && nr_clean) {
		fd = clean[--nr_clean];
		parked[fd] = 0;
	} else {
		fd = syscall(SYS_eventfd2, initval, flags);
		if (fd >= 0 && fd < FH_MAX_FD)
			poolable[fd] = !initval && flags == FH_EFD_FLAGS;
	}
	if (fd >= 0 && fd < FH_MAX_FD && !live[fd]) {
		live[fd] = 1;
		nr_live++;
	}
	return (int)fd;
}

FUZZ_CHECKER
int close(int fd)
{
	if (fd >= 0 && fd < FH_MAX_FD && parked[fd])
		fuzz_fail("close(%d): an eventfd closed twice", fd);
	if (fd >= 0 && fd < FH_MAX_FD && live[fd]) {
		if (cur) {
			for (unsigned int g = 0; g < FH_MAX_ROUTES; g++)
				FUZZ_CHECK(cur->routes[g].irqfd != fd,
					   "close(%d) with its irqfd still on GSI %u", fd,
					   g + FH_GSI_BASE);
			FUZZ_CHECK(cur->intx_fd != fd && cur->intx_resample != fd,
				   "close(%d) with the INTx irqfd still using it", fd);
			for (unsigned int i = 0; i < FH_MAX_IOEV; i++)
				FUZZ_CHECK(!cur->ioev[i].used || cur->ioev[i].fd != fd,
					   "close(%d) with its ioeventfd at %#llx registered", fd,
					   (unsigned long long)cur->ioev[i].gpa);
		}
		live[fd] = 0;
		nr_live--;
		if (poolable[fd]) {
			parked[fd] = 1;
			dirty[nr_dirty++] = fd;
			return 0;
		}
	}
	return (int)syscall(SYS_close, fd);
}

FUZZ_CHECKER
static bool is_live(int fd)
{
	return fd >= 0 && fd < FH_MAX_FD && live[fd];
}

unsigned int fh_live_eventfds(void)
{
	return nr_live;
}

int fh_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1 - (int)(nr_clean + nr_dirty);	/* the directory's own fd, the parked eventfds */
}

FUZZ_CHECKER
static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

static bool take_fail(struct fuzz_host *h, enum fh_fail f)
{
	if (!h->fail[f])
		return false;
	h->fail[f] = false;
	h->failed = true;
	return true;
}

static int host_bar_map(void *o, struct pci_bar_piece *p, uint64_t gpa)
{
	struct fuzz_host *h = o;
	bool slot = p->direct && p->hva;

	h->calls++;
	FUZZ_CHECK(p->size && gpa + p->size - 1 >= gpa, "%s piece +%#llx size %#llx at %#llx wraps",
		   pci_bar_name(p->bar), (unsigned long long)p->offset,
		   (unsigned long long)p->size, (unsigned long long)gpa);
	if (slot)
		FUZZ_CHECK(!(gpa % PAGE) && !(p->size % PAGE) && !((uintptr_t)p->hva % PAGE),
			   "memslot %s+%#llx at %#llx size %#llx hva %p not page-aligned",
			   pci_bar_name(p->bar), (unsigned long long)p->offset,
			   (unsigned long long)gpa, (unsigned long long)p->size, p->hva);
	for (unsigned int i = 0; i < h->nr_maps; i++) {
		struct fh_map *m = &h->maps[i];

		/*
		 * A piece is mapped once, except while it switches between a
		 * memslot and a bus range (pci_bar_piece_switch): then both
		 * kinds, at the same address, for a moment.
		 */
		FUZZ_CHECK(m->p != p || (m->slot != slot && m->gpa == gpa),
			   "%s piece +%#llx mapped at %#llx while still at %#llx",
			   pci_bar_name(p->bar), (unsigned long long)p->offset,
			   (unsigned long long)gpa, (unsigned long long)m->gpa);
		/* KVM refuses overlapping memslots; the bus overlapping ranges. */
		if (((slot && m->slot) || (!slot && !m->slot && m->io == p->io)) &&
		    overlaps(gpa, p->size, m->gpa, m->size))
			goto refuse;
	}
	if (slot)
		for (unsigned int r = 0; r < h->mem.nr; r++)
			if (overlaps(gpa, p->size, h->mem.r[r].gpa, h->mem.r[r].size))
				goto refuse;
	FUZZ_CHECK(h->nr_maps < FH_MAX_MAPS, "more than %d pieces mapped", FH_MAX_MAPS);
	if (take_fail(h, FH_FAIL_MAP))
		goto refuse_nospc;
	h->maps[h->nr_maps] = (struct fh_map){ .gpa = gpa, .size = p->size, .slot = slot,
					       .io = p->io, .handle = -1, .p = p };
	if (slot) {
		h->maps[h->nr_maps].handle = h->next_handle++ & 0x7fff;
		p->handle = h->maps[h->nr_maps].handle;
	}
	h->nr_maps++;
	return 0;
refuse:
	h->refused[p->bar] = true;
	h->failed = true;
	return -EEXIST;
refuse_nospc:
	h->refused[p->bar] = true;
	return -ENOSPC;
}

static void host_bar_unmap(void *o, struct pci_bar_piece *p, uint64_t gpa)
{
	struct fuzz_host *h = o;
	bool slot = p->direct && p->hva, other = false;

	h->calls++;
	for (unsigned int i = 0; i < h->nr_maps; i++) {
		struct fh_map *m = &h->maps[i];

		if (m->p != p)
			continue;
		if (m->slot != slot) {
			other = true;	/* the other half of a switch, or a change of kind */
			continue;
		}
		FUZZ_CHECK(m->gpa == gpa, "%s piece +%#llx unmapped at %#llx, mapped at %#llx",
			   pci_bar_name(p->bar), (unsigned long long)p->offset,
			   (unsigned long long)gpa, (unsigned long long)m->gpa);
		if (m->slot) {
			FUZZ_CHECK(p->handle == m->handle, "memslot %d unmapped as handle %d",
				   m->handle, p->handle);
			p->handle = -1;
		}
		*m = h->maps[--h->nr_maps];
		return;
	}
	if (other)
		fuzz_fail("%s piece +%#llx changed kind while mapped", pci_bar_name(p->bar),
			  (unsigned long long)p->offset);
	fuzz_fail("%s piece +%#llx unmapped at %#llx but not mapped", pci_bar_name(p->bar),
		  (unsigned long long)p->offset, (unsigned long long)gpa);
}

FUZZ_CHECKER
static struct fh_route *route_of(struct fuzz_host *h, uint32_t gsi)
{
	if (gsi < FH_GSI_BASE || gsi >= FH_GSI_BASE + FH_MAX_ROUTES ||
	    !h->routes[gsi - FH_GSI_BASE].used)
		return NULL;
	return &h->routes[gsi - FH_GSI_BASE];
}

FUZZ_CHECKER
const struct fh_route *fh_route(const struct fuzz_host *h, int gsi)
{
	return gsi < 0 ? NULL : route_of((struct fuzz_host *)h, (uint32_t)gsi);
}

static int host_route_add(void *o, uint64_t addr, uint32_t data)
{
	struct fuzz_host *h = o;

	h->calls++;
	FUZZ_CHECK((addr >> 20) == 0xfee, "route_add with address %#llx (data %#x)",
		   (unsigned long long)addr, data);
	if (take_fail(h, FH_FAIL_ROUTE))
		return -ENOSPC;
	for (unsigned int g = 0; g < FH_MAX_ROUTES; g++)
		if (!h->routes[g].used) {
			h->routes[g] = (struct fh_route){ true, addr, data, -1 };
			return (int)(g + FH_GSI_BASE);
		}
	h->failed = true;
	return -ENOSPC;
}

static int host_route_update(void *o, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct fuzz_host *h = o;
	struct fh_route *r = route_of(h, gsi);

	h->calls++;
	FUZZ_CHECK(r, "route_update of GSI %u, which has no route", gsi);
	FUZZ_CHECK((addr >> 20) == 0xfee, "route_update of GSI %u to address %#llx", gsi,
		   (unsigned long long)addr);
	r->addr = addr;
	r->data = data;
	return 0;
}

static int host_route_remove(void *o, uint32_t gsi)
{
	struct fuzz_host *h = o;
	struct fh_route *r = route_of(h, gsi);

	h->calls++;
	FUZZ_CHECK(r, "route_remove of GSI %u, which has no route", gsi);
	FUZZ_CHECK(r->irqfd < 0, "route of GSI %u removed with irqfd %d still on it", gsi,
		   r->irqfd);
	r->used = false;
	return 0;
}

FUZZ_CHECKER
static bool fd_attached(const struct fuzz_host *h, int fd)
{
	for (unsigned int g = 0; g < FH_MAX_ROUTES; g++)
		if (h->routes[g].used && h->routes[g].irqfd == fd)
			return true;
	return h->intx_fd == fd;
}

static int host_irqfd_attach(void *o, int fd, uint32_t gsi, int resample_fd)
{
	struct fuzz_host *h = o;
	struct fh_route *r = route_of(h, gsi);

	h->calls++;
	FUZZ_CHECK(is_live(fd), "irqfd on GSI %u with fd %d, not a live eventfd", gsi, fd);
	FUZZ_CHECK(!fd_attached(h, fd), "irqfd %d attached twice (now GSI %u)", fd, gsi);
	if (gsi == FH_INTX_GSI) {
		FUZZ_CHECK(is_live(resample_fd), "INTx irqfd with resample fd %d, not a live eventfd",
			   resample_fd);
		FUZZ_CHECK(h->intx_fd < 0, "second irqfd %d on the INTx GSI (has %d)", fd,
			   h->intx_fd);
		h->intx_fd = fd;
		h->intx_resample = resample_fd;
		return 0;
	}
	FUZZ_CHECK(r, "irqfd %d on GSI %u, which has no route", fd, gsi);
	FUZZ_CHECK(resample_fd == -1, "MSI irqfd on GSI %u with a resample fd", gsi);
	FUZZ_CHECK(r->irqfd < 0, "second irqfd %d on GSI %u (has %d)", fd, gsi, r->irqfd);
	if (take_fail(h, FH_FAIL_IRQFD))
		return -ENOSPC;
	r->irqfd = fd;
	/* KVM delivers a signal that came while detached at once: the count goes. */
	{
		uint64_t n;

		FUZZ_CHECK(read(fd, &n, 8) == 8 || errno == EAGAIN, "irqfd %d: read", fd);
	}
	return 0;
}

static int host_irqfd_detach(void *o, int fd, uint32_t gsi)
{
	struct fuzz_host *h = o;
	struct fh_route *r = route_of(h, gsi);

	h->calls++;
	if (gsi == FH_INTX_GSI) {
		FUZZ_CHECK(h->intx_fd == fd, "INTx irqfd %d detached, attached is %d", fd,
			   h->intx_fd);
		h->intx_fd = h->intx_resample = -1;
		return 0;
	}
	FUZZ_CHECK(r && r->irqfd == fd, "irqfd %d detached from GSI %u, where it is not", fd, gsi);
	r->irqfd = -1;
	return 0;
}

static int host_ioeventfd(void *o, bool assign, bool io, uint64_t gpa, uint32_t len, int fd)
{
	struct fuzz_host *h = o;
	struct fh_ioev *free_ev = NULL;

	h->calls++;
	FUZZ_CHECK(len == 1 || len == 2 || len == 4 || len == 8, "ioeventfd of length %u", len);
	for (unsigned int i = 0; i < FH_MAX_IOEV; i++) {
		struct fh_ioev *e = &h->ioev[i];

		if (!e->used) {
			if (!free_ev)
				free_ev = e;
			continue;
		}
		if (e->io == io && e->gpa == gpa && e->len == len && e->fd == fd) {
			FUZZ_CHECK(!assign, "ioeventfd %d at %#llx registered twice", fd,
				   (unsigned long long)gpa);
			e->used = false;
			return 0;
		}
	}
	FUZZ_CHECK(assign, "ioeventfd %d at %#llx removed but not registered", fd,
		   (unsigned long long)gpa);
	FUZZ_CHECK(is_live(fd), "ioeventfd at %#llx with fd %d, not a live eventfd",
		   (unsigned long long)gpa, fd);
	FUZZ_CHECK(free_ev, "more than %d ioeventfds", FH_MAX_IOEV);
	if (take_fail(h, FH_FAIL_IOEVENTFD))
		return -ENOSPC;
	*free_ev = (struct fh_ioev){ true, io, gpa, len, fd };
	return 0;
}

static int host_intx_gsi(void *o, uint8_t devfn, uint8_t pin)
{
	(void)o;
	(void)devfn;
	return pin >= 1 && pin <= 4 ? FH_INTX_GSI : -1;
}

static const struct pci_host_ops fh_ops = {
	.bar_map = host_bar_map,
	.bar_unmap = host_bar_unmap,
	.route_add = host_route_add,
	.route_update = host_route_update,
	.route_remove = host_route_remove,
	.irqfd_attach = host_irqfd_attach,
	.irqfd_detach = host_irqfd_detach,
	.ioeventfd = host_ioeventfd,
	.intx_gsi = host_intx_gsi,
};

void fh_init(struct fuzz_host *h, const struct guest_mem *mem)
{
	memset(h, 0, sizeof(*h));
	if (mem)
		h->mem = *mem;
	for (unsigned int g = 0; g < FH_MAX_ROUTES; g++)
		h->routes[g].irqfd = -1;
	h->intx_fd = h->intx_resample = -1;
	h->next_handle = 2;	/* 0 and 1: guest RAM */
	h->pci = (struct pci_host){ .ops = &fh_ops, .opaque = h, .mem = &h->mem };
	cur = h;
}

FUZZ_CHECKER
unsigned int fh_irqfds(const struct fuzz_host *h)
{
	unsigned int n = h->intx_fd >= 0;

	for (unsigned int g = 0; g < FH_MAX_ROUTES; g++)
		n += h->routes[g].used && h->routes[g].irqfd >= 0;
	return n;
}

FUZZ_CHECKER
unsigned int fh_routes(const struct fuzz_host *h)
{
	unsigned int n = 0;

	for (unsigned int g = 0; g < FH_MAX_ROUTES; g++)
		n += h->routes[g].used;
	return n;
}

FUZZ_CHECKER
unsigned int fh_maps(const struct fuzz_host *h)
{
	return h->nr_maps;
}

FUZZ_CHECKER
unsigned int fh_ioeventfds(const struct fuzz_host *h)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FH_MAX_IOEV; i++)
		n += h->ioev[i].used;
	return n;
}

FUZZ_CHECKER
static uint32_t rd32(const uint8_t *hdr, uint32_t off)
{
	return hdr[off] | (uint32_t)hdr[off + 1] << 8 | (uint32_t)hdr[off + 2] << 16 |
	       (uint32_t)hdr[off + 3] << 24;
}

FUZZ_CHECKER
bool fh_bar_wanted(const struct pci_dev *dev, unsigned int i, const uint8_t *hdr, bool quiesced,
		   uint64_t *addr)
{
	const struct pci_bar *bar = &dev->bars[i];
	uint16_t cmd = hdr[PCI_COMMAND] | hdr[PCI_COMMAND + 1] << 8;
	uint32_t reg = i == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i;
	uint32_t lo = rd32(hdr, reg);
	uint64_t a, top, sizing;

	if (quiesced || bar->type == PCI_BAR_NONE || !bar->size)
		return false;
	switch (bar->type) {
	case PCI_BAR_IO:
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		a = lo & ~3u;
		top = 0x10000;
		break;
	case PCI_BAR_ROM:
		if (!(cmd & PCI_COMMAND_MEMORY) || !(lo & PCI_ROM_ADDRESS_ENABLE))
			return false;
		a = lo & ~0x7ffu;
		top = 1ull << 32;
		break;
	case PCI_BAR_MEM32:
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		a = lo & ~0xfu;
		top = 1ull << 32;
		break;
	default:
		if (!(cmd & PCI_COMMAND_MEMORY))
			return false;
		a = (lo & ~0xfu) | (uint64_t)rd32(hdr, reg + 4) << 32;
		top = 0;
		break;
	}
	/* Unassigned (0) or the sizing pattern (all address bits set) is no address. */
	sizing = ~(bar->size - 1);
	if (top)
		sizing &= top - 1;
	if (!a || a == sizing)
		return false;
	if (a + bar->size < a || (top && a + bar->size > top))
		return false;
	*addr = a;
	return true;
}

FUZZ_CHECKER
static const struct fh_map *map_of(const struct fuzz_host *h, const struct pci_bar_piece *p)
{
	for (unsigned int i = 0; i < h->nr_maps; i++)
		if (h->maps[i].p == p)
			return &h->maps[i];
	return NULL;
}

FUZZ_CHECKER
void fh_check_bars(struct fuzz_host *h, const struct pci_dev *dev, const uint8_t *hdr,
		   bool quiesced)
{
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *bar = &dev->bars[i];
		uint64_t addr = 0;
		bool want = fh_bar_wanted(dev, i, hdr, quiesced, &addr);
		unsigned int on = 0;

		for (unsigned int k = 0; k < bar->nr_pieces; k++) {
			const struct fh_map *m = map_of(h, &bar->pieces[k]);

			if (!m)
				continue;
			on++;
			FUZZ_CHECK(want, "%s piece +%#llx mapped at %#llx, but the BAR is off "
				   "(command %#x, register %#x)", pci_bar_name(i),
				   (unsigned long long)bar->pieces[k].offset,
				   (unsigned long long)m->gpa, hdr[PCI_COMMAND],
				   rd32(hdr, i == PCI_ROM_BAR ? PCI_ROM_ADDRESS : 0x10 + 4 * i));
			FUZZ_CHECK(m->gpa == addr + bar->pieces[k].offset,
				   "%s piece +%#llx at %#llx, the BAR is at %#llx", pci_bar_name(i),
				   (unsigned long long)bar->pieces[k].offset,
				   (unsigned long long)m->gpa, (unsigned long long)addr);
		}
		FUZZ_CHECK(on == 0 || on == bar->nr_pieces, "%s: %u of its %u pieces mapped",
			   pci_bar_name(i), on, bar->nr_pieces);
		FUZZ_CHECK(bar->mapped == (on > 0), "%s: the device says %smapped, the host has %u "
			   "pieces", pci_bar_name(i), bar->mapped ? "" : "not ", on);
		if (on) {
			FUZZ_CHECK(bar->mapped_addr == addr, "%s: mapped_addr %#llx, at %#llx",
				   pci_bar_name(i), (unsigned long long)bar->mapped_addr,
				   (unsigned long long)addr);
			h->refused[i] = false;
		} else {
			FUZZ_CHECK(!want || h->refused[i], "%s wanted at %#llx but not mapped, and "
				   "no map of it was refused", pci_bar_name(i),
				   (unsigned long long)addr);
		}
	}
}

FUZZ_CHECKER
const struct fh_map *fh_map_nth(const struct fuzz_host *h, unsigned int n)
{
	return h->nr_maps ? &h->maps[n % h->nr_maps] : NULL;
}

FUZZ_CHECKER
const struct fh_map *fh_access(struct fuzz_host *h, bool io, uint64_t gpa, void *data,
			       uint32_t len, bool write)
{
	/*
	 * As KVM routes it: a memslot first, and only where there is none an
	 * exit to the bus (a guest may place a trapped BAR over a mapped one).
	 */
	for (int want_slot = 1; want_slot >= 0; want_slot--) {
		for (unsigned int i = 0; i < h->nr_maps; i++) {
			const struct fh_map *m = &h->maps[i];
			uint64_t off = gpa - m->gpa;

			if (m->slot != want_slot || m->io != io || gpa < m->gpa || off >= m->size)
				continue;
			if (m->slot) {
				/*
				 * KVM reads or writes the host memory itself, never us;
				 * the target's BAR memory is not even accessible
				 * (fuzz_passthrough's arena). What can be checked: the
				 * access lies in the memslot.
				 */
				if (!write && off + len <= m->size)
					memset(data, 0, len);
				return m;
			}
			/* The bus clips nothing: an access may run past the range's end. */
			if (write)
				pci_bar_trap_write(m->p, off, data, len);
			else
				pci_bar_trap_read(m->p, off, data, len);
			return m;
		}
	}
	if (!write)
		memset(data, 0xff, len);
	return NULL;
}

FUZZ_CHECKER
void fh_check_empty(const struct fuzz_host *h, const char *when)
{
	FUZZ_CHECK(!fh_maps(h), "%s: %u pieces still mapped", when, fh_maps(h));
	FUZZ_CHECK(!fh_irqfds(h), "%s: %u irqfds still attached", when, fh_irqfds(h));
	FUZZ_CHECK(!fh_routes(h), "%s: %u routes still present", when, fh_routes(h));
	FUZZ_CHECK(!fh_ioeventfds(h), "%s: %u ioeventfds still registered", when,
		   fh_ioeventfds(h));
	FUZZ_CHECK(!nr_live, "%s: %u eventfds still open", when, nr_live);
}
