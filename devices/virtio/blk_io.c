// SPDX-License-Identifier: MIT
/*
 * virtio-blk's I/O thread: one per active device, one io_uring for
 * everything it waits on.
 *
 *   a POLL_ADD per queue on its kick eventfd, and one on stop_fd;
 *   readv/writev/fsync/fallocate for the requests (the segments the walker
 *   hands out are host pointers into guest RAM: the kernel reads and
 *   writes guest memory directly, no copy).
 *
 * One pass of the loop serves every queue (pops until empty or until all
 * BLK_NR_REQS are in flight), submits everything it queued in one
 * io_uring_enter, waits for at least one completion, handles them, and
 * interrupts each queue whose driver asks for it. Serving every queue on
 * every pass costs one avail->idx load per queue and means a request left
 * behind for want of a free slot is picked up after the next completion,
 * with no kick needed.
 *
 * Reset writes stop_fd. The thread then takes nothing new, removes its
 * polls, lets the requests in flight finish (they are completed to the
 * used rings as usual: guest RAM outlives the reset) and returns when the
 * ring holds nothing of its own. The join in blk_io_stop() is therefore the
 * point after which the queues are the transport's again.
 *
 * The guest is hostile: a request is parsed from one private copy of its
 * header, every length and sector is checked against the disk before any
 * I/O, and a bad request fails alone (IOERR or UNSUPP) while a broken queue
 * is dropped and reported with virtio_dev_needs_reset(). Warnings are rate
 * limited.
 */
#include "devices/virtio/blk_priv.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define SECTOR_SIZE	512

/* user_data of the ring's own ops; requests use their (much larger) address. */
#define UD_STOP		1
#define UD_POLL_REMOVE	2
#define UD_KICK(i)	(16 + (uint64_t)(i))
#define UD_IS_KICK(ud)	((ud) >= 16 && (ud) < 16 + VIRTIO_MAX_QUEUES)

/* ---- guest buffers as byte streams ---- */

/*
 * The bytes [skip, skip + len) of the concatenated segments as iovecs.
 * The caller has checked that the segments hold them; returns the count.
 */
static unsigned int segs_to_iov(const struct virtq_seg *s, unsigned int n, size_t skip,
				size_t len, struct iovec *iov)
{
	unsigned int cnt = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t take;

		if (skip >= s[i].len) {
			skip -= s[i].len;
			continue;
		}
		take = s[i].len - skip;
		if (take > len)
			take = len;
		iov[cnt].iov_base = (uint8_t *)s[i].hva + skip;
		iov[cnt].iov_len = take;
		cnt++;
		len -= take;
		skip = 0;
	}
	return cnt;
}

/* Copies between buf and the segment bytes [skip, skip + len). */
static void segs_copy(const struct virtq_seg *s, unsigned int n, size_t skip, void *buf,
		      size_t len, bool to_guest)
{
	struct iovec iov[BLK_MAX_SEGS];
	unsigned int cnt = segs_to_iov(s, n, skip, len, iov);
	uint8_t *p = buf;

	for (unsigned int i = 0; i < cnt; i++) {
		if (to_guest)
			memcpy(iov[i].iov_base, p, iov[i].iov_len);
		else
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
}

/* ---- the ring ---- */

/* An SQE, counted as pending until its CQE arrives; NULL only if the ring fails. */
static struct io_uring_sqe *get_sqe(struct virtio_blk *b, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe) {
		io_uring_submit(&b->ring);
		sqe = io_uring_get_sqe(&b->ring);
	}
	if (sqe) {
		io_uring_sqe_set_data64(sqe, ud);
		b->ops_pending++;
	}
	return sqe;
}

static bool arm_poll(struct virtio_blk *b, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe(b, ud);

	if (!sqe) {
		log_err_rl("%s: io_uring unusable; an eventfd is no longer watched", b->name);
		return false;
	}
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	return true;
}

static void arm_kick(struct virtio_blk *b, unsigned int i)
{
	struct blk_queue *bq = &b->q[i];

	if (bq->kick_armed || bq->dead || !bq->usable || b->vdev.queues[i].kick_fd < 0)
		return;
	bq->kick_armed = arm_poll(b, b->vdev.queues[i].kick_fd, UD_KICK(i));
}

/* An eventfd read after its poll fired: we are its only reader, so this never blocks. */
static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err_rl("reading an eventfd: %s", strerror(errno));
}

