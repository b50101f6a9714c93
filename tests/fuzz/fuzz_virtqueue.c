// SPDX-License-Identifier: MIT
/*
 * devices/virtio/virtqueue.c: the device side of a split virtqueue, driven by
 * a hostile driver played by the fuzz input. Guest RAM is two regions, 64 KiB
 * at 0 and 16 KiB at 4 GiB; everything between (the "MMIO hole") and above
 * is not RAM, and guest_mem refuses it.
 *
 * Input: a queue configuration (size, features, the three ring addresses),
 * then operations, each an operation byte and its operands:
 *   0 write a descriptor into the descriptor table (index, addr, len, flags, next)
 *   1 write an avail ring slot          2 move avail->idx
 *   3 pop (max_segs from the input)     4 push a popped head (or a bogus one)
 *   5 virtq_needs_notify                6 write a descriptor anywhere (indirect tables)
 *   7 write avail->flags / used_event   8 set the queue up again (new configuration)
 *   9 virtq_reset
 * Addresses come from fuzz_gpa(): low RAM, high RAM, the edges of both, or
 * any 64-bit value.
 *
 * A reference walker written here from the spec (a visited set per table
 * finds loops, where the code under test counts) predicts each pop; the
 * target aborts when
 *  - virtq_setup accepts a size, alignment or ring placement the model
 *    refuses, or the reverse;
 *  - pop's verdict differs from the model's: a request where the model sees
 *    a broken chain or a buffer it cannot serve, a broken queue for a legal
 *    chain, another head, other buffers (each segment's host pointer must be
 *    the model's translation of the descriptor's address, hence wholly inside
 *    one RAM region), more segments than max_segs or the queue size,
 *    readable segments after writable ones, wrong lengths;
 *  - a broken queue does not stay broken with the same reason until setup;
 *  - used->idx moves on anything but a push, or a push does not write the
 *    element and used->idx the model expects;
 *  - with EVENT_IDX, an empty pop leaves avail_event anywhere but at the
 *    model's next slot; virtq_needs_notify disagrees with the spec's rule.
 */
#include <endian.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "devices/guest_mem.h"
#include "devices/virtio/virtqueue.h"
#include "tests/fuzz/fuzz_input.h"

#define LOW_SIZE	0x10000ULL
#define HIGH_GPA	0x100000000ULL
#define HIGH_SIZE	0x4000ULL
#define MAX_SEGS	64
#define MAX_OUT		512

static uint8_t *low, *high;
static struct guest_mem mem;
static struct virtq q;
static bool verbose;	/* FUZZ_VERBOSE: each pop and push on stderr */

/* The model's view. */
static struct {
	bool ready;
	uint32_t size;
	bool indirect, event_idx;
	uint64_t desc, avail, used;
	uint16_t last_avail, used_idx, signalled;
	int broken;		/* negative reason, sticky */
	uint16_t drv_avail;	/* what the driver last wrote to avail->idx */
} m;

/* Heads popped and not yet pushed, with how much may be written. */
static struct {
	uint16_t head;
	uint32_t writable;
} out[MAX_OUT];
static unsigned int nr_out;

/* The model's translation: a host pointer when [gpa, gpa + len) is in one region. */
static uint8_t *host(uint64_t gpa, uint64_t len)
{
	if (gpa < LOW_SIZE && len <= LOW_SIZE - gpa)
		return low + gpa;
	if (gpa >= HIGH_GPA && gpa - HIGH_GPA < HIGH_SIZE && len <= HIGH_SIZE - (gpa - HIGH_GPA))
		return high + (gpa - HIGH_GPA);
	return NULL;
}

static uint64_t fuzz_gpa(struct fuzz_in *in)
{
	switch (fuzz_u8(in) % 6) {
	case 0: return fuzz_u16(in);				/* low RAM */
	case 1: return HIGH_GPA + fuzz_u16(in) % (HIGH_SIZE + 0x100);	/* high, past its end */
	case 2: return LOW_SIZE - 1 - fuzz_u8(in);		/* the end of low RAM */
	case 3: return HIGH_GPA - 1 - fuzz_u8(in);		/* the hole below high RAM */
	case 4: return (uint64_t)fuzz_u16(in) << 4;		/* aligned, maybe in the hole */
	default: return fuzz_u64(in);
	}
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);

	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	wr16(p + 12, flags);
	wr16(p + 14, next);
}

