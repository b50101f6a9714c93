// SPDX-License-Identifier: MIT
/*
 * virtio-blk at VM setup: what the transport is handed (features, queues,
 * the configuration space) and the one-line errors for the user's
 * mistakes, each of which must leave nothing open and log nothing. Also
 * vmm/disks.c, the composition root's all-or-nothing loop over --disk.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "devices/virtio/blk.h"
#include "vmm/disks.h"

#define F(bit)	(1ULL << (bit))

static char img[64], img2[64];
static char err[512];

static void make(char *path, off_t size)
{
	int fd;

	strcpy(path, "/tmp/vblk-create-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, size), 0);
	close(fd);
}

static void setup(void)
{
	make(img, 1 << 20);
	make(img2, 1 << 20);
}

static void teardown(void)
{
	unlink(img);
	unlink(img2);
}

TestSuite(create, .init = setup, .fini = teardown);

static int nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The open flags of this process's fd on path (the device's), from fdinfo. */
static int device_fd_flags(const char *path)
{
	char link[300], target[256], line[128];
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int flags = -1;

	cr_assert(d);
	while ((e = readdir(d)) && flags < 0) {
		ssize_t n;
		FILE *f;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(link, "r");
		cr_assert(f);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "flags: %o", &flags) == 1)
				break;
		fclose(f);
	}
	closedir(d);
	return flags;
}

/*
 * create must fail with -want_errno, one line containing both strings,
 * *out NULL, no fd left behind and nothing written to stderr.
 */
static void create_fails(const struct disk_opts *o, int want_errno, const char *want1,
			 const char *want2)
{
	struct virtio_dev *v = (struct virtio_dev *)1;
	char logname[] = "/tmp/vblk-stderr-XXXXXX";
	int before = nr_fds(), log_fd = mkstemp(logname), saved = dup(2), ret;
	off_t logged;

	cr_assert(log_fd >= 0 && saved >= 0);
	unlink(logname);
	dup2(log_fd, 2);
	ret = virtio_blk_create(o, 1, &v, err, sizeof(err));
	dup2(saved, 2);
	close(saved);
	logged = lseek(log_fd, 0, SEEK_END);
	close(log_fd);
	cr_assert_eq(ret, -want_errno, "got %d (%s), want %d", ret, err, -want_errno);
	cr_assert_null(v);
	cr_assert_null(strchr(err, '\n'), "%s", err);
	cr_assert(strstr(err, want1), "'%s' lacks '%s'", err, want1);
	cr_assert(strstr(err, want2), "'%s' lacks '%s'", err, want2);
	cr_assert_eq(nr_fds(), before, "fds left open");
	cr_assert_eq(logged, 0, "create logged something");
}

static struct virtio_dev *create_ok(const struct disk_opts *o, unsigned int nq)
{
	struct virtio_dev *v;

	cr_assert_eq(virtio_blk_create(o, nq, &v, err, sizeof(err)), 0, "%s", err);
	return v;
}

/* ---- what the transport is handed ---- */

static uint64_t cfg64(struct virtio_dev *v, uint32_t off)
{
	uint64_t x;

	v->ops->config_read(v, off, &x, 8);
	return le64toh(x);
}

static uint32_t cfg32(struct virtio_dev *v, uint32_t off)
{
	uint32_t x;

	v->ops->config_read(v, off, &x, 4);
	return le32toh(x);
}

static uint16_t cfg16(struct virtio_dev *v, uint32_t off)
{
	uint16_t x;

	v->ops->config_read(v, off, &x, 2);
	return le16toh(x);
}

static uint8_t cfg8(struct virtio_dev *v, uint32_t off)
{
	uint8_t x;

	v->ops->config_read(v, off, &x, 1);
	return x;
}

#define OFF(field)	((uint32_t)offsetof(struct virtio_blk_config, field))

