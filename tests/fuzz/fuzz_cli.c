// SPDX-License-Identifier: MIT
/*
 * vmm/cli.c cli_parse: the input split on NUL bytes is argv[1..] (argv[0] is
 * "vfio-vmm"). Paths are checked with access(), so "/" or "/proc/self/exe"
 * in the input make a run command line that parses. The target aborts when
 *  - a refusal's message is empty, unterminated or more than one line;
 *  - an accepted "run" breaks a documented limit: no kernel, memory below
 *    16M, cpus outside 1-255, hugepages other than 0/2M/1G, more than
 *    CLI_MAX_DEVICES devices, an empty or repeated device (DEV of
 *    "DEV,opts" is a copy: it must be in an argument, followed by a ','),
 *    --p2p without a device, a clique without --p2p or above 15, trace bits
 *    outside the categories, a string that is not one of argv's (cli_opts
 *    keeps pointers into argv); a disk without a path or repeated, a serial
 *    the spec cannot carry, a tap name the kernel refuses or repeated, queue
 *    counts above their limits, a vsock cid of 0-2 or -1, a seccomp mode or
 *    prefault thread count outside their ranges;
 *  - help/version are returned for a command line that does not ask for them.
 */
#include "tests/fuzz/fuzz_input.h"
#include "vmm/cli.h"
#include "util/log.h"

#define MAX_ARGS 64

static bool from_argv(const char *s, char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		if (s == argv[i] || (s > argv[i] && s <= argv[i] + strlen(argv[i])))
			return true;
	return false;
}

/*
 * DEV of "DEV,opts" is copied into device_args: it must appear in an argument
 * followed by ',' ("--device=DEV,..." puts it after the '=').
 */
static bool device_from_argv(const struct cli_opts *o, unsigned int i, char **argv, int argc)
{
	size_t len = strlen(o->devices[i]);

	if (from_argv(o->devices[i], argv, argc))
		return true;
	if (o->devices[i] != o->device_args[i])
		return false;
	for (int j = 0; j < argc; j++)
		for (const char *p = strstr(argv[j], o->devices[i]); p;
		     p = strstr(p + 1, o->devices[i]))
			if (p[len] == ',')
				return true;
	return false;
}

static bool asks(char **argv, int argc, const char *long_opt, char short_opt)
{
	/* Anywhere: a "--" may itself be an option's value, so it ends nothing here. */
	for (int i = 1; i < argc; i++) {
		/* getopt_long also takes unambiguous prefixes: "--he", "--vers". */
		if (!strncmp(argv[i], "--", 2) && argv[i][2] &&
		    !strncmp(long_opt, argv[i] + 2, strlen(argv[i] + 2)))
			return true;
		if (argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i] + 1, short_opt))
			return true;
	}
	return false;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= NET_IFNAME_MAX && strcmp(s, ".") && strcmp(s, "..") &&
	       !strpbrk(s, "/: \t\n\v\f\r");
}

/* --disk, --net, --vsock, --seccomp, --prefault-threads: their documented ranges. */
static void check_disks_nets(const struct cli_opts *o)
{
	FUZZ_CHECK(o->nr_disks <= CLI_MAX_DISKS, "%u disks", o->nr_disks);
	for (unsigned int i = 0; i < o->nr_disks; i++) {
		const struct disk_opts *d = &o->disks[i];

		FUZZ_CHECK(d->path && d->path[0], "disk %u without a path", i);
		FUZZ_CHECK(d->queues <= DISK_MAX_QUEUES, "disk %u: %u queues", i, d->queues);
		FUZZ_CHECK(!d->serial || (d->serial[0] && strlen(d->serial) <= DISK_SERIAL_MAX &&
					  !strpbrk(d->serial, " ,")),
			   "disk %u: serial '%s'", i, d->serial);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(d->path, o->disks[j].path), "disk '%s' twice", d->path);
	}
	FUZZ_CHECK(o->nr_nets <= CLI_MAX_NETS, "%u nets", o->nr_nets);
	for (unsigned int i = 0; i < o->nr_nets; i++) {
		const struct net_opts *n = &o->nets[i];

		FUZZ_CHECK(n->tap && ifname_ok(n->tap), "net %u: tap '%s'", i, n->tap);
		FUZZ_CHECK(n->queues <= NET_MAX_QUEUE_PAIRS, "net %u: %u queues", i, n->queues);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(n->tap, o->nets[j].tap), "tap '%s' twice", n->tap);
	}
	FUZZ_CHECK(o->vsock_cid == 0 || (o->vsock_cid >= 3 && o->vsock_cid <= 0xfffffffeU),
		   "vsock cid %u", o->vsock_cid);
	FUZZ_CHECK(o->seccomp == SECCOMP_ON || o->seccomp == SECCOMP_LOG ||
			   o->seccomp == SECCOMP_OFF, "seccomp mode %d", (int)o->seccomp);
	FUZZ_CHECK(o->prefault_threads >= -1 && o->prefault_threads <= 256,
		   "%d prefault threads", o->prefault_threads);
}

