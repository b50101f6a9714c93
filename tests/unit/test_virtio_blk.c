// SPDX-License-Identifier: MIT
/*
 * virtio-blk driven as the transport drives it: queues set up over a fake
 * guest RAM with real kick and call eventfds, activate, requests posted by
 * a driver played by the test (virtio_driver.c), the kick eventfd written,
 * the call eventfd waited on; then the used ring, the status bytes and the
 * temporary image file are checked.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "devices/virtio/blk.h"
#include "virtio_driver.h"

#define IMG_SECTORS	2048	/* 1 MiB */
#define F(bit)		(1ULL << (bit))
#define F_BASE		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_FLUSH))
#define STATUS_NONE	0xee	/* what the test leaves in a status byte */

static char img[64];
static struct virtio_dev *vdev;
static struct vdrv drv;
static unsigned int resets_asked;

/* Sector s of the original image holds bytes (s * 7 + i) & 0xff. */
static uint8_t pattern(uint64_t sector, unsigned int i)
{
	return (uint8_t)(sector * 7 + i);
}

static void make_image(const char *dir)
{
	uint8_t sec[512];
	int fd;

	snprintf(img, sizeof(img), "%s/vblk-test-XXXXXX", dir);
	fd = mkstemp(img);
	cr_assert(fd >= 0);
	for (uint64_t s = 0; s < IMG_SECTORS; s++) {
		for (unsigned int i = 0; i < sizeof(sec); i++)
			sec[i] = pattern(s, i);
		cr_assert_eq(pwrite(fd, sec, sizeof(sec), (off_t)(s * 512)), 512);
	}
	close(fd);
}

static void count_reset(struct virtio_dev *v)
{
	(void)v;
	__atomic_add_fetch(&resets_asked, 1, __ATOMIC_SEQ_CST);
}

/* Creates the device on img, sets up nq queues of qsize and activates it. */
static void start_q(const struct disk_opts *opts, unsigned int nq, uint16_t qsize,
		    uint64_t features)
{
	char err[256];

	cr_assert_eq(virtio_blk_create(opts, nq, &vdev, err, sizeof(err)), 0, "%s", err);
	vdev->needs_reset = count_reset;
	resets_asked = 0;
	vdrv_init(&drv, vdev);
	vdrv_setup_queues(&drv, nq, qsize, features);
	cr_assert_eq(vdev->ops->activate(vdev), 0);
}

static void start(const struct disk_opts *opts, unsigned int nq, uint64_t features)
{
	start_q(opts, nq, 64, features);
}

static void start_rw(unsigned int nq, uint64_t features)
{
	struct disk_opts o = { .path = img };

	start(&o, nq, features);
}

static void setup_tmp(void)
{
	make_image("/tmp");
	vdev = NULL;
}

static void teardown(void)
{
	if (vdev) {
		vdev->ops->reset(vdev);
		vdrv_fini(&drv);
		virtio_blk_destroy(vdev);
	}
	unlink(img);
}

TestSuite(blk, .init = setup_tmp, .fini = teardown);

/* ---- requests as a driver builds them ---- */

struct req {
	uint16_t head;
	uint64_t hdr, data, status;
	unsigned int qi;
};

static uint64_t header(uint32_t type, uint64_t sector)
{
	uint64_t gpa = vdrv_alloc(&drv, sizeof(struct virtio_blk_outhdr));
	struct virtio_blk_outhdr h = { .type = htole32(type), .sector = htole64(sector) };

	memcpy(vdrv_host(&drv, gpa), &h, sizeof(h));
	return gpa;
}

static uint64_t status_byte(void)
{
	uint64_t gpa = vdrv_alloc(&drv, 1);

	*(uint8_t *)vdrv_host(&drv, gpa) = STATUS_NONE;
	return gpa;
}

/* header, data (device-writable unless write), status: the layout Linux uses. */
static struct req post(unsigned int qi, uint32_t type, uint64_t sector, uint32_t len,
		       bool data_writable, bool indirect)
{
	struct req r = { .qi = qi };
	struct vdrv_buf b[3];
	unsigned int n = 0;

	r.hdr = header(type, sector);
	b[n++] = (struct vdrv_buf){ r.hdr, sizeof(struct virtio_blk_outhdr), false };
	if (len) {
		r.data = vdrv_alloc(&drv, len);
		b[n++] = (struct vdrv_buf){ r.data, len, data_writable };
	}
	r.status = status_byte();
	b[n++] = (struct vdrv_buf){ r.status, 1, true };
	r.head = vdrv_post(&drv, qi, b, n, indirect);
	return r;
}

