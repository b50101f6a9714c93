// SPDX-License-Identifier: MIT
/*
 * `vfio-vmm bench overhead`: the passthrough overhead harness.
 *
 * Every program it starts (CMD on the host, the VM as `vfio-vmm run`, CMD in
 * the guest as `vfio-vmm exec`) is a child in its own process group, waited
 * for by one loop that also takes SIGINT/SIGTERM/SIGHUP (blocked in this
 * process, so none can end it between the bind and the restore): a signal
 * stops the child, and then the VM and the device's driver are put back the
 * same way as after a failure. Only SIGKILL leaves DEV on vfio-pci
 * (`vfio-vmm unbind DEV` gives it back).
 */
#include "vmm/bench_overhead.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/proto.h"
#include "host/bind.h"
#include "host/host.h"
#include "util/errbuf.h"
#include "vmm/bench_qemu.h"
#include "vmm/cli.h"
#include "vmm/exec.h"

#define OUTPUT_MAX	(1u << 20)	/* of one run's stdout, what is parsed */
#define VM_STOP_S	60		/* after SIGTERM, before SIGKILL */

static const char *const leg_names[NR_LEGS] = { "host", "guest", "qemu" };

void overhead_usage(FILE *f)
{
	fprintf(f,
		"Usage: vfio-vmm bench overhead --device DEV --kernel FILE --disk path=ROOT\n"
		"           [--runs N] [--rounds R] [--cid N] [--out PREFIX] [--qemu PATH]\n"
		"           [--boot-timeout S]\n"
		"           [--run-timeout S] [VM options] -- CMD [ARGS...]\n"
		"\n"
		"Runs CMD N times on this host with DEV on its own driver, then binds DEV\n"
		"to vfio-pci, boots a guest with it (vfio-vmm run ... --device DEV --vsock\n"
		"cid=N), runs the same CMD N times there through vfio-vmm-agent, stops the\n"
		"guest and gives DEV back to its driver (on errors and ^C too). With --qemu,\n"
		"the same guest then boots under QEMU (-device vfio-pci,host=DEV, the disks\n"
		"as virtio-blk, vhost-vsock-pci with the same cid) for a third column, DEV\n"
		"staying on vfio-pci in between. With --rounds R all of that is done R\n"
		"times (host, guest, QEMU, host, ...), so a change in the machine's load\n"
		"falls on every side instead of between them. CMD prints its figures as\n"
		"lines of the form\n"
		"    METRIC NAME=VALUE [unit=UNIT] [better=higher|lower]\n"
		"and the table shows per-run values, medians, min-max spreads and the\n"
		"guest's overhead in percent of the host's median (positive: slower).\n"
		"CMD must exist at the same path on the host and on the guest's disk.\n"
		"\n"
		"  --device DEV       the PCI function (0000:3e:00.0 or 3e:00.0), on its\n"
		"                     own (not vfio-pci) driver\n"
		"  --runs N           runs per side and round, 1-%d (default %d)\n"
		"  --rounds R         rounds, each a boot per guest side (default 1);\n"
		"                     runs times rounds is at most %d\n"
		"  --cid N            the guest's vsock context id (default %d)\n"
		"  --port P           the agent's vsock port (default %d)\n"
		"  --out PREFIX       writes PREFIX.tsv, PREFIX.runs.tsv, PREFIX.png (with\n"
		"                     gnuplot), PREFIX.out (CMD's output), PREFIX.vm.log\n"
		"                     (the guest console), PREFIX.qemu.log (QEMU's)\n"
		"                     (default: overhead)\n"
		"  --qemu PATH        also run CMD under QEMU (qemu-system-x86_64, found in\n"
		"                     $PATH when PATH has no '/')\n"
		"  --boot-timeout S   seconds for the guest's agent to answer (default 300)\n"
		"  --run-timeout S    seconds for one run of CMD (default 600)\n"
		"VM options, passed to vfio-vmm run: --kernel --initrd --cmdline --memory\n"
		"  --cpus --hugepages --disk --net --trace (--kernel and a --disk whose\n"
		"  init starts vfio-vmm-agent are needed)\n"
		"\n"
		"Exit status: 0; 1 a run, the guest, the bind or the restore failed; 2 bad\n"
		"command line; 128+N when signal N stopped it.\n",
		METRIC_MAX_RUNS, OVERHEAD_DEFAULT_RUNS, METRIC_MAX_RUNS, OVERHEAD_DEFAULT_CID,
		AGENT_DEFAULT_PORT);
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out < min || *out > max ? -1 : 0;
}

