// SPDX-License-Identifier: MIT
/*
 * tb-edubench: interrupt latency, interrupt rate and DMA throughput of QEMU's
 * edu device, through edu_bench.ko (tests/testbed/edu/), for the overhead
 * scenario's edu rows: the same command in L1 (edu on edu_bench) and in an
 * L2 Linux with edu passed through (issue 13).
 *
 *   tb-edubench [--metrics] SECONDS [irq,dma]
 *
 * irq: for SECONDS, batches of raises in the kernel (stamp, write edu's 0x60,
 * spin until the MSI handler has stamped and acked): the rate is raises
 * handled per second of the batches' time (first raise to last handler),
 * the latency each raise's write to its handler. dma: for SECONDS (at least
 * one round), 4095 bytes to edu's buffer and back, compared: bytes moved
 * both ways per second. edu finishes a transfer on a 100 ms timer, so this
 * is about 40 KiB/s wherever it runs: the device's pace, not the path's.
 *
 * One "EDUBENCH ..." line per test; with --metrics also the METRIC lines of
 * edubench_stats.h. Exit status 0, 1 when a test failed (a lost interrupt, a
 * timed-out or corrupted DMA), 2 on a bad command line or no /dev/edu_bench.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "edu/edu_bench.h"
#include "edubench_stats.h"

#define IRQ_BATCH	1000
#define IRQ_WARMUP	100
#define IRQ_MAX_SAMPLES	(1u << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_irq(int fd, double secs, struct edubench_result *r)
{
	static uint32_t lat[IRQ_MAX_SAMPLES];
	uint32_t batch[IRQ_BATCH];
	struct edu_bench_irq req;
	uint64_t extra = 0;
	size_t n = 0;
	double end;

	/* A warm-up batch, not counted: first touches, caches. */
	memset(&req, 0, sizeof(req));
	req.count = IRQ_WARMUP;
	if (ioctl(fd, EDU_BENCH_IRQ, &req)) {
		printf("EDUBENCH test=irq error=\"warm-up: %s after %u of %u raises\"\n",
		       strerror(errno), req.done, req.count);
		return -1;
	}
	end = now_s() + secs;
	do {
		memset(&req, 0, sizeof(req));
		req.count = IRQ_BATCH;
		req.lat_ns = (uintptr_t)batch;
		if (ioctl(fd, EDU_BENCH_IRQ, &req)) {
			printf("EDUBENCH test=irq error=\"%s after %u of %u raises in a batch, %llu "
			       "before\"\n", strerror(errno), req.done, req.count,
			       (unsigned long long)r->irqs);
			return -1;
		}
		r->irqs += req.done;
		r->irq_ns += req.elapsed_ns;
		extra += req.extra;
		for (unsigned int i = 0; i < req.done && n < IRQ_MAX_SAMPLES; i++)
			lat[n++] = batch[i];
	} while (now_s() < end);
	edubench_lat_summary(lat, n, &r->lat);
	r->have_irq = 1;
	printf("EDUBENCH test=irq raises=%llu secs=%.3f rate=%.0f/s lat_us_median=%.3f "
	       "lat_us_p99=%.3f lat_us_min=%.3f lat_us_max=%.3f extra=%llu\n",
	       (unsigned long long)r->irqs, r->irq_ns / 1e9, edubench_per_s(r->irqs, r->irq_ns),
	       r->lat.median_us, r->lat.p99_us, r->lat.min_us, r->lat.max_us,
	       (unsigned long long)extra);
	return 0;
}

static int run_dma(int fd, double secs, struct edubench_result *r)
{
	struct edu_bench_dma req;
	unsigned int rounds = 0;
	double end = now_s() + secs;

	do {
		memset(&req, 0, sizeof(req));
		req.len = EDU_BENCH_MAX_DMA;
		req.rounds = 1;
		if (ioctl(fd, EDU_BENCH_DMA, &req)) {
			printf("EDUBENCH test=dma error=\"%s in round %u\"\n", strerror(errno),
			       rounds + 1);
			return -1;
		}
		if (req.mismatches) {
			printf("EDUBENCH test=dma error=\"%u of %u bytes came back different in "
			       "round %u\"\n", req.mismatches, req.len, rounds + 1);
			return -1;
		}
		rounds++;
		r->dma_bytes += req.bytes;
		r->dma_ns += req.elapsed_ns;
	} while (now_s() < end);
	r->have_dma = 1;
	printf("EDUBENCH test=dma rounds=%u bytes=%llu secs=%.3f kib_s=%.2f per_transfer_ms=%.1f\n",
	       rounds, (unsigned long long)r->dma_bytes, r->dma_ns / 1e9,
	       edubench_per_s(r->dma_bytes, r->dma_ns) / 1024.0,
	       r->dma_ns / 1e6 / (2.0 * rounds));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tb-edubench [--metrics] SECONDS [irq,dma]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct edubench_result r;
	struct edu_bench_info info;
	struct utsname u;
	const char *tests = "irq,dma";
	char *end, out[1024];
	int metrics = 0, fd, failed = 0;
	double secs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--metrics")) {
		metrics = 1;
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 3)
		usage();
	secs = strtod(argv[1], &end);
	if (*end || !(secs > 0 && secs <= 3600))
		usage();
	if (argc == 3)
		tests = argv[2];
	fd = open(EDU_BENCH_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tb-edubench: %s: %s (is edu_bench.ko loaded, with edu on it?)\n",
			EDU_BENCH_DEV, strerror(errno));
		return 2;
	}
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, EDU_BENCH_INFO, &info)) {
		fprintf(stderr, "tb-edubench: EDU_BENCH_INFO: %s\n", strerror(errno));
		return 2;
	}
	uname(&u);
	printf("EDUBENCH device=%s ident=%#x irq=%u kernel=%s\n", info.bdf, info.ident, info.irq,
	       u.release);
	memset(&r, 0, sizeof(r));
	if (strstr(tests, "irq") && run_irq(fd, secs, &r))
		failed = 1;
	if (strstr(tests, "dma") && run_dma(fd, secs, &r))
		failed = 1;
	close(fd);
	if (metrics) {
		if (edubench_metrics(&r, out, sizeof(out)) < 0) {
			fprintf(stderr, "tb-edubench: METRIC lines do not fit\n");
			return 1;
		}
		fputs(out, stdout);
	}
	return failed;
}