static struct req post_read(unsigned int qi, uint64_t sector, uint32_t len)
{
	return post(qi, VIRTIO_BLK_T_IN, sector, len, true, false);
}

static struct req post_write(unsigned int qi, uint64_t sector, uint32_t len, uint8_t fill)
{
	struct req r = post(qi, VIRTIO_BLK_T_OUT, sector, len, false, false);

	memset(vdrv_host(&drv, r.data), fill, len);
	return r;
}

static uint8_t status_of(const struct req *r)
{
	return *(uint8_t *)vdrv_host(&drv, r->status);
}

/*
 * Kicks and waits until every request posted on the queue is used. (Not "n
 * more than now": the device may serve requests before the kick, e.g. on
 * its first pass after activate.)
 */
static void complete(unsigned int qi)
{
	vdrv_kick(&drv, qi);
	cr_assert(vdrv_wait_used(&drv, qi, drv.q[qi].avail_idx),
		  "queue %u: %u of %u requests used after %d ms", qi, vdrv_used_idx(&drv, qi),
		  drv.q[qi].avail_idx, VDRV_TIMEOUT_MS);
}

/* Whether r's head is in the used ring, and its written length. */
static bool find_used(const struct req *r, uint32_t *len)
{
	uint16_t used = vdrv_used_idx(&drv, r->qi);

	for (uint16_t i = 0; i < used; i++) {
		uint32_t id;

		vdrv_used_elem(&drv, r->qi, i, &id, len);
		if (id == r->head)
			return true;
	}
	return false;
}

static uint32_t used_len_of(const struct req *r)
{
	uint32_t len = 0;

	cr_assert(find_used(r, &len), "head %u not in the used ring", r->head);
	return len;
}

static void read_image(uint64_t off, void *buf, size_t len)
{
	int fd = open(img, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool image_is_pattern(uint64_t sector, unsigned int nsec)
{
	uint8_t sec[512];

	for (unsigned int s = 0; s < nsec; s++) {
		read_image((sector + s) * 512, sec, sizeof(sec));
		for (unsigned int i = 0; i < sizeof(sec); i++)
			if (sec[i] != pattern(sector + s, i))
				return false;
	}
	return true;
}

static bool all(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- reads, writes, flush, id ---- */

Test(blk, read_returns_the_image)
{
	struct req r;
	const uint8_t *data;

	start_rw(1, F_BASE);
	r = post_read(0, 5, 3 * 512);
	complete(0);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_len_of(&r), 3 * 512 + 1, "data plus the status byte");
	data = vdrv_host(&drv, r.data);
	for (unsigned int s = 0; s < 3; s++)
		for (unsigned int i = 0; i < 512; i++)
			cr_assert_eq(data[s * 512 + i], pattern(5 + s, i), "sector %u byte %u", 5 + s, i);
}

Test(blk, write_reaches_the_image)
{
	uint8_t buf[1024];
	struct req r;

	start_rw(1, F_BASE);
	r = post_write(0, 100, sizeof(buf), 0x5a);
	complete(0);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_len_of(&r), 1);
	read_image(100 * 512, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0x5a));
	cr_assert(image_is_pattern(99, 1) && image_is_pattern(102, 1), "neighbours untouched");
}

Test(blk, flush)
{
	struct req w, f;

	start_rw(1, F_BASE);
	w = post_write(0, 0, 512, 1);
	complete(0);
	f = post(0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false);
	complete(0);
	cr_assert_eq(status_of(&w), VIRTIO_BLK_S_OK);
	cr_assert_eq(status_of(&f), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_len_of(&f), 1);
}

Test(blk, get_id_default_is_the_basename)
{
	struct req r;
	char want[VIRTIO_BLK_ID_BYTES] = { 0 };
	const char *base = strrchr(img, '/') + 1;

	start_rw(1, F_BASE);
	r = post(0, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true, false);
	memset(vdrv_host(&drv, r.data), 0xff, VIRTIO_BLK_ID_BYTES);
	complete(0);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_len_of(&r), VIRTIO_BLK_ID_BYTES + 1);
	memcpy(want, base, strlen(base));
	cr_assert_arr_eq(vdrv_host(&drv, r.data), want, sizeof(want), "zero padded basename");
}