/* A descriptor from the input: mostly small lengths and the real flags. */
static void fuzz_desc(struct fuzz_in *in, uint8_t *p)
{
	uint64_t addr = fuzz_gpa(in);
	uint8_t lsel = fuzz_u8(in), f;
	uint32_t len;
	uint16_t flags, next;

	if (lsel < 0xc0)
		len = lsel;
	else if (lsel < 0xf0)
		len = fuzz_u16(in);
	else
		len = fuzz_u32(in);
	f = fuzz_u8(in);
	flags = f & 7;
	if (f & 0x80)
		flags |= fuzz_u16(in);
	next = (f & 0x40) ? fuzz_u16(in) : fuzz_u8(in);
	put_desc(p, addr, len, flags, next);
}

/* ---- setup ---- */

static void do_setup(struct fuzz_in *in)
{
	uint8_t ssel = fuzz_u8(in), fsel = fuzz_u8(in);
	uint32_t size = ssel < 0xf0 ? 1u << (ssel % 11) : fuzz_u32(in);
	uint64_t features = 0, desc, avail, used;
	bool ok;
	int ret;

	if (fsel & 1)
		features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (fsel & 2)
		features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (fsel & 4)
		features |= fuzz_u64(in);
	desc = fuzz_gpa(in);
	avail = fuzz_gpa(in);
	used = fuzz_gpa(in);

	ret = virtq_setup(&q, &mem, size, desc, avail, used, features);
	memset(&m, 0, sizeof(m));
	nr_out = 0;
	if (!size || (size & (size - 1)) || size > 32768)
		ok = ret == -VIRTQ_E_SIZE;
	else if (desc % 16 || avail % 2 || used % 4)
		ok = ret == -VIRTQ_E_ALIGN;
	else if (!host(desc, 16ULL * size) || !host(avail, 6 + 2ULL * size) ||
		 !host(used, 6 + 8ULL * size))
		ok = ret == -VIRTQ_E_RING_NOT_RAM;
	else
		ok = ret == 0;
	FUZZ_CHECK(ok, "setup size %u desc %#llx avail %#llx used %#llx: %d (%s)", size,
		   (unsigned long long)desc, (unsigned long long)avail,
		   (unsigned long long)used, ret, virtq_err_str(ret));
	FUZZ_CHECK(q.ready == (ret == 0), "setup returned %d, ready %d", ret, q.ready);
	if (ret)
		return;
	m.ready = true;
	m.size = size;
	m.indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	m.event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	m.desc = desc;
	m.avail = avail;
	m.used = used;
	/* The driver zeroes its rings before it enables the queue. */
	memset(host(avail, 6 + 2ULL * size), 0, 6 + 2ULL * size);
	memset(host(used, 6 + 8ULL * size), 0, 6 + 8ULL * size);
}

/* ---- the reference walker ---- */

