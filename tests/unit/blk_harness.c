// SPDX-License-Identifier: MIT
/*
 * The virtio-blk tests' common ground: a temporary image with a known
 * pattern, the device created on it and activated over queues the test
 * driver (virtio_driver.c) set up, and virtio-blk requests built and
 * completed the way a guest driver does.
 */
#include "blk_harness.h"

#include <criterion/criterion.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

char img[64];
int loop_fd = -1;	/* a loop device over img, for the block device test */
struct virtio_dev *vdev;
struct vdrv drv;
unsigned int resets_asked;

/* Sector s of the original image holds bytes (s * 7 + i) & 0xff. */
uint8_t pattern(uint64_t sector, unsigned int i)
{
	return (uint8_t)(sector * 7 + i);
}

void make_image(const char *dir)
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
void start_q(const struct disk_opts *opts, unsigned int nq, uint16_t qsize,
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

void start(const struct disk_opts *opts, unsigned int nq, uint64_t features)
{
	start_q(opts, nq, 64, features);
}

void start_rw(unsigned int nq, uint64_t features)
{
	struct disk_opts o = { .path = img };

	start(&o, nq, features);
}

void blk_setup(void)
{
	make_image("/tmp");
	vdev = NULL;
}

void blk_teardown(void)
{
	if (vdev) {
		vdev->ops->reset(vdev);
		vdrv_fini(&drv);
		virtio_blk_destroy(vdev);
	}
	if (loop_fd >= 0)
		close(loop_fd);	/* autoclear: the loop device goes with its last fd */
	unlink(img);
}

/* ---- requests as a driver builds them ---- */

uint64_t header(uint32_t type, uint64_t sector)
{
	uint64_t gpa = vdrv_alloc(&drv, sizeof(struct virtio_blk_outhdr));
	struct virtio_blk_outhdr h = { .type = htole32(type), .sector = htole64(sector) };

	memcpy(vdrv_host(&drv, gpa), &h, sizeof(h));
	return gpa;
}

uint64_t status_byte(void)
{
	uint64_t gpa = vdrv_alloc(&drv, 1);

	*(uint8_t *)vdrv_host(&drv, gpa) = STATUS_NONE;
	return gpa;
}

/* header, data (device-writable unless write), status: the layout Linux uses. */
struct req post(unsigned int qi, uint32_t type, uint64_t sector, uint32_t len,
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

struct req post_read(unsigned int qi, uint64_t sector, uint32_t len)
{
	return post(qi, VIRTIO_BLK_T_IN, sector, len, true, false);
}

struct req post_write(unsigned int qi, uint64_t sector, uint32_t len, uint8_t fill)
{
	struct req r = post(qi, VIRTIO_BLK_T_OUT, sector, len, false, false);

	memset(vdrv_host(&drv, r.data), fill, len);
	return r;
}

uint8_t status_of(const struct req *r)
{
	return *(uint8_t *)vdrv_host(&drv, r->status);
}

/*
 * Kicks and waits until every request posted on the queue is used. (Not "n
 * more than now": the device may serve requests before the kick, e.g. on
 * its first pass after activate.)
 */
void complete(unsigned int qi)
{
	vdrv_kick(&drv, qi);
	cr_assert(vdrv_wait_used(&drv, qi, drv.q[qi].avail_idx),
		  "queue %u: %u of %u requests used after %d ms", qi, vdrv_used_idx(&drv, qi),
		  drv.q[qi].avail_idx, VDRV_TIMEOUT_MS);
}

/* Whether r's head is in the used ring, and its written length. */
bool find_used(const struct req *r, uint32_t *len)
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

uint32_t used_len_of(const struct req *r)
{
	uint32_t len = 0;

	cr_assert(find_used(r, &len), "head %u not in the used ring", r->head);
	return len;
}

void read_image(uint64_t off, void *buf, size_t len)
{
	int fd = open(img, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

bool image_is_pattern(uint64_t sector, unsigned int nsec)
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

bool all(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

struct req post_dwz(uint32_t type, uint64_t sector, uint32_t nsec, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes d = {
		.sector = htole64(sector), .num_sectors = htole32(nsec), .flags = htole32(flags),
	};
	struct req r = post(0, type, 0, sizeof(d), false, false);

	memcpy(vdrv_host(&drv, r.data), &d, sizeof(d));
	return r;
}

/*
 * A loop device over the image with 4 KiB logical blocks: sized with
 * BLKGETSIZE64/BLKSSZGET, discard through BLKDISCARD, write zeroes through
 * fallocate on the block device. Needs root and loop devices.
 */
bool attach_loop(char *dev, size_t len)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int backing = open(img, O_RDWR | O_CLOEXEC);

	for (int tries = 0; ctl >= 0 && backing >= 0 && tries < 5; tries++) {
		struct loop_config cfg = { .fd = (uint32_t)backing, .block_size = 4096 };
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf(dev, len, "/dev/loop%d", n);
		loop_fd = n < 0 ? -1 : open(dev, O_RDWR | O_CLOEXEC);
		if (loop_fd >= 0 && !ioctl(loop_fd, LOOP_CONFIGURE, &cfg))
			break;
		if (loop_fd >= 0)
			close(loop_fd);
		loop_fd = -1;	/* taken by someone else meanwhile: another one */
	}
	if (ctl >= 0)
		close(ctl);
	if (backing >= 0)
		close(backing);
	return loop_fd >= 0;
}