Test(blk, get_id_serial)
{
	struct disk_opts o = { .path = img, .serial = "ABCDEFGHIJKLMNOPQRST" };
	struct req r;

	start(&o, 1, F_BASE);
	r = post(0, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true, false);
	complete(0);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_arr_eq(vdrv_host(&drv, r.data), "ABCDEFGHIJKLMNOPQRST", VIRTIO_BLK_ID_BYTES);
}

/* ---- discard and write zeroes ---- */

static struct req post_dwz(uint32_t type, uint64_t sector, uint32_t nsec, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes d = {
		.sector = htole64(sector), .num_sectors = htole32(nsec), .flags = htole32(flags),
	};
	struct req r = post(0, type, 0, sizeof(d), false, false);

	memcpy(vdrv_host(&drv, r.data), &d, sizeof(d));
	return r;
}

/* Each of discard, write zeroes and write zeroes+UNMAP leaves zeroes behind. */
static void zeroes_on(const char *dir)
{
	static const struct { uint32_t type, flags; } cases[] = {
		{ VIRTIO_BLK_T_DISCARD, 0 },
		{ VIRTIO_BLK_T_WRITE_ZEROES, 0 },
		{ VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP },
	};
	uint8_t buf[8 * 4096];

	unlink(img);
	make_image(dir);
	start_rw(1, F_BASE | F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES));
	cr_assert(vdev->features & F(VIRTIO_BLK_F_DISCARD), "%s: no DISCARD", dir);
	cr_assert(vdev->features & F(VIRTIO_BLK_F_WRITE_ZEROES), "%s: no WRITE_ZEROES", dir);
	for (unsigned int c = 0; c < 3; c++) {
		uint64_t sector = 64 + c * 128;	/* 4 KiB aligned, 64 sectors each */
		struct req r = post_dwz(cases[c].type, sector, 64, cases[c].flags);

		complete(0);
		cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK, "%s case %u", dir, c);
		read_image(sector * 512, buf, 64 * 512);
		cr_assert(all(buf, 64 * 512, 0), "%s case %u: not zeroes", dir, c);
		cr_assert(image_is_pattern(sector - 1, 1) && image_is_pattern(sector + 64, 1),
			  "%s case %u: neighbours changed", dir, c);
	}
}

Test(blk, discard_and_write_zeroes_on_tmp)
{
	zeroes_on("/tmp");
}

/* tmpfs punches holes but has no ZERO_RANGE: write zeroes falls back to punching. */
Test(blk, discard_and_write_zeroes_on_tmpfs)
{
	struct stat st;

	if (stat("/dev/shm", &st) || !S_ISDIR(st.st_mode))
		cr_skip_test("no /dev/shm");
	zeroes_on("/dev/shm");
}

Test(blk, discard_refuses_flags_and_ranges_past_the_end)
{
	struct req flags, past, many;

	start_rw(1, F_BASE | F(VIRTIO_BLK_F_DISCARD));
	flags = post_dwz(VIRTIO_BLK_T_DISCARD, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	past = post_dwz(VIRTIO_BLK_T_DISCARD, IMG_SECTORS - 4, 8, 0);
	/* 17 ranges: more than max_discard_seg */
	many = post(0, VIRTIO_BLK_T_DISCARD, 0, 17 * 16, false, false);
	complete(0);
	cr_assert_eq(status_of(&flags), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(status_of(&past), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&many), VIRTIO_BLK_S_IOERR);
	cr_assert(image_is_pattern(0, 8) && image_is_pattern(IMG_SECTORS - 4, 4));
}

/* ---- what a driver must not do ---- */

Test(blk, readonly_refuses_writes)
{
	struct disk_opts o = { .path = img, .readonly = true };
	static uint8_t before[IMG_SECTORS * 512], after[sizeof(before)];
	struct req w, d, z, rd;

	read_image(0, before, sizeof(before));
	start(&o, 1, F_BASE | F(VIRTIO_BLK_F_RO));
	cr_assert(vdev->features & F(VIRTIO_BLK_F_RO));
	cr_assert_not(vdev->features & (F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES)));
	w = post_write(0, 0, 4096, 0xaa);
	d = post_dwz(VIRTIO_BLK_T_DISCARD, 8, 8, 0);
	z = post_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 16, 8, 0);
	rd = post_read(0, 0, 512);
	complete(0);
	cr_assert_eq(status_of(&w), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&d), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(status_of(&z), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(status_of(&rd), VIRTIO_BLK_S_OK, "reads still work");
	read_image(0, after, sizeof(after));
	cr_assert_arr_eq(before, after, sizeof(before), "image changed");
}

