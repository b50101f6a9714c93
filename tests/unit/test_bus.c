// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "devices/bus.h"

struct rec {
	uint64_t last_off;
	uint32_t last_len;
	uint32_t value;
	int reads, writes;
};

static void rec_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct rec *r = opaque;

	r->reads++;
	r->last_off = off;
	r->last_len = len;
	memcpy(data, &r->value, len);
}

static void rec_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct rec *r = opaque;

	r->writes++;
	r->last_off = off;
	r->last_len = len;
	r->value = 0;
	memcpy(&r->value, data, len);
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };

Test(bus, dispatch_to_owner_with_offset)
{
	struct bus b;
	struct rec a = { .value = 0x11223344 }, c = { .value = 0xaabbccdd };
	uint32_t v = 0;

	bus_init(&b, "pio");
	cr_assert_eq(bus_register(&b, 0x3f8, 8, &rec_ops, &a, "a"), 0);
	cr_assert_eq(bus_register(&b, 0xcf8, 8, &rec_ops, &c, "c"), 0);
	cr_assert(bus_read(&b, 0x3fd, &v, 1));
	cr_assert_eq(a.last_off, 5);
	cr_assert_eq(v, 0x44);
	cr_assert(bus_read(&b, 0xcfc, &v, 4));
	cr_assert_eq(c.last_off, 4);
	cr_assert_eq(v, 0xaabbccdd);
	v = 0x5a;
	cr_assert(bus_write(&b, 0x3f8, &v, 1));
	cr_assert_eq(a.writes, 1);
	cr_assert_eq(a.value, 0x5a);
	bus_destroy(&b);
}

Test(bus, unowned_reads_all_ones_and_drops_writes)
{
	struct bus b;
	struct rec a = { 0 };
	uint64_t v = 0;

	bus_init(&b, "mmio");
	cr_assert_eq(bus_register(&b, 0x1000, 0x100, &rec_ops, &a, "a"), 0);
	cr_assert_not(bus_read(&b, 0x1100, &v, 8));
	cr_assert_eq(v, ~0ULL);
	cr_assert_not(bus_read(&b, 0xfff, &v, 2));
	cr_assert_not(bus_write(&b, 0x1100, &v, 4));
	cr_assert_eq(a.reads + a.writes, 0);
	bus_destroy(&b);
}

Test(bus, overlap_refused_edges_exact)
{
	struct bus b;
	struct rec a = { 0 };

	bus_init(&b, "mmio");
	cr_assert_eq(bus_register(&b, 0x1000, 0x1000, &rec_ops, &a, "a"), 0);
	cr_assert_eq(bus_register(&b, 0x1fff, 1, &rec_ops, &a, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0x0, 0x1001, &rec_ops, &a, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0x800, 0x2000, &rec_ops, &a, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0x0, 0x1000, &rec_ops, &a, "below"), 0);
	cr_assert_eq(bus_register(&b, 0x2000, 0x10, &rec_ops, &a, "above"), 0);
	cr_assert_eq(bus_register(&b, 0x3000, 0, &rec_ops, &a, "empty"), -EINVAL);
	cr_assert_eq(bus_register(&b, ~0ULL - 1, 4, &rec_ops, &a, "wrap"), -EINVAL);
	cr_assert_eq(b.nr, 3);
	bus_destroy(&b);
}

Test(bus, unregister_and_move)
{
	struct bus b;
	struct rec a = { .value = 7 }, other = { 0 };
	uint32_t v;

	bus_init(&b, "mmio");
	cr_assert_eq(bus_register(&b, 0x10000, 0x1000, &rec_ops, &a, "bar"), 0);
	cr_assert_eq(bus_unregister(&b, 0x10000, &other), -ENOENT);
	cr_assert_eq(bus_unregister(&b, 0x10000, &a), 0);
	cr_assert_not(bus_read(&b, 0x10000, &v, 4));
	cr_assert_eq(bus_register(&b, 0x20000, 0x1000, &rec_ops, &a, "bar"), 0);
	cr_assert(bus_read(&b, 0x20ffc, &v, 4));
	cr_assert_eq(v, 7);
	cr_assert_eq(a.last_off, 0xffc);
	bus_destroy(&b);
}

Test(bus, many_ranges_binary_search)
{
	struct bus b;
	struct rec recs[64];
	uint32_t v;

	bus_init(&b, "pio");
	/* Register in a scrambled order; lookups must still find each owner. */
	for (int k = 0; k < 64; k++) {
		int i = (k * 37) % 64;

		recs[i] = (struct rec){ .value = (uint32_t)i };
		cr_assert_eq(bus_register(&b, 0x100 * i, 0x10, &rec_ops, &recs[i], "r"), 0);
	}
	for (int i = 0; i < 64; i++) {
		cr_assert(bus_read(&b, 0x100 * i + 3, &v, 1));
		cr_assert_eq(v & 0xff, (uint32_t)i);
		cr_assert_not(bus_read(&b, 0x100 * i + 0x10, &v, 1));
	}
	bus_destroy(&b);
}
