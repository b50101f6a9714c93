// SPDX-License-Identifier: MIT
/*
 * devices/bus.c against a model: the input is a list of operations
 * (register, unregister, read, write, a write whose device moves its range
 * from inside the callback, a walk over the ranges). A plain array of ranges
 * says what each one must do; the target aborts on the first difference:
 *  - register/unregister return what the model expects (-EINVAL for size 0
 *    or wrap, -EEXIST on any overlap, -ENOENT for a wrong base or owner);
 *  - an access reaches exactly the range covering its first byte, with the
 *    right offset and length, or nobody (reads then see all-ones);
 *  - bus_for_each lists the model's ranges in address order with their
 *    access counts.
 */
#include <errno.h>

#include "devices/bus.h"
#include "tests/fuzz/fuzz_input.h"

#define NR_DEVS		8
#define MAX_RANGES	64

enum kind { RW, READ_ONLY, WRITE_ONLY };

struct model_range {
	uint64_t base, size;
	unsigned int dev;
	enum kind kind;
	uint64_t accesses;
};

struct dev {
	unsigned int id;
};

static struct bus bus;
static struct dev devs[NR_DEVS];
static struct model_range model[MAX_RANGES];
static unsigned int nr_model;

/* What the last dispatch did, filled by the callbacks. */
static struct {
	unsigned int calls;
	const struct dev *dev;
	uint64_t off;
	uint32_t len;
	bool write;
} seen;

/* Set for a "move" write: the callback re-registers its range at move_to. */
static bool move_pending;
static uint64_t move_to, cur_addr;

static uint8_t dev_byte(const struct dev *d, uint64_t off, uint32_t i)
{
	return (uint8_t)(0x40 + d->id * 16 + off + i);
}

static void record(void *opaque, uint64_t off, uint32_t len, bool write)
{
	seen.calls++;
	seen.dev = opaque;
	seen.off = off;
	seen.len = len;
	seen.write = write;
}

static void dev_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	record(opaque, off, len, false);
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)data)[i] = dev_byte(opaque, off, i);
}

static int model_find(uint64_t addr)
{
	for (unsigned int i = 0; i < nr_model; i++)
		if (addr >= model[i].base && addr - model[i].base < model[i].size)
			return (int)i;
	return -1;
}

static int model_register(uint64_t base, uint64_t size, unsigned int dev, enum kind kind)
{
	if (size == 0 || base + size - 1 < base)
		return -EINVAL;
	for (unsigned int i = 0; i < nr_model; i++)
		if (base <= model[i].base + model[i].size - 1 && model[i].base <= base + size - 1)
			return -EEXIST;
	model[nr_model++] = (struct model_range){ base, size, dev, kind, 0 };
	return 0;
}

static int model_unregister(uint64_t base, unsigned int dev)
{
	for (unsigned int i = 0; i < nr_model; i++) {
		if (model[i].base == base && model[i].dev == dev) {
			model[i] = model[--nr_model];
			return 0;
		}
	}
	return -ENOENT;
}

static void dev_write(void *opaque, uint64_t off, const void *data, uint32_t len);

static const struct bus_ops ops[] = {
	[RW] = { .read = dev_read, .write = dev_write },
	[READ_ONLY] = { .read = dev_read },
	[WRITE_ONLY] = { .write = dev_write },
};

static void do_register(uint64_t base, uint64_t size, unsigned int dev, enum kind kind)
{
	int want, got;

	if (nr_model == MAX_RANGES)
		return;
	want = model_register(base, size, dev, kind);
	got = bus_register(&bus, base, size, &ops[kind], &devs[dev], "fuzz");
	FUZZ_CHECK(got == want, "bus_register(%#llx, %#llx) = %d, want %d",
		   (unsigned long long)base, (unsigned long long)size, got, want);
}

static void do_unregister(uint64_t base, unsigned int dev)
{
	int want = model_unregister(base, dev);
	int got = bus_unregister(&bus, base, &devs[dev]);

	FUZZ_CHECK(got == want, "bus_unregister(%#llx, dev %u) = %d, want %d",
		   (unsigned long long)base, dev, got, want);
}

static void dev_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	const struct dev *d = opaque;
	uint64_t size;
	int i;

	(void)data;
	record(opaque, off, len, true);
	if (!move_pending)
		return;
	/* Like a BAR move: the device changes the bus from inside its callback. */
	move_pending = false;
	i = model_find(cur_addr);
	FUZZ_CHECK(i >= 0, "callback for %#llx without a range", (unsigned long long)cur_addr);
	size = model[i].size;
	do_unregister(cur_addr - off, d->id);
	do_register(move_to, size, d->id, RW);
}

/* An address that is often an edge of a registered range. */
static uint64_t pick_addr(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	const struct model_range *r;

	switch (sel % 6) {
	case 0:
		return fuzz_u8(in);
	case 1:
		return fuzz_u16(in);
	case 2:
		return UINT64_MAX - fuzz_u16(in);
	case 3:
		return fuzz_u64(in);
	default:
		if (!nr_model)
			return fuzz_u16(in);
		r = &model[fuzz_u8(in) % nr_model];
		switch (fuzz_u8(in) % 5) {
		case 0: return r->base - 1;
		case 1: return r->base;
		case 2: return r->base + r->size - 1;
		case 3: return r->base + r->size;
		default: return r->base + fuzz_u16(in) % r->size;
		}
	}
}