enum {
	OPT_DEVICE = 256, OPT_RUNS, OPT_ROUNDS, OPT_CID, OPT_PORT, OPT_OUT, OPT_BOOT_TIMEOUT, OPT_RUN_TIMEOUT,
	OPT_VSOCK, OPT_VM, OPT_QEMU,
};

static const struct option long_opts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "rounds", required_argument, NULL, OPT_ROUNDS },
	{ "cid", required_argument, NULL, OPT_CID },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
	{ "run-timeout", required_argument, NULL, OPT_RUN_TIMEOUT },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "qemu", required_argument, NULL, OPT_QEMU },
	/* `vfio-vmm run`'s, passed on as they are */
	{ "kernel", required_argument, NULL, OPT_VM },
	{ "initrd", required_argument, NULL, OPT_VM },
	{ "cmdline", required_argument, NULL, OPT_VM },
	{ "memory", required_argument, NULL, OPT_VM },
	{ "cpus", required_argument, NULL, OPT_VM },
	{ "hugepages", required_argument, NULL, OPT_VM },
	{ "disk", required_argument, NULL, OPT_VM },
	{ "net", required_argument, NULL, OPT_VM },
	{ "trace", required_argument, NULL, OPT_VM },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int overhead_parse(int argc, char **argv, struct overhead_opts *o, char *err, size_t errlen)
{
	unsigned long v;
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->runs = OVERHEAD_DEFAULT_RUNS;
	o->rounds = 1;
	o->cid = OVERHEAD_DEFAULT_CID;
	o->port = AGENT_DEFAULT_PORT;
	o->boot_timeout_s = 300;
	o->run_timeout_s = 600;
	o->out = "overhead";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", long_opts, &idx)) != -1) {
		switch (c) {
		case OPT_DEVICE:
			if (o->device)
				return errf(err, errlen, "bench overhead: --device given twice; it "
					    "measures one device");
			o->device = optarg;
			break;
		case OPT_RUNS:
			if (parse_uint(optarg, 1, METRIC_MAX_RUNS, &v))
				return errf(err, errlen, "bench overhead: --runs %s: use a number "
					    "from 1 to %d", optarg, METRIC_MAX_RUNS);
			o->runs = (unsigned int)v;
			break;
		case OPT_ROUNDS:
			if (parse_uint(optarg, 1, METRIC_MAX_RUNS, &v))
				return errf(err, errlen, "bench overhead: --rounds %s: use a number "
					    "from 1 to %d", optarg, METRIC_MAX_RUNS);
			o->rounds = (unsigned int)v;
			break;
		case OPT_CID:
			if (parse_uint(optarg, 3, 0xfffffffeUL, &v))
				return errf(err, errlen, "bench overhead: --cid %s: use a number "
					    "from 3 to 4294967294", optarg);
			o->cid = (uint32_t)v;
			break;
		case OPT_PORT:
			if (parse_uint(optarg, 1, 0xfffffffeUL, &v))
				return errf(err, errlen, "bench overhead: --port %s: use a number "
					    "from 1 to 4294967294", optarg);
			o->port = (uint32_t)v;
			break;
		case OPT_OUT:
			if (!optarg[0])
				return errf(err, errlen, "bench overhead: --out needs a file "
					    "prefix, e.g. --out results/nvme");
			o->out = optarg;
			break;
		case OPT_BOOT_TIMEOUT:
		case OPT_RUN_TIMEOUT:
			if (parse_uint(optarg, 1, 86400, &v))
				return errf(err, errlen, "bench overhead: --%s %s: use whole "
					    "seconds from 1 to 86400", long_opts[idx].name, optarg);
			*(c == OPT_BOOT_TIMEOUT ? &o->boot_timeout_s : &o->run_timeout_s) =
				(unsigned int)v;
			break;
		case OPT_QEMU:
			if (!optarg[0])
				return errf(err, errlen, "bench overhead: --qemu needs QEMU's "
					    "binary, e.g. --qemu qemu-system-x86_64");
			o->qemu = optarg;
			break;
		case OPT_VSOCK:
			return errf(err, errlen, "bench overhead: the guest's vsock device is "
				    "ours; use --cid N instead of --vsock");
		case OPT_VM:
			if (o->nr_vm_args + 2 > OVERHEAD_MAX_VM_ARGS)
				return errf(err, errlen, "bench overhead: more than %d VM options",
					    OVERHEAD_MAX_VM_ARGS / 2);
			if (!strcmp(long_opts[idx].name, "kernel"))
				o->have_kernel = true;
			if (!strcmp(long_opts[idx].name, "disk"))
				o->have_disk = true;
			o->vm_args[o->nr_vm_args++] = (char *)long_opts[idx].name;
			o->vm_args[o->nr_vm_args++] = optarg;
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			return errf(err, errlen, "bench overhead: %s needs a value; see vfio-vmm "
				    "bench overhead --help", argv[optind - 1]);
		default:
			return errf(err, errlen, "bench overhead: %s: unknown option; see vfio-vmm "
				    "bench overhead --help", argv[optind - 1]);
		}
	}
	if (o->runs * o->rounds > METRIC_MAX_RUNS)
		return errf(err, errlen, "bench overhead: --runs %u times --rounds %u is %u runs "
			    "a side; at most %d are kept: fewer runs or rounds", o->runs, o->rounds,
			    o->runs * o->rounds, METRIC_MAX_RUNS);
	if (!o->device)
		return errf(err, errlen, "bench overhead: --device DEV is required: the PCI "
			    "function to measure, e.g. --device 0000:3e:00.0");
	if (!o->have_kernel)
		return errf(err, errlen, "bench overhead: --kernel FILE is required: the guest's "
			    "kernel");
	if (!o->have_disk)
		return errf(err, errlen, "bench overhead: --disk path=ROOT is required: a root "
			    "disk whose init starts vfio-vmm-agent and that holds CMD");
	if (optind >= argc || !argv[optind][0])
		return errf(err, errlen, "bench overhead: no command given; end the options "
			    "with -- CMD [ARGS...], CMD printing METRIC lines");
	o->cmd_argc = (unsigned int)(argc - optind);
	o->cmd_argv = argv + optind;
	if (o->cmd_argc + 8 > AGENT_MAX_ARGS)
		return errf(err, errlen, "bench overhead: %u arguments; the agent takes at "
			    "most %u", o->cmd_argc, AGENT_MAX_ARGS - 8);
	return 0;
}

