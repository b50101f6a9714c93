/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_GUEST_MEM_H
#define DEVICES_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

/*
 * The one bounded accessor through which devices reach guest RAM. A device
 * gets a guest physical address from the guest (a virtqueue, a DMA
 * descriptor) and the guest is hostile, so no device ever turns a GPA into a
 * host pointer by arithmetic of its own: it asks here, and gets a pointer only
 * when the whole range is RAM.
 *
 * Plain data, filled by the VMM from its memory layout (low RAM, RAM above
 * 4 GiB); devices/ knows nothing of memslots or KVM. Anything not listed is
 * not RAM: the 32-bit MMIO hole, BARs, ECAM, the LAPIC/IOAPIC pages and
 * everything above the top of RAM are refused.
 *
 * A range must lie wholly inside ONE region. Two regions that happen to be
 * adjacent in guest physical space are two host mappings whose host addresses
 * need not be adjacent, so a range straddling them has no single host
 * pointer and is refused (guest_mem_read/write refuse it too, so that every
 * accessor agrees on what is reachable). The VMM's layout never makes RAM
 * regions adjacent (the 32-bit hole always separates low and high RAM); if it
 * ever splits RAM further it must register one region per host mapping and
 * accept that a buffer across the seam is refused.
 */
#define GUEST_MEM_MAX_REGIONS	4

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;	/* host mapping of [gpa, gpa + size) */
};

struct guest_mem {
	unsigned int nr;
	struct guest_mem_region r[GUEST_MEM_MAX_REGIONS];
};

/*
 * Appends a region after checking it: -EINVAL for size 0, a range that wraps
 * past 2^64, or an hva whose offset within a 4 KiB page differs from the
 * gpa's (the host pointer must be aligned as the GPA is, so a naturally
 * aligned guest field is naturally aligned for host atomics; mmap gives
 * this); -EEXIST when it overlaps a region; -ENOSPC when the table is full.
 * Start from a zeroed struct guest_mem.
 */
int guest_mem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, void *hva);

/*
 * Host pointer for [gpa, gpa + len) when that range lies wholly inside one
 * region, else NULL. Overflow-safe for any gpa and len (a range wrapping past
 * 2^64 is refused). len 0 yields a pointer only when gpa is inside a region.
 */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy to or from guest RAM: 0, or -EFAULT when guest_mem_ptr refuses the range. */
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len);

#endif
