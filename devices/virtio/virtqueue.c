// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side. Layout (virtio 1.x, "Split Virtqueues"):
 *
 *   descriptor table  16 * size           16-byte aligned
 *   avail ring        flags, idx, ring[size], used_event     2-byte aligned
 *   used ring         flags, idx, {id, len}[size], avail_event  4-byte aligned
 *
 * The ring pointers are checked against guest RAM once, in virtq_setup(),
 * and afterwards only ever indexed modulo size, so ring accesses cannot leave
 * the checked ranges. Descriptor buffers and indirect tables are checked one
 * by one with guest_mem_ptr() as they are met.
 *
 * Ordering, against a driver on another CPU:
 *  - pop: load avail->idx with acquire, then the ring slots and descriptors
 *    it covers (pairs with the driver's write barrier before it bumps idx);
 *  - push: store the used element, then used->idx with release (pairs with
 *    the driver's read barrier after it reads used->idx);
 *  - the two event-index handshakes are store-then-load on both sides, which
 *    only a full fence orders: see virtq_needs_notify() and avail_empty().
 */
#define VIRTIO_RING_NO_LEGACY	/* 1.x only: keep the legacy layout helpers out */
#include "devices/virtio/virtqueue.h"

#include <endian.h>
#include <linux/virtio_ring.h>
#include <string.h>

#define DESC_SIZE	16
#define AVAIL_RING	4	/* offset of avail->ring[] and of used->ring[] */
#define USED_ELEM_SIZE	8

/* Guest fields are little endian (1.x); every access goes through these. */
static uint16_t load16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static void store16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static void store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_setup(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		uint64_t features)
{
	uint8_t *desc, *avail, *used;

	virtq_reset(q);
	if (!is_pow2(size) || size > VIRTQ_MAX_SIZE)
		return -VIRTQ_E_SIZE;
	if ((desc_gpa & (DESC_SIZE - 1)) || (avail_gpa & 1) || (used_gpa & 3))
		return -VIRTQ_E_ALIGN;
	/*
	 * The event fields count even when EVENT_IDX is not negotiated: the
	 * spec sizes the rings with them, and then no later access depends on
	 * the features for its bounds. Rings that overlap each other are the
	 * guest's problem, not ours: they are all in its RAM.
	 */
	desc = guest_mem_ptr(mem, desc_gpa, (uint64_t)DESC_SIZE * size);
	avail = guest_mem_ptr(mem, avail_gpa, AVAIL_RING + 2ULL * size + 2);
	used = guest_mem_ptr(mem, used_gpa, AVAIL_RING + (uint64_t)USED_ELEM_SIZE * size + 2);
	if (!desc || !avail || !used)
		return -VIRTQ_E_RING_NOT_RAM;

	q->mem = mem;
	q->size = size;
	q->desc_gpa = desc_gpa;
	q->avail_gpa = avail_gpa;
	q->used_gpa = used_gpa;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	q->indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	/* The driver zeroed the rings; both indices start at 0. */
	q->ready = true;
	return 0;
}

/* A private copy of one descriptor, in host byte order. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/*
 * Snapshot a descriptor. The guest may rewrite it while we look, so it is
 * read exactly once (volatile: the compiler may not fetch it again later)
 * and only the copy is checked and used: no check-then-use window. Bytes,
 * not atomics, because an indirect table carries no alignment promise.
 */
static void desc_load(const uint8_t *p, struct desc *d)
{
	const volatile uint8_t *v = p;
	uint8_t b[DESC_SIZE];
	unsigned int i;

	for (i = 0; i < DESC_SIZE; i++)
		b[i] = v[i];
	d->addr = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
		  (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
		  (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
	d->len = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
		 (uint32_t)b[11] << 24;
	d->flags = (uint16_t)(b[12] | b[13] << 8);
	d->next = (uint16_t)(b[14] | b[15] << 8);
}

/* Where the walk of one chain stands. */
struct walk {
	const uint8_t *table;	/* descriptor table being walked */
	uint32_t entries;	/* its length: size, or the indirect table's */
	bool in_indirect;
	bool seen_writable;
	uint64_t total;		/* bytes in all buffers so far */
};

/*
 * Switch the walk into the indirect table d points to. The spec's rules
 * for tables (Indirect Descriptors) are driver MUSTs, so each violation
 * breaks the queue.
 */
static int enter_indirect(struct virtq *q, struct walk *w, const struct desc *d)
{
	uint8_t *table;

	if (w->in_indirect)
		return -VIRTQ_E_INDIRECT_NESTED;
	if (!q->indirect)
		return -VIRTQ_E_INDIRECT_FEATURE;
	/* A table ends the chain; what would NEXT even point into? */
	if (d->flags & VRING_DESC_F_NEXT)
		return -VIRTQ_E_INDIRECT_NEXT;
	if (!d->len || d->len % DESC_SIZE)
		return -VIRTQ_E_INDIRECT_LEN;
	/*
	 * A chain is at most size long, so entries past size could never be
	 * reached by a legal chain; refusing such a table also bounds what we
	 * map. (A driver could leave the excess unused; none does.)
	 */
	if (d->len / DESC_SIZE > q->size)
		return -VIRTQ_E_INDIRECT_SIZE;
	table = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!table)
		return -VIRTQ_E_INDIRECT_NOT_RAM;
	w->table = table;
	w->entries = d->len / DESC_SIZE;
	w->in_indirect = true;
	return 0;
}

/*
 * Record one buffer. A buffer this device cannot serve only rejects the
 * request (the first reason found is kept); the walk goes on regardless so
 * that the chain's structure is checked to its end.
 */
static void add_buffer(struct virtq *q, struct virtq_req *r, const struct desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	struct virtq_seg *s;
	void *hva;

	if (r->reject)
		return;
	hva = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!hva) {
		r->reject = VIRTQ_E_BUF_NOT_RAM;
		return;
	}
	if (r->nr_readable + r->nr_writable >= r->max_segs) {
		r->reject = VIRTQ_E_TOO_MANY_SEGS;
		return;
	}
	s = &r->segs[r->nr_readable + r->nr_writable];
	s->hva = hva;
	s->len = d->len;
	s->device_writable = writable;
	/* Cannot overflow: the whole chain was checked to stay below 4 GiB. */
	if (writable) {
		r->nr_writable++;
		r->writable_len += d->len;
	} else {
		r->nr_readable++;
		r->readable_len += d->len;
	}
}

/*
 * Walk the chain at head into r. Returns 0 (r->reject may be set) or a
 * negative structural fault.
 *
 * Every descriptor that carries a buffer counts towards the chain length,
 * in the main table and in an indirect one alike. No chain may be longer
 * than the queue (spec: Indirect Descriptors), so the count passing size is
 * how a loop is caught, in either table, within size + 1 steps. The
 * descriptor that points to an indirect table is not counted (a driver may
 * put size entries in a table), and a chain has at most one (a second is
 * "nested"), so the walk stays bounded.
 */
static int walk_chain(struct virtq *q, uint16_t head, struct virtq_req *r)
{
	struct walk w = { .table = q->desc, .entries = q->size };
	uint32_t idx = head, count = 0;
	struct desc d;
	int ret;

	for (;;) {
		desc_load(w.table + (size_t)idx * DESC_SIZE, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* WRITE on the table's own descriptor means nothing: ignored. */
			ret = enter_indirect(q, &w, &d);
			if (ret)
				return ret;
			idx = 0;
			continue;
		}
		if (++count > q->size)
			return -VIRTQ_E_CHAIN_LEN;
		/* spec: Message Framing, readable before writable. */
		if (d.flags & VRING_DESC_F_WRITE)
			w.seen_writable = true;
		else if (w.seen_writable)
			return -VIRTQ_E_ORDER;
		/*
		 * The spec forbids chains over 2^32 bytes. Exactly 2^32 is
		 * refused too, since lengths here are 32-bit; no real driver
		 * comes near either. Counted whether or not the buffer is
		 * RAM, so the verdict does not depend on where it points.
		 */
		w.total += d.len;
		if (w.total > UINT32_MAX)
			return -VIRTQ_E_TOTAL_LEN;
		/* No bytes move through an empty buffer: its address is never used. */
		if (d.len)
			add_buffer(q, r, &d);
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= w.entries)
			return -VIRTQ_E_NEXT;
		idx = d.next;
	}
}

static int queue_break(struct virtq *q, int err)
{
	q->broken = -err;
	return err;
}

/*
 * Nothing to pop. With EVENT_IDX, ask for a kick at the next buffer
 * (avail_event = last_avail), then look again: the driver may have added
 * one after our idx load and read the old avail_event before our store,
 * deciding not to kick. Store, full fence, load; the driver does the mirror
 * image (idx store, fence, avail_event load), so one of us sees the other.
 */
static uint16_t avail_empty(struct virtq *q)
{
	if (!q->event_idx)
		return q->last_avail;
	store16(q->used + AVAIL_RING + (size_t)USED_ELEM_SIZE * q->size, q->last_avail,
		__ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(q->avail + 2, __ATOMIC_ACQUIRE);
}

int virtq_pop(struct virtq *q, struct virtq_req *r)
{
	uint16_t avail_idx, head;
	int ret;

	if (!q->ready)
		return VIRTQ_POP_EMPTY;
	if (q->broken)
		return -(int)q->broken;

	r->nr_readable = r->nr_writable = 0;
	r->readable_len = r->writable_len = 0;
	r->reject = VIRTQ_E_NONE;

	avail_idx = load16(q->avail + 2, __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail)
		avail_idx = avail_empty(q);
	/*
	 * More than size outstanding cannot be: the ring has size slots. The
	 * driver has lost track, and we cannot tell which slots are real.
	 */
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return queue_break(q, -VIRTQ_E_AVAIL_IDX);
	if (avail_idx == q->last_avail)
		return VIRTQ_POP_EMPTY;

	head = load16(q->avail + AVAIL_RING + 2 * (size_t)(q->last_avail & (q->size - 1)),
		      __ATOMIC_RELAXED);
	/* No used element could name such a head: the ring itself is corrupt. */
	if (head >= q->size)
		return queue_break(q, -VIRTQ_E_HEAD);
	ret = walk_chain(q, head, r);
	if (ret)
		return queue_break(q, ret);

	q->last_avail++;
	r->head = head;
	if (r->reject) {
		r->nr_readable = r->nr_writable = 0;
		r->readable_len = r->writable_len = 0;
		return VIRTQ_POP_REJECTED;
	}
	return VIRTQ_POP_REQ;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint8_t *elem;

	if (!q->ready)
		return -VIRTQ_E_NOT_READY;
	if (head >= q->size)
		return -VIRTQ_E_PUSH_HEAD;
	elem = q->used + AVAIL_RING +
	       (size_t)USED_ELEM_SIZE * (q->used_idx & (q->size - 1));
	store32(elem, head);
	store32(elem + 4, written);
	q->used_idx++;
	/* The element must be visible before the index that publishes it. */
	store16(q->used + 2, q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_needs_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, new = q->used_idx;

	if (!q->ready || old == new)
		return false;
	q->signalled_used = new;
	/*
	 * We stored used->idx and now read what the driver wants; the driver
	 * stores used_event (or flags) and then reads used->idx to decide
	 * whether to wait. Store-load on both sides needs a full fence, or
	 * each could miss the other's update and the guest sleeps forever.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t used_event = load16(q->avail + AVAIL_RING + 2 * (size_t)q->size,
					     __ATOMIC_RELAXED);

		/* Interrupt only if this batch moved used->idx past used_event. */
		return vring_need_event(used_event, new, old);
	}
	return !(load16(q->avail, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

static const char *const err_str[VIRTQ_E_COUNT] = {
	[VIRTQ_E_NONE] = "no error",
	[VIRTQ_E_SIZE] = "queue size not a power of 2 up to 32768",
	[VIRTQ_E_ALIGN] = "ring misaligned",
	[VIRTQ_E_RING_NOT_RAM] = "ring not in guest RAM",
	[VIRTQ_E_AVAIL_IDX] = "avail idx more than queue size ahead",
	[VIRTQ_E_HEAD] = "head index out of range",
	[VIRTQ_E_NEXT] = "next index out of range",
	[VIRTQ_E_CHAIN_LEN] = "descriptor chain loops or exceeds queue size",
	[VIRTQ_E_ORDER] = "readable descriptor after a writable one",
	[VIRTQ_E_INDIRECT_FEATURE] = "indirect descriptor not negotiated",
	[VIRTQ_E_INDIRECT_NEXT] = "indirect descriptor with NEXT",
	[VIRTQ_E_INDIRECT_NESTED] = "nested indirect descriptor",
	[VIRTQ_E_INDIRECT_LEN] = "indirect table length not a non-zero multiple of 16",
	[VIRTQ_E_INDIRECT_SIZE] = "indirect table larger than the queue",
	[VIRTQ_E_INDIRECT_NOT_RAM] = "indirect table not in guest RAM",
	[VIRTQ_E_BUF_NOT_RAM] = "buffer not in guest RAM",
	[VIRTQ_E_TOO_MANY_SEGS] = "more buffers than the device takes",
	[VIRTQ_E_TOTAL_LEN] = "buffers total 4 GiB or more",
	[VIRTQ_E_NOT_READY] = "queue not ready",
	[VIRTQ_E_PUSH_HEAD] = "pushed head index out of range",
};

const char *virtq_err_str(int err)
{
	if (err < 0)
		err = -err;
	if (err >= VIRTQ_E_COUNT)
		return "unknown virtqueue error";
	return err_str[err];
}