Test(create, device_and_config)
{
	struct disk_opts o = { .path = img };
	uint64_t want = F(VIRTIO_BLK_F_FLUSH) | F(VIRTIO_BLK_F_BLK_SIZE) | F(VIRTIO_BLK_F_SEG_MAX) |
			F(VIRTIO_BLK_F_MQ) | F(VIRTIO_RING_F_INDIRECT_DESC) |
			F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_BLK_F_DISCARD) |
			F(VIRTIO_BLK_F_WRITE_ZEROES);
	struct virtio_dev *v;
	uint32_t lo, hi;
	int fd;

	/* A tail shorter than a sector is not addressable. */
	fd = open(img, O_WRONLY);
	cr_assert_eq(ftruncate(fd, (1 << 20) + 100), 0);
	close(fd);
	v = create_ok(&o, 3);
	cr_assert_eq(v->device_id, VIRTIO_ID_BLOCK);
	cr_assert_eq(v->nr_queues, 3);
	cr_assert_eq(v->queue_max, VIRTIO_BLK_QUEUE_MAX);
	cr_assert_eq(v->config_size, sizeof(struct virtio_blk_config));
	cr_assert_eq(v->features, want, "features 0x%llx, want 0x%llx (/tmp punches holes)",
		     (unsigned long long)v->features, (unsigned long long)want);
	cr_assert_eq(cfg64(v, OFF(capacity)), 2048);
	cr_assert_eq(cfg32(v, OFF(seg_max)), VIRTIO_BLK_SEG_MAX);
	cr_assert_eq(cfg32(v, OFF(blk_size)), 512);
	cr_assert_eq(cfg16(v, OFF(num_queues)), 3);
	cr_assert_eq(cfg32(v, OFF(max_discard_sectors)), 1u << 22);
	cr_assert_eq(cfg32(v, OFF(max_discard_seg)), 16);
	cr_assert_eq(cfg32(v, OFF(discard_sector_alignment)), 1);
	cr_assert_eq(cfg32(v, OFF(max_write_zeroes_sectors)), 1u << 22);
	cr_assert_eq(cfg32(v, OFF(max_write_zeroes_seg)), 16);
	cr_assert_eq(cfg8(v, OFF(write_zeroes_may_unmap)), 1);
	/* A driver may read a 64-bit field as two 32-bit halves. */
	lo = cfg32(v, OFF(capacity));
	hi = cfg32(v, OFF(capacity) + 4);
	cr_assert_eq(((uint64_t)hi << 32) | lo, 2048);
	/* The guest cannot change it. */
	v->ops->config_write(v, OFF(capacity), &(uint64_t){ 0 }, 8);
	cr_assert_eq(cfg64(v, OFF(capacity)), 2048);
	/* Read-write, buffered. */
	cr_assert_eq(device_fd_flags(img) & (O_ACCMODE | O_DIRECT), O_RDWR);
	virtio_blk_destroy(v);
	cr_assert_eq(device_fd_flags(img), -1, "destroy closes the image");
}

Test(create, readonly_direct_and_queues)
{
	struct disk_opts o = { .path = img, .readonly = true, .direct = true, .queues = 5 };
	struct virtio_dev *v = create_ok(&o, 2);

	cr_assert(v->features & F(VIRTIO_BLK_F_RO));
	cr_assert_not(v->features & (F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES)),
		      "nothing that writes");
	cr_assert_eq(cfg32(v, OFF(max_discard_sectors)), 0);
	cr_assert_eq(v->nr_queues, 5, "queues=5 wins over the caller's 2");
	cr_assert_eq(cfg16(v, OFF(num_queues)), 5);
	cr_assert_eq(device_fd_flags(img) & (O_ACCMODE | O_DIRECT), O_RDONLY | O_DIRECT);
	virtio_blk_destroy(v);
}

/* ---- the user's mistakes ---- */

Test(create, missing_file)
{
	struct disk_opts o = { .path = "/tmp/vblk-no-such-image.img" };

	create_fails(&o, ENOENT, "--disk /tmp/vblk-no-such-image.img: no such file",
		     "create it first (e.g. truncate -s 1G /tmp/vblk-no-such-image.img)");
}

Test(create, directory)
{
	struct disk_opts o = { .path = "/tmp" };

	create_fails(&o, EISDIR, "--disk /tmp: is a directory",
		     "give an image file or a block device");
	o.readonly = true;	/* O_RDONLY opens a directory: fstat catches it */
	create_fails(&o, EISDIR, "--disk /tmp: is a directory",
		     "give an image file or a block device");
}