/* ---- the report ---- */

static void print_leg(const struct metric_series *m, enum metric_leg leg, FILE *f)
{
	struct metric_stats st;

	metric_stats(m->v[leg], m->n[leg], &st);
	fprintf(f, "  %-8s", leg_names[leg]);
	for (unsigned int i = 0; i < m->n[leg]; i++)
		fprintf(f, " %10.2f", m->v[leg][i]);
	fprintf(f, "   median %.2f  spread %.2f-%.2f", st.median, st.min, st.max);
	if (st.median != 0)
		fprintf(f, " (%.1f %%)", (st.max - st.min) / (st.median < 0 ? -st.median :
			st.median) * 100);
	fputc('\n', f);
}

static const char *num(char *buf, size_t len, const struct metric_stats *st)
{
	if (!st->n)
		return "-";
	snprintf(buf, len, "%.2f", st->median);
	return buf;
}

void overhead_report(const struct metric_set *s, FILE *f)
{
	double pct;
	bool overlap, qemu = false;

	for (unsigned int i = 0; i < s->nr; i++) {
		const struct metric_series *m = &s->m[i];

		fprintf(f, "%s [%s, %s is better]\n", m->name, m->unit[0] ? m->unit : "-",
			m->lower_better ? "lower" : "higher");
		for (int leg = 0; leg < NR_LEGS; leg++)
			if (m->n[leg])
				print_leg(m, (enum metric_leg)leg, f);
		for (int leg = LEG_GUEST; leg < NR_LEGS; leg++)
			if (!metric_overhead(m, (enum metric_leg)leg, &pct, &overlap))
				fprintf(f, "  overhead (%s): %+.1f %%%s\n", leg_names[leg], pct,
					overlap ? " (spreads overlap: within run-to-run noise)" : "");
	}
	for (unsigned int i = 0; i < s->nr; i++)
		qemu |= s->m[i].n[LEG_QEMU] > 0;
	fprintf(f, "\n%-24s %-8s %12s %12s %10s", "metric", "unit", "host median",
		"guest median", "overhead");
	if (qemu)
		fprintf(f, " %12s %10s", "qemu median", "qemu ovh");
	fputc('\n', f);
	for (unsigned int i = 0; i < s->nr; i++) {
		const struct metric_series *m = &s->m[i];
		struct metric_stats h, g, q;
		char o[32] = "-", qo[32] = "-", hb[32], gb[32], qb[32];

		metric_stats(m->v[LEG_HOST], m->n[LEG_HOST], &h);
		metric_stats(m->v[LEG_GUEST], m->n[LEG_GUEST], &g);
		metric_stats(m->v[LEG_QEMU], m->n[LEG_QEMU], &q);
		if (!metric_overhead(m, LEG_GUEST, &pct, &overlap))
			snprintf(o, sizeof(o), "%+.1f %%%s", pct, overlap ? "~" : "");
		if (!metric_overhead(m, LEG_QEMU, &pct, &overlap))
			snprintf(qo, sizeof(qo), "%+.1f %%%s", pct, overlap ? "~" : "");
		fprintf(f, "%-24s %-8s %12s %12s %10s", m->name, m->unit[0] ? m->unit : "-",
			num(hb, sizeof(hb), &h), num(gb, sizeof(gb), &g), o);
		if (qemu)
			fprintf(f, " %12s %10s", num(qb, sizeof(qb), &q), qo);
		fputc('\n', f);
	}
	fprintf(f, "(overhead: how much worse the guest's median is, in %% of the host's; "
		"~: the min-max spreads overlap%s)\n",
		qemu ? "; guest: vfio-vmm, qemu: the same guest under QEMU" : "");
	if (s->malformed)
		fprintf(f, "%u malformed METRIC lines skipped; the first: %s\n", s->malformed,
			s->first_error);
	if (s->duplicates)
		fprintf(f, "%u metrics printed twice in one run: the first value counted\n",
			s->duplicates);
	if (s->dropped)
		fprintf(f, "%u values dropped (more than %d metrics)\n", s->dropped, METRIC_MAX);
}

