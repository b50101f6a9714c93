// SPDX-License-Identifier: MIT
/*
 * iommu-probe: drives iommu/ against real VFIO, without a VM. Meant for the
 * nested testbed (copy the static binary into L1):
 *
 *   iommu-probe [--trace] [--ram MIB] [--hugepages] [--edu-dma] DEVICE...
 *
 * Attaches the devices to one type1 container, prints what GET_INFO says,
 * maps --ram MiB of anonymous memory at IOVA 0 the way a VM's RAM is
 * mapped, and with --edu-dma (first DEVICE must be QEMU's edu) proves the
 * mapping by DMA both ways, then proves an unmapped range is blocked.
 * Prints "PROBE ..." lines; exit status 0 only if everything asked worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "iommu/iommu.h"
#include "util/log.h"

#define MiB (1ULL << 20)
#define EDU_BUF 0x40000u	/* the device's own 4 KiB buffer */
#define EDU_LEN 1024u		/* QEMU 7.2's edu aborts on exactly 4096 */

struct edu {
	int fd;
	volatile uint32_t *bar;
	uint64_t cfg_off;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int region(int fd, unsigned int index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

static int edu_open(struct edu *e, int fd)
{
	struct vfio_region_info bar, cfg;
	uint16_t cmd;
	void *p;

	e->fd = fd;
	if (region(fd, VFIO_PCI_BAR0_REGION_INDEX, &bar) ||
	    region(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg))
		return -errno;
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)bar.offset);
	if (p == MAP_FAILED)
		return -errno;
	e->bar = p;
	e->cfg_off = cfg.offset;
	/* Bus master, or the device's DMA never leaves it. */
	if (pread(fd, &cmd, 2, (off_t)(cfg.offset + 4)) != 2)
		return -EIO;
	cmd |= 0x6;
	if (pwrite(fd, &cmd, 2, (off_t)(cfg.offset + 4)) != 2)
		return -EIO;
	printf("PROBE edu: ident %#x, BAR0 %" PRIu64 " KiB mmapped\n", e->bar[0],
	       (uint64_t)bar.size >> 10);
	return e->bar[0] == 0x010000ed ? 0 : -ENODEV;
}

/* One DMA; to_ram: device buffer -> iova, else iova -> device buffer. */
static int edu_dma(struct edu *e, uint32_t iova, bool to_ram)
{
	double t0 = now_s();

	e->bar[0x80 / 4] = to_ram ? EDU_BUF : iova;
	e->bar[0x84 / 4] = 0;
	e->bar[0x88 / 4] = to_ram ? iova : EDU_BUF;
	e->bar[0x8c / 4] = 0;
	e->bar[0x90 / 4] = EDU_LEN;
	e->bar[0x94 / 4] = 0;
	e->bar[0x98 / 4] = 1 | (to_ram ? 2 : 0);
	while (e->bar[0x98 / 4] & 1)
		if (now_s() - t0 > 2)
			return -ETIMEDOUT;
	return 0;
}

static int edu_roundtrip(struct edu *e, uint8_t *ram, uint32_t src, uint32_t dst)
{
	for (unsigned int i = 0; i < EDU_LEN; i++) {
		ram[src + i] = (uint8_t)(i * 7 + 3);
		ram[dst + i] = 0;
	}
	if (edu_dma(e, src, false) || edu_dma(e, dst, true))
		return -ETIMEDOUT;
	return memcmp(ram + src, ram + dst, EDU_LEN) ? -EIO : 0;
}

/* DMA into an extra mapping, unmap it, DMA again: the second must not land. */
static int edu_blocked(struct iommu *io, struct edu *e, uint8_t *ram, uint64_t ram_size)
{
	const uint32_t iova = (uint32_t)ram_size;	/* just above RAM */
	uint8_t *buf;
	int ret = -EIO;

	/* edu masks DMA addresses to 28 bits. */
	if (ram_size + 4096 > (1u << 28)) {
		printf("PROBE no IOVA left under edu's 28-bit limit: blocked-DMA check skipped\n");
		return 0;
	}

	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -errno;
	memset(buf, 0xaa, 4096);
	memset(ram, 0x5c, EDU_LEN);
	if (iommu_map_extra(io, iova, buf, 4096) || edu_dma(e, 0, false) ||
	    edu_dma(e, iova, true) || buf[0] != 0x5c)
		goto out;
	printf("PROBE extra range at %#x: device wrote it while mapped\n", iova);
	memset(buf, 0xaa, 4096);
	if (iommu_unmap_extra(io, iova))
		goto out;
	edu_dma(e, iova, true);
	ret = buf[0] == 0xaa && buf[EDU_LEN - 1] == 0xaa ? 0 : -EIO;
	printf("PROBE after unmap: buffer %s\n", ret ? "CHANGED (not blocked)" : "unchanged (blocked)");
out:
	munmap(buf, 4096);
	return ret;
}

