// SPDX-License-Identifier: MIT
/*
 * tb-diskbench: the disk rows of the bench scenario (docs/benchmarks.md),
 * run by the L2 Linux against its virtio-blk disk. Static, in the L2
 * initramfs; l2/init runs it for tb.checks=disk-bench.
 *
 *   tb-diskbench [--metrics] DEV SECONDS [TEST,...]
 *
 * TEST is seq-read, seq-write (1 MiB), rand-read, rand-write (4 KiB), or
 * none; the default is all four, in that order. Each test runs for SECONDS
 * (after a short untimed warm-up of 8 operations) with O_DIRECT, one
 * request at a time (queue depth 1: a pread or pwrite, waiting for it), over
 * the first GiB of DEV at most: sequential ones walk the area 1 MiB at a
 * time and wrap, random ones pick 4 KiB blocks from a fixed xorshift
 * sequence (the same on every VMM). Writes carry a non-zero pattern.
 * One line per test:
 *
 *   DISKBENCH test=T bs=B qd=1 secs=S ops=N mib_s=M iops=I lat_us_p50=L
 *             lat_us_min=A lat_us_max=Z reqs=R
 *
 * reqs is the number of requests the block layer completed on DEV during
 * the test (/sys/block/DEV/stat): a 1 MiB read may be split into several
 * virtio requests (the device's segment limit), and the VMM sees those.
 * Then "DISKBENCH done ops=N reqs=R reqs_all=Q area_mib=M": the tests'
 * sums, and every request since DEV was opened, warm-ups included (what
 * the VMM served beyond a run of the same boot with TEST none). With
 * --metrics, each test also prints the METRIC lines `vfio-vmm bench
 * overhead` reads (docs/benchmarks.md): T=MiB/s for the sequential tests,
 * T=IOPS for the random ones (better=higher), and T-lat=p50 microseconds
 * (better=lower). Exit status 1 on any
 * error (an I/O error, a short transfer, a device that cannot be opened).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define MIB		(1u << 20)
#define AREA_MAX	(1ull << 30)
#define WARMUP		8
#define MAX_LAT		(1u << 20)	/* latencies kept for the median */

static int metrics;	/* --metrics: METRIC lines too */

struct test {
	const char *name;
	size_t bs;
	int write;
	int random;
};