struct mseg {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

struct mres {
	int rc;			/* VIRTQ_POP_* or negative reason */
	unsigned int alt;	/* other acceptable reasons (a loop), 1 << reason each */
	uint16_t head;
	enum virtq_err reject;
	unsigned int nr;
	struct mseg seg[MAX_SEGS];
};

static int model_walk(uint16_t head, unsigned int max_segs, struct mres *r)
{
	static uint8_t seen_main[32768], seen_ind[32768];
	const uint8_t *table = host(m.desc, 16ULL * m.size);
	uint32_t entries = m.size, idx = head, count = 0;
	uint64_t total = 0;
	bool in_ind = false, seen_w = false;
	uint8_t *seen = seen_main;

	memset(seen_main, 0, m.size);
	for (;;) {
		const uint8_t *p = table + 16 * (size_t)idx;
		uint64_t addr;
		uint32_t len = rd32(p + 8);
		uint16_t flags = rd16(p + 12), next = rd16(p + 14);

		memcpy(&addr, p, 8);
		addr = le64toh(addr);
		if (seen[idx]) {
			/*
			 * A loop. The code counts descriptors instead, so on its
			 * way round again it may first see the total pass 4 GiB,
			 * or a readable buffer come after a writable one.
			 */
			r->alt = 1u << VIRTQ_E_TOTAL_LEN | 1u << VIRTQ_E_ORDER;
			return -VIRTQ_E_CHAIN_LEN;
		}
		seen[idx] = 1;
		if (flags & VRING_DESC_F_INDIRECT) {
			if (in_ind)
				return -VIRTQ_E_INDIRECT_NESTED;
			if (!m.indirect)
				return -VIRTQ_E_INDIRECT_FEATURE;
			if (flags & VRING_DESC_F_NEXT)
				return -VIRTQ_E_INDIRECT_NEXT;
			if (len == 0 || len % 16)
				return -VIRTQ_E_INDIRECT_LEN;
			if (len / 16 > m.size)
				return -VIRTQ_E_INDIRECT_SIZE;
			table = host(addr, len);
			if (!table)
				return -VIRTQ_E_INDIRECT_NOT_RAM;
			entries = len / 16;
			in_ind = true;
			seen = seen_ind;
			memset(seen_ind, 0, entries);
			idx = 0;
			continue;
		}
		if (++count > m.size)
			return -VIRTQ_E_CHAIN_LEN;
		if (flags & VRING_DESC_F_WRITE)
			seen_w = true;
		else if (seen_w)
			return -VIRTQ_E_ORDER;
		total += len;
		if (total > UINT32_MAX)
			return -VIRTQ_E_TOTAL_LEN;
		if (len && !r->reject) {
			if (!host(addr, len))
				r->reject = VIRTQ_E_BUF_NOT_RAM;
			else if (r->nr >= max_segs)
				r->reject = VIRTQ_E_TOO_MANY_SEGS;
			else
				r->seg[r->nr++] = (struct mseg){ addr, len, flags & VRING_DESC_F_WRITE };
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		if (next >= entries)
			return -VIRTQ_E_NEXT;
		idx = next;
	}
}

static void model_pop(unsigned int max_segs, struct mres *r)
{
	const uint8_t *avail = host(m.avail, 6 + 2ULL * m.size);
	uint16_t aidx, head;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!m.ready) {
		r->rc = VIRTQ_POP_EMPTY;
		return;
	}
	if (m.broken) {
		r->rc = m.broken;
		return;
	}
	aidx = rd16(avail + 2);
	if (aidx == m.last_avail && m.event_idx) {
		/*
		 * The device publishes avail_event and looks again. The store
		 * is the one the code under test makes (so making it here
		 * changes nothing), and the rings may overlap: it can be what
		 * changes avail->idx.
		 */
		wr16(host(m.used, 6 + 8ULL * m.size) + 4 + 8 * m.size, m.last_avail);
		aidx = rd16(avail + 2);
	}
	if (aidx == m.last_avail) {
		r->rc = VIRTQ_POP_EMPTY;
		return;
	}
	if ((uint16_t)(aidx - m.last_avail) > m.size) {
		r->rc = -VIRTQ_E_AVAIL_IDX;
		return;
	}
	head = rd16(avail + 4 + 2 * (m.last_avail % m.size));
	if (head >= m.size) {
		r->rc = -VIRTQ_E_HEAD;
		return;
	}
	ret = model_walk(head, max_segs, r);
	if (ret) {
		r->rc = ret;
		return;
	}
	r->head = head;
	r->rc = r->reject ? VIRTQ_POP_REJECTED : VIRTQ_POP_REQ;
}

static uint16_t used_idx_in_ram(void)
{
	return rd16(host(m.used, 4) + 2);
}

static void do_pop(struct fuzz_in *in)
{
	static struct mres want;
	struct virtq_seg segs[MAX_SEGS];
	struct virtq_req req = { .segs = segs, .max_segs = 1 + fuzz_u8(in) % MAX_SEGS };
	uint16_t used_before = m.ready ? used_idx_in_ram() : 0;
	uint32_t rlen = 0, wlen = 0;
	int rc;

	model_pop(req.max_segs, &want);
	rc = virtq_pop(&q, &req);
	FUZZ_CHECK(rc == want.rc || (rc < 0 && -rc < 32 && (want.alt & 1u << -rc)),
		   "pop returned %d (%s), the model %d (%s)", rc, virtq_err_str(rc), want.rc,
		   virtq_err_str(want.rc));
	if (verbose)
		fprintf(fuzz_stderr, "pop: %d (%s) head %u, %u+%u segments\n", rc,
			rc < 0 ? virtq_err_str(rc) : rc == VIRTQ_POP_REJECTED ?
			virtq_err_str(req.reject) : "", req.head, req.nr_readable, req.nr_writable);
	if (m.ready) {
		FUZZ_CHECK(used_idx_in_ram() == used_before, "pop moved used->idx");
		if (m.event_idx && rc == VIRTQ_POP_EMPTY)
			FUZZ_CHECK(rd16(host(m.used, 6 + 8ULL * m.size) + 4 + 8 * m.size) ==
				   m.last_avail, "avail_event not at the next slot %u", m.last_avail);
	}
	if (rc < 0) {
		m.broken = rc;
		FUZZ_CHECK(q.broken == (enum virtq_err)-rc, "broken %d, pop said %d", q.broken, rc);
		return;
	}
	if (rc == VIRTQ_POP_EMPTY)
		return;
	m.last_avail++;
	FUZZ_CHECK(req.head == want.head, "head %u, the model %u", req.head, want.head);
	if (rc == VIRTQ_POP_REJECTED) {
		FUZZ_CHECK(req.reject == want.reject, "rejected for %d, the model %d", req.reject,
			   want.reject);
		FUZZ_CHECK(!req.nr_readable && !req.nr_writable && !req.readable_len &&
			   !req.writable_len, "a rejected request has segments");
	} else {
		unsigned int n = req.nr_readable + req.nr_writable;

		FUZZ_CHECK(n == want.nr && n <= req.max_segs && n <= m.size,
			   "%u segments, the model %u, max %u, size %u", n, want.nr,
			   req.max_segs, m.size);
		for (unsigned int i = 0; i < n; i++) {
			const struct mseg *s = &want.seg[i];

			FUZZ_CHECK(segs[i].hva == host(s->gpa, s->len) && segs[i].len == s->len &&
				   segs[i].device_writable == s->w,
				   "segment %u: %p+%u w%d, the model gpa %#llx+%u w%d", i,
				   segs[i].hva, segs[i].len, segs[i].device_writable,
				   (unsigned long long)s->gpa, s->len, s->w);
			FUZZ_CHECK(segs[i].device_writable == (i >= req.nr_readable),
				   "segment %u out of order", i);
			if (s->w)
				wlen += s->len;
			else
				rlen += s->len;
		}
		FUZZ_CHECK(rlen == req.readable_len && wlen == req.writable_len,
			   "lengths %u/%u, segments add up to %u/%u", req.readable_len,
			   req.writable_len, rlen, wlen);
	}
	if (nr_out == MAX_OUT)
		return;		/* the driver never sees this one back: allowed */
	out[nr_out].head = req.head;
	out[nr_out].writable = req.writable_len;
	nr_out++;
}

static void do_push(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	uint32_t written = fuzz_u32(in);
	uint16_t head;
	uint8_t *used;
	int ret;

	if (!m.ready) {
		ret = virtq_push(&q, 0, 0);
		FUZZ_CHECK(ret == -VIRTQ_E_NOT_READY, "push on a queue not ready: %d", ret);
		return;
	}
	if (sel == 0xff || !nr_out) {
		uint16_t before = used_idx_in_ram();

		head = (uint16_t)(m.size + fuzz_u16(in) % (65536 - m.size));
		ret = virtq_push(&q, head, 0);
		FUZZ_CHECK(ret == -VIRTQ_E_PUSH_HEAD, "push of head %u: %d", head, ret);
		FUZZ_CHECK(used_idx_in_ram() == before, "a refused push moved used->idx");
		return;
	}
	sel %= nr_out;
	head = out[sel].head;
	if (out[sel].writable)
		written %= out[sel].writable + 1;
	else
		written = 0;
	out[sel] = out[--nr_out];
	ret = virtq_push(&q, head, written);
	FUZZ_CHECK(ret == 0, "push of popped head %u: %d", head, ret);
	if (verbose)
		fprintf(fuzz_stderr, "push: head %u, %u bytes\n", head, written);
	used = host(m.used, 6 + 8ULL * m.size);
	FUZZ_CHECK(rd32(used + 4 + 8 * (m.used_idx % m.size)) == head &&
		   rd32(used + 8 + 8 * (m.used_idx % m.size)) == written,
		   "used element %u is not {%u, %u}", m.used_idx, head, written);
	m.used_idx++;
	FUZZ_CHECK(used_idx_in_ram() == m.used_idx, "used->idx %u after push, want %u",
		   used_idx_in_ram(), m.used_idx);
}

static void do_notify(void)
{
	bool got = virtq_needs_notify(&q), want;
	uint16_t old = m.signalled, new = m.used_idx;

	if (!m.ready || old == new) {
		want = false;
	} else if (m.event_idx) {
		uint16_t ev = rd16(host(m.avail, 6 + 2ULL * m.size) + 4 + 2 * m.size);

		/* spec: notify when used_event lies in [old, new) */
		want = (uint16_t)(ev - old) < (uint16_t)(new - old);
	} else {
		want = !(rd16(host(m.avail, 2)) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (m.ready)
		m.signalled = new;
	if (verbose)
		fprintf(fuzz_stderr, "needs_notify: %d\n", got);
	FUZZ_CHECK(got == want, "needs_notify %d, want %d (old %u new %u)", got, want, old, new);
}

static void run_op(struct fuzz_in *in)
{
	uint8_t op = fuzz_u8(in);
	uint8_t *p;

	switch (op % 10) {
	case 0:		/* a descriptor in the table */
		if (!m.ready)
			return;
		p = host(m.desc, 16ULL * m.size) + 16 * (fuzz_u16(in) % m.size);
		fuzz_desc(in, p);
		return;
	case 1:		/* an avail slot: mostly a head in range */
		if (!m.ready)
			return;
		p = host(m.avail, 6 + 2ULL * m.size) + 4 + 2 * (fuzz_u16(in) % m.size);
		wr16(p, (op & 0x80) ? fuzz_u16(in) : fuzz_u16(in) % m.size);
		return;
	case 2:		/* avail->idx: a few more, or anything */
		if (!m.ready)
			return;
		m.drv_avail = (op & 0x80) ? fuzz_u16(in) : (uint16_t)(m.drv_avail + 1 + fuzz_u8(in) % 4);
		wr16(host(m.avail, 4) + 2, m.drv_avail);
		return;
	case 3:
		do_pop(in);
		return;
	case 4:
		do_push(in);
		return;
	case 5:
		do_notify();
		return;
	case 6:		/* 16 bytes anywhere in RAM: indirect tables, or over the rings */
		p = host(fuzz_gpa(in), 16);
		if (p)
			fuzz_desc(in, p);
		return;
	case 7:		/* avail->flags or used_event */
		if (!m.ready)
			return;
		p = host(m.avail, 6 + 2ULL * m.size);
		wr16((op & 0x80) ? p : p + 4 + 2 * m.size, fuzz_u16(in));
		return;
	case 8:
		do_setup(in);
		return;
	default:
		virtq_reset(&q);
		FUZZ_CHECK(!q.ready, "ready after reset");
		memset(&m, 0, sizeof(m));
		nr_out = 0;
		FUZZ_CHECK(virtq_pop(&q, &(struct virtq_req){ 0 }) == VIRTQ_POP_EMPTY,
			   "pop on a reset queue");
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int ops = 0;

	if (!low) {
		fuzz_quiet();
		verbose = getenv("FUZZ_VERBOSE");
		low = aligned_alloc(4096, LOW_SIZE);
		high = aligned_alloc(4096, HIGH_SIZE);
		if (!low || !high || guest_mem_add(&mem, 0, LOW_SIZE, low) ||
		    guest_mem_add(&mem, HIGH_GPA, HIGH_SIZE, high))
			abort();
	}
	memset(low, 0, LOW_SIZE);
	memset(high, 0, HIGH_SIZE);
	do_setup(&in);
	while (fuzz_more(&in) && ops++ < 2000)
		run_op(&in);
	return 0;
}
