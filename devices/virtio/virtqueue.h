/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_VIRTIO_VIRTQUEUE_H
#define DEVICES_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/guest_mem.h"

/*
 * The device side of a virtio 1.x split virtqueue (no legacy layout, no
 * packed ring). The transport (virtio-pci, later) collects the queue
 * registers and calls virtq_setup() when the driver enables the queue; the
 * device model then pops requests, fills them, pushes them back and asks
 * whether to interrupt. Nothing here knows the transport, KVM or the VM.
 *
 * The guest is hostile: it owns the rings and may rewrite them at any time
 * from another vCPU. So every guest field is read once into a private copy
 * that is then validated (ring fields with __atomic loads, descriptors with
 * one volatile copy since indirect tables need not be aligned); the
 * device's own indices (last_avail, used_idx) are never read back from
 * guest memory; and every host pointer comes from guest_mem_ptr(), so
 * nothing here touches host memory outside the guest_mem regions, whatever
 * the rings say.
 *
 * One thread drives a queue (pop, push, needs_notify); the guest is the only
 * concurrent party. A device that pops and completes on different threads
 * serialises those calls itself.
 *
 * Errors are reported as a reason (enum virtq_err, negated when returned)
 * that the caller logs once, rate-limited; nothing here logs per request.
 * virtq_pop() sorts a bad chain into one of two classes, by one rule: did
 * the driver break a MUST of the spec's split-ring chapter?
 *
 *  - Yes (an index out of range, a loop or a chain longer than the queue,
 *    a readable buffer after a writable one, a chain of 4 GiB or more, a
 *    malformed indirect table; a table with more entries than the queue
 *    counts too, though strictly only a chain filling it breaks the rule):
 *    the queue is broken. pop returns the negative reason now and on every
 *    later call, without touching guest memory, until virtq_setup(); the
 *    caller sets DEVICE_NEEDS_RESET. The driver's view of its rings is
 *    corrupt, so there is nothing sound to hand back, and last_avail stays
 *    on the offending slot.
 *
 *  - No, the chain is legal but names a buffer this device cannot serve:
 *    one that is not guest RAM (say, a peer device's BAR), or more buffers
 *    than the caller's segment array (the spec lets a device limit chain
 *    length, Message Framing). pop consumes the head and returns
 *    VIRTQ_POP_REJECTED with the reason in req->reject; the caller completes
 *    it with virtq_push(q, req->head, 0) and carries on, so the driver gets
 *    its descriptors back and one odd request does not take the device
 *    down. A chain is only rejected once it was walked to its end, so a
 *    structural fault anywhere in it still breaks the queue.
 */

/* The largest split queue the spec allows (Queue Size is 2^15 at most). */
#define VIRTQ_MAX_SIZE		32768

enum virtq_err {
	VIRTQ_E_NONE = 0,
	/* virtq_setup: the transport refuses the queue enable (or DRIVER_OK) */
	VIRTQ_E_SIZE,			/* 0, not a power of 2, or > VIRTQ_MAX_SIZE */
	VIRTQ_E_ALIGN,			/* desc 16, avail 2, used 4 bytes */
	VIRTQ_E_RING_NOT_RAM,		/* a ring is not wholly in one RAM region */
	/* virtq_pop: the queue is broken */
	VIRTQ_E_AVAIL_IDX,		/* avail->idx more than size ahead of us */
	VIRTQ_E_HEAD,			/* a head index >= size */
	VIRTQ_E_NEXT,			/* a next index >= size (or table length) */
	VIRTQ_E_CHAIN_LEN,		/* a loop, or more than size descriptors */
	VIRTQ_E_ORDER,			/* a readable buffer after a writable one */
	VIRTQ_E_TOTAL_LEN,		/* buffers add up to 4 GiB or more */
	VIRTQ_E_INDIRECT_FEATURE,	/* INDIRECT without VIRTIO_F_INDIRECT_DESC */
	VIRTQ_E_INDIRECT_NEXT,		/* INDIRECT and NEXT on one descriptor */
	VIRTQ_E_INDIRECT_NESTED,	/* INDIRECT inside an indirect table */
	VIRTQ_E_INDIRECT_LEN,		/* table length 0 or not a multiple of 16 */
	VIRTQ_E_INDIRECT_SIZE,		/* table has more entries than the queue */
	VIRTQ_E_INDIRECT_NOT_RAM,	/* table not wholly in one RAM region */
	/* virtq_pop: this one request is rejected (VIRTQ_POP_REJECTED) */
	VIRTQ_E_BUF_NOT_RAM,		/* a buffer not wholly in one RAM region */
	VIRTQ_E_TOO_MANY_SEGS,		/* more buffers than req->max_segs */
	/* caller errors */
	VIRTQ_E_NOT_READY,		/* push on a queue that is not set up */
	VIRTQ_E_PUSH_HEAD,		/* push of a head index >= size */
	VIRTQ_E_COUNT
};