static const struct test tests[] = {
	{ "seq-read", MIB, 0, 0 },
	{ "seq-write", MIB, 1, 0 },
	{ "rand-read", 4096, 0, 1 },
	{ "rand-write", 4096, 1, 1 },
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "tb-diskbench: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Completed read plus write requests of /sys/block/NAME (0 if unreadable). */
static uint64_t block_requests(const char *dev)
{
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	unsigned long long rd = 0, wr = 0, x;
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu %llu %llu %llu", &rd, &x, &x, &x, &wr) != 5)
		rd = wr = 0;
	fclose(f);
	return rd + wr;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One request of test t at its next offset; 0 when the whole block moved. */
static int one_op(int fd, const struct test *t, void *buf, uint64_t area, uint64_t *pos,
		  uint64_t *rng)
{
	uint64_t off;
	ssize_t n;

	if (t->random) {
		off = (xorshift(rng) % (area / t->bs)) * t->bs;
	} else {
		if (*pos + t->bs > area)
			*pos = 0;
		off = *pos;
		*pos += t->bs;
	}
	n = t->write ? pwrite(fd, buf, t->bs, (off_t)off) : pread(fd, buf, t->bs, (off_t)off);
	if (n == (ssize_t)t->bs)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

static int run_test(int fd, const char *dev, const struct test *t, double secs, void *buf,
		    uint64_t area, double *lat, uint64_t *total_ops, uint64_t *total_reqs)
{
	uint64_t pos = 0, rng = 0x9e3779b97f4a7c15ull, ops = 0, reqs;
	double t0, t1, end, a, b, mib_s;
	char what[64];
	size_t nlat = 0;

	snprintf(what, sizeof(what), "%s at %s", t->name, dev);
	for (int i = 0; i < WARMUP; i++)
		if (one_op(fd, t, buf, area, &pos, &rng))
			return fail(what);
	reqs = block_requests(dev);
	t0 = now();
	end = t0 + secs;
	a = t0;
	do {
		if (one_op(fd, t, buf, area, &pos, &rng))
			return fail(what);
		b = now();
		if (nlat < MAX_LAT)
			lat[nlat++] = b - a;
		a = b;
		ops++;
	} while (b < end);
	t1 = b;
	reqs = block_requests(dev) - reqs;
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	mib_s = (double)ops * (double)t->bs / MIB / (t1 - t0);
	printf("DISKBENCH test=%s bs=%zu qd=1 secs=%.3f ops=%" PRIu64 " mib_s=%.2f iops=%.1f "
	       "lat_us_p50=%.1f lat_us_min=%.1f lat_us_max=%.1f reqs=%" PRIu64 "\n",
	       t->name, t->bs, t1 - t0, ops, mib_s, (double)ops / (t1 - t0),
	       lat[nlat / 2] * 1e6, lat[0] * 1e6, lat[nlat - 1] * 1e6, reqs);
	if (metrics) {
		if (t->random)
			printf("METRIC %s=%.1f unit=IOPS better=higher\n", t->name,
			       (double)ops / (t1 - t0));
		else
			printf("METRIC %s=%.2f unit=MiB/s better=higher\n", t->name, mib_s);
		printf("METRIC %s-lat=%.1f unit=us better=lower\n", t->name, lat[nlat / 2] * 1e6);
	}
	fflush(stdout);
	*total_ops += ops;
	*total_reqs += reqs;
	return 0;
}

static const struct test *find_test(const char *name)
{
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!strcmp(name, tests[i].name))
			return &tests[i];
	return NULL;
}

/* 0 when every name in the comma-separated list is a test or "none". */
static int check_list(const char *list)
{
	char *names = strdup(list), *name, *save;
	int bad = !names;

	for (name = names ? strtok_r(names, ",", &save) : NULL; name && !bad;
	     name = strtok_r(NULL, ",", &save))
		bad = !find_test(name) && strcmp(name, "none");
	free(names);
	return bad;
}

static int usage(void)
{
	fprintf(stderr, "usage: tb-diskbench [--metrics] DEV SECONDS [seq-read,seq-write,rand-read,"
		"rand-write|none]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *dev, *list = "seq-read,seq-write,rand-read,rand-write";
	uint64_t size = 0, area, ops = 0, reqs = 0, reqs0;
	struct stat st;
	char *end, *names, *name, *save;
	double secs, *lat;
	void *buf;
	int fd, rc = 0;

	if (argc > 1 && !strcmp(argv[1], "--metrics")) {
		metrics = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4)
		return usage();
	dev = argv[1];
	secs = strtod(argv[2], &end);
	if (*end || secs < 0 || secs > 3600)
		return usage();
	if (argc == 4)
		list = argv[3];
	if (check_list(list))
		return usage();
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0)
		return fail(dev);
	if (fstat(fd, &st))
		return fail(dev);
	if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &size))
		return fail("BLKGETSIZE64");
	reqs0 = block_requests(dev);
	area = (size < AREA_MAX ? size : AREA_MAX) / MIB * MIB;
	if (!area) {
		fprintf(stderr, "tb-diskbench: %s: %" PRIu64 " bytes, need at least 1 MiB\n", dev, size);
		return 1;
	}
	lat = malloc(MAX_LAT * sizeof(*lat));
	if (!lat || posix_memalign(&buf, 4096, MIB))
		return fail("allocating buffers");
	for (size_t i = 0; i < MIB; i++)
		((unsigned char *)buf)[i] = (unsigned char)(i * 7 + 1);
	names = strdup(list);
	for (name = strtok_r(names, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
		const struct test *t = find_test(name);

		if (t)
			rc = run_test(fd, dev, t, secs, buf, area, lat, &ops, &reqs);
	}
	if (!rc)
		printf("DISKBENCH done ops=%" PRIu64 " reqs=%" PRIu64 " reqs_all=%" PRIu64
		       " area_mib=%" PRIu64 "\n", ops, reqs, block_requests(dev) - reqs0, area / MIB);
	close(fd);
	return rc;
}
