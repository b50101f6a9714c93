/* SPDX-License-Identifier: MIT */
#ifndef TB_EDUBENCH_STATS_H
#define TB_EDUBENCH_STATS_H

/*
 * tb-edubench's arithmetic, apart from the ioctls so that the unit tests
 * (tests/unit/test_edubench_stats.c) reach it: latency percentiles, rates,
 * and the METRIC lines `vfio-vmm bench overhead` parses
 * (vmm/bench_metric.h).
 */
#include <stddef.h>
#include <stdint.h>

struct edubench_lat {
	size_t n;
	double median_us, p99_us, min_us, max_us;
};

/*
 * Sorts lat_ns (n values, in ns) in place and summarizes it: the median
 * (the mean of the middle two for an even n), the 99th percentile by
 * nearest rank, min and max, in microseconds. n == 0 gives all zeros.
 */
void edubench_lat_summary(uint32_t *lat_ns, size_t n, struct edubench_lat *out);

/* events per second over ns nanoseconds; 0 when ns is 0. */
double edubench_per_s(uint64_t events, uint64_t ns);

struct edubench_result {
	/* interrupts: raises handled, the ns they took, the latencies */
	int have_irq;
	uint64_t irqs, irq_ns;
	struct edubench_lat lat;
	/* DMA: bytes moved both ways in dma_ns */
	int have_dma;
	uint64_t dma_bytes, dma_ns;
};

/*
 * The METRIC lines for r into buf (NUL-terminated): irq-rate (irq/s),
 * irq-lat and irq-lat-p99 (us, better=lower) when have_irq and any irq was
 * handled; dma (KiB/s) when have_dma and any byte moved. Returns the length,
 * or -1 when buf is too small (buf then holds "").
 */
int edubench_metrics(const struct edubench_result *r, char *buf, size_t len);

#endif