static uint64_t pick_size(struct fuzz_in *in)
{
	switch (fuzz_u8(in) % 4) {
	case 0: return fuzz_u8(in);
	case 1: return fuzz_u16(in);
	case 2: return fuzz_u64(in);
	default: return 1;
	}
}

static void check_access(uint64_t addr, uint32_t len, bool write, bool ret,
			 const struct model_range *r, const uint8_t *data)
{
	bool has_cb = r && (write ? r->kind != READ_ONLY : r->kind != WRITE_ONLY);

	FUZZ_CHECK(ret == (write ? r != NULL : has_cb), "%s %#llx/%u returned %d",
		   write ? "write" : "read", (unsigned long long)addr, len, ret);
	if (!has_cb) {
		FUZZ_CHECK(seen.calls == 0, "%s %#llx/%u reached a device it should not",
			   write ? "write" : "read", (unsigned long long)addr, len);
		for (uint32_t i = 0; !write && i < len; i++)
			FUZZ_CHECK(data[i] == 0xff, "unowned read %#llx byte %u is %#x",
				   (unsigned long long)addr, i, data[i]);
		return;
	}
	FUZZ_CHECK(seen.calls == 1 && seen.dev == &devs[r->dev] && seen.write == write,
		   "%s %#llx/%u: %u calls, to dev %d, want dev %u", write ? "write" : "read",
		   (unsigned long long)addr, len, seen.calls, seen.dev ? (int)seen.dev->id : -1,
		   r->dev);
	FUZZ_CHECK(seen.off == addr - r->base && seen.len == len,
		   "%#llx/%u reached range %#llx+%#llx at offset %#llx/%u",
		   (unsigned long long)addr, len, (unsigned long long)r->base,
		   (unsigned long long)r->size, (unsigned long long)seen.off, seen.len);
	for (uint32_t i = 0; !write && i < len; i++)
		FUZZ_CHECK(data[i] == dev_byte(&devs[r->dev], seen.off, i),
			   "read %#llx byte %u not the device's", (unsigned long long)addr, i);
}

static void do_access(uint64_t addr, uint32_t len, bool write)
{
	uint8_t data[8];
	int i = model_find(addr);
	struct model_range want;	/* a copy: a move changes the model */
	bool ret;

	memset(data, 0x5a, sizeof(data));
	memset(&seen, 0, sizeof(seen));
	cur_addr = addr;
	if (i >= 0) {
		want = model[i];
		model[i].accesses++;
	}
	ret = write ? bus_write(&bus, addr, data, len) : bus_read(&bus, addr, data, len);
	move_pending = false;	/* a range without a write callback does not move */
	check_access(addr, len, write, ret, i >= 0 ? &want : NULL, data);
}

struct walk {
	uint64_t last_end;
	unsigned int n;
	bool first;
};

static void walk_one(const struct bus_range *r, void *arg)
{
	struct walk *w = arg;
	int i = model_find(r->base);

	FUZZ_CHECK(w->first || r->base > w->last_end, "ranges out of order or overlapping at %#llx",
		   (unsigned long long)r->base);
	FUZZ_CHECK(i >= 0 && model[i].base == r->base && model[i].size == r->size &&
			   r->opaque == &devs[model[i].dev],
		   "bus has a range %#llx+%#llx the model does not", (unsigned long long)r->base,
		   (unsigned long long)r->size);
	FUZZ_CHECK(r->accesses == model[i].accesses, "range %#llx counted %llu accesses, want %llu",
		   (unsigned long long)r->base, (unsigned long long)r->accesses,
		   (unsigned long long)model[i].accesses);
	w->first = false;
	w->last_end = r->base + r->size - 1;
	w->n++;
}

static void do_walk(void)
{
	struct walk w = { .first = true };

	bus_for_each(&bus, walk_one, &w);
	FUZZ_CHECK(w.n == nr_model, "bus lists %u ranges, model has %u", w.n, nr_model);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	for (unsigned int i = 0; i < NR_DEVS; i++)
		devs[i].id = i;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int dev;
	uint64_t base, sz, addr;
	uint8_t op;

	bus_init(&bus, "fuzz");
	nr_model = 0;
	move_pending = false;
	while (fuzz_more(&in)) {
		op = fuzz_u8(&in);
		switch (op % 6) {
		case 0:
			dev = fuzz_u8(&in);
			base = pick_addr(&in);
			sz = pick_size(&in);
			do_register(base, sz, dev % NR_DEVS, (enum kind)((dev >> 4) % 3));
			break;
		case 1:
			dev = fuzz_u8(&in) % NR_DEVS;
			do_unregister(pick_addr(&in), dev);
			break;
		case 2:
			addr = pick_addr(&in);
			do_access(addr, 1 + fuzz_u8(&in) % 8, false);
			break;
		case 3:
			addr = pick_addr(&in);
			do_access(addr, 1 + fuzz_u8(&in) % 8, true);
			break;
		case 4:
			addr = pick_addr(&in);
			move_to = pick_addr(&in);
			move_pending = true;
			do_access(addr, 4, true);
			break;
		default:
			do_walk();
			break;
		}
	}
	do_walk();
	bus_destroy(&bus);
	return 0;
}
