// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>

#include "vmm/cli.h"
#include "util/log.h"

static char err[512];

/* argv built from a NULL-terminated list; the kernel is this test binary. */
static int parse(struct cli_opts *o, const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "vfio-vmm";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_parse(argc, argv, o, err, sizeof(err));
}

#define KERNEL "/proc/self/exe"

Test(cli, defaults)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, NULL), 0, "%s", err);
	cr_assert_eq(o.action, CLI_RUN);
	cr_assert_eq(o.vm.ram_size, 256ULL << 20);
	cr_assert_eq(o.vm.nr_cpus, 1);
	cr_assert_eq(o.vm.hugepage_size, 0);
	cr_assert_str_eq(o.vm.kernel, KERNEL);
	cr_assert_str_eq(o.vm.cmdline, "console=ttyS0");
	cr_assert_null(o.vm.initrd);
}

Test(cli, all_options)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--initrd", KERNEL, "--cmdline", "quiet",
			   "--memory", "4G", "--cpus", "4", "--hugepages", "2M", "--trace",
			   "vfio,irq", "--stats", NULL), 0, "%s", err);
	cr_assert_eq(o.vm.ram_size, 4ULL << 30);
	cr_assert_eq(o.vm.nr_cpus, 4);
	cr_assert_eq(o.vm.hugepage_size, 2ULL << 20);
	cr_assert_str_eq(o.vm.cmdline, "quiet");
	cr_assert_eq(o.trace, LOG_VFIO | LOG_IRQ);
	cr_assert(o.stats);
}

Test(cli, sizes)
{
	uint64_t b;

	cr_assert_eq(cli_parse_size("256M", &b), 0);
	cr_assert_eq(b, 256ULL << 20);
	cr_assert_eq(cli_parse_size("1536MiB", &b), 0);
	cr_assert_eq(b, 1536ULL << 20);
	cr_assert_eq(cli_parse_size("2g", &b), 0);
	cr_assert_eq(b, 2ULL << 30);
	cr_assert_eq(cli_parse_size("512", &b), 0);
	cr_assert_eq(b, 512ULL << 20);
	cr_assert_eq(cli_parse_size("1T", &b), 0);
	cr_assert_eq(b, 1ULL << 40);
	cr_assert_eq(cli_parse_size("banana", &b), -1);
	cr_assert_eq(cli_parse_size("12X", &b), -1);
	cr_assert_eq(cli_parse_size("0", &b), -1);
	cr_assert_eq(cli_parse_size("-5M", &b), -1);
	cr_assert_eq(cli_parse_size("99999999999999999999G", &b), -1);
	cr_assert_eq(cli_parse_size("4GiBx", &b), -1);
}

