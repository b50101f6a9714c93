// SPDX-License-Identifier: MIT
/*
 * The split virtqueue walker against a driver played by this file: it lays
 * out the rings in a fake guest RAM (2 MiB at 0 and 1 MiB above the 32-bit
 * hole at 4 GiB), posts chains, and checks what the device side makes of
 * them. One test per hostile case; each asserts the specific reason, so a
 * test fails when the check it is about is removed.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "devices/guest_mem.h"
#include "devices/virtio/virtqueue.h"

#define MiB		(1ULL << 20)
#define LOW_SIZE	(2 * MiB)
#define HIGH_GPA	(4ULL << 30)
#define HIGH_SIZE	MiB
#define HOLE_GPA	0xc0000000ULL	/* 32-bit MMIO window */
#define ECAM_GPA	0xe0000000ULL

/* Room for the largest queue (32768): 512 KiB of descriptors, then the rings. */
#define DESC_GPA	0x10000ULL
#define AVAIL_GPA	0x90000ULL
#define USED_GPA	0xa1000ULL
#define BUF_GPA		0x100000ULL	/* data buffers and indirect tables */
#define TABLE_GPA	0x180000ULL

#define F_INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)

#define R		0
#define W		VRING_DESC_F_WRITE
#define N		VRING_DESC_F_NEXT
#define I		VRING_DESC_F_INDIRECT

static struct guest_mem mem;
static uint8_t *low, *high;
static struct virtq q;
static uint16_t drv_idx;	/* the driver's avail->idx */
static struct virtq_seg segs[64];
static struct virtq_req req = { .segs = segs, .max_segs = 64 };

static void ram_init(void)
{
	memset(&mem, 0, sizeof(mem));
	low = aligned_alloc(4096, LOW_SIZE);
	high = aligned_alloc(4096, HIGH_SIZE);
	cr_assert(low && high);
	memset(low, 0, LOW_SIZE);
	memset(high, 0, HIGH_SIZE);
	cr_assert_eq(guest_mem_add(&mem, 0, LOW_SIZE, low), 0);
	cr_assert_eq(guest_mem_add(&mem, HIGH_GPA, HIGH_SIZE, high), 0);
}

static void ram_fini(void)
{
	free(low);
	free(high);
}

TestSuite(virtq, .init = ram_init, .fini = ram_fini);

/* ---- the driver side ---- */

/* The test's own view of guest RAM; it only ever asks for valid addresses. */
static uint8_t *host(uint64_t gpa)
{
	if (gpa >= HIGH_GPA)
		return high + (gpa - HIGH_GPA);
	return low + gpa;
}

static void put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(host(gpa), &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, host(gpa), 2);
	return le16toh(v);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, host(gpa), 4);
	return le32toh(v);
}

static void drv_setup(uint32_t size, uint64_t features)
{
	cr_assert_eq(virtq_setup(&q, &mem, size, DESC_GPA, AVAIL_GPA, USED_GPA, features), 0);
	drv_idx = 0;
}

/* Writes entry i of the descriptor table at table_gpa. */
static void desc_at(uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(host(table_gpa + 16ULL * i), &d, sizeof(d));
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(DESC_GPA, i, addr, len, flags, next);
}

/* Publishes idx as a driver does: ring entries first, then idx with release. */
static void set_avail_idx(uint16_t idx)
{
	__atomic_store_n((uint16_t *)host(AVAIL_GPA + 2), htole16(idx), __ATOMIC_RELEASE);
}

static void post(uint16_t head)
{
	put16(AVAIL_GPA + 4 + 2ULL * (drv_idx % q.size), head);
	set_avail_idx(++drv_idx);
}

static void set_used_event(uint16_t v)
{
	put16(AVAIL_GPA + 4 + 2ULL * q.size, v);
}

static uint16_t avail_event(void)
{
	return get16(USED_GPA + 4 + 8ULL * q.size);
}

