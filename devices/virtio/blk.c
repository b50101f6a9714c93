// SPDX-License-Identifier: MIT
/*
 * virtio-blk: the backing (open, size, lock, what it can do), the features
 * and configuration space the guest sees, and the life cycle the transport
 * drives. The requests themselves are served by blk_io.c.
 *
 * Everything that can go wrong here is the user's (a path, a permission, an
 * image another VM holds) and is answered at VM setup with one line that
 * names the fix; nothing here is reachable by the guest except
 * config_read/config_write and activate/reset.
 */
#include "devices/virtio/blk_priv.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_ids.h>
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/log.h"

#define SECTOR_SIZE	512

_Static_assert(DISK_MAX_QUEUES == VIRTIO_MAX_QUEUES, "--disk queues= is bounded by the transport");

static int fail(char *err, size_t errlen, int ret, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "--disk PATH: <what>; <fix>", and the negative errno to return. */
static int fail(char *err, size_t errlen, int ret, const char *path, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(err, errlen, "--disk %s: ", path);
	if (n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int open_error(const struct disk_opts *o, int e, char *err, size_t errlen)
{
	const char *p = o->path;

	switch (e) {
	case ENOENT:
		return fail(err, errlen, -e, p,
			    "no such file: create it first (e.g. truncate -s 1G %s)", p);
	case EISDIR:
		return fail(err, errlen, -e, p,
			    "is a directory; give an image file or a block device");
	case ENOTDIR:
		return fail(err, errlen, -e, p,
			    "a part of the path is not a directory; check the path");
	case EACCES:
	case EPERM:
		if (o->readonly)
			return fail(err, errlen, -e, p,
				    "permission denied; make it readable by this user");
		return fail(err, errlen, -e, p,
			    "permission denied; make it writable by this user, or use readonly=on");
	case EROFS:
		return fail(err, errlen, -e, p,
			    "on a read-only file system; use readonly=on");
	case EINVAL:
		if (o->direct)
			return fail(err, errlen, -e, p,
				    "its file system does not support direct=on (O_DIRECT); "
				    "drop direct=on");
		break;
	case EBUSY:
		return fail(err, errlen, -e, p,
			    "in use by the host (mounted, or opened exclusively by another "
			    "program); unmount it or stop that program first");
	case ETXTBSY:
		return fail(err, errlen, -e, p,
			    "is a running program; give an image file or a block device");
	}
	return fail(err, errlen, -e, p, "cannot open: %s", strerror(e));
}

/*
 * O_NONBLOCK only so that a FIFO given by mistake cannot hang the open; it
 * is cleared again (io_uring would return -EAGAIN on a block device with
 * it set). A block device the guest may write is opened O_EXCL, which
 * Linux gives a meaning without O_CREAT for block devices only: it fails
 * while the host has the device mounted (or another program holds it so),
 * where the OFD lock would only stop other vfio-vmms.
 */
static int open_backing(const struct disk_opts *o, struct stat *st, char *err, size_t errlen)
{
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
	struct stat pre;
	int fd, e;

	if (o->direct)
		flags |= O_DIRECT;
	if (!o->readonly && !stat(o->path, &pre) && S_ISBLK(pre.st_mode))
		flags |= O_EXCL;
	fd = open(o->path, flags);
	if (fd < 0)
		return open_error(o, errno, err, errlen);
	if (fstat(fd, st)) {
		e = errno;
		close(fd);
		return fail(err, errlen, -e, o->path, "cannot stat: %s", strerror(e));
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return open_error(o, EISDIR, err, errlen);
	}
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		close(fd);
		return fail(err, errlen, -EINVAL, o->path,
			    "not a regular file or a block device; give an image file or a block device");
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		e = errno;
		close(fd);
		return fail(err, errlen, -e, o->path, "fcntl: %s", strerror(e));
	}
	return fd;
}

static int size_backing(struct virtio_blk *b, const struct disk_opts *o, const struct stat *st,
			char *err, size_t errlen)
{
	uint64_t bytes = (uint64_t)st->st_size;
	int ssz = SECTOR_SIZE;

	if (b->is_blkdev) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) || ioctl(b->fd, BLKSSZGET, &ssz))
			return fail(err, errlen, -errno, o->path, "cannot size the block device: %s",
				    strerror(errno));
		if (ssz < SECTOR_SIZE || ssz > 65536 || (ssz & (ssz - 1)))
			return fail(err, errlen, -EINVAL, o->path,
				    "logical block size %d is not a power of 2 from 512 to 64K", ssz);
	}
	if (bytes < (uint64_t)ssz)
		return fail(err, errlen, -EINVAL, o->path,
			    "empty (%" PRIu64 " bytes); give it a size (e.g. truncate -s 1G %s)",
			    bytes, o->path);
	/* A tail shorter than a block cannot be addressed: the disk ends before it. */
	b->capacity = (bytes / (uint64_t)ssz) * ((uint64_t)ssz / SECTOR_SIZE);
	b->blk_size = (uint32_t)ssz;
	return 0;
}

