/* SPDX-License-Identifier: MIT */
#ifndef VMM_BENCH_OVERHEAD_H
#define VMM_BENCH_OVERHEAD_H

/*
 * `vfio-vmm bench overhead --device DEV [options] [VM options] -- CMD...`:
 * the same benchmark command on the host with DEV on its own driver, then in
 * a guest with DEV passed through (vfio-pci), N times each, and with --qemu
 * in the same guest under QEMU (vmm/bench_qemu.h); CMD prints
 * METRIC lines (vmm/bench_metric.h). The old driver is given back on every
 * path that we live through. docs/benchmarks.md, "Passthrough against bare
 * metal".
 *
 * Exit status: 0; 1 a run, the VM, the bind or the restore failed; 2 bad
 * command line; 128+N when signal N stopped it (the device restored).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/bench_metric.h"

#define OVERHEAD_MAX_VM_ARGS	48
#define OVERHEAD_DEFAULT_RUNS	5
#define OVERHEAD_DEFAULT_CID	42

struct overhead_opts {
	bool help;
	const char *device;
	unsigned int runs;		/* per side and round */
	unsigned int rounds;		/* host, guest(s), host, ...: runs * rounds <= METRIC_MAX_RUNS */
	uint32_t cid, port;
	unsigned int boot_timeout_s;	/* the agent must answer within it */
	unsigned int run_timeout_s;	/* each run of CMD */
	const char *out;		/* PREFIX of PREFIX.tsv, .runs.tsv, .png, .vm.log, .out */
	const char *qemu;		/* --qemu PATH: the third column; NULL: none */
	unsigned int nr_vm_args;
	char *vm_args[OVERHEAD_MAX_VM_ARGS];	/* "kernel", "FILE", ...: `run`'s --NAME VALUE */
	bool have_kernel, have_disk;
	unsigned int cmd_argc;
	char **cmd_argv;		/* points into argv, NULL-terminated */
};

/* argv[0] is "overhead". 0, or -1 with one line in err (exit 2). */
int overhead_parse(int argc, char **argv, struct overhead_opts *o, char *err, size_t errlen);
void overhead_usage(FILE *f);

/* The per-metric table and the summary (legs that have no values are left out). */
void overhead_report(const struct metric_set *s, FILE *f);
/* PREFIX.tsv (one row per metric) and PREFIX.runs.tsv (leg, metric, run, value). */
int overhead_write_tsv(const struct metric_set *s, const char *prefix, char *err, size_t errlen);

/* main()'s entry: the exit status, or -1 when argv[1] is not "bench". */
int bench_main(int argc, char **argv);

#endif
