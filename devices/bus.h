/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_BUS_H
#define DEVICES_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The one device interface. A device registers an address range (PIO or
 * MMIO) with read/write callbacks that receive the offset into the range.
 * vCPU exits, emulated or passthrough, all go through a bus.
 */
struct bus_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const void *data, uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t size;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
	uint64_t accesses;	/* exit counter, for --stats */
};

struct bus {
	const char *name;	/* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	unsigned int nr, cap;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* -EEXIST when the range overlaps another, -EINVAL for size 0 or wrap. */
int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct bus_ops *ops, void *opaque, const char *name);
/* Removes the range starting at base owned by opaque; -ENOENT if none. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/*
 * Dispatch an access. Returns false when nobody owns addr: a read then
 * fills data with all-ones, a write is dropped. An access that starts
 * inside a range goes to that range's owner, which sees the offset.
 */
bool bus_read(struct bus *bus, uint64_t addr, void *data, uint32_t len);
bool bus_write(struct bus *bus, uint64_t addr, const void *data, uint32_t len);

/* Calls fn for each range (under the read lock), e.g. to print counters. */
void bus_for_each(struct bus *bus, void (*fn)(const struct bus_range *r, void *arg),
		  void *arg);

#endif
