// SPDX-License-Identifier: MIT
/*
 * virtio-blk requests, driven as the transport drives the device: queues
 * set up over a fake guest RAM with real kick and call eventfds, activate,
 * requests posted by a driver played by the test, the kick eventfd
 * written, the call eventfd waited on; then the used ring, the status
 * bytes and the temporary image file are checked. Here: each request type,
 * and what a driver must not do. Queues, interrupts and the life cycle are
 * in test_virtio_blk_queues.c.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_harness.h"

TestSuite(blk, .init = blk_setup, .fini = blk_teardown);

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