static uint16_t used_idx(void)
{
	return get16(USED_GPA + 2);
}

static void used_elem(uint16_t slot, uint32_t *id, uint32_t *len)
{
	*id = get32(USED_GPA + 4 + 8ULL * slot);
	*len = get32(USED_GPA + 4 + 8ULL * slot + 4);
}

static int pop(void)
{
	return virtq_pop(&q, &req);
}

/* A fatal fault breaks the queue for good and leaves the slot unconsumed. */
static void assert_broken(int err)
{
	uint16_t last = q.last_avail;
	int ret = pop();

	cr_assert_eq(ret, -err, "got %d (%s), want -%d (%s)", ret, virtq_err_str(ret),
		     err, virtq_err_str(err));
	cr_assert_eq(pop(), -err, "sticky");
	cr_assert_eq(q.last_avail, last);
}

/* A rejected request is consumed, can be pushed back, and the next one works. */
static void assert_rejected(int err)
{
	uint16_t head;

	cr_assert_eq(pop(), VIRTQ_POP_REJECTED);
	cr_assert_eq(req.reject, err, "reject %d (%s), want %d (%s)", req.reject,
		     virtq_err_str(req.reject), err, virtq_err_str(err));
	cr_assert_eq(req.nr_readable + req.nr_writable, 0);
	head = req.head;
	cr_assert_eq(virtq_push(&q, head, 0), 0);

	desc(q.size - 1, BUF_GPA, 8, R, 0);
	post(q.size - 1);
	cr_assert_eq(pop(), VIRTQ_POP_REQ, "the queue still works");
	cr_assert_eq(req.head, q.size - 1);
}

/* ---- setup ---- */

Test(virtq, setup_checks_size)
{
	cr_assert_eq(virtq_setup(&q, &mem, 0, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -VIRTQ_E_SIZE);
	cr_assert_eq(virtq_setup(&q, &mem, 3, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -VIRTQ_E_SIZE);
	cr_assert_eq(virtq_setup(&q, &mem, 65535, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -VIRTQ_E_SIZE);
	cr_assert_eq(virtq_setup(&q, &mem, 65536, DESC_GPA, AVAIL_GPA, USED_GPA, 0), -VIRTQ_E_SIZE);
	cr_assert_not(q.ready);
	cr_assert_eq(virtq_setup(&q, &mem, 32768, DESC_GPA, AVAIL_GPA, USED_GPA, 0), 0);
	cr_assert(q.ready);
	cr_assert_eq(virtq_setup(&q, &mem, 1, DESC_GPA, AVAIL_GPA, USED_GPA, 0), 0);
}

Test(virtq, setup_checks_alignment)
{
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0), -VIRTQ_E_ALIGN);
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0), -VIRTQ_E_ALIGN);
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0), -VIRTQ_E_ALIGN);
	cr_assert_not(q.ready);
	/* The minimum alignments are enough. */
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA + 16, AVAIL_GPA + 2, USED_GPA + 4, 0), 0);
}

Test(virtq, setup_checks_rings_in_ram)
{
	uint64_t end = LOW_SIZE;

	cr_assert_eq(virtq_setup(&q, &mem, 8, HOLE_GPA, AVAIL_GPA, USED_GPA, 0),
		     -VIRTQ_E_RING_NOT_RAM);
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, ECAM_GPA, USED_GPA, 0),
		     -VIRTQ_E_RING_NOT_RAM);
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, AVAIL_GPA, HIGH_GPA + HIGH_SIZE, 0),
		     -VIRTQ_E_RING_NOT_RAM, "above the top of RAM");
	cr_assert_eq(virtq_setup(&q, &mem, 8, end - 64, AVAIL_GPA, USED_GPA, 0),
		     -VIRTQ_E_RING_NOT_RAM, "desc straddles the end of low RAM");
	/* The rings fit but their event fields would not: still refused. */
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, end - 4 - 2 * 8, USED_GPA, 0),
		     -VIRTQ_E_RING_NOT_RAM, "used_event past the end");
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, AVAIL_GPA, end - 4 - 8 * 8, 0),
		     -VIRTQ_E_RING_NOT_RAM, "avail_event past the end");
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3, 0),
		     -VIRTQ_E_RING_NOT_RAM, "wraps past 2^64");
	cr_assert_not(q.ready);
	/* Exactly fitting at the end of RAM, and rings in high RAM, are fine. */
	cr_assert_eq(virtq_setup(&q, &mem, 8, DESC_GPA, end - 6 - 2 * 8, end - 4096, 0), 0);
	cr_assert_eq(virtq_setup(&q, &mem, 8, HIGH_GPA, HIGH_GPA + 0x1000, HIGH_GPA + 0x2000, 0), 0);
}