static FILE *open_out(const char *prefix, const char *suffix, char *path, size_t len, char *err,
		      size_t errlen)
{
	FILE *f;

	snprintf(path, len, "%s%s", prefix, suffix);
	f = fopen(path, "w");
	if (!f)
		errf(err, errlen, "%s: %s; pick another --out PREFIX", path, strerror(errno));
	return f;
}

int overhead_write_tsv(const struct metric_set *s, const char *prefix, char *err, size_t errlen)
{
	char path[4096];
	FILE *f = open_out(prefix, ".tsv", path, sizeof(path), err, errlen);
	bool ok;

	if (!f)
		return -1;
	fprintf(f, "metric\tunit\tbetter");
	for (int leg = 0; leg < NR_LEGS; leg++)
		fprintf(f, "\t%s_n\t%s_median\t%s_min\t%s_max", leg_names[leg], leg_names[leg],
			leg_names[leg], leg_names[leg]);
	fprintf(f, "\tguest_overhead_pct\tguest_spreads_overlap\tqemu_overhead_pct\t"
		"qemu_spreads_overlap\n");
	for (unsigned int i = 0; i < s->nr; i++) {
		const struct metric_series *m = &s->m[i];

		fprintf(f, "%s\t%s\t%s", m->name, m->unit[0] ? m->unit : "-",
			m->lower_better ? "lower" : "higher");
		for (int leg = 0; leg < NR_LEGS; leg++) {
			struct metric_stats st;

			metric_stats(m->v[leg], m->n[leg], &st);
			if (st.n)
				fprintf(f, "\t%u\t%.6g\t%.6g\t%.6g", st.n, st.median, st.min, st.max);
			else
				fprintf(f, "\t0\t-\t-\t-");
		}
		for (int leg = LEG_GUEST; leg < NR_LEGS; leg++) {
			double pct;
			bool overlap;

			if (metric_overhead(m, (enum metric_leg)leg, &pct, &overlap))
				fprintf(f, "\t-\t-");
			else
				fprintf(f, "\t%.2f\t%s", pct, overlap ? "yes" : "no");
		}
		fputc('\n', f);
	}
	ok = !ferror(f);
	if (fclose(f) || !ok)
		return errf(err, errlen, "%s: write error", path);
	f = open_out(prefix, ".runs.tsv", path, sizeof(path), err, errlen);
	if (!f)
		return -1;
	fprintf(f, "leg\tmetric\trun\tvalue\n");
	for (int leg = 0; leg < NR_LEGS; leg++)
		for (unsigned int i = 0; i < s->nr; i++)
			for (unsigned int r = 0; r < s->m[i].n[leg]; r++)
				fprintf(f, "%s\t%s\t%u\t%.6g\n", leg_names[leg], s->m[i].name, r + 1,
					s->m[i].v[leg][r]);
	ok = !ferror(f);
	if (fclose(f) || !ok)
		return errf(err, errlen, "%s: write error", path);
	return 0;
}

/* ---- children, signals, the legs ---- */

