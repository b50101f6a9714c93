// SPDX-License-Identifier: MIT
#include "devices/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose end is above addr (binary search). */
static unsigned int bus_lower_bound(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + r->size - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	unsigned int i;
	int ret = 0;

	if (size == 0 || base + size - 1 < base)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base <= base + size - 1) {
		ret = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){
		.base = base, .size = size, .ops = ops, .opaque = opaque, .name = name,
	};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base == base && bus->ranges[i].opaque == opaque) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/*
 * Copy the owner out under the lock and call it unlocked: a device's
 * callback may itself (un)register ranges, e.g. when the guest moves a BAR.
 * Devices outlive their ranges, so the copied opaque stays valid.
 */
static bool bus_lookup(struct bus *bus, uint64_t addr, struct bus_range *out)
{
	unsigned int i;
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	i = bus_lower_bound(bus, addr);
	if (i < bus->nr && bus->ranges[i].base <= addr) {
		__atomic_fetch_add(&bus->ranges[i].accesses, 1, __ATOMIC_RELAXED);
		*out = bus->ranges[i];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	return found;
}

bool bus_read(struct bus *bus, uint64_t addr, void *data, uint32_t len)
{
	struct bus_range r;

	if (!bus_lookup(bus, addr, &r) || !r.ops->read) {
		memset(data, 0xff, len);
		return false;
	}
	r.ops->read(r.opaque, addr - r.base, data, len);
	return true;
}

bool bus_write(struct bus *bus, uint64_t addr, const void *data, uint32_t len)
{
	struct bus_range r;

	if (!bus_lookup(bus, addr, &r))
		return false;
	if (r.ops->write)
		r.ops->write(r.opaque, addr - r.base, data, len);
	return true;
}

void bus_for_each(struct bus *bus, void (*fn)(const struct bus_range *r, void *arg), void *arg)
{
	pthread_rwlock_rdlock(&bus->lock);
	for (unsigned int i = 0; i < bus->nr; i++)
		fn(&bus->ranges[i], arg);
	pthread_rwlock_unlock(&bus->lock);
}