Test(create, not_a_disk)
{
	struct disk_opts o = { .path = "/dev/null" };

	create_fails(&o, EINVAL, "--disk /dev/null: not a regular file or a block device",
		     "give an image file");
}

Test(create, empty_image)
{
	struct disk_opts o = { .path = img };

	cr_assert_eq(truncate(img, 0), 0);
	create_fails(&o, EINVAL, "empty (0 bytes)", "truncate -s 1G");
	cr_assert_eq(truncate(img, 511), 0);
	create_fails(&o, EINVAL, "empty (511 bytes)", "give it a size");
}

Test(create, bad_queues_and_serial)
{
	struct disk_opts o = { .path = img, .queues = 65 };

	create_fails(&o, EINVAL, "queues=65", "1 to 64");
	o.serial = "ABCDEFGHIJKLMNOPQRSTU";
	o.queues = 1;
	create_fails(&o, EINVAL, "serial=ABCDEFGHIJKLMNOPQRSTU", "at most 20");
}

/* OFD locks conflict between open file descriptions, in one process too. */
Test(create, locked_read_write)
{
	struct disk_opts rw = { .path = img }, ro = { .path = img, .readonly = true };
	struct virtio_dev *v = create_ok(&rw, 1);

	create_fails(&rw, EBUSY, "in use by another process (locked read-write)",
		     "stop that VM");
	create_fails(&ro, EBUSY, "locked read-write", "stop that VM");
	virtio_blk_destroy(v);
	v = create_ok(&rw, 1);	/* the lock went with the fd */
	virtio_blk_destroy(v);
}

Test(create, readonly_shares_with_readonly_only)
{
	struct disk_opts rw = { .path = img }, ro = { .path = img, .readonly = true };
	struct virtio_dev *a = create_ok(&ro, 1), *b = create_ok(&ro, 1);

	create_fails(&rw, EBUSY, "in use by another process (locked read-only)",
		     "use readonly=on");
	virtio_blk_destroy(a);
	create_fails(&rw, EBUSY, "locked read-only", "readonly=on");
	virtio_blk_destroy(b);
	virtio_blk_destroy(create_ok(&rw, 1));
}

/* Removing the lock would let two read-write opens through: this is what it is for. */
Test(create, lock_is_an_ofd_write_lock)
{
	struct disk_opts rw = { .path = img };
	struct virtio_dev *v = create_ok(&rw, 1);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int fd = open(img, O_RDONLY);

	cr_assert_eq(fcntl(fd, F_OFD_GETLK, &fl), 0);
	cr_assert_eq(fl.l_type, F_WRLCK, "a read-write disk holds a write lock");
	cr_assert_eq(fl.l_start, 0);
	cr_assert_eq(fl.l_len, 0, "on the whole file");
	close(fd);
	virtio_blk_destroy(v);
}

/* ---- vmm/disks.c ---- */

Test(create, disks_open_all_or_nothing)
{
	struct disk_opts o[3] = {
		{ .path = img }, { .path = img2, .queues = 2 }, { .path = "/tmp/vblk-nope.img" },
	};
	struct disks d;
	int before = nr_fds();

	cr_assert_eq(disks_open(o, 2, 100, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d.nr, 2);
	cr_assert_eq(d.devs[0]->nr_queues, 64, "one per vCPU, at most 64");
	cr_assert_eq(d.devs[1]->nr_queues, 2);
	disks_close(&d);
	disks_close(&d);
	cr_assert_eq(d.nr, 0);
	cr_assert_eq(nr_fds(), before);

	cr_assert_eq(disks_open(o, 3, 1, &d, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "--disk /tmp/vblk-nope.img: no such file"), "%s", err);
	cr_assert_eq(d.nr, 0);
	cr_assert_eq(nr_fds(), before, "the first two were closed again");

	o[2].path = img;	/* the same image twice: the second open meets the first's lock */
	cr_assert_eq(disks_open(o, 3, 1, &d, err, sizeof(err)), -EBUSY);
	cr_assert(strstr(err, "locked read-write"), "%s", err);
	cr_assert_eq(nr_fds(), before);
}
