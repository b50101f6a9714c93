// SPDX-License-Identifier: MIT
/*
 * virtio-blk as a device on queues (see test_virtio_blk.c for the setup):
 * any descriptor layout, indirect tables, interrupts wanted and
 * suppressed, several queues, more requests than slots, reset and activate
 * again, reset with requests in flight, O_DIRECT, and a block device.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "blk_harness.h"

TestSuite(blk, .init = blk_setup, .fini = blk_teardown);

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

/*
 * More requests than the device has slots, on one kick: the rest are
 * served as slots free up, with no kick for them; none lost.
 */
Test(blk, more_requests_than_slots)
{
	enum { N = 200 };
	static struct req r[N];
	struct disk_opts o = { .path = img };

	start_q(&o, 1, 256, F_BASE | F(VIRTIO_RING_F_INDIRECT_DESC));
	/* One round trip first, so the thread is idle and the next kick is the only one. */
	r[0] = post_read(0, 0, 512);
	complete(0);
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

/* direct=on: O_DIRECT reads and writes of block-aligned guest buffers. */
Test(blk, direct)
{
	struct disk_opts o = { .path = img, .direct = true };
	struct vdrv_buf b[3];
	struct req w = { .qi = 0 }, r = { .qi = 0 };
	uint8_t buf[4096];

	start(&o, 1, F_BASE);
	w.data = vdrv_alloc_aligned(&drv, 4096, 4096);
	memset(vdrv_host(&drv, w.data), 0x3c, 4096);
	w.status = status_byte();
	b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_OUT, 16), 16, false };
	b[1] = (struct vdrv_buf){ w.data, 4096, false };
	b[2] = (struct vdrv_buf){ w.status, 1, true };
	w.head = vdrv_post(&drv, 0, b, 3, false);
	r.data = vdrv_alloc_aligned(&drv, 4096, 4096);
	r.status = status_byte();
	b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_IN, 32), 16, false };
	b[1] = (struct vdrv_buf){ r.data, 4096, true };
	b[2] = (struct vdrv_buf){ r.status, 1, true };
	r.head = vdrv_post(&drv, 0, b, 3, false);
	complete(0);
	cr_assert_eq(status_of(&w), VIRTIO_BLK_S_OK);
	cr_assert_eq(status_of(&r), VIRTIO_BLK_S_OK);
	read_image(16 * 512, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0x3c));
	cr_assert(image_is_pattern(32, 8));
	for (unsigned int i = 0; i < 4096; i++)
		cr_assert_eq(((uint8_t *)vdrv_host(&drv, r.data))[i], pattern(32 + i / 512, i % 512));
}

/*
 * Reset with requests posted and kicked (direct=on, so reads are really in
 * flight): it returns having finished what it took. A request in the used
 * ring has its status and data; any other one is untouched, and stays so.
 */
Test(blk, reset_waits_for_requests_in_flight)
{
	enum { N = 32, LEN = 32 * 1024 };
	struct disk_opts o = { .path = img, .direct = true };
	struct vdrv_buf b[3];
	struct req r[N];
	uint16_t used;
	uint32_t len;

	start_q(&o, 1, 128, F_BASE);	/* room for N chains of 3 */
	for (unsigned int i = 0; i < N; i++) {
		r[i].qi = 0;
		r[i].data = vdrv_alloc_aligned(&drv, LEN, 4096);
		memset(vdrv_host(&drv, r[i].data), STATUS_NONE, LEN);
		r[i].status = status_byte();
		b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_IN, (i % 32) * 64), 16, false };
		b[1] = (struct vdrv_buf){ r[i].data, LEN, true };
		b[2] = (struct vdrv_buf){ r[i].status, 1, true };
		r[i].head = vdrv_post(&drv, 0, b, 3, false);
	}
	vdrv_kick(&drv, 0);
	vdev->ops->reset(vdev);
	used = vdrv_used_idx(&drv, 0);
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < N; i++) {
			const uint8_t *data = vdrv_host(&drv, r[i].data);

			if (find_used(&r[i], &len)) {
				cr_assert_eq(status_of(&r[i]), VIRTIO_BLK_S_OK, "request %u: status %u",
					     i, status_of(&r[i]));
				cr_assert_eq(data[LEN - 1], pattern((i % 32) * 64 + 63, 511));
			} else {
				cr_assert_eq(status_of(&r[i]), STATUS_NONE, "request %u", i);
				cr_assert(all(data, LEN, STATUS_NONE),
					  "request %u: not used, yet its buffer was written", i);
			}
		}
		usleep(100000);	/* what a thread that did not wait would still be doing */
	}
	cr_assert_eq(vdrv_used_idx(&drv, 0), used, "used ring touched after reset");
	vdrv_setup_queues(&drv, 1, 64, F_BASE);
	cr_assert_eq(vdev->ops->activate(vdev), 0);
	r[0] = post_read(0, 1, 512);
	complete(0);
	cr_assert_eq(status_of(&r[0]), VIRTIO_BLK_S_OK);
}