Test(blk, out_of_range_is_ioerr)
{
	struct req end, straddle, huge, partial, last;

	start_rw(1, F_BASE);
	end = post_read(0, IMG_SECTORS, 512);
	straddle = post_write(0, IMG_SECTORS - 1, 1024, 0x11);
	huge = post_read(0, UINT64_MAX, 512);		/* sector * 512 would wrap */
	partial = post_read(0, 0, 100);			/* not whole sectors */
	last = post_read(0, IMG_SECTORS - 1, 512);	/* the last sector is fine */
	complete(0);
	cr_assert_eq(status_of(&end), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&straddle), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&huge), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&partial), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&last), VIRTIO_BLK_S_OK);
	cr_assert(image_is_pattern(IMG_SECTORS - 1, 1), "the straddling write wrote nothing");
}

Test(blk, unknown_type_is_unsupp)
{
	struct req scsi, odd, ok;

	start_rw(1, F_BASE);
	scsi = post(0, 2, 0, 512, true, false);		/* legacy SCSI passthrough */
	odd = post(0, 0x7777, 0, 0, false, false);
	ok = post_read(0, 1, 512);
	complete(0);
	cr_assert_eq(status_of(&scsi), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(status_of(&odd), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(status_of(&ok), VIRTIO_BLK_S_OK);
}

Test(blk, malformed_requests_fail_alone)
{
	struct vdrv_buf b[2];
	struct req noreply = { .qi = 0 }, shorthdr = { .qi = 0 }, ok;
	uint64_t hdr;

	start_rw(1, F_BASE);
	hdr = header(VIRTIO_BLK_T_IN, 0);
	/* Nothing writable: no status byte to answer in. */
	b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_IN, 0), 16, false };
	noreply.head = vdrv_post(&drv, 0, b, 1, false);
	/* An 8-byte header. */
	shorthdr.hdr = hdr;
	shorthdr.status = status_byte();
	b[0] = (struct vdrv_buf){ hdr, 8, false };
	b[1] = (struct vdrv_buf){ shorthdr.status, 1, true };
	shorthdr.head = vdrv_post(&drv, 0, b, 2, false);
	ok = post_read(0, 3, 512);
	complete(0);
	cr_assert_eq(used_len_of(&noreply), 0);
	cr_assert_eq(status_of(&shorthdr), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_of(&ok), VIRTIO_BLK_S_OK);
	cr_assert_eq(resets_asked, 0, "a bad request is not a broken queue");
}

/* A buffer outside guest RAM: the walker rejects the chain; it comes back with 0 bytes. */
Test(blk, rejected_chain_is_returned_empty)
{
	struct vdrv_buf b[3];
	struct req bad = { .qi = 0 }, ok;

	start_rw(1, F_BASE);
	bad.status = status_byte();
	b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_IN, 0), 16, false };
	b[1] = (struct vdrv_buf){ VDRV_RAM_SIZE + 4096, 512, true };
	b[2] = (struct vdrv_buf){ bad.status, 1, true };
	bad.head = vdrv_post(&drv, 0, b, 3, false);
	ok = post_read(0, 3, 512);
	complete(0);
	cr_assert_eq(used_len_of(&bad), 0);
	cr_assert_eq(status_of(&bad), STATUS_NONE, "a rejected chain is not served");
	cr_assert_eq(status_of(&ok), VIRTIO_BLK_S_OK);
	cr_assert_eq(resets_asked, 0);
}