Test(virtq, not_ready_queue)
{
	virtq_reset(&q);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
	cr_assert_eq(virtq_push(&q, 0, 0), -VIRTQ_E_NOT_READY);
	cr_assert_not(virtq_needs_notify(&q));
}

/* ---- good paths ---- */

Test(virtq, empty)
{
	drv_setup(8, 0);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
}

Test(virtq, single_buffer)
{
	drv_setup(8, 0);
	memcpy(host(BUF_GPA), "hello", 5);
	desc(3, BUF_GPA, 5, R, 0);
	post(3);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.head, 3);
	cr_assert_eq(req.nr_readable, 1);
	cr_assert_eq(req.nr_writable, 0);
	cr_assert_eq(req.readable_len, 5);
	cr_assert_eq(req.writable_len, 0);
	cr_assert_eq(segs[0].hva, host(BUF_GPA));
	cr_assert_eq(segs[0].len, 5);
	cr_assert_not(segs[0].device_writable);
	cr_assert_arr_eq(segs[0].hva, "hello", 5);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
}

Test(virtq, readable_then_writable_chain)
{
	drv_setup(8, 0);
	/* A virtio-blk shaped request: header, data, status byte in high RAM. */
	desc(5, BUF_GPA, 16, R | N, 1);
	desc(1, BUF_GPA + 0x1000, 512, R | N, 6);
	desc(6, HIGH_GPA + 0x40, 1, W, 0);
	post(5);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.head, 5);
	cr_assert_eq(req.nr_readable, 2);
	cr_assert_eq(req.nr_writable, 1);
	cr_assert_eq(req.readable_len, 528);
	cr_assert_eq(req.writable_len, 1);
	cr_assert_eq(segs[0].hva, host(BUF_GPA));
	cr_assert_eq(segs[1].hva, host(BUF_GPA + 0x1000));
	cr_assert_eq(segs[1].len, 512);
	cr_assert_eq(segs[2].hva, high + 0x40);
	cr_assert(segs[2].device_writable);
	cr_assert_not(segs[1].device_writable);
}

Test(virtq, zero_length_descriptor_is_skipped)
{
	drv_setup(8, 0);
	/* Its address is never used, so it is not checked either. */
	desc(0, BUF_GPA, 4, R | N, 1);
	desc(1, HOLE_GPA, 0, R | N, 2);
	desc(2, BUF_GPA + 4, 4, W, 0);
	post(0);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.nr_readable, 1);
	cr_assert_eq(req.nr_writable, 1);
	cr_assert_eq(segs[1].hva, host(BUF_GPA + 4));
}

Test(virtq, indirect_table)
{
	drv_setup(8, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA, 10, R | N, 2);
	desc_at(TABLE_GPA, 2, BUF_GPA + 0x100, 20, W | N, 1);
	desc_at(TABLE_GPA, 1, HIGH_GPA, 30, W, 0);
	/* WRITE on the descriptor naming the table is to be ignored. */
	desc(4, TABLE_GPA, 3 * 16, I | W, 0);
	post(4);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.head, 4);
	cr_assert_eq(req.nr_readable, 1);
	cr_assert_eq(req.nr_writable, 2);
	cr_assert_eq(req.readable_len, 10);
	cr_assert_eq(req.writable_len, 50);
	cr_assert_eq(segs[1].hva, host(BUF_GPA + 0x100));
	cr_assert_eq(segs[2].hva, high);
}

