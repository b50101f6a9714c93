// SPDX-License-Identifier: MIT
/*
 * METRIC lines (vmm/bench_metric.c): what parses, what a hostile or broken
 * command's output does to the tables (skipped and counted, bounded), and
 * the statistics: medians, spreads, overhead direction, N=1.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vmm/bench_metric.h"

static int parse(const char *s, struct metric_line *l)
{
	char err[160];

	return metric_parse_line(s, strlen(s), l, err, sizeof(err));
}

Test(bench_metric, parses_a_full_line)
{
	struct metric_line l;

	cr_assert_eq(parse("METRIC seq-read=512.25 unit=MiB/s better=higher", &l), 1);
	cr_assert_str_eq(l.name, "seq-read");
	cr_assert_str_eq(l.unit, "MiB/s");
	cr_assert_float_eq(l.value, 512.25, 1e-9);
	cr_assert(!l.lower_better);
	cr_assert_eq(parse("METRIC lat_us=-3e2 better=lower", &l), 1);
	cr_assert_float_eq(l.value, -300.0, 1e-9);
	cr_assert(l.lower_better);
	cr_assert_str_eq(l.unit, "");
}

Test(bench_metric, other_lines_are_not_ours)
{
	struct metric_line l;

	cr_assert_eq(parse("DISKBENCH test=seq-read mib_s=1", &l), 0);
	cr_assert_eq(parse("METRICS a=1", &l), 0);
	cr_assert_eq(parse(" METRIC a=1", &l), 0);
	cr_assert_eq(parse("", &l), 0);
}

Test(bench_metric, malformed_lines_are_refused)
{
	static const char *const lines[] = {
		"METRIC ",
		"METRIC a",
		"METRIC =1",
		"METRIC a=",
		"METRIC a=nan",
		"METRIC a=inf",
		"METRIC a=0x10",
		"METRIC a=1e999",
		"METRIC a=12abc",
		"METRIC a b=1",
		"METRIC a;rm=1",
		"METRIC a=1 unit=",
		"METRIC a=1 unit=0123456789abcdefXYZ",
		"METRIC a=1 better=sideways",
		"METRIC a=1 colour=red",
		"METRIC aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
	};
	struct metric_line l;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert_eq(parse(lines[i], &l), -1, "%s", lines[i]);
}

Test(bench_metric, long_and_binary_lines)
{
	char line[METRIC_LINE_MAX + 50];
	char err[160];
	struct metric_line l;

	memset(line, ' ', sizeof(line));
	memcpy(line, "METRIC a=1", 10);
	cr_assert_eq(metric_parse_line(line, sizeof(line), &l, err, sizeof(err)), -1);
	cr_assert(strstr(err, "bytes"));
	/* A NUL inside the value: the length decides, not the NUL. */
	cr_assert_eq(metric_parse_line("METRIC a=1\0002", 12, &l, err, sizeof(err)), -1);
	cr_assert_eq(metric_parse_line("METRIC a=1 unit=\001", 17, &l, err, sizeof(err)), -1);
}

Test(bench_metric, runs_fill_series_and_count_bad_lines)
{
	static struct metric_set set;
	const char run1[] = "hello\nMETRIC r=10 unit=MiB/s\r\nMETRIC lat=5 better=lower\n"
			    "METRIC broken\nMETRIC r=99\n";
	const char run2[] = "METRIC r=20 unit=MiB/s";	/* no newline at the end, no lat */

	memset(&set, 0, sizeof(set));
	cr_assert_eq(metric_add_run(&set, LEG_HOST, run1, sizeof(run1) - 1), 2);
	cr_assert_eq(metric_add_run(&set, LEG_HOST, run2, sizeof(run2) - 1), 1);
	cr_assert_eq(metric_add_run(&set, LEG_GUEST, "no metrics\n", 11), 0);
	cr_assert_eq(set.nr, 2);
	cr_assert_str_eq(set.m[0].name, "r");
	cr_assert_str_eq(set.m[0].unit, "MiB/s");
	cr_assert_eq(set.m[0].n[LEG_HOST], 2);
	cr_assert_float_eq(set.m[0].v[LEG_HOST][1], 20.0, 1e-9);
	cr_assert_eq(set.m[0].n[LEG_GUEST], 0);
	cr_assert_eq(set.m[1].n[LEG_HOST], 1);
	cr_assert(set.m[1].lower_better);
	cr_assert_eq(set.malformed, 1);
	cr_assert(strstr(set.first_error, "NAME=VALUE") || strstr(set.first_error, "KEY=VALUE"));
	cr_assert_eq(set.duplicates, 1);
}