/* A descriptor whose next is out of the table breaks the queue: reset asked, queue dropped. */
Test(blk, broken_queue_asks_for_reset)
{
	struct req bad, later, other;
	uint64_t desc;

	start_rw(2, F_BASE | F(VIRTIO_BLK_F_MQ));
	bad = post_read(0, 0, 512);
	desc = drv.q[0].desc_gpa + 16ULL * bad.head;
	*(uint16_t *)vdrv_host(&drv, desc + 14) = htole16(1000);	/* next */
	vdrv_kick(&drv, 0);
	for (int i = 0; i < 500 && !__atomic_load_n(&resets_asked, __ATOMIC_SEQ_CST); i++)
		usleep(10000);
	cr_assert_eq(resets_asked, 1, "needs_reset called once");
	/* The broken queue is left alone; the other queue still works. */
	later = post_read(0, 1, 512);
	vdrv_kick(&drv, 0);
	other = post_read(1, 2, 512);
	complete(1);
	cr_assert_eq(status_of(&other), VIRTIO_BLK_S_OK);
	usleep(50000);
	cr_assert_eq(vdrv_used_idx(&drv, 0), 0);
	cr_assert_eq(status_of(&later), STATUS_NONE);
	cr_assert_eq(resets_asked, 1);
}

/* ---- layout, interrupts, queues, life cycle ---- */

/* 1.x: the device may not assume where descriptors split header, data and status. */
Test(blk, any_layout)
{
	struct vdrv_buf b[2];
	struct req w = { .qi = 0 }, r = { .qi = 0 };
	uint8_t *p, buf[512];

	start_rw(1, F_BASE);
	/* write: header and data in one buffer */
	w.hdr = vdrv_alloc(&drv, 16 + 512);
	p = vdrv_host(&drv, w.hdr);
	memcpy(p, vdrv_host(&drv, header(VIRTIO_BLK_T_OUT, 9)), 16);
	memset(p + 16, 0x77, 512);
	w.status = status_byte();
	b[0] = (struct vdrv_buf){ w.hdr, 16 + 512, false };
	b[1] = (struct vdrv_buf){ w.status, 1, true };
	w.head = vdrv_post(&drv, 0, b, 2, false);
	/* read: data and status in one buffer */
	r.data = vdrv_alloc(&drv, 512 + 1);
	r.status = r.data + 512;
	b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_IN, 10), 16, false };
	b[1] = (struct vdrv_buf){ r.data, 512 + 1, true };
	r.head = vdrv_post(&drv, 0, b, 2, false);
	complete(0);
	cr_assert_eq(status_of(&w), VIRTIO_BLK_S_OK);
	read_image(9 * 512, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0x77));
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_len_of(&r), 513);
	p = vdrv_host(&drv, r.data);
	for (unsigned int i = 0; i < 512; i++)
		cr_assert_eq(p[i], pattern(10, i));
}

Test(blk, indirect_and_event_idx)
{
	uint64_t f = F_BASE | F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_RING_F_EVENT_IDX);
	struct req r;

	start_rw(1, f);
	cr_assert_eq(vdev->features & f & ~F(VIRTIO_F_VERSION_1), f & ~F(VIRTIO_F_VERSION_1),
		     "offered");
	r = post(0, VIRTIO_BLK_T_IN, 4, 1024, true, true);
	complete(0);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_eq(((uint8_t *)vdrv_host(&drv, r.data))[512], pattern(5, 0));
}

/* The call eventfd is written when the driver wants it, and only then. */
static void interrupt_case(uint64_t features, bool suppress)
{
	struct pollfd p;
	struct req r;

	start_rw(1, features);
	p = (struct pollfd){ .fd = vdev->queues[0].call_fd, .events = POLLIN };
	if (suppress) {
		if (features & F(VIRTIO_RING_F_EVENT_IDX))
			vdrv_set_used_event(&drv, 0, 5);	/* not before the 6th */
		else
			vdrv_set_avail_flags(&drv, 0, VRING_AVAIL_F_NO_INTERRUPT);
	}
	r = post_read(0, 0, 512);
	vdrv_kick(&drv, 0);
	if (!suppress) {
		cr_assert_eq(poll(&p, 1, VDRV_TIMEOUT_MS), 1, "no interrupt");
		cr_assert_eq(vdrv_used_idx(&drv, 0), 1);
		return;
	}
	for (int i = 0; i < 500 && vdrv_used_idx(&drv, 0) != 1; i++)
		usleep(10000);
	cr_assert_eq(vdrv_used_idx(&drv, 0), 1);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	cr_assert_eq(poll(&p, 1, 100), 0, "interrupt the driver did not want");
}

