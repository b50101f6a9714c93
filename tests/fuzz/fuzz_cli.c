// SPDX-License-Identifier: MIT
/*
 * vmm/cli.c cli_parse: the input split on NUL bytes is argv[1..] (argv[0] is
 * "vfio-vmm"). Paths are checked with access(), so "/" or "/proc/self/exe"
 * in the input make a run command line that parses. The target aborts when
 *  - a refusal's message is empty, unterminated or more than one line;
 *  - an accepted "run" breaks a documented limit: no kernel, memory below
 *    16M, cpus outside 1-255, hugepages other than 0/2M/1G, more than
 *    CLI_MAX_DEVICES devices, an empty or repeated device, --p2p without a
 *    device, trace bits outside the categories, a string that is not one of
 *    argv's (cli_opts keeps pointers into argv);
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
		FUZZ_CHECK(o->devices[i] && o->devices[i][0] && from_argv(o->devices[i], argv, argc),
			   "device %u empty or not from argv", i);
		for (unsigned int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(o->devices[i], o->devices[j]), "device '%s' twice",
				   o->devices[i]);
	}
	FUZZ_CHECK(!o->p2p || o->nr_devices, "--p2p without a device");
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