Test(bench_metric, tables_are_bounded)
{
	static struct metric_set set;
	char line[64];

	memset(&set, 0, sizeof(set));
	for (int i = 0; i < METRIC_MAX + 5; i++) {
		int n = snprintf(line, sizeof(line), "METRIC m%d=%d\n", i, i);

		metric_add_run(&set, LEG_HOST, line, (size_t)n);
	}
	cr_assert_eq(set.nr, METRIC_MAX);
	cr_assert_eq(set.dropped, 5);
	for (int i = 0; i < METRIC_MAX_RUNS + 3; i++)
		metric_add_run(&set, LEG_GUEST, "METRIC m0=1\n", 12);
	cr_assert_eq(set.m[0].n[LEG_GUEST], METRIC_MAX_RUNS);
	cr_assert_eq(set.dropped, 8);
}

Test(bench_metric, stats_median_spread)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 7 };
	struct metric_stats st;

	metric_stats(odd, 3, &st);
	cr_assert_float_eq(st.median, 3, 1e-9);
	cr_assert_float_eq(st.min, 1, 1e-9);
	cr_assert_float_eq(st.max, 5, 1e-9);
	cr_assert_float_eq(odd[0], 5, 1e-9);	/* not sorted in place */
	metric_stats(even, 4, &st);
	cr_assert_float_eq(st.median, 2.5, 1e-9);
	metric_stats(one, 1, &st);
	cr_assert_eq(st.n, 1);
	cr_assert_float_eq(st.median, 7, 1e-9);
	cr_assert_float_eq(st.min, 7, 1e-9);
	metric_stats(one, 0, &st);
	cr_assert_eq(st.n, 0);
}

Test(bench_metric, overhead_direction_and_overlap)
{
	static struct metric_series m;
	double pct;
	bool overlap;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(metric_overhead(&m, LEG_GUEST, &pct, &overlap), -1);
	m.n[LEG_HOST] = 3;
	m.v[LEG_HOST][0] = 100; m.v[LEG_HOST][1] = 98; m.v[LEG_HOST][2] = 102;
	cr_assert_eq(metric_overhead(&m, LEG_GUEST, &pct, &overlap), -1);	/* no guest runs */
	m.n[LEG_GUEST] = 1;
	m.v[LEG_GUEST][0] = 80;
	cr_assert_eq(metric_overhead(&m, LEG_GUEST, &pct, &overlap), 0);
	cr_assert_float_eq(pct, 20, 1e-9);	/* 20 % less throughput: 20 % overhead */
	cr_assert(!overlap);
	m.lower_better = true;
	cr_assert_eq(metric_overhead(&m, LEG_GUEST, &pct, &overlap), 0);
	cr_assert_float_eq(pct, -20, 1e-9);	/* lower latency in the guest: negative */
	m.v[LEG_GUEST][0] = 101;
	cr_assert_eq(metric_overhead(&m, LEG_GUEST, &pct, &overlap), 0);
	cr_assert_float_eq(pct, 1, 1e-9);
	cr_assert(overlap);
	m.v[LEG_HOST][0] = m.v[LEG_HOST][1] = m.v[LEG_HOST][2] = 0;
	cr_assert_eq(metric_overhead(&m, LEG_GUEST, &pct, &overlap), -1);
}