static int run_edu(struct iommu *io, int fd, uint8_t *ram, uint64_t size)
{
	struct edu e;
	int ret;

	ret = edu_open(&e, fd);
	if (ret)
		return ret;
	ret = edu_roundtrip(&e, ram, 0x10000, 0x20000);
	printf("PROBE edu DMA RAM -> device -> RAM at IOVA 0x10000/0x20000: %s\n",
	       ret ? "MISMATCH" : "ok");
	if (!ret && size > 0x4000000) {
		ret = edu_roundtrip(&e, ram, (uint32_t)(size - 0x2000000),
				    (uint32_t)(size - 0x1000000));
		printf("PROBE edu DMA near the top of RAM: %s\n", ret ? "MISMATCH" : "ok");
	}
	if (!ret)
		ret = edu_blocked(io, &e, ram, size);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: iommu-probe [--trace] [--ram MIB] [--hugepages] [--edu-dma] "
		"DEVICE...\n       iommu-probe --group-status N\n");
	exit(2);
}

/* The kernel's own verdict, to compare with what sysfs told us. */
static int group_status(const char *nr)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/dev/vfio/%s", nr);
	fd = open(path, O_RDWR);
	if (fd < 0 || ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		fprintf(stderr, "iommu-probe: %s: %s\n", path, strerror(errno));
		ret = 1;
	} else {
		printf("PROBE group %s: flags %#x: %sviable\n", nr, st.flags,
		       st.flags & VFIO_GROUP_FLAGS_VIABLE ? "" : "not ");
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static void print_info(const struct iommu_info *in)
{
	printf("PROBE info: iova_pgsizes %#" PRIx64 ", dma_avail %s%u, %u usable ranges:",
	       in->pgsizes, in->has_dma_avail ? "" : "unknown ", in->dma_avail, in->nr_ranges);
	for (unsigned int i = 0; i < in->nr_ranges; i++)
		printf(" [%#" PRIx64 "-%#" PRIx64 "]", in->ranges[i].start, in->ranges[i].end);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct iommu_device devs[8];
	uint64_t ram_size = 256 * MiB, page = 4096;
	bool edu = false, huge = false, attached = false;
	struct iommu_ram r;
	struct iommu io;
	double t0;
	int i, n, ret;
	void *ram;

	if (argc == 3 && !strcmp(argv[1], "--group-status"))
		return group_status(argv[2]);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--trace"))
			log_enabled = LOG_IOMMU;
		else if (!strcmp(argv[i], "--ram") && i + 1 < argc)
			ram_size = strtoull(argv[++i], NULL, 0) * MiB;
		else if (!strcmp(argv[i], "--hugepages"))
			huge = true;
		else if (!strcmp(argv[i], "--edu-dma"))
			edu = true;
		else
			usage();
	}
	n = argc - i;
	if (n < 1 || n > 8 || !ram_size)
		usage();
	if (iommu_open(&io, &iommu_type1_ops, NULL))
		return 1;
	t0 = now_s();
	ret = iommu_add_devices(&io, (const char *const *)argv + i, n, devs);
	if (ret)
		goto out_close;
	attached = true;
	printf("PROBE attached %d device(s) in %.3f s\n", n, now_s() - t0);
	print_info(&io.info);

	if (huge)
		page = 2 * MiB;
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0), -1, 0);
	if (ram == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "iommu-probe: mmap %" PRIu64 " MiB%s: %s\n", ram_size >> 20,
			huge ? " of huge pages" : "", strerror(errno));
		goto out_close;
	}
	r = (struct iommu_ram){ 0, ram, ram_size };
	ret = iommu_map_ram(&io, &r, 1, page);
	if (ret)
		goto out_close;
	printf("PROBE mapped %" PRIu64 " MiB (%s pages) in %zu MAP_DMA entries\n", ram_size >> 20,
	       huge ? "2 MiB" : "4 KiB", io.nr_maps);
	if (edu)
		ret = run_edu(&io, devs[0].fd, ram, ram_size);
	t0 = now_s();
	iommu_unmap_all(&io);
	printf("PROBE unmapped all in %.3f s\n", now_s() - t0);
out_close:
	for (int d = 0; attached && d < n; d++)
		close(devs[d].fd);
	iommu_close(&io);
	printf("PROBE %s\n", ret ? "FAILED" : "done");
	return ret ? 1 : 0;
}
