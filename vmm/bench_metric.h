/* SPDX-License-Identifier: MIT */
#ifndef VMM_BENCH_METRIC_H
#define VMM_BENCH_METRIC_H

/*
 * The metric lines a benchmark command prints for `vfio-vmm bench overhead`
 * (docs/benchmarks.md), and the statistics over its runs. A line is
 *
 *   METRIC NAME=VALUE [unit=UNIT] [better=higher|lower]
 *
 * NAME: 1-47 of [A-Za-z0-9_.:/-]; VALUE: a finite decimal number; UNIT:
 * 1-15 printable characters without spaces; better= says which way is good
 * (default higher). Any number of them per run, among any other output;
 * lines that do not start with "METRIC " are not ours and are ignored. The
 * command's output is untrusted: a malformed METRIC line is counted and
 * skipped, never fatal, and the tables are bounded.
 */
#include <stdbool.h>
#include <stddef.h>

#define METRIC_NAME_LEN		48
#define METRIC_UNIT_LEN		16
#define METRIC_MAX		32	/* distinct metrics kept; more are dropped */
#define METRIC_MAX_RUNS		100
#define METRIC_LINE_MAX		256	/* longer METRIC lines are malformed */

enum metric_leg { LEG_HOST, LEG_GUEST, LEG_QEMU, NR_LEGS };

struct metric_line {
	char name[METRIC_NAME_LEN];
	char unit[METRIC_UNIT_LEN];	/* "" when not given */
	bool lower_better;
	double value;
};

/* One metric's values per leg, in run order (a run that did not print it adds nothing). */
struct metric_series {
	char name[METRIC_NAME_LEN];
	char unit[METRIC_UNIT_LEN];
	bool lower_better;
	unsigned int n[NR_LEGS];
	double v[NR_LEGS][METRIC_MAX_RUNS];
};

struct metric_set {
	unsigned int nr;
	struct metric_series m[METRIC_MAX];
	unsigned int malformed;		/* METRIC lines skipped */
	unsigned int dropped;		/* metrics beyond METRIC_MAX, or values beyond METRIC_MAX_RUNS */
	unsigned int duplicates;	/* a name printed twice in one run: the first counts */
	char first_error[160];		/* what was wrong with the first skipped line */
};

/*
 * One line (without its newline). 1: a metric in *out; 0: not a METRIC
 * line; -1: a malformed METRIC line, why in err.
 */
int metric_parse_line(const char *line, size_t len, struct metric_line *out, char *err,
		      size_t errlen);

/*
 * All of one run's output (any bytes, NULs included) into set for leg.
 * Returns how many metrics the run gave.
 */
unsigned int metric_add_run(struct metric_set *set, enum metric_leg leg, const char *text,
			    size_t len);

struct metric_stats {
	unsigned int n;
	double median, min, max;
};

/* n == 0 gives n 0 and zeros. v is not changed. */
void metric_stats(const double *v, unsigned int n, struct metric_stats *st);

/*
 * How much worse leg is than the host, in percent of the host's median:
 * positive is slower (less for better=higher, more for better=lower).
 * -1 when either leg has no values or the host's median is 0. *overlap:
 * the min-max spreads of the two legs overlap (the difference is within the
 * run-to-run noise).
 */
int metric_overhead(const struct metric_series *m, enum metric_leg leg, double *pct,
		    bool *overlap);

#endif