/*
 * An OFD lock belongs to the open file description, so it conflicts with
 * another VM's and with a second open in this process alike, and goes away
 * with our fd: nothing to clean up after a crash.
 */
static int lock_backing(struct virtio_blk *b, const struct disk_opts *o, char *err, size_t errlen)
{
	struct flock fl = { .l_type = o->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	struct flock who;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		if (!fcntl(b->fd, F_OFD_SETLK, &fl))
			return 0;
		if (errno != EAGAIN && errno != EACCES)
			return fail(err, errlen, -errno, o->path, "cannot lock: %s",
				    strerror(errno));
		who = fl;
		if (fcntl(b->fd, F_OFD_GETLK, &who))
			return fail(err, errlen, -errno, o->path, "cannot test its lock: %s",
				    strerror(errno));
		if (who.l_type == F_WRLCK)
			return fail(err, errlen, -EBUSY, o->path,
				    "in use by another process (locked read-write); stop that VM "
				    "first (not even readonly=on may share an image a VM writes)");
		if (who.l_type == F_RDLCK)
			return fail(err, errlen, -EBUSY, o->path,
				    "in use by another process (locked read-only); stop that VM, "
				    "or use readonly=on to share it read-only");
		/* The holder let go between the two calls: try again. */
	}
	return fail(err, errlen, -EBUSY, o->path, "its lock keeps changing hands; try again");
}

/* Where discard and write zeroes can be served, for a file or a block device. */
static void probe_discard(struct virtio_blk *b, const struct stat *st)
{
	char path[96];
	uint64_t max = 0;
	FILE *f;

	if (b->readonly)
		return;
	if (!b->is_blkdev) {
		/*
		 * Punching past the end changes nothing, yet file systems
		 * without PUNCH_HOLE refuse the mode before looking at the
		 * range. ZERO_RANGE has no such harmless probe (it would
		 * allocate past the end), so write zeroes tries it and falls
		 * back to punching, which reads back as zeroes too.
		 */
		off_t end = (st->st_size + 4095) & ~(off_t)4095;

		if (!fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, end, 4096))
			b->can_discard = b->can_write_zeroes = true;
		return;
	}
	/* BLKZEROOUT (ZERO_RANGE on a block device) falls back to writing zeroes. */
	b->can_write_zeroes = true;
	/* A partition has no queue/ of its own: its disk's is one level up. */
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/discard_max_bytes",
		 major(st->st_rdev), minor(st->st_rdev));
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/discard_max_bytes",
			 major(st->st_rdev), minor(st->st_rdev));
		f = fopen(path, "re");
	}
	if (f) {
		if (fscanf(f, "%" SCNu64, &max) != 1)
			max = 0;
		fclose(f);
	}
	b->can_discard = max > 0;
}

static int setup_ring(struct virtio_blk *b, const char *path, char *err, size_t errlen)
{
	static const struct { int op; const char *name; } need[] = {
		{ IORING_OP_POLL_ADD, "POLL_ADD" }, { IORING_OP_POLL_REMOVE, "POLL_REMOVE" },
		{ IORING_OP_READV, "READV" }, { IORING_OP_WRITEV, "WRITEV" },
		{ IORING_OP_FSYNC, "FSYNC" }, { IORING_OP_FALLOCATE, "FALLOCATE" },
	};
	struct io_uring_probe *p;
	int ret;

	ret = io_uring_queue_init(BLK_RING_ENTRIES, &b->ring, 0);
	if (ret == -EPERM)
		return fail(err, errlen, ret, path,
			    "io_uring is disabled on this host; allow it "
			    "(sysctl kernel.io_uring_disabled=0)");
	if (ret)
		return fail(err, errlen, ret, path,
			    "io_uring setup failed: %s; virtio-blk needs io_uring (Linux 5.6+)",
			    strerror(-ret));
	p = io_uring_get_probe_ring(&b->ring);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!p || !io_uring_opcode_supported(p, need[i].op)) {
			ret = fail(err, errlen, -EOPNOTSUPP, path,
				   "this kernel's io_uring lacks %s; virtio-blk needs Linux 5.6+",
				   need[i].name);
			break;
		}
	}
	if (p)
		io_uring_free_probe(p);
	if (ret)
		io_uring_queue_exit(&b->ring);
	return ret;
}

/* GET_ID: the user's serial, else the image's name, zero padded. */
static void set_serial(struct virtio_blk *b, const struct disk_opts *o)
{
	const char *s = o->serial;

	if (!s) {
		s = strrchr(o->path, '/');
		s = s ? s + 1 : o->path;
	}
	memcpy(b->serial, s, strnlen(s, sizeof(b->serial)));	/* b is zeroed: padded */
}