Test(virtq, indirect_table_as_large_as_the_queue)
{
	drv_setup(4, F_INDIRECT);
	for (uint16_t i = 0; i < 4; i++)
		desc_at(TABLE_GPA, i, BUF_GPA + i, 1, i < 3 ? N : 0, i + 1);
	desc(0, TABLE_GPA, 4 * 16, I, 0);
	post(0);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.nr_readable, 4);
}

/* The spec: the device MUST handle direct descriptors followed by one indirect one. */
Test(virtq, direct_then_indirect)
{
	drv_setup(8, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA + 0x200, 8, W, 0);
	desc(2, BUF_GPA, 16, R | N, 7);
	desc(7, TABLE_GPA, 16, I, 0);
	post(2);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.nr_readable, 1);
	cr_assert_eq(req.nr_writable, 1);
	cr_assert_eq(segs[1].hva, host(BUF_GPA + 0x200));
}

Test(virtq, used_ring_after_push)
{
	uint32_t id, len;

	drv_setup(8, 0);
	desc(6, BUF_GPA, 64, W, 0);
	desc(2, BUF_GPA + 64, 64, W, 0);
	post(6);
	post(2);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(used_idx(), 0, "nothing published before a push");
	/* Completion order is the device's choice. */
	cr_assert_eq(virtq_push(&q, 2, 33), 0);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(virtq_push(&q, 6, 64), 0);
	cr_assert_eq(used_idx(), 2);
	used_elem(0, &id, &len);
	cr_assert_eq(id, 2);
	cr_assert_eq(len, 33);
	used_elem(1, &id, &len);
	cr_assert_eq(id, 6);
	cr_assert_eq(len, 64);
}

Test(virtq, push_refuses_bad_head)
{
	drv_setup(8, 0);
	cr_assert_eq(virtq_push(&q, 8, 0), -VIRTQ_E_PUSH_HEAD);
	cr_assert_eq(virtq_push(&q, 0xffff, 0), -VIRTQ_E_PUSH_HEAD);
	cr_assert_eq(used_idx(), 0);
}

/* Both free-running 16-bit indices wrap past 65535, with the ring full each round. */
Test(virtq, index_wrap)
{
	uint32_t id, len, n = 0;

	drv_setup(4, 0);
	for (uint16_t i = 0; i < 4; i++)
		desc(i, BUF_GPA + 16 * i, 16, W, 0);
	while (n < 70000) {
		for (uint16_t i = 0; i < 4; i++)
			post((n + i) % 4);
		for (uint16_t i = 0; i < 4; i++) {
			cr_assert_eq(pop(), VIRTQ_POP_REQ, "pop at %u", n);
			cr_assert_eq(req.head, n % 4);
			cr_assert_eq(virtq_push(&q, req.head, n), 0);
			used_elem(n % 4, &id, &len);
			cr_assert_eq(id, n % 4);
			cr_assert_eq(len, n);
			n++;
			cr_assert_eq(used_idx(), (uint16_t)n);
		}
		cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
	}
	cr_assert_eq(q.last_avail, (uint16_t)70000);
	cr_assert_eq(q.used_idx, (uint16_t)70000);
}

/* ---- notifications ---- */

static void complete_one(uint16_t head)
{
	desc(head, BUF_GPA, 4, W, 0);
	post(head);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(virtq_push(&q, head, 4), 0);
}