static sigset_t stop_sigs, old_mask;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A child in its own process group, our stop signals unblocked, stdout and stderr where asked. */
static pid_t spawn(char *const argv[], int in, int out, int errfd)
{
	pid_t pid = fork();

	if (pid > 0)
		setpgid(pid, pid);	/* before any kill(-pid): the child may not be there yet */
	if (pid)
		return pid;
	setpgid(0, 0);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) ||
	    (errfd >= 0 && dup2(errfd, 2) < 0))
		_exit(127);
	execvp(argv[0], argv);
	fprintf(stderr, "vfio-vmm bench overhead: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * Waits for pid, at most timeout_ms (0: no limit). Returns its wait status;
 * -1 on timeout (the group killed), or -2 when a stop signal came (*sig; the
 * group got SIGTERM, then SIGKILL when it does not end in 10 s).
 */
static int wait_child(pid_t pid, uint64_t timeout_ms, int *sig)
{
	uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	struct timespec tick = { 0, 100 * 1000000 };
	int status, s;

	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		s = sigtimedwait(&stop_sigs, NULL, &tick);
		if (s > 0 || (deadline && now_ms() >= deadline)) {
			uint64_t end = now_ms() + 10000;

			kill(-pid, SIGTERM);
			while (waitpid(pid, &status, WNOHANG) != pid) {
				if (now_ms() >= end) {
					kill(-pid, SIGKILL);
					waitpid(pid, &status, 0);
					break;
				}
				usleep(50000);
			}
			if (s > 0) {
				*sig = s;
				return -2;
			}
			return -1;
		}
	}
}

static void describe_status(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "timed out (--run-timeout)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status 0x%x", status);
}

struct bench {
	const struct overhead_opts *o;
	struct metric_set *set;
	FILE *out_log;			/* PREFIX.out: every run's output */
	int stop_sig;			/* a stop signal came */
	unsigned int round;		/* 1 .. o->rounds */
};

/* One run of argv; its stdout parsed into leg. 0, or -1 (said why on stderr). */
static int one_run(struct bench *b, enum metric_leg leg, unsigned int run, char *const argv[])
{
	char *text = malloc(OUTPUT_MAX), why[64];
	int fd = memfd_create("bench-run", MFD_CLOEXEC), devnull = open("/dev/null", O_RDONLY);
	ssize_t n = 0;
	unsigned int got;
	int status = -3;
	pid_t pid;

	if (!text || fd < 0 || devnull < 0) {
		fprintf(stderr, "vfio-vmm bench overhead: out of memory or fds\n");
		goto out;
	}
	pid = spawn(argv, devnull, fd, -1);
	if (pid < 0) {
		fprintf(stderr, "vfio-vmm bench overhead: fork: %s\n", strerror(errno));
		goto out;
	}
	/* In the guest, exec's own --timeout (the agent kills CMD) comes first. */
	status = wait_child(pid, ((uint64_t)b->o->run_timeout_s + (leg == LEG_HOST ? 0 : 30)) *
			    1000, &b->stop_sig);
	if (status == -2)
		goto out;
	n = pread(fd, text, OUTPUT_MAX, 0);
	if (n < 0)
		n = 0;
	fprintf(b->out_log, "=== %s run %u\n", leg_names[leg], run);
	fwrite(text, 1, (size_t)n, b->out_log);
	fflush(b->out_log);
	if (status != 0) {
		describe_status(status, why, sizeof(why));
		fprintf(stderr, "vfio-vmm bench overhead: %s run %u of %s: %s%s\n", leg_names[leg],
			run, b->o->cmd_argv[0], why, leg == LEG_GUEST && status > 0 &&
			WIFEXITED(status) && WEXITSTATUS(status) == EXEC_EXIT_FAILED ?
			" (the agent failed: see above)" : "");
		status = -3;
		goto out;
	}
	got = metric_add_run(b->set, leg, text, (size_t)n);
	fprintf(stderr, "vfio-vmm bench overhead: %s run %u/%u: %u metrics\n", leg_names[leg], run,
		b->o->runs * b->o->rounds, got);
	if (!got) {
		fprintf(stderr, "vfio-vmm bench overhead: %s printed no METRIC line; it must print "
			"METRIC NAME=VALUE lines (see --help)\n", b->o->cmd_argv[0]);
		status = -3;
	}
out:
	if (fd >= 0)
		close(fd);
	if (devnull >= 0)
		close(devnull);
	free(text);
	return status == 0 ? 0 : -1;
}

/* This round's runs of one side, numbered on from the rounds before. */
static int run_leg(struct bench *b, enum metric_leg leg, char *const argv[])
{
	for (unsigned int r = 1; r <= b->o->runs; r++)
		if (one_run(b, leg, (b->round - 1) * b->o->runs + r, argv))
			return -1;
	return 0;
}

