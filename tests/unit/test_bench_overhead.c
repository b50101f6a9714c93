// SPDX-License-Identifier: MIT
/*
 * `vfio-vmm bench overhead`'s command line and its report
 * (vmm/bench_overhead.c); the runs themselves need a device and KVM and are
 * the testbed's overhead scenario.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/bench_overhead.h"

static char err[512];
static char *args[64];

static int parse(struct overhead_opts *o, const char *first, ...)
{
	int argc = 0;
	va_list ap;

	args[argc++] = "overhead";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		args[argc++] = (char *)a;
	va_end(ap);
	args[argc] = NULL;
	err[0] = '\0';
	return overhead_parse(argc, args, o, err, sizeof(err));
}

#define VM "--kernel", "bzImage", "--disk", "path=root.img"

Test(bench_overhead, parses_ours_and_the_vms)
{
	struct overhead_opts o;

	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--runs", "3", "--cid", "7", "--memory",
			   "1G", VM, "--out", "r/nvme", "--", "tb-diskbench", "--metrics",
			   "/dev/nvme0n1", NULL), 0, "%s", err);
	cr_assert_str_eq(o.device, "3e:00.0");
	cr_assert_eq(o.runs, 3);
	cr_assert_eq(o.cid, 7);
	cr_assert_str_eq(o.out, "r/nvme");
	cr_assert_eq(o.nr_vm_args, 6);
	cr_assert_str_eq(o.vm_args[0], "memory");
	cr_assert_str_eq(o.vm_args[1], "1G");
	cr_assert_str_eq(o.vm_args[4], "disk");
	cr_assert_eq(o.cmd_argc, 3);
	/* The command's own options are not ours. */
	cr_assert_str_eq(o.cmd_argv[1], "--metrics");
	cr_assert_null(o.cmd_argv[3]);
}

Test(bench_overhead, defaults)
{
	struct overhead_opts o;

	cr_assert_eq(parse(&o, "--device", "3e:00.0", VM, "--", "x", NULL), 0, "%s", err);
	cr_assert_eq(o.runs, OVERHEAD_DEFAULT_RUNS);
	cr_assert_eq(o.rounds, 1, "one round: the sides one after the other, as before --rounds");
	cr_assert_eq(o.cid, OVERHEAD_DEFAULT_CID);
	cr_assert_str_eq(o.out, "overhead");
	cr_assert_eq(o.boot_timeout_s, 300);
	cr_assert(!o.help);
}