Test(virtq, notify_by_flags)
{
	drv_setup(8, 0);
	cr_assert_not(virtq_needs_notify(&q), "nothing pushed");
	complete_one(0);
	cr_assert(virtq_needs_notify(&q));
	cr_assert_not(virtq_needs_notify(&q), "already signalled");
	put16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	complete_one(1);
	cr_assert_not(virtq_needs_notify(&q), "driver asked for no interrupts");
	put16(AVAIL_GPA, 0);
	complete_one(2);
	cr_assert(virtq_needs_notify(&q));
}

Test(virtq, notify_by_used_event)
{
	drv_setup(8, F_EVENT_IDX);
	/* The driver wants an interrupt when used->idx passes 2 (entry 2 written). */
	set_used_event(2);
	complete_one(0);			/* used idx 0 -> 1 */
	cr_assert_not(virtq_needs_notify(&q));
	complete_one(1);			/* 1 -> 2 */
	cr_assert_not(virtq_needs_notify(&q));
	complete_one(2);			/* 2 -> 3: crosses */
	cr_assert(virtq_needs_notify(&q));
	/* A batch that jumps over used_event still notifies, once. */
	set_used_event(4);
	complete_one(3);
	complete_one(4);
	complete_one(5);			/* 3 -> 6 */
	cr_assert(virtq_needs_notify(&q));
	cr_assert_not(virtq_needs_notify(&q));
	/* With EVENT_IDX the flags are ignored: NO_INTERRUPT does not suppress. */
	put16(AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	set_used_event(6);
	complete_one(6);			/* 6 -> 7 */
	cr_assert(virtq_needs_notify(&q));
	/* used_event behind us: no interrupt until the indices come around. */
	set_used_event(2);
	complete_one(7);
	cr_assert_not(virtq_needs_notify(&q));
}

Test(virtq, avail_event_published_when_empty)
{
	drv_setup(8, F_EVENT_IDX);
	put16(USED_GPA + 4 + 8 * 8, 0xffff);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
	cr_assert_eq(avail_event(), 0, "kick me for the first buffer");
	desc(0, BUF_GPA, 4, R, 0);
	post(0);
	post(0);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(avail_event(), 0, "not rewritten while there is work");
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
	cr_assert_eq(avail_event(), 2);
}

Test(virtq, avail_event_untouched_without_event_idx)
{
	drv_setup(8, 0);
	put16(USED_GPA + 4 + 8 * 8, 0xffff);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
	cr_assert_eq(avail_event(), 0xffff);
}

/* ---- hostile drivers: the queue breaks ---- */

Test(virtq, chain_loop, .timeout = 10)
{
	drv_setup(4, 0);
	desc(0, BUF_GPA, 8, R | N, 2);
	desc(2, BUF_GPA, 8, R | N, 2);		/* points at itself */
	post(0);
	assert_broken(VIRTQ_E_CHAIN_LEN);
}

Test(virtq, chain_loop_in_indirect_table, .timeout = 10)
{
	drv_setup(4, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R | N, 1);
	desc_at(TABLE_GPA, 1, BUF_GPA, 8, R | N, 0);
	desc(0, TABLE_GPA, 2 * 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_CHAIN_LEN);
}

/* Three direct buffers and two indirect ones: five descriptors in a queue of four. */
Test(virtq, chain_longer_than_queue)
{
	drv_setup(4, F_INDIRECT);
	desc(0, BUF_GPA, 8, R | N, 1);
	desc(1, BUF_GPA, 8, R | N, 2);
	desc(2, BUF_GPA, 8, R | N, 3);
	desc(3, TABLE_GPA, 2 * 16, I, 0);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R | N, 1);
	desc_at(TABLE_GPA, 1, BUF_GPA, 8, R, 0);
	post(0);
	assert_broken(VIRTQ_E_CHAIN_LEN);
}

Test(virtq, next_out_of_range)
{
	drv_setup(4, 0);
	desc(0, BUF_GPA, 8, R | N, 4);
	post(0);
	assert_broken(VIRTQ_E_NEXT);
}