Test(cli, bad_values_give_one_line_naming_the_fix)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--memory", "banana", NULL), -1);
	cr_assert(strstr(err, "--memory banana"), "%s", err);
	cr_assert(strstr(err, "512M"), "%s", err);
	cr_assert_null(strchr(err, '\n'));

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--cpus", "0", NULL), -1);
	cr_assert(strstr(err, "--cpus 0") && strstr(err, "1 to"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--cpus", "256", NULL), -1);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--cpus", "2x", NULL), -1);

	cr_assert_eq(parse(&o, "run", "--kernel", "/nonexistent/bzImage", NULL), -1);
	cr_assert(strstr(err, "/nonexistent/bzImage") && strstr(err, "no such file"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--initrd", "/nope", NULL), -1);
	cr_assert(strstr(err, "--initrd /nope"), "%s", err);

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--hugepages", "4M", NULL), -1);
	cr_assert(strstr(err, "2M or 1G"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--trace", "vfio,bogus", NULL), -1);
	cr_assert(strstr(err, "'bogus'"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--memory", "8M", NULL), -1);
	cr_assert(strstr(err, "too small"), "%s", err);
}

Test(cli, usage_errors)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", NULL), -1);
	cr_assert(strstr(err, "--kernel FILE is required"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--frobnicate", NULL), -1);
	cr_assert(strstr(err, "--frobnicate") && strstr(err, "unknown option"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", NULL), -1);
	cr_assert(strstr(err, "needs a value"), "%s", err);
	cr_assert_eq(parse(&o, "--kernel", KERNEL, NULL), -1);
	cr_assert(strstr(err, "no command"), "%s", err);
	cr_assert_eq(parse(&o, "boot", NULL), -1);
	cr_assert(strstr(err, "'boot'"), "%s", err);
	cr_assert_eq(parse(&o, NULL), -1);
}

Test(cli, help_and_version)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "--help", NULL), 0);
	cr_assert_eq(o.action, CLI_HELP);
	cr_assert_eq(parse(&o, "run", "-h", NULL), 0);
	cr_assert_eq(o.action, CLI_HELP);
	cr_assert_eq(parse(&o, "--version", NULL), 0);
	cr_assert_eq(o.action, CLI_VERSION);
}

Test(cli, help_mentions_every_option)
{
	static const char *opts[] = { "--p2p", "--device", "--kernel", "--initrd", "--cmdline", "--memory", "--cpus",
				      "--hugepages", "--trace", "--stats", "--help", "--version",
				      "--config", "--flavor", "alias:NAME:COUNT", "--disk",
				      "readonly=on", "direct=on", "serial=S", "queues=N", "doctor", "devices",
				      "bind", "unbind", "--json", "--group", "--seccomp",
				      "--prefault-threads", "--net", "--vsock" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		cr_assert(strstr(buf, opts[i]), "help lacks %s", opts[i]);
	free(buf);
}

Test(cli, flavor_config_and_explicit_sizes)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--flavor", "gpu.2x", "--cpus", "4",
			   "--device", "alias:h100:2", NULL), 0, "%s", err);
	cr_assert_str_eq(o.flavor, "gpu.2x");
	cr_assert(o.cpus_set);
	cr_assert_not(o.memory_set);
	cr_assert_not(o.hugepages_set);
	cr_assert_str_eq(o.devices[0], "alias:h100:2");
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--config", "/nonexistent.conf", NULL),
		     -1);
	cr_assert(strstr(err, "--config /nonexistent.conf: no such file"), "%s", err);
}

Test(cli, devices_repeatable_and_checked)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "0000:3e:00.0", "--device",
			   "3e:00.1", NULL), 0, "%s", err);
	cr_assert_eq(o.nr_devices, 2);
	cr_assert_str_eq(o.devices[0], "0000:3e:00.0");
	cr_assert_str_eq(o.devices[1], "3e:00.1");
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "3e:00.1", "--device",
			   "3e:00.1", NULL), -1);
	cr_assert(strstr(err, "given twice"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "", NULL), -1);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", NULL), -1);
	cr_assert(strstr(err, "--p2p needs at least one --device"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "1:00.0", NULL), 0);
	cr_assert(o.p2p);
}

Test(cli, seccomp_and_prefault_threads)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, NULL), 0, "%s", err);
	cr_assert_eq(o.seccomp, SECCOMP_ON, "filters are on unless asked otherwise");
	cr_assert_eq(o.prefault_threads, -1, "one thread per CPU unless asked otherwise");
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--seccomp", "log", "--prefault-threads",
			   "0", NULL), 0, "%s", err);
	cr_assert_eq(o.seccomp, SECCOMP_LOG);
	cr_assert_eq(o.prefault_threads, 0);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--seccomp", "maybe", NULL), -1);
	cr_assert(strstr(err, "--seccomp maybe: must be on, log or off"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--prefault-threads", "257", NULL), -1);
	cr_assert(strstr(err, "--prefault-threads 257: must be a number from 0 to 256"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--prefault-threads", "-1", NULL), -1);
}

Test(cli, disks)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--disk", "root.img", "--disk",
			   "path=/dev/vdb,readonly=on,direct=on,serial=data-1,queues=4",
			   "--disk", "/tmp/x.img,direct=off", NULL), 0, "%s", err);
	cr_assert_eq(o.nr_disks, 3);
	cr_assert_str_eq(o.disks[0].path, "root.img");
	cr_assert_not(o.disks[0].readonly);
	cr_assert_not(o.disks[0].direct);
	cr_assert_null(o.disks[0].serial);
	cr_assert_eq(o.disks[0].queues, 0, "default: the caller's (one per vCPU)");
	cr_assert_str_eq(o.disks[1].path, "/dev/vdb");
	cr_assert(o.disks[1].readonly);
	cr_assert(o.disks[1].direct);
	cr_assert_str_eq(o.disks[1].serial, "data-1");
	cr_assert_eq(o.disks[1].queues, 4);
	cr_assert_str_eq(o.disks[2].path, "/tmp/x.img");
	cr_assert_not(o.disks[2].direct);
	/* The file is not opened while parsing: that is VM setup's job. */
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--disk", "/nonexistent.img", NULL), 0);
}

/* Each bad --disk: one line, naming the option, the problem and the fix. */
static void disk_fails(const char *arg, const char *want1, const char *want2)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--disk", arg, NULL), -1,
		     "--disk %s accepted", arg);
	cr_assert_null(strchr(err, '\n'));
	cr_assert(strstr(err, "--disk"), "%s", err);
	cr_assert(strstr(err, want1), "--disk %s: '%s' lacks '%s'", arg, err, want1);
	cr_assert(strstr(err, want2), "--disk %s: '%s' lacks '%s'", arg, err, want2);
}