Test(blk, block_device)
{
	char dev[32];
	struct disk_opts o = { .path = dev };
	struct req rd, wr, fl, dis, wz;
	uint32_t blk_size;
	uint64_t cap;
	uint8_t buf[4096];

	if (geteuid() || !attach_loop(dev, sizeof(dev)))
		cr_skip_test("no loop device to test a block device with (needs root)");
	start(&o, 1, F_BASE | F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES));
	vdev->ops->config_read(vdev, offsetof(struct virtio_blk_config, blk_size), &blk_size, 4);
	vdev->ops->config_read(vdev, offsetof(struct virtio_blk_config, capacity), &cap, 8);
	cr_assert_eq(le32toh(blk_size), 4096, "BLKSSZGET");
	cr_assert_eq(le64toh(cap), IMG_SECTORS, "BLKGETSIZE64");
	cr_assert(vdev->features & F(VIRTIO_BLK_F_WRITE_ZEROES));
	cr_assert(vdev->features & F(VIRTIO_BLK_F_DISCARD), "loop discards (punching its file)");

	rd = post_read(0, 8, 4096);
	wr = post_write(0, 16, 4096, 0x99);
	complete(0);
	fl = post(0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false);
	dis = post_dwz(VIRTIO_BLK_T_DISCARD, 64, 8, 0);
	wz = post_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 128, 8, 0);
	complete(0);
	cr_assert_eq(status_of(&rd), VIRTIO_BLK_S_OK);
	cr_assert_eq(((uint8_t *)vdrv_host(&drv, rd.data))[4095], pattern(15, 511));
	cr_assert_eq(status_of(&wr), VIRTIO_BLK_S_OK);
	cr_assert_eq(status_of(&fl), VIRTIO_BLK_S_OK);
	cr_assert_eq(status_of(&dis), VIRTIO_BLK_S_OK);
	cr_assert_eq(status_of(&wz), VIRTIO_BLK_S_OK);
	/* Through the loop device to its file. */
	read_image(16 * 512, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0x99), "write + flush reached the file");
	read_image(64 * 512, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0), "discarded");
	read_image(128 * 512, buf, sizeof(buf));
	cr_assert(all(buf, sizeof(buf), 0), "zeroed");
	cr_assert(image_is_pattern(72, 56), "between them untouched");
}

/* A block device the host holds (mounted, or opened O_EXCL) is not given to a guest to write. */
Test(blk, block_device_held_by_the_host)
{
	char dev[32], msg[256];
	struct disk_opts o = { .path = dev };
	struct virtio_dev *v;
	int held;

	if (geteuid() || !attach_loop(dev, sizeof(dev)))
		cr_skip_test("no loop device to test a block device with (needs root)");
	held = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);
	cr_assert(held >= 0);
	cr_assert_eq(virtio_blk_create(&o, 1, &v, msg, sizeof(msg)), -EBUSY);
	cr_assert(strstr(msg, "in use by the host") && strstr(msg, "unmount it"), "%s", msg);
	o.readonly = true;	/* reading it is the user's call */
	cr_assert_eq(virtio_blk_create(&o, 1, &v, msg, sizeof(msg)), 0, "%s", msg);
	virtio_blk_destroy(v);
	close(held);
	o.readonly = false;
	cr_assert_eq(virtio_blk_create(&o, 1, &v, msg, sizeof(msg)), 0, "%s", msg);
	virtio_blk_destroy(v);
}