Test(virtq, next_out_of_range_in_indirect_table)
{
	drv_setup(8, F_INDIRECT);
	/* In range for the queue, not for the two-entry table. */
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R | N, 2);
	desc(0, TABLE_GPA, 2 * 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_NEXT);
}

Test(virtq, avail_idx_too_far_ahead)
{
	drv_setup(4, 0);
	for (uint16_t i = 0; i < 4; i++)
		desc(i, BUF_GPA, 8, R, 0);
	set_avail_idx(5);
	assert_broken(VIRTQ_E_AVAIL_IDX);
}

Test(virtq, avail_idx_moved_backwards)
{
	drv_setup(4, 0);
	desc(0, BUF_GPA, 8, R, 0);
	post(0);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	set_avail_idx(0);	/* "unexposing" a buffer: 0 - 1 looks 65535 ahead */
	assert_broken(VIRTQ_E_AVAIL_IDX);
}

Test(virtq, head_out_of_range)
{
	drv_setup(4, 0);
	post(4);
	assert_broken(VIRTQ_E_HEAD);
}

Test(virtq, readable_after_writable)
{
	drv_setup(8, 0);
	desc(0, BUF_GPA, 8, W | N, 1);
	desc(1, BUF_GPA + 8, 8, R, 0);
	post(0);
	assert_broken(VIRTQ_E_ORDER);
}

Test(virtq, readable_after_writable_across_indirect)
{
	drv_setup(8, F_INDIRECT);
	desc(0, BUF_GPA, 8, W | N, 1);
	desc(1, TABLE_GPA, 16, I, 0);
	desc_at(TABLE_GPA, 0, BUF_GPA + 8, 8, R, 0);
	post(0);
	assert_broken(VIRTQ_E_ORDER);
}

Test(virtq, total_length_over_32_bits)
{
	drv_setup(8, 0);
	/* Counted before the buffers' addresses are looked at: these are not RAM. */
	desc(0, HOLE_GPA, 0x80000000u, R | N, 1);
	desc(1, HOLE_GPA, 0x80000000u, W, 0);
	post(0);
	assert_broken(VIRTQ_E_TOTAL_LEN);
}

/* One byte less is a legal chain: these buffers are then only rejected as not RAM. */
Test(virtq, total_length_just_under_32_bits)
{
	drv_setup(8, 0);
	desc(0, HOLE_GPA, 0x80000000u, R | N, 1);
	desc(1, HOLE_GPA, 0x7fffffffu, W, 0);
	post(0);
	assert_rejected(VIRTQ_E_BUF_NOT_RAM);
}

Test(virtq, indirect_without_feature)
{
	drv_setup(8, 0);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R, 0);
	desc(0, TABLE_GPA, 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_FEATURE);
}

Test(virtq, indirect_with_next)
{
	drv_setup(8, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R, 0);
	desc(0, TABLE_GPA, 16, I | N, 1);
	desc(1, BUF_GPA, 8, R, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_NEXT);
}

Test(virtq, indirect_nested)
{
	drv_setup(8, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R | N, 1);
	desc_at(TABLE_GPA, 1, TABLE_GPA + 0x100, 16, I, 0);
	desc_at(TABLE_GPA + 0x100, 0, BUF_GPA, 8, R, 0);
	desc(0, TABLE_GPA, 2 * 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_NESTED);
}

Test(virtq, indirect_len_zero)
{
	drv_setup(8, F_INDIRECT);
	desc(0, TABLE_GPA, 0, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_LEN);
}

Test(virtq, indirect_len_not_multiple_of_16)
{
	drv_setup(8, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R, 0);
	desc(0, TABLE_GPA, 24, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_LEN);
}

Test(virtq, indirect_table_larger_than_queue)
{
	drv_setup(4, F_INDIRECT);
	desc_at(TABLE_GPA, 0, BUF_GPA, 8, R, 0);
	desc(0, TABLE_GPA, 5 * 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_SIZE);
}

