// SPDX-License-Identifier: MIT
/*
 * tb-edubench's statistics (tests/testbed/edubench_stats.c): percentiles of
 * interrupt latencies, rates, and METRIC lines that the overhead harness's
 * own parser (vmm/bench_metric.c) takes with the right direction.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/testbed/edubench_stats.h"
#include "vmm/bench_metric.h"

Test(edubench_stats, odd_count_median_and_extremes)
{
	uint32_t v[] = { 5000, 1000, 3000, 2000, 4000 };
	struct edubench_lat l;

	edubench_lat_summary(v, 5, &l);
	cr_assert_eq(l.n, 5);
	cr_assert_float_eq(l.median_us, 3.0, 1e-9);
	cr_assert_float_eq(l.min_us, 1.0, 1e-9);
	cr_assert_float_eq(l.max_us, 5.0, 1e-9);
	/* sorted in place */
	cr_assert_eq(v[0], 1000);
	cr_assert_eq(v[4], 5000);
}

Test(edubench_stats, even_count_median_is_the_mean_of_the_middle_two)
{
	uint32_t v[] = { 4000, 1000, 2000, 3500 };
	struct edubench_lat l;

	edubench_lat_summary(v, 4, &l);
	cr_assert_float_eq(l.median_us, 2.75, 1e-9);
}

Test(edubench_stats, p99_is_the_nearest_rank)
{
	static uint32_t v[1000];
	struct edubench_lat l;

	/* 1..1000 us, reversed: rank 990 is 990 us */
	for (unsigned int i = 0; i < 1000; i++)
		v[i] = (1000 - i) * 1000;
	edubench_lat_summary(v, 1000, &l);
	cr_assert_float_eq(l.p99_us, 990.0, 1e-9);
	cr_assert_float_eq(l.median_us, 500.5, 1e-9);

	/* 150 values: ceil(148.5) = rank 149 */
	for (unsigned int i = 0; i < 150; i++)
		v[i] = (i + 1) * 1000;
	edubench_lat_summary(v, 150, &l);
	cr_assert_float_eq(l.p99_us, 149.0, 1e-9);

	/* few values: the p99 is the largest */
	v[0] = 7000;
	v[1] = 2000;
	edubench_lat_summary(v, 2, &l);
	cr_assert_float_eq(l.p99_us, 7.0, 1e-9);
}

Test(edubench_stats, one_and_no_values)
{
	uint32_t v[] = { 1234 };
	struct edubench_lat l;

	edubench_lat_summary(v, 1, &l);
	cr_assert_float_eq(l.median_us, 1.234, 1e-9);
	cr_assert_float_eq(l.p99_us, 1.234, 1e-9);
	edubench_lat_summary(NULL, 0, &l);
	cr_assert_eq(l.n, 0);
	cr_assert_float_eq(l.median_us, 0.0, 1e-12);
}

Test(edubench_stats, rates)
{
	cr_assert_float_eq(edubench_per_s(250000, 1000000000ull), 250000.0, 1e-6);
	cr_assert_float_eq(edubench_per_s(8190, 200000000ull), 40950.0, 1e-6);
	cr_assert_float_eq(edubench_per_s(5, 0), 0.0, 1e-12);
	/* no overflow from events * 1e9 in integers */
	cr_assert_float_eq(edubench_per_s(1ull << 40, 1ull << 40), 1e9, 1e-3);
}

/* Every line that starts with METRIC, through the harness's parser. */
static unsigned int parse_all(const char *text, struct metric_line *out, unsigned int max)
{
	const char *p = text;
	unsigned int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char err[160];

		if (n < max) {
			int r = metric_parse_line(p, len, &out[n], err, sizeof(err));

			cr_assert_neq(r, -1, "a malformed line: %.*s (%s)", (int)len, p, err);
			if (r == 1)
				n++;
		}
		p += len + (nl ? 1 : 0);
	}
	return n;
}

Test(edubench_stats, metric_lines_parse_with_their_direction)
{
	struct edubench_result r = {
		.have_irq = 1, .irqs = 244847, .irq_ns = 1000000000ull,
		.lat = { .n = 244847, .median_us = 1.23, .p99_us = 4.5 },
		.have_dma = 1, .dma_bytes = 2 * 4095 * 5, .dma_ns = 1000000000ull,
	};
	struct metric_line m[8];
	char buf[1024];
	int len = edubench_metrics(&r, buf, sizeof(buf));

	cr_assert_gt(len, 0);
	cr_assert_eq((size_t)len, strlen(buf));
	cr_assert_eq(parse_all(buf, m, 8), 4, "%s", buf);
	cr_assert_str_eq(m[0].name, "irq-rate");
	cr_assert_float_eq(m[0].value, 244847.0, 1e-6);
	cr_assert_str_eq(m[0].unit, "irq/s");
	cr_assert(!m[0].lower_better);
	cr_assert_str_eq(m[1].name, "irq-lat");
	cr_assert_float_eq(m[1].value, 1.23, 1e-9);
	cr_assert(m[1].lower_better);
	cr_assert_str_eq(m[2].name, "irq-lat-p99");
	cr_assert(m[2].lower_better);
	cr_assert_str_eq(m[3].name, "dma");
	cr_assert_str_eq(m[3].unit, "KiB/s");
	cr_assert_float_eq(m[3].value, 40950.0 / 1024, 0.005);
	cr_assert(!m[3].lower_better);
}

Test(edubench_stats, a_test_that_did_not_run_prints_nothing)
{
	struct edubench_result r = { .have_dma = 1, .dma_bytes = 8190, .dma_ns = 200000000ull };
	struct metric_line m[8];
	char buf[256];

	cr_assert_gt(edubench_metrics(&r, buf, sizeof(buf)), 0);
	cr_assert_eq(parse_all(buf, m, 8), 1, "%s", buf);
	cr_assert_str_eq(m[0].name, "dma");
	/* irq asked for but nothing handled: no irq lines rather than zeros */
	r.have_irq = 1;
	r.have_dma = 0;
	cr_assert_eq(edubench_metrics(&r, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
}

Test(edubench_stats, a_short_buffer_is_refused_whole)
{
	struct edubench_result r = {
		.have_irq = 1, .irqs = 10, .irq_ns = 1000, .lat = { .n = 10, .median_us = 1 },
		.have_dma = 1, .dma_bytes = 10, .dma_ns = 10,
	};
	char buf[60];

	cr_assert_eq(edubench_metrics(&r, buf, sizeof(buf)), -1);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(edubench_metrics(&r, buf, 0), -1);
}