/* Waits for the agent to take a connection; 0, or -1 (said why). */
static int wait_agent(struct bench *b, pid_t vm, const char *vm_log)
{
	uint64_t deadline = now_ms() + (uint64_t)b->o->boot_timeout_s * 1000;
	struct timespec second = { 1, 0 };
	char err[512], why[64];
	int status, s;

	for (;;) {
		int fd = exec_connect(b->o->cid, b->o->port, err, sizeof(err));

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(vm, &status, WNOHANG) == vm) {
			describe_status(status, why, sizeof(why));
			fprintf(stderr, "vfio-vmm bench overhead: the VM ended (%s) before its agent "
				"answered; see %s\n", why, vm_log);
			return -1;
		}
		if (now_ms() >= deadline) {
			fprintf(stderr, "vfio-vmm bench overhead: no agent after %u s: %s; does the "
				"disk's init start vfio-vmm-agent? (console: %s; --boot-timeout)\n",
				b->o->boot_timeout_s, err, vm_log);
			return -1;
		}
		s = sigtimedwait(&stop_sigs, NULL, &second);
		if (s > 0) {
			b->stop_sig = s;
			return -1;
		}
	}
}

/* SIGTERM (vfio-vmm run stops the guest in order), SIGKILL after VM_STOP_S. */
static void stop_vm(pid_t vm)
{
	uint64_t end = now_ms() + VM_STOP_S * 1000;
	int status;

	if (waitpid(vm, &status, WNOHANG) == vm)
		return;
	kill(vm, SIGTERM);
	while (waitpid(vm, &status, WNOHANG) != vm) {
		if (now_ms() >= end) {
			fprintf(stderr, "vfio-vmm bench overhead: the VM did not stop in %d s: "
				"killed\n", VM_STOP_S);
			kill(-vm, SIGKILL);
			waitpid(vm, &status, 0);
			return;
		}
		usleep(100000);
	}
}

/* The driver DEV had: back, and checked. 0 or -1. */
static int restore_driver(const struct host_env *env, const char *bdf, const char *driver)
{
	struct host_pci_dev d;
	char msg[512];
	int ret = host_unbind(env, bdf, msg, sizeof(msg));

	fprintf(stderr, "vfio-vmm bench overhead: %s\n", msg);
	if (ret)
		return -1;
	if (host_pci_read(env, bdf, &d) || strcmp(d.driver, driver)) {
		fprintf(stderr, "vfio-vmm bench overhead: %s is on '%s', not back on %s; give it "
			"back with vfio-vmm unbind %s\n", bdf, d.driver, driver, bdf);
		return -1;
	}
	fprintf(stderr, "vfio-vmm bench overhead: %s is back on %s\n", bdf, driver);
	return 0;
}

/* PREFIX.png from PREFIX.tsv with gnuplot, when there is one. */
static void plot(struct bench *b)
{
	char gp[4096], png[4096], tsv[4096];
	char *argv[] = { "gnuplot", gp, NULL };
	int sig = 0, status;
	bool qemu = false;
	FILE *f;
	pid_t pid;

	for (unsigned int i = 0; i < b->set->nr; i++)
		qemu |= b->set->m[i].n[LEG_QEMU] > 0;
	snprintf(gp, sizeof(gp), "%s.gp", b->o->out);
	snprintf(png, sizeof(png), "%s.png", b->o->out);
	snprintf(tsv, sizeof(tsv), "%s.tsv", b->o->out);
	f = fopen(gp, "w");
	if (!f)
		return;
	fprintf(f,
		"# vfio-vmm bench overhead: the guest's overhead per metric, from %s\n"
		"set terminal pngcairo size 900,480 font \"sans,10\"\n"
		"set output \"%s\"\n"
		"set datafile separator \"\\t\"\n"
		"set datafile missing \"-\"\n"
		"set title \"Passthrough overhead against the host (median; positive: slower)\"\n"
		"set ylabel \"overhead, %% of the host's median\"\n"
		"set style data histograms\n"
		"set style fill solid 0.85 border -1\n"
		"set boxwidth 0.8\n"
		"set grid ytics\n"
		"set xtics rotate by -25 nomirror noenhanced\n"
		"set key top left noenhanced\n"
		"plot \"%s\" using 16:xtic(1) title \"vfio-vmm\"%s\n",
		tsv, png, tsv, qemu ? ", '' using 18 title \"QEMU\"" : "");
	fclose(f);
	pid = spawn(argv, -1, -1, -1);
	if (pid < 0)
		return;
	status = wait_child(pid, 60000, &sig);
	if (status == -2)
		b->stop_sig = sig;
	else if (status == 0)
		fprintf(stderr, "vfio-vmm bench overhead: plot in %s\n", png);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		fprintf(stderr, "vfio-vmm bench overhead: no gnuplot: no plot (%s has the "
			"script)\n", gp);
	else
		fprintf(stderr, "vfio-vmm bench overhead: gnuplot failed on %s\n", gp);
}