Test(virtq, indirect_table_in_mmio_hole)
{
	drv_setup(8, F_INDIRECT);
	desc(0, HOLE_GPA, 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_NOT_RAM);
}

Test(virtq, indirect_table_straddling_ram_end)
{
	drv_setup(8, F_INDIRECT);
	desc_at(LOW_SIZE - 16, 0, BUF_GPA, 8, R, 0);
	desc(0, LOW_SIZE - 16, 2 * 16, I, 0);
	post(0);
	assert_broken(VIRTQ_E_INDIRECT_NOT_RAM);
}

/* A structural fault after a buffer that would only be rejected still breaks the queue. */
Test(virtq, structure_checked_past_a_rejected_buffer)
{
	drv_setup(4, 0);
	desc(0, HOLE_GPA, 8, R | N, 9);
	post(0);
	assert_broken(VIRTQ_E_NEXT);
}

Test(virtq, setup_clears_a_broken_queue)
{
	drv_setup(4, 0);
	post(4);
	cr_assert_eq(pop(), -VIRTQ_E_HEAD);
	drv_setup(4, 0);
	memset(host(AVAIL_GPA), 0, 64);
	cr_assert_eq(pop(), VIRTQ_POP_EMPTY);
}

/* ---- buffers the device cannot serve: the request is rejected ---- */

Test(virtq, buffer_above_top_of_ram)
{
	drv_setup(8, 0);
	desc(0, HIGH_GPA + HIGH_SIZE, 8, W, 0);
	post(0);
	assert_rejected(VIRTQ_E_BUF_NOT_RAM);
}

Test(virtq, buffer_in_mmio_hole)
{
	drv_setup(8, 0);
	desc(0, BUF_GPA, 8, R | N, 1);
	desc(1, ECAM_GPA, 8, W, 0);
	post(0);
	assert_rejected(VIRTQ_E_BUF_NOT_RAM);
}

Test(virtq, buffer_straddling_ram_end)
{
	drv_setup(8, 0);
	desc(0, LOW_SIZE - 0x100, 0x200, R, 0);
	post(0);
	assert_rejected(VIRTQ_E_BUF_NOT_RAM);
}

Test(virtq, buffer_straddling_top_of_ram)
{
	drv_setup(8, 0);
	desc(0, HIGH_GPA + HIGH_SIZE - 4, 8, W, 0);
	post(0);
	assert_rejected(VIRTQ_E_BUF_NOT_RAM);
}

/*
 * addr + len wraps to 0x100, inside low RAM: a naive
 * "gpa >= start && gpa + len <= end" check would take it.
 */
Test(virtq, buffer_wrapping_past_2_64)
{
	drv_setup(8, 0);
	desc(0, UINT64_MAX - 0xff, 0x200, W, 0);
	post(0);
	assert_rejected(VIRTQ_E_BUF_NOT_RAM);
}

Test(virtq, more_segments_than_the_caller_takes)
{
	drv_setup(8, 0);
	req.max_segs = 2;
	desc(0, BUF_GPA, 8, R | N, 1);
	desc(1, BUF_GPA, 8, R | N, 2);
	desc(2, BUF_GPA, 8, W, 0);
	post(0);
	assert_rejected(VIRTQ_E_TOO_MANY_SEGS);
	/* Exactly max_segs is fine. */
	desc(0, BUF_GPA, 8, R | N, 2);
	post(0);
	cr_assert_eq(pop(), VIRTQ_POP_REQ);
	cr_assert_eq(req.nr_readable + req.nr_writable, 2);
}

Test(virtq, err_str)
{
	for (int e = 0; e < VIRTQ_E_COUNT; e++) {
		cr_assert_not_null(virtq_err_str(e));
		cr_assert_str_eq(virtq_err_str(-e), virtq_err_str(e));
	}
	cr_assert_str_eq(virtq_err_str(VIRTQ_E_COUNT), "unknown virtqueue error");
}