Test(cli, disk_errors)
{
	disk_fails("", "needs an image", "path=");
	disk_fails("x.img,bogus=1", "unknown key 'bogus'", "path, readonly, direct, serial");
	disk_fails("x.img,readonly=yes", "readonly=yes", "readonly=on or readonly=off");
	disk_fails("x.img,direct=1", "direct=1", "direct=on or direct=off");
	disk_fails("x.img,queues=0", "queues=0", "1 to 64");
	disk_fails("x.img,queues=65", "queues=65", "1 to 64");
	disk_fails("x.img,queues=two", "queues=two", "1 to 64");
	disk_fails("x.img,serial=ABCDEFGHIJKLMNOPQRSTU", "serial=", "1 to 20");
	disk_fails("x.img,serial=", "serial=", "1 to 20");
	disk_fails("x.img,serial=a b", "serial=", "no spaces");
	disk_fails("readonly=on", "no image", "path=FILE");
	disk_fails("path=", "path is empty", "path=FILE");
	disk_fails("x.img,readonly", "'readonly' is not KEY=VALUE", "path, readonly");
	disk_fails("x.img,path=y.img", "path given twice", "x.img");
	disk_fails("x.img,readonly=on,readonly=off", "readonly given twice", "x.img");
}

Test(cli, disk_limits)
{
	struct cli_opts o;
	char *argv[40];
	char names[9][16];
	char longarg[CLI_DISK_ARG_MAX + 8];
	int argc = 0;

	argv[argc++] = "vfio-vmm";
	argv[argc++] = "run";
	argv[argc++] = "--kernel";
	argv[argc++] = KERNEL;
	for (int i = 0; i < 9; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d.img", i);
		argv[argc++] = "--disk";
		argv[argc++] = names[i];
	}
	argv[argc] = NULL;
	cr_assert_eq(cli_parse(argc - 2, argv, &o, err, sizeof(err)), 0, "8 disks: %s", err);
	cr_assert_eq(o.nr_disks, 8);
	cr_assert_str_eq(o.disks[7].path, "d7.img");
	cr_assert_eq(cli_parse(argc, argv, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "--disk d8.img: at most 8 disks"), "%s", err);

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--disk", "a.img", "--disk",
			   "path=a.img,readonly=on", NULL), -1);
	cr_assert(strstr(err, "a.img given twice"), "%s", err);

	memset(longarg, 'a', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--disk", longarg, NULL), -1);
	cr_assert(strstr(err, "longer than"), "%s", err);
}

Test(cli, net_options)
{
	struct cli_opts o;
	uint8_t def[6];

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--net", "tap=tap0", "--net",
			   "tap=tap1,mac=52:54:00:12:34:56,queues=4", "--net", "tap2", NULL), 0,
		     "%s", err);
	cr_assert_eq(o.nr_nets, 3);
	cr_assert_str_eq(o.nets[0].tap, "tap0");
	cr_assert_not(o.nets[0].mac_set);
	cr_assert_eq(o.nets[0].queues, 0, "the device's default (1)");
	cr_assert_str_eq(o.nets[1].tap, "tap1");
	cr_assert(o.nets[1].mac_set);
	cr_assert_eq(memcmp(o.nets[1].mac, (uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 6), 0);
	cr_assert_eq(o.nets[1].queues, 4);
	cr_assert_str_eq(o.nets[2].tap, "tap2", "a bare NAME is the tap");
	/* The strings outlive argv parsing: they are copies. */
	net_mac_default(o.nets[0].tap, def);
	cr_assert_eq(def[0], 2);
}