struct virtq {
	/* Set by virtq_setup(); the transport may read them back. */
	bool ready;
	bool event_idx;		/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	const struct guest_mem *mem;	/* must outlive the queue */

	/* Private. Host views of the rings, checked once by virtq_setup(). */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail;	/* next avail ring slot to pop */
	uint16_t used_idx;	/* our used->idx; the guest's copy is never read */
	uint16_t signalled_used;	/* used_idx at the last virtq_needs_notify() */
	enum virtq_err broken;	/* first structural fault, sticky until setup */
};

/* One guest buffer of a request, as a host pointer. */
struct virtq_seg {
	void *hva;
	uint32_t len;
	bool device_writable;
};

/*
 * A popped descriptor chain. The caller provides segs/max_segs (sized to
 * what its device accepts, e.g. the seg_max it advertises plus its headers);
 * virtq_pop() fills the rest. Readable segments come first:
 * segs[0 .. nr_readable) are device-readable, the next nr_writable are
 * device-writable (spec: Message Framing; any other order breaks the queue).
 * Zero-length descriptors move no bytes and produce no segment.
 */
struct virtq_req {
	struct virtq_seg *segs;		/* in */
	unsigned int max_segs;		/* in */
	uint16_t head;			/* out: give back with virtq_push() */
	unsigned int nr_readable, nr_writable;
	uint32_t readable_len, writable_len;
	enum virtq_err reject;		/* out: why, for VIRTQ_POP_REJECTED */
};

enum {
	VIRTQ_POP_EMPTY = 0,	/* nothing available */
	VIRTQ_POP_REQ = 1,	/* *req is a request to serve */
	VIRTQ_POP_REJECTED = 2,	/* req->head must be pushed back unserved */
};

/*
 * Checks and takes the driver's queue configuration: size a power of 2 up
 * to VIRTQ_MAX_SIZE (32 bits because virtio-mmio's QueueNum is), the rings
 * aligned as the spec requires and each wholly inside one RAM region,
 * including the event fields (6 + 2 * size bytes of avail ring, 6 + 8 * size
 * of used ring). features is the negotiated feature set; only
 * VIRTIO_F_EVENT_IDX and VIRTIO_F_INDIRECT_DESC matter here. avail is the
 * transport's "driver area", used its "device area". Returns 0, or a
 * negative enum virtq_err with the queue left not ready.
 */
int virtq_setup(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		uint64_t features);

/* Back to not ready (device reset, queue reset); forgets all state. */
void virtq_reset(struct virtq *q);

/*
 * Takes the next available chain: VIRTQ_POP_EMPTY, VIRTQ_POP_REQ,
 * VIRTQ_POP_REJECTED, or a negative enum virtq_err when the queue is broken
 * (see the top of this file). A queue that is not ready is empty. With
 * VIRTIO_F_EVENT_IDX, finding the ring empty publishes avail_event so the
 * driver kicks for the next buffer, and re-checks for one that raced with
 * it: a caller that pops until EMPTY after each kick misses nothing.
 */
int virtq_pop(struct virtq *q, struct virtq_req *req);

/*
 * Returns a popped chain to the driver with the number of bytes the device
 * wrote into its writable buffers (the caller keeps written <=
 * writable_len, and pushes each popped head exactly once). Publishes the
 * used element and then used->idx with release semantics. 0, or
 * -VIRTQ_E_NOT_READY / -VIRTQ_E_PUSH_HEAD for a caller bug.
 */
int virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/*
 * After a batch of pushes: whether the driver wants an interrupt for them,
 * by used_event with VIRTIO_F_EVENT_IDX, else unless the driver set
 * VRING_AVAIL_F_NO_INTERRUPT. False when nothing was pushed since the last
 * call. Call it once per batch (it remembers where the batch ended).
 */
bool virtq_needs_notify(struct virtq *q);

/* A short description of a reason, positive or negated. */
const char *virtq_err_str(int err);

#endif