static void set_features_and_config(struct virtio_blk *b, unsigned int nr_queues)
{
	struct virtio_blk_config *c = &b->config;
	uint64_t f;

	f = 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
	    1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_MQ |
	    1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (b->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	if (b->can_discard)
		f |= 1ULL << VIRTIO_BLK_F_DISCARD;
	if (b->can_write_zeroes)
		f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	b->vdev.features = f;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->capacity);
	c->seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	c->blk_size = htole32(b->blk_size);
	c->num_queues = htole16((uint16_t)nr_queues);
	if (b->can_discard) {
		c->max_discard_sectors = htole32(BLK_DWZ_MAX_SECTORS);
		c->max_discard_seg = htole32(BLK_DWZ_MAX_SEG);
		c->discard_sector_alignment = htole32(b->blk_size / SECTOR_SIZE);
	}
	if (b->can_write_zeroes) {
		c->max_write_zeroes_sectors = htole32(BLK_DWZ_MAX_SECTORS);
		c->max_write_zeroes_seg = htole32(BLK_DWZ_MAX_SEG);
		/* Files punch a hole for a write zeroes with UNMAP. */
		c->write_zeroes_may_unmap = !b->is_blkdev;
	}
}

/* ---- what the transport calls ---- */

static int blk_activate(struct virtio_dev *vdev)
{
	struct virtio_blk *b = to_blk(vdev);

	if (b->active)
		return -EBUSY;
	return blk_io_start(b);
}

static void blk_reset(struct virtio_dev *vdev)
{
	struct virtio_blk *b = to_blk(vdev);

	if (b->active)
		blk_io_stop(b);
}

static void blk_config_read(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len)
{
	struct virtio_blk *b = to_blk(vdev);

	/* The transport bounds off + len; a second check costs nothing. */
	if (off > sizeof(b->config) || len > sizeof(b->config) - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, (const uint8_t *)&b->config + off, len);
}

static void blk_config_write(struct virtio_dev *vdev, uint32_t off, const void *data,
			     uint32_t len)
{
	struct virtio_blk *b = to_blk(vdev);

	(void)data;
	/* Only wce is writable, and only with CONFIG_WCE, which is not offered. */
	log_warn_rl("%s: guest wrote %u bytes of configuration at %u; ignored", b->name, len,
		    off);
}

static const struct virtio_dev_ops blk_ops = {
	.activate = blk_activate,
	.reset = blk_reset,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	/* Stops serving; virtio_blk_destroy() frees. */
	.destroy = blk_reset,
};

int virtio_blk_create(const struct disk_opts *o, unsigned int nr_queues,
		      struct virtio_dev **out, char *err, size_t errlen)
{
	struct virtio_blk *b;
	struct stat st;
	int ret;

	*out = NULL;
	if (!o->path || !*o->path) {
		snprintf(err, errlen, "--disk: no path given; use --disk path=FILE");
		return -EINVAL;
	}
	if (o->queues)
		nr_queues = o->queues;
	if (nr_queues < 1 || nr_queues > VIRTIO_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, o->path, "queues=%u: give 1 to %d", nr_queues,
			    VIRTIO_MAX_QUEUES);
	if (o->serial && strlen(o->serial) > DISK_SERIAL_MAX)
		return fail(err, errlen, -EINVAL, o->path, "serial=%s: at most %d characters",
			    o->serial, DISK_SERIAL_MAX);

	b = calloc(1, sizeof(*b));
	if (!b)
		return fail(err, errlen, -ENOMEM, o->path, "out of memory");
	b->reqs = calloc(BLK_NR_REQS, sizeof(*b->reqs));
	if (!b->reqs) {
		ret = fail(err, errlen, -ENOMEM, o->path, "out of memory");
		goto out_free;
	}
	b->fd = open_backing(o, &st, err, errlen);
	if (b->fd < 0) {
		ret = b->fd;
		goto out_free;
	}
	b->readonly = o->readonly;
	b->is_blkdev = S_ISBLK(st.st_mode);
	ret = size_backing(b, o, &st, err, errlen);
	if (!ret)
		ret = lock_backing(b, o, err, errlen);
	if (ret)
		goto out_close;
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stop_fd < 0) {
		ret = fail(err, errlen, -errno, o->path, "eventfd: %s", strerror(errno));
		goto out_close;
	}
	ret = setup_ring(b, o->path, err, errlen);
	if (ret)
		goto out_stop_fd;
	probe_discard(b, &st);
	set_serial(b, o);
	set_features_and_config(b, nr_queues);

	snprintf(b->name, sizeof(b->name), "virtio-blk %s", o->path);
	b->vdev.ops = &blk_ops;
	b->vdev.opaque = b;
	b->vdev.name = b->name;
	b->vdev.device_id = VIRTIO_ID_BLOCK;
	b->vdev.nr_queues = (uint16_t)nr_queues;
	b->vdev.queue_max = VIRTIO_BLK_QUEUE_MAX;
	b->vdev.config_size = sizeof(b->config);
	*out = &b->vdev;
	return 0;

out_stop_fd:
	close(b->stop_fd);
out_close:
	close(b->fd);	/* drops the lock, if we got it */
out_free:
	free(b->reqs);
	free(b);
	return ret;
}

void virtio_blk_destroy(struct virtio_dev *vdev)
{
	struct virtio_blk *b;

	if (!vdev)
		return;
	b = to_blk(vdev);
	blk_reset(vdev);
	io_uring_queue_exit(&b->ring);
	close(b->stop_fd);
	close(b->fd);
	free(b->reqs);
	free(b);
}