Test(cli, net_bad_input_one_line_each)
{
	static const struct {
		const char *arg, *want;
	} bad[] = {
		{ "tap=x,bogus=1", "unknown key 'bogus'; use tap, mac or queues" },
		{ "tap=exactly-twenty-chars", "is 20 characters; Linux allows at most 15" },
		{ "tap=a/b", "not an interface name" },
		{ "tap=x,mac=01:00:5e:00:00:01", "multicast" },
		{ "tap=x,mac=zz", "six hex pairs" },
		{ "tap=x,queues=0", "queues=0: use a number from 1 to 16" },
		{ "tap=x,queues=17", "from 1 to 16" },
		{ "tap=x,tap=y", "tap given twice" },
		{ "mac=02:00:00:00:00:01", "no tap given" },
		{ "", "--net needs a tap" },
		{ "tap=x,queues", "'queues' is not KEY=VALUE" },
	};
	struct cli_opts o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--net", bad[i].arg, NULL), -1,
			     "--net %s accepted", bad[i].arg);
		cr_assert(strstr(err, bad[i].want), "--net %s: '%s' lacks '%s'", bad[i].arg, err,
			  bad[i].want);
		cr_assert_null(strchr(err, '\n'));
	}
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--net", "tap=a", "--net", "tap=a", NULL),
		     -1);
	cr_assert(strstr(err, "tap a given twice"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--net", "tap=a,mac=02:00:00:00:00:01",
			   "--net", "tap=b,mac=02:00:00:00:00:01", NULL), -1);
	cr_assert(strstr(err, "mac is given twice"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--net", "a", "--net", "b", "--net", "c",
			   "--net", "d", "--net", "e", NULL), -1);
	cr_assert(strstr(err, "at most 4 network devices"), "%s", err);
}

Test(cli, vsock_option)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, NULL), 0, "%s", err);
	cr_assert_eq(o.vsock_cid, 0, "no vsock unless asked");
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "cid=3", NULL), 0, "%s", err);
	cr_assert_eq(o.vsock_cid, 3);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "4294967294", NULL), 0, "%s",
		     err);
	cr_assert_eq(o.vsock_cid, 4294967294u);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "cid=2", NULL), -1);
	cr_assert(strstr(err, "from 3 to 4294967294"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "cid=4294967295", NULL), -1);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "cid=x", NULL), -1);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "port=3", NULL), -1);
	cr_assert(strstr(err, "use --vsock cid=N"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--vsock", "cid=3", "--vsock", "cid=4",
			   NULL), -1);
	cr_assert(strstr(err, "given twice"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
}

Test(cli, device_clique)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "0000:3e:00.0,clique=7",
			   "--device", "0000:3f:00.0", "--device", "0000:40:00.0,clique=0", NULL),
		     0, "%s", err);
	cr_assert_eq(o.nr_devices, 3);
	cr_assert_str_eq(o.devices[0], "0000:3e:00.0");
	cr_assert_eq(o.cliques[0], 7);
	cr_assert_str_eq(o.devices[1], "0000:3f:00.0");
	cr_assert_eq(o.cliques[1], -1);
	cr_assert_eq(o.cliques[2], 0);
	/* The same address twice is still twice, option or not. */
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "3e:00.0,clique=1",
			   "--device", "3e:00.0", NULL), -1);
	cr_assert(strstr(err, "given twice"), "%s", err);
}

Test(cli, device_clique_refusals_one_line)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "3e:00.0,clique=3", NULL), -1);
	cr_assert(strstr(err, "--device 3e:00.0,clique=3 needs --p2p"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "3e:00.0,clique=16",
			   NULL), -1);
	cr_assert(strstr(err, "clique must be a number from 0 to 15"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "3e:00.0,clique=",
			   NULL), -1);
	cr_assert(strstr(err, "from 0 to 15"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "3e:00.0,rom=off",
			   NULL), -1);
	cr_assert(strstr(err, "unknown option 'rom=off' (have clique=N, port=on|off)"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--p2p", "--device", "alias:h100:2,clique=1",
			   NULL), -1);
	cr_assert(strstr(err, "not an alias"), "%s", err);
}

Test(cli, device_port)
{
	struct cli_opts o;

	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "0000:3e:00.0,port=off",
			   "--device", "3f:00.0", "--p2p", "--device", "40:00.0,clique=2,port=on",
			   NULL), 0, "%s", err);
	cr_assert_str_eq(o.devices[0], "0000:3e:00.0");
	cr_assert_eq(o.ports[0], 0);
	cr_assert_eq(o.ports[1], -1, "default: a port when the device is PCIe");
	cr_assert_str_eq(o.devices[2], "40:00.0");
	cr_assert_eq(o.ports[2], 1);
	cr_assert_eq(o.cliques[2], 2);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "3e:00.0,port=maybe", NULL),
		     -1);
	cr_assert(strstr(err, "--device 3e:00.0,port=maybe: port must be on or off"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "3e:00.0,port=", NULL), -1);
	cr_assert(strstr(err, "port must be on or off"), "%s", err);
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", "alias:nvme:1,port=off", NULL),
		     -1);
	cr_assert(strstr(err, "not an alias"), "%s", err);
	/* Options without an address would leave an empty device name (fuzz_cli). */
	cr_assert_eq(parse(&o, "run", "--kernel", KERNEL, "--device", ",port=on", NULL), -1);
	cr_assert(strstr(err, "--device ,port=on: a PCI address goes before the options"), "%s",
		  err);
}