static void signal_queue(struct virtio_queue *q)
{
	uint64_t one = 1;

	if (q->call_fd >= 0 && write(q->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err_rl("signalling a virtio queue: %s", strerror(errno));
}

/* ---- completing ---- */

static void put_req(struct virtio_blk *b, struct blk_req *r)
{
	r->next_free = b->free_reqs;
	b->free_reqs = r;
}

static void finish(struct virtio_blk *b, struct blk_req *r, uint8_t status)
{
	struct virtio_queue *q = &b->vdev.queues[r->qidx];

	*r->status = status;
	virtq_push(&q->vq, r->head, status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	b->q[r->qidx].touched = true;
	put_req(b, r);
}

/* A chain with no writable byte has nowhere to put a status: returned with 0 bytes. */
static void drop(struct virtio_blk *b, struct blk_req *r)
{
	virtq_push(&b->vdev.queues[r->qidx].vq, r->head, 0);
	b->q[r->qidx].touched = true;
	put_req(b, r);
}

static void notify_queues(struct virtio_blk *b)
{
	for (unsigned int i = 0; i < b->vdev.nr_queues; i++) {
		if (!b->q[i].touched)
			continue;
		b->q[i].touched = false;
		if (virtq_needs_notify(&b->vdev.queues[i].vq))
			signal_queue(&b->vdev.queues[i]);
	}
}

/* ---- requests ---- */

static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t nsec)
{
	return sector <= b->capacity && nsec <= b->capacity - sector;
}

static void submit_rw(struct virtio_blk *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe = get_sqe(b, (uintptr_t)r);

	if (!sqe) {
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (r->type == VIRTIO_BLK_T_OUT) {
		io_uring_prep_writev(sqe, b->fd, r->iov, r->iovcnt, r->off);
		if (b->dsync)
			sqe->rw_flags = RWF_DSYNC;
	} else {
		io_uring_prep_readv(sqe, b->fd, r->iov, r->iovcnt, r->off);
	}
}

/*
 * IN: header readable, data writable, then the status byte.
 * OUT: header and data readable, then the status byte. The split between
 * header, data and status need not follow descriptor boundaries (1.x
 * requires any layout), so the data is carved out of the byte streams.
 */
static void start_rw(struct virtio_blk *b, struct blk_req *r, uint64_t sector)
{
	const struct virtq_req *v = &r->vreq;
	bool write = r->type == VIRTIO_BLK_T_OUT;
	uint64_t len;

	if (write && b->readonly) {
		log_warn_rl("%s: guest writes to a read-only disk (sector %" PRIu64 ")", b->name,
			    sector);
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	len = write ? v->readable_len - sizeof(struct virtio_blk_outhdr) : v->writable_len - 1;
	if (len % SECTOR_SIZE) {
		log_warn_rl("%s: %s of %" PRIu64 " bytes: not a whole number of sectors",
			    b->name, write ? "write" : "read", len);
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (!in_range(b, sector, len / SECTOR_SIZE)) {
		log_warn_rl("%s: %s of %" PRIu64 " sectors at sector %" PRIu64
			    " ends past the disk's %" PRIu64, b->name, write ? "write" : "read",
			    len / SECTOR_SIZE, sector, b->capacity);
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (!len) {
		finish(b, r, VIRTIO_BLK_S_OK);
		return;
	}
	if (write)
		r->iovcnt = segs_to_iov(v->segs, v->nr_readable, sizeof(struct virtio_blk_outhdr),
					len, r->iov_store);
	else
		r->iovcnt = segs_to_iov(v->segs + v->nr_readable, v->nr_writable, 0, len,
					r->iov_store);
	r->iov = r->iov_store;
	r->off = sector * SECTOR_SIZE;
	r->used_len = write ? 1 : (uint32_t)len + 1;
	submit_rw(b, r);
}

/* The rest of a short transfer: true when there is some. */
static bool advance(struct blk_req *r, uint32_t done)
{
	r->off += done;
	while (r->iovcnt && done >= r->iov->iov_len) {
		done -= r->iov->iov_len;
		r->iov++;
		r->iovcnt--;
	}
	if (r->iovcnt) {
		r->iov->iov_base = (uint8_t *)r->iov->iov_base + done;
		r->iov->iov_len -= done;
	}
	return r->iovcnt != 0;
}

static void rw_done(struct virtio_blk *b, struct blk_req *r, int res)
{
	const char *what = r->type == VIRTIO_BLK_T_OUT ? "write" : "read";

	if (res <= 0) {
		/* EINVAL: with direct=on, guest buffers not aligned as O_DIRECT needs. */
		log_warn_rl("%s: %s at byte %" PRIu64 " failed: %s", b->name, what, r->off,
			    res ? strerror(-res) : "end of file (did the image shrink?)");
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (advance(r, (uint32_t)res))
		submit_rw(b, r);
	else
		finish(b, r, VIRTIO_BLK_S_OK);
}

static void start_flush(struct virtio_blk *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe;

	if (b->readonly) {
		finish(b, r, VIRTIO_BLK_S_OK);
		return;
	}
	sqe = get_sqe(b, (uintptr_t)r);
	if (!sqe) {
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
}

static void get_id(struct virtio_blk *b, struct blk_req *r)
{
	const struct virtq_req *v = &r->vreq;
	size_t n = v->writable_len - 1;

	if (n > sizeof(b->serial))
		n = sizeof(b->serial);
	segs_copy(v->segs + v->nr_readable, v->nr_writable, 0, b->serial, n, true);
	r->used_len = (uint32_t)n + 1;
	finish(b, r, VIRTIO_BLK_S_OK);
}

/* The next range of a discard or write zeroes, or the request's end. */
static void submit_dwz(struct virtio_blk *b, struct blk_req *r)
{
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	struct io_uring_sqe *sqe;
	int mode;

	for (; r->cur_range < r->nr_ranges; r->cur_range++) {
		uint64_t range[2] = { r->ranges[r->cur_range].off, r->ranges[r->cur_range].len };

		if (!range[1])
			continue;
		if (!(discard && b->is_blkdev))
			break;
		/* No io_uring op discards a block device on older kernels: synchronous. */
		if (ioctl(b->fd, BLKDISCARD, range)) {
			log_warn_rl("%s: discard at byte %" PRIu64 " failed: %s", b->name, range[0],
				    strerror(errno));
			finish(b, r, VIRTIO_BLK_S_IOERR);
			return;
		}
	}
	if (r->cur_range == r->nr_ranges) {
		finish(b, r, VIRTIO_BLK_S_OK);
		return;
	}
	if (b->is_blkdev)
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;	/* = BLKZEROOUT */
	else if (discard || r->ranges[r->cur_range].unmap || b->no_zero_range)
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	else
		mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	sqe = get_sqe(b, (uintptr_t)r);
	if (!sqe) {
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	io_uring_prep_fallocate(sqe, b->fd, mode, (off_t)r->ranges[r->cur_range].off,
				(off_t)r->ranges[r->cur_range].len);
	r->punching = mode & FALLOC_FL_PUNCH_HOLE;
}

static void dwz_done(struct virtio_blk *b, struct blk_req *r, int res)
{
	if (res == -EOPNOTSUPP && !r->punching && !b->is_blkdev) {
		/* A file system without ZERO_RANGE (tmpfs): a hole reads as zeroes too. */
		b->no_zero_range = true;
		submit_dwz(b, r);
		return;
	}
	if (res < 0) {
		log_warn_rl("%s: %s at byte %" PRIu64 " failed: %s", b->name,
			    r->type == VIRTIO_BLK_T_DISCARD ? "discard" : "write zeroes",
			    r->ranges[r->cur_range].off, strerror(-res));
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	r->cur_range++;
	submit_dwz(b, r);
}

/* Discard and write zeroes: after the header, an array of 16-byte ranges. */
static void start_dwz(struct virtio_blk *b, struct blk_req *r)
{
	const struct virtq_req *v = &r->vreq;
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	size_t payload = v->readable_len - sizeof(struct virtio_blk_outhdr);
	struct virtio_blk_discard_write_zeroes d;
	uint32_t allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

	if (!(discard ? b->can_discard : b->can_write_zeroes)) {
		finish(b, r, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (!payload || payload % sizeof(d) || payload / sizeof(d) > BLK_DWZ_MAX_SEG) {
		log_warn_rl("%s: %s request with %zu bytes of ranges", b->name,
			    discard ? "discard" : "write zeroes", payload);
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	r->nr_ranges = (unsigned int)(payload / sizeof(d));
	r->cur_range = 0;
	for (unsigned int i = 0; i < r->nr_ranges; i++) {
		uint64_t sector;
		uint32_t nsec, flags;

		segs_copy(v->segs, v->nr_readable, sizeof(struct virtio_blk_outhdr) + i * sizeof(d),
			  &d, sizeof(d), false);
		sector = le64toh(d.sector);
		nsec = le32toh(d.num_sectors);
		flags = le32toh(d.flags);
		if (flags & ~allowed) {
			finish(b, r, VIRTIO_BLK_S_UNSUPP);
			return;
		}
		if (nsec > BLK_DWZ_MAX_SECTORS || !in_range(b, sector, nsec)) {
			log_warn_rl("%s: %s of %u sectors at sector %" PRIu64
				    " is beyond the limit or the %" PRIu64 "-sector disk",
				    b->name, discard ? "discard" : "write zeroes", nsec, sector,
				    b->capacity);
			finish(b, r, VIRTIO_BLK_S_IOERR);
			return;
		}
		r->ranges[i].off = sector * SECTOR_SIZE;
		r->ranges[i].len = (uint64_t)nsec * SECTOR_SIZE;
		r->ranges[i].unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	}
	submit_dwz(b, r);
}

static void start_request(struct virtio_blk *b, struct blk_req *r)
{
	const struct virtq_req *v = &r->vreq;
	const struct virtq_seg *last;
	struct virtio_blk_outhdr hdr;

	if (!v->nr_writable) {
		log_warn_rl("%s: queue %u: request without a status byte", b->name, r->qidx);
		drop(b, r);
		return;
	}
	last = &v->segs[v->nr_readable + v->nr_writable - 1];
	r->status = (uint8_t *)last->hva + last->len - 1;
	r->used_len = 1;
	if (v->readable_len < sizeof(hdr)) {
		log_warn_rl("%s: queue %u: request header of %u bytes", b->name, r->qidx,
			    v->readable_len);
		finish(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	/* One private copy; the guest may rewrite its header while we work. */
	segs_copy(v->segs, v->nr_readable, 0, &hdr, sizeof(hdr), false);
	r->type = le32toh(hdr.type);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		start_rw(b, r, le64toh(hdr.sector));
		return;
	case VIRTIO_BLK_T_FLUSH:
		start_flush(b, r);
		return;
	case VIRTIO_BLK_T_GET_ID:
		get_id(b, r);
		return;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		start_dwz(b, r);
		return;
	}
	log_warn_rl("%s: queue %u: request type %u unsupported", b->name, r->qidx, r->type);
	finish(b, r, VIRTIO_BLK_S_UNSUPP);
}

static void req_done(struct virtio_blk *b, struct blk_req *r, int res)
{
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		rw_done(b, r, res);
		return;
	case VIRTIO_BLK_T_FLUSH:
		if (res < 0)
			log_warn_rl("%s: flush failed: %s", b->name, strerror(-res));
		finish(b, r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	default:
		dwz_done(b, r, res);
		return;
	}
}

/* ---- the loop ---- */

static void serve_queue(struct virtio_blk *b, unsigned int i)
{
	struct blk_queue *bq = &b->q[i];
	struct virtq *vq = &b->vdev.queues[i].vq;
	struct blk_req *r;
	int ret;

	if (!bq->usable || bq->dead)
		return;
	while ((r = b->free_reqs)) {
		r->vreq.segs = r->segs;
		r->vreq.max_segs = BLK_MAX_SEGS;
		ret = virtq_pop(vq, &r->vreq);
		if (ret == VIRTQ_POP_EMPTY)
			return;
		if (ret < 0) {
			log_warn_rl("%s: queue %u: %s; the device needs a reset", b->name, i,
				    virtq_err_str(ret));
			bq->dead = true;
			virtio_dev_needs_reset(&b->vdev);
			return;
		}
		if (ret == VIRTQ_POP_REJECTED) {
			log_warn_rl("%s: queue %u: request refused: %s", b->name, i,
				    virtq_err_str(r->vreq.reject));
			virtq_push(vq, r->vreq.head, 0);
			bq->touched = true;
			continue;
		}
		b->free_reqs = r->next_free;
		r->qidx = (uint16_t)i;
		r->head = r->vreq.head;
		start_request(b, r);
	}
}

static void serve_queues(struct virtio_blk *b)
{
	unsigned int n = b->vdev.nr_queues;

	/* Start at a different queue each pass, so none starves the others of slots. */
	for (unsigned int k = 0; k < n && b->free_reqs; k++)
		serve_queue(b, (b->rr + k) % n);
	b->rr = (b->rr + 1) % n;
}

/* Reset asked: no more polls; what is in flight finishes. */
static void begin_stop(struct virtio_blk *b)
{
	b->stopping = true;
	for (unsigned int i = 0; i < b->vdev.nr_queues; i++) {
		struct io_uring_sqe *sqe;

		if (!b->q[i].kick_armed)
			continue;
		sqe = get_sqe(b, UD_POLL_REMOVE);
		if (sqe)
			io_uring_prep_poll_remove(sqe, UD_KICK(i));
	}
}

static void handle_cqe(struct virtio_blk *b, uint64_t ud, int res)
{
	b->ops_pending--;
	if (ud == UD_STOP) {
		drain(b->stop_fd);
		begin_stop(b);
	} else if (ud == UD_POLL_REMOVE) {
		/* 0, or -ENOENT when the poll had fired already: both fine. */
	} else if (UD_IS_KICK(ud)) {
		unsigned int i = (unsigned int)(ud - UD_KICK(0));

		b->q[i].kick_armed = false;
		if (res < 0) {
			if (res != -ECANCELED)
				log_err_rl("%s: queue %u: polling its kick eventfd: %s", b->name, i,
					   strerror(-res));
			return;
		}
		drain(b->vdev.queues[i].kick_fd);
		if (!b->stopping)
			arm_kick(b, i);
	} else {
		req_done(b, (struct blk_req *)(uintptr_t)ud, res);
	}
}

static void reap(struct virtio_blk *b)
{
	struct io_uring_cqe *cqes[64];
	struct { uint64_t ud; int res; } done[64];
	unsigned int n;

	/* Copy out and release the CQ slots first: handlers queue new SQEs. */
	while ((n = io_uring_peek_batch_cqe(&b->ring, cqes, 64))) {
		for (unsigned int i = 0; i < n; i++) {
			done[i].ud = io_uring_cqe_get_data64(cqes[i]);
			done[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&b->ring, n);
		for (unsigned int i = 0; i < n; i++)
			handle_cqe(b, done[i].ud, done[i].res);
	}
}

static void *io_thread(void *arg)
{
	struct virtio_blk *b = arg;
	int ret;

	/* Else it inherits the name of the vCPU thread that started it. */
	pthread_setname_np(pthread_self(), "blk-io");
	virtio_dev_thread_init(&b->vdev);
	arm_poll(b, b->stop_fd, UD_STOP);
	for (unsigned int i = 0; i < b->vdev.nr_queues; i++)
		arm_kick(b, i);
	for (;;) {
		if (!b->stopping)
			serve_queues(b);
		notify_queues(b);
		if (b->stopping && !b->ops_pending)
			break;
		ret = io_uring_submit_and_wait(&b->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			/* Not the guest's doing; retry gently rather than spin. */
			log_err_rl("%s: io_uring_enter: %s", b->name, strerror(-ret));
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
		reap(b);
	}
	return NULL;
}

int blk_io_start(struct virtio_blk *b)
{
	sigset_t all, old;
	int ret;

	for (unsigned int i = 0; i < b->vdev.nr_queues; i++) {
		struct virtio_queue *q = &b->vdev.queues[i];

		memset(&b->q[i], 0, sizeof(b->q[i]));
		b->q[i].usable = q->enabled && q->vq.ready;
	}
	b->free_reqs = NULL;
	for (unsigned int i = 0; i < BLK_NR_REQS; i++)
		put_req(b, &b->reqs[i]);
	/* Without FLUSH the driver cannot ask for durability: write through. */
	b->dsync = !(b->vdev.driver_features & (1ULL << VIRTIO_BLK_F_FLUSH));
	b->stopping = false;
	b->ops_pending = 0;
	b->rr = 0;
	drain(b->stop_fd);	/* non-blocking: nothing left from the last stop */

	/*
	 * Signals are for the vCPU and main threads; all but SIGSYS, which a
	 * seccomp filter raises in the thread that made the call: blocked, the
	 * kernel would kill the whole process instead of letting the handler
	 * name the call and stop the VM in order.
	 */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&b->thread, NULL, io_thread, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	b->active = true;
	return 0;
}

void blk_io_stop(struct virtio_blk *b)
{
	uint64_t one = 1;

	if (write(b->stop_fd, &one, sizeof(one)) < 0)
		log_err("%s: cannot stop the I/O thread: %s", b->name, strerror(errno));
	pthread_join(b->thread, NULL);
	b->active = false;
}