/*
 * Boots the VM of vm_argv (console into log), waits for its agent, runs CMD
 * through exec_argv into leg, stops the VM. 0, or -1 (said why).
 */
static int vm_leg(struct bench *b, enum metric_leg leg, const char *who, char *const vm_argv[],
		  const char *log, char *const exec_argv[])
{
	int log_fd, devnull, ret = -1;
	pid_t vm;

	/* One console log per side: the rounds after the first append to it. */
	log_fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC | (b->round > 1 ? O_APPEND : O_TRUNC),
		      0644);
	if (log_fd < 0) {
		fprintf(stderr, "vfio-vmm bench overhead: %s: %s\n", log, strerror(errno));
		return -1;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	vm = spawn(vm_argv, devnull, log_fd, log_fd);
	if (devnull >= 0)
		close(devnull);
	close(log_fd);
	if (vm < 0) {
		fprintf(stderr, "vfio-vmm bench overhead: fork: %s\n", strerror(errno));
		return -1;
	}
	fprintf(stderr, "vfio-vmm bench overhead: %s guest booting (pid %d, console in %s)\n",
		who, (int)vm, log);
	if (!wait_agent(b, vm, log))
		ret = run_leg(b, leg, exec_argv);
	stop_vm(vm);
	return ret;
}

static int overhead_main(int argc, char **argv)
{
	static struct metric_set set;
	static struct qemu_cmd qemu;
	struct overhead_opts o;
	struct host_env env;
	struct host_pci_dev d;
	struct bench b = { .o = &o, .set = &set };
	char err[512], msg[512], cid[16], ecid[16], timeout[16], path[4096], vm_log[4096];
	char qemu_log[4096], qemu_path[4096];
	char flags[OVERHEAD_MAX_VM_ARGS][24];
	char *vm_argv[OVERHEAD_MAX_VM_ARGS + 8], *exec_argv[AGENT_MAX_ARGS + 8];
	char driver[sizeof(d.driver)];
	struct cli_opts *check;
	unsigned int n = 0;
	int ret, rc = 1;
	bool guest_ok, qemu_ok = true;

	if (overhead_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm %s\n", err);
		return EXEC_EXIT_USAGE;
	}
	if (o.help) {
		overhead_usage(stdout);
		return 0;
	}
	if (o.qemu && qemu_find(o.qemu, qemu_path, sizeof(qemu_path), err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm %s\n", err);
		return EXEC_EXIT_USAGE;
	}
	/* The VM's command line, checked the way `run` will before anything is changed. */
	snprintf(cid, sizeof(cid), "cid=%u", o.cid);
	vm_argv[n++] = "/proc/self/exe";
	vm_argv[n++] = "run";
	for (unsigned int i = 0; i < o.nr_vm_args; i += 2) {
		snprintf(flags[i], sizeof(flags[i]), "--%s", o.vm_args[i]);
		vm_argv[n++] = flags[i];
		vm_argv[n++] = o.vm_args[i + 1];
	}
	vm_argv[n++] = "--device";
	vm_argv[n++] = (char *)o.device;
	vm_argv[n++] = "--vsock";
	vm_argv[n++] = cid;
	vm_argv[n] = NULL;
	check = calloc(1, sizeof(*check));
	if (!check)
		return 1;
	ret = cli_parse((int)n, vm_argv, check, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "vfio-vmm bench overhead: %s\n", err);
		free(check);
		return EXEC_EXIT_USAGE;
	}
	host_env_default(&env);
	ret = host_pci_read(&env, o.device, &d);
	if (ret) {
		if (ret == -ENODEV || ret == -EINVAL)
			fprintf(stderr, "vfio-vmm bench overhead: --device %s: no such PCI device "
				"(see vfio-vmm devices)\n", o.device);
		else
			fprintf(stderr, "vfio-vmm bench overhead: --device %s: %s\n", o.device,
				strerror(-ret));
		free(check);
		return EXEC_EXIT_USAGE;
	}
	if (!d.driver[0] || host_is_vfio_driver(d.driver)) {
		fprintf(stderr, "vfio-vmm bench overhead: %s is on %s, so the host side cannot "
			"run; give it its own driver first: vfio-vmm unbind %s\n", d.bdf,
			d.driver[0] ? d.driver : "no driver", d.bdf);
		free(check);
		return EXEC_EXIT_USAGE;
	}
	/* QEMU's line from the same parsed options: the same guest, our defaults. */
	if (o.qemu && qemu_build_argv(&qemu, qemu_path, check, d.bdf, o.cid, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm %s\n", err);
		free(check);
		return EXEC_EXIT_USAGE;
	}
	free(check);
	snprintf(driver, sizeof(driver), "%s", d.driver);
	snprintf(vm_log, sizeof(vm_log), "%s.vm.log", o.out);
	snprintf(qemu_log, sizeof(qemu_log), "%s.qemu.log", o.out);
	b.out_log = open_out(o.out, ".out", path, sizeof(path), err, sizeof(err));
	if (!b.out_log) {
		fprintf(stderr, "vfio-vmm bench overhead: %s\n", err);
		return EXEC_EXIT_USAGE;
	}
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_sigs, &old_mask);

	snprintf(timeout, sizeof(timeout), "%u", o.run_timeout_s);
	snprintf(ecid, sizeof(ecid), "%u", o.cid);
	n = 0;
	exec_argv[n++] = "/proc/self/exe";
	exec_argv[n++] = "exec";
	exec_argv[n++] = "--cid";
	exec_argv[n++] = ecid;
	exec_argv[n++] = "--timeout";
	exec_argv[n++] = timeout;
	exec_argv[n++] = "--";
	for (unsigned int i = 0; i < o.cmd_argc; i++)
		exec_argv[n++] = o.cmd_argv[i];
	exec_argv[n] = NULL;
	/*
	 * Each round is host, vfio-vmm, QEMU, with DEV bound to vfio-pci after
	 * the host's runs and given back before the next round's: a load change
	 * on the machine then falls inside every side's rounds rather than
	 * between the sides. The price: every round boots each guest again (DEV
	 * can be in one VM at a time) and moves DEV between drivers twice.
	 */
	for (b.round = 1; b.round <= o.rounds; b.round++) {
		if (o.rounds > 1)
			fprintf(stderr, "vfio-vmm bench overhead: round %u of %u\n", b.round,
				o.rounds);
		fprintf(stderr, "vfio-vmm bench overhead: %s on %s: %u runs of %s on the host\n",
			d.bdf, driver, o.runs, o.cmd_argv[0]);
		if (run_leg(&b, LEG_HOST, o.cmd_argv))
			goto out;	/* DEV is on its driver */
		ret = host_bind(&env, d.bdf, msg, sizeof(msg));
		fprintf(stderr, "vfio-vmm bench overhead: %s\n", msg);
		if (ret)
			goto restore;	/* a bind that failed half-way may have unbound the driver */
		guest_ok = !vm_leg(&b, LEG_GUEST, "vfio-vmm", vm_argv, vm_log, exec_argv);
		if (o.qemu && !b.stop_sig)
			qemu_ok = !vm_leg(&b, LEG_QEMU, "QEMU", qemu.argv, qemu_log, exec_argv);
		if (!guest_ok || !qemu_ok || b.stop_sig)
			goto restore;
		if (restore_driver(&env, d.bdf, driver))
			goto out;	/* rc stays 1: said why */
	}
	rc = 0;
	goto out;
restore:
	restore_driver(&env, d.bdf, driver);
out:
	fclose(b.out_log);
	if (set.nr) {
		printf("vfio-vmm bench overhead: %s (%s) against vfio-vmm passthrough%s, %s\n\n",
		       d.bdf, driver, o.qemu ? " and QEMU's" : "", o.cmd_argv[0]);
		overhead_report(&set, stdout);
		fflush(stdout);
		if (overhead_write_tsv(&set, o.out, err, sizeof(err))) {
			fprintf(stderr, "vfio-vmm bench overhead: %s\n", err);
			rc = 1;
		} else {
			fprintf(stderr, "vfio-vmm bench overhead: tables in %s.tsv and %s.runs.tsv\n",
				o.out, o.out);
			if (set.m[0].n[LEG_GUEST] || set.m[0].n[LEG_QEMU])
				plot(&b);
		}
	}
	if (b.stop_sig) {
		fprintf(stderr, "vfio-vmm bench overhead: signal %d: stopped\n", b.stop_sig);
		return 128 + b.stop_sig;
	}
	return rc;
}

int bench_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "bench"))
		return -1;
	if (argc >= 3 && !strcmp(argv[2], "overhead"))
		return overhead_main(argc - 2, argv + 2);
	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		overhead_usage(stdout);
		return 0;
	}
	if (argc < 3)
		fprintf(stderr, "vfio-vmm bench: name a benchmark: vfio-vmm bench overhead "
			"(see vfio-vmm bench --help)\n");
	else
		fprintf(stderr, "vfio-vmm bench: %s: unknown benchmark; use vfio-vmm bench "
			"overhead (see vfio-vmm bench --help)\n", argv[2]);
	return EXEC_EXIT_USAGE;
}