Test(bench_overhead, bad_command_lines_say_what_to_do)
{
	struct overhead_opts o;

	cr_assert_eq(parse(&o, "--device", "3e:00.0", VM, NULL), -1);
	cr_assert(strstr(err, "-- CMD"), "%s", err);
	cr_assert_eq(parse(&o, VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--device DEV is required"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--kernel", "k", "--", "x", NULL), -1);
	cr_assert(strstr(err, "--disk"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--disk", "path=r", "--", "x", NULL), -1);
	cr_assert(strstr(err, "--kernel"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--device", "b", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "twice"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--runs", "0", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--runs 0"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--runs", "101", VM, "--", "x", NULL), -1);
	cr_assert_eq(parse(&o, "--device", "a", "--cid", "2", VM, "--", "x", NULL), -1);
	cr_assert_eq(parse(&o, "--device", "a", "--boot-timeout", "x", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--boot-timeout x"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--vsock", "cid=5", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--cid"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--frobnicate", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--frobnicate: unknown option"), "%s", err);
	cr_assert_eq(parse(&o, "--device", NULL), -1);
	cr_assert(strstr(err, "needs a value"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--out", "", VM, "--", "x", NULL), -1);
	cr_assert_eq(parse(&o, "--help", NULL), 0);
	cr_assert(o.help);
}

Test(bench_overhead, rounds_interleave_within_the_kept_runs)
{
	struct overhead_opts o;

	cr_assert_eq(parse(&o, "--device", "a", "--runs", "2", "--rounds", "3", VM, "--", "x",
			   NULL), 0, "%s", err);
	cr_assert_eq(o.runs, 2);
	cr_assert_eq(o.rounds, 3);
	/* Exactly the runs a side the metric set keeps. */
	cr_assert_eq(parse(&o, "--device", "a", "--runs", "10", "--rounds", "10", VM, "--", "x",
			   NULL), 0, "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--runs", "5", "--rounds", "21", VM, "--", "x",
			   NULL), -1);
	cr_assert(strstr(err, "105 runs a side"), "%s", err);
	cr_assert(strstr(err, "fewer runs or rounds"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--rounds", "0", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--rounds 0"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "a", "--rounds", "x", VM, "--", "x", NULL), -1);
	cr_assert(strstr(err, "--rounds x"), "%s", err);
}

static char *report(const struct metric_set *s)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	overhead_report(s, f);
	fclose(f);
	return buf;
}

Test(bench_overhead, report_medians_spreads_overhead)
{
	static struct metric_set s;
	const char host[] = "METRIC seq-read=100 unit=MiB/s\nMETRIC lat=10 unit=us better=lower\n";
	const char host2[] = "METRIC seq-read=110 unit=MiB/s\nMETRIC lat=12 unit=us better=lower\n";
	const char guest[] = "METRIC seq-read=80 unit=MiB/s\n";	/* no lat in the guest */
	char *out;

	memset(&s, 0, sizeof(s));
	metric_add_run(&s, LEG_HOST, host, sizeof(host) - 1);
	metric_add_run(&s, LEG_HOST, host2, sizeof(host2) - 1);
	metric_add_run(&s, LEG_GUEST, guest, sizeof(guest) - 1);
	metric_add_run(&s, LEG_GUEST, guest, sizeof(guest) - 1);
	out = report(&s);
	cr_assert(strstr(out, "seq-read [MiB/s, higher is better]"), "%s", out);
	cr_assert(strstr(out, "median 105.00  spread 100.00-110.00"), "%s", out);
	/* (105 - 80) / 105 */
	cr_assert(strstr(out, "overhead (guest): +23.8 %\n"), "%s", out);
	cr_assert(strstr(out, "lat [us, lower is better]"), "%s", out);
	/* The summary: lat has no guest median and no overhead. */
	cr_assert(strstr(out, "+23.8 %"), "%s", out);
	cr_assert(strstr(out, "lat                      us              11.00            -          -"),
		  "%s", out);
	cr_assert_null(strstr(out, "malformed"));
}

Test(bench_overhead, report_one_run_overlap_and_bad_lines)
{
	static struct metric_set s;
	const char host[] = "METRIC iops=1000\nMETRIC iops=nan\n";
	const char guest[] = "METRIC iops=1000\n";
	char *out;

	memset(&s, 0, sizeof(s));
	metric_add_run(&s, LEG_HOST, host, sizeof(host) - 1);
	metric_add_run(&s, LEG_GUEST, guest, sizeof(guest) - 1);
	out = report(&s);
	cr_assert(strstr(out, "iops [-, higher is better]"), "%s", out);
	cr_assert(strstr(out, "+0.0 % (spreads overlap"), "%s", out);
	cr_assert(strstr(out, "1 malformed METRIC lines skipped; the first: iops: the value"),
		  "%s", out);
}

Test(bench_overhead, tsv_files)
{
	static struct metric_set s;
	char dir[] = "/tmp/ovtsvXXXXXX", prefix[64], path[80], line[512];
	const char host[] = "METRIC r=200 unit=MiB/s\n", guest[] = "METRIC r=150 unit=MiB/s\n";
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(prefix, sizeof(prefix), "%s/x", dir);
	memset(&s, 0, sizeof(s));
	metric_add_run(&s, LEG_HOST, host, sizeof(host) - 1);
	metric_add_run(&s, LEG_GUEST, guest, sizeof(guest) - 1);
	cr_assert_eq(overhead_write_tsv(&s, prefix, err, sizeof(err)), 0, "%s", err);
	snprintf(path, sizeof(path), "%s.tsv", prefix);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert(!strncmp(line, "metric\tunit\tbetter\thost_n\thost_median", 36), "%s", line);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_str_eq(line, "r\tMiB/s\thigher\t1\t200\t200\t200\t1\t150\t150\t150\t0\t-\t-\t-"
			 "\t25.00\tno\t-\t-\n");
	fclose(f);
	unlink(path);
	snprintf(path, sizeof(path), "%s.runs.tsv", prefix);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_str_eq(line, "host\tr\t1\t200\n");
	fclose(f);
	unlink(path);
	/* A prefix in a directory that does not exist: one line naming it. */
	snprintf(prefix, sizeof(prefix), "%s/no/x", dir);
	cr_assert_eq(overhead_write_tsv(&s, prefix, err, sizeof(err)), -1);
	cr_assert(strstr(err, "/no/x.tsv"), "%s", err);
	rmdir(dir);
}
