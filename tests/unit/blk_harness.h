/* SPDX-License-Identifier: MIT */
#ifndef TESTS_UNIT_BLK_HARNESS_H
#define TESTS_UNIT_BLK_HARNESS_H

#include <linux/virtio_blk.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "devices/virtio/blk.h"
#include "virtio_driver.h"

#define IMG_SECTORS	2048	/* 1 MiB */
#define F(bit)		(1ULL << (bit))
#define F_BASE		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_FLUSH))
#define STATUS_NONE	0xee	/* what the test leaves in a status byte */

extern char img[64];		/* the image, in /tmp unless a test makes another */
extern int loop_fd;		/* a loop device over img, for block device tests */
extern struct virtio_dev *vdev;
extern struct vdrv drv;
extern unsigned int resets_asked;	/* needs_reset calls */

/* The suite's init and fini: a fresh image; the device reset and destroyed. */
void blk_setup(void);
void blk_teardown(void);

/* Sector s of the image holds bytes (s * 7 + i) & 0xff. */
uint8_t pattern(uint64_t sector, unsigned int i);
void make_image(const char *dir);

/* The device on opts, nq queues of qsize (64), negotiated features, activated. */
void start_q(const struct disk_opts *opts, unsigned int nq, uint16_t qsize, uint64_t features);
void start(const struct disk_opts *opts, unsigned int nq, uint64_t features);
void start_rw(unsigned int nq, uint64_t features);

struct req {
	uint16_t head;
	uint64_t hdr, data, status;
	unsigned int qi;
};

uint64_t header(uint32_t type, uint64_t sector);
uint64_t status_byte(void);
/* header, data (device-writable when data_writable), status: the layout Linux uses. */
struct req post(unsigned int qi, uint32_t type, uint64_t sector, uint32_t len,
		bool data_writable, bool indirect);
struct req post_read(unsigned int qi, uint64_t sector, uint32_t len);
struct req post_write(unsigned int qi, uint64_t sector, uint32_t len, uint8_t fill);
/* One range of discard or write zeroes, on queue 0. */
struct req post_dwz(uint32_t type, uint64_t sector, uint32_t nsec, uint32_t flags);
uint8_t status_of(const struct req *r);
/* Kicks, and waits until every request posted on the queue is used. */
void complete(unsigned int qi);
bool find_used(const struct req *r, uint32_t *len);
uint32_t used_len_of(const struct req *r);

void read_image(uint64_t off, void *buf, size_t len);
bool image_is_pattern(uint64_t sector, unsigned int nsec);
bool all(const uint8_t *p, size_t len, uint8_t v);

/* A loop device (autoclear, 4 KiB blocks) over img into loop_fd; false without. */
bool attach_loop(char *dev, size_t len);

#endif