Test(blk, interrupts)
{
	interrupt_case(F_BASE, false);
}

Test(blk, interrupts_suppressed_by_flags)
{
	interrupt_case(F_BASE, true);
}

Test(blk, interrupts_with_event_idx)
{
	interrupt_case(F_BASE | F(VIRTIO_RING_F_EVENT_IDX), false);
}

Test(blk, interrupts_suppressed_by_used_event)
{
	interrupt_case(F_BASE | F(VIRTIO_RING_F_EVENT_IDX), true);
}

Test(blk, multi_queue)
{
	enum { NQ = 4, PER_Q = 8 };
	struct req r[NQ][PER_Q];

	start_rw(NQ, F_BASE | F(VIRTIO_BLK_F_MQ));
	for (unsigned int q = 0; q < NQ; q++)
		for (unsigned int i = 0; i < PER_Q; i++)
			r[q][i] = post_read(q, q * PER_Q + i, 512);
	for (unsigned int q = 0; q < NQ; q++)
		vdrv_kick(&drv, q);
	for (unsigned int q = 0; q < NQ; q++) {
		cr_assert(vdrv_wait_used(&drv, q, PER_Q), "queue %u", q);
		for (unsigned int i = 0; i < PER_Q; i++) {
			cr_assert_eq(status_of(&r[q][i]), VIRTIO_BLK_S_OK);
			cr_assert_eq(*(uint8_t *)vdrv_host(&drv, r[q][i].data),
				     pattern(q * PER_Q + i, 0));
		}
	}
}

/* More requests than the device has slots: the rest wait for completions, none lost. */
Test(blk, more_requests_than_slots)
{
	enum { N = 200 };
	static struct req r[N];
	struct disk_opts o = { .path = img };

	start_q(&o, 1, 256, F_BASE | F(VIRTIO_RING_F_INDIRECT_DESC));
	for (unsigned int i = 0; i < N; i++)
		r[i] = post(0, VIRTIO_BLK_T_IN, i, 512, true, true);
	complete(0);
	for (unsigned int i = 0; i < N; i++) {
		cr_assert_eq(status_of(&r[i]), VIRTIO_BLK_S_OK, "request %u", i);
		cr_assert_eq(((uint8_t *)vdrv_host(&drv, r[i].data))[1], pattern(i, 1));
	}
}

Test(blk, reset_then_activate_again)
{
	struct req before, after;

	start_rw(2, F_BASE | F(VIRTIO_BLK_F_MQ));
	before = post_read(0, 7, 512);
	complete(0);
	cr_assert_eq(status_of(&before), VIRTIO_BLK_S_OK);
	vdev->ops->reset(vdev);
	vdev->ops->reset(vdev);		/* twice is harmless */
	/* The driver sets up fresh rings, as after a real device reset. */
	vdrv_setup_queues(&drv, 2, 64, F_BASE | F(VIRTIO_BLK_F_MQ));
	cr_assert_eq(vdev->ops->activate(vdev), 0);
	after = post_write(1, 8, 512, 0x42);
	complete(1);
	cr_assert_eq(status_of(&after), VIRTIO_BLK_S_OK);
	cr_assert_eq(vdrv_used_idx(&drv, 1), 1, "indices start again from 0");
}

/* Reset with requests posted and kicked: it returns, having finished what it took. */
Test(blk, reset_waits_for_requests_in_flight)
{
	enum { N = 16 };
	struct req r[N];
	uint16_t used;
	uint32_t len;

	start_rw(1, F_BASE);
	for (unsigned int i = 0; i < N; i++)
		r[i] = post_write(0, i * 8, 4096, (uint8_t)i);
	vdrv_kick(&drv, 0);
	vdev->ops->reset(vdev);
	used = vdrv_used_idx(&drv, 0);
	/* What the device took it finished (status set); what it did not take is untouched. */
	for (unsigned int i = 0; i < N; i++)
		cr_assert_eq(find_used(&r[i], &len), status_of(&r[i]) != STATUS_NONE,
			     "request %u", i);
	usleep(20000);
	cr_assert_eq(vdrv_used_idx(&drv, 0), used, "used ring touched after reset");
	vdrv_setup_queues(&drv, 1, 64, F_BASE);
	cr_assert_eq(vdev->ops->activate(vdev), 0);
}