static void check_run(const struct cli_opts *o, char **argv, int argc)
{
	unsigned int all;
	const char *bad = NULL;

	FUZZ_CHECK(o->vm.kernel && from_argv(o->vm.kernel, argv, argc), "run without --kernel");
	FUZZ_CHECK(o->vm.ram_size >= 16ULL << 20, "memory %llu", (unsigned long long)o->vm.ram_size);
	FUZZ_CHECK(o->vm.nr_cpus >= 1 && o->vm.nr_cpus <= CLI_MAX_CPUS, "%u cpus", o->vm.nr_cpus);
	FUZZ_CHECK(o->vm.hugepage_size == 0 || o->vm.hugepage_size == 2ULL << 20 ||
			   o->vm.hugepage_size == 1ULL << 30,
		   "hugepages %#llx", (unsigned long long)o->vm.hugepage_size);
	FUZZ_CHECK(o->vm.cmdline, "no command line");
	FUZZ_CHECK(!o->vm.initrd || from_argv(o->vm.initrd, argv, argc), "initrd not from argv");
	FUZZ_CHECK(o->nr_devices <= CLI_MAX_DEVICES, "%u devices", o->nr_devices);
	for (unsigned int i = 0; i < o->nr_devices; i++) {
		FUZZ_CHECK(o->devices[i] && o->devices[i][0] && device_from_argv(o, i, argv, argc),
			   "device %u empty or not from argv", i);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(o->devices[i], o->devices[j]), "device '%s' twice",
				   o->devices[i]);
	}
	FUZZ_CHECK(!o->p2p || o->nr_devices, "--p2p without a device");
	for (unsigned int i = 0; i < o->nr_devices; i++)
		FUZZ_CHECK(o->cliques[i] < 0 || (o->p2p && o->cliques[i] <= 15),
			   "device %u: clique %d", i, o->cliques[i]);
	check_disks_nets(o);
	log_parse_categories("all", &all, &bad);
	FUZZ_CHECK(!(o->trace & ~all), "trace bits %#x", o->trace);
	FUZZ_CHECK(!o->config || from_argv(o->config, argv, argc), "config not from argv");
	FUZZ_CHECK(!o->flavor || from_argv(o->flavor, argv, argc), "flavor not from argv");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1];
	char err[128];
	struct cli_opts o;
	int argc = 0, ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "vfio-vmm";
	for (size_t i = 0; i < size && argc < MAX_ARGS;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	memset(err, 0x55, sizeof(err));
	ret = cli_parse(argc, argv, &o, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(ret == -1, "cli_parse: %d", ret);
		FUZZ_CHECK(memchr(err, 0, sizeof(err)) && err[0], "refusal without a message");
		/* One line, unless it quotes an argument that has a newline itself. */
		FUZZ_CHECK(!strchr(err, '\n') || memchr(data, '\n', size),
			   "refusal message of several lines: %s", err);
	} else if (o.action == CLI_HELP) {
		FUZZ_CHECK(asks(argv, argc, "help", 'h'), "help for a command line without -h");
	} else if (o.action == CLI_VERSION) {
		FUZZ_CHECK(asks(argv, argc, "version", 'V'), "version for a command line without -V");
	} else {
		FUZZ_CHECK(o.action == CLI_RUN, "action %d", o.action);
		FUZZ_CHECK(argc >= 2 && !strcmp(argv[1], "run"), "run without 'run'");
		check_run(&o, argv, argc);
	}
	free(buf);
	return 0;
}
