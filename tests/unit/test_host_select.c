// SPDX-License-Identifier: MIT
/*
 * The config file (inih), sysfs resource parsing on the real H100 file,
 * and device selection for aliases and flavors with the per-device locks.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/bind.h"
#include "host/config.h"
#include "host/select.h"
#include "test_host_fake.h"

static char err[1024];

static const char conf_text[] =
	"; aliases name kinds of devices, flavors sizes of VMs\n"
	"[alias nvme]\n"
	"vendor = 0x1b36\n"
	"device = 0x0010\n"
	"description = QEMU NVMe controller\n"
	"\n"
	"[flavor small]\n"
	"cpus = 2\n"
	"memory = 1G\n"
	"hugepages = 2M\n"
	"devices = nvme:1, gpu\n"
	"\n"
	"[flavor big]\n"
	"memory = 4G\n"
	"devices = nvme:2\n"
	"\n"
	"[alias gpu]\n"
	"class = 0x0302\n";

Test(host_config, parses_aliases_and_flavors)
{
	struct host_config c;
	const struct host_alias *a;
	const struct host_flavor *f;
	char desc[64];

	cr_assert_eq(host_config_parse(conf_text, "t.conf", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.nr_aliases, 2);
	a = host_config_alias(&c, "nvme");
	cr_assert_not_null(a);
	cr_assert_eq(a->vendor, 0x1b36);
	cr_assert_eq(a->device, 0x0010);
	cr_assert_str_eq(a->description, "QEMU NVMe controller");
	cr_assert(host_alias_matches(a, 0x1b36, 0x0010, 0x010802));
	cr_assert_not(host_alias_matches(a, 0x1b36, 0x0011, 0x010802));
	a = host_config_alias(&c, "gpu");
	cr_assert(host_alias_matches(a, 0x10de, 0x2330, 0x030200));
	cr_assert_not(host_alias_matches(a, 0x10de, 0x2330, 0x030000));
	host_alias_describe(a, desc, sizeof(desc));
	cr_assert_str_eq(desc, "class 0x0302");
	f = host_config_flavor(&c, "small");
	cr_assert_not_null(f);
	cr_assert_eq(f->cpus, 2);
	cr_assert_eq(f->memory, 1ULL << 30);
	cr_assert_eq(f->hugepage_size, 2ULL << 20);
	cr_assert_eq(f->nr_devs, 2);
	cr_assert_str_eq(f->devs[0].alias, "nvme");
	cr_assert_eq(f->devs[0].count, 1);
	cr_assert_str_eq(f->devs[1].alias, "gpu");
	cr_assert_eq(f->devs[1].count, 1);
	cr_assert_null(host_config_flavor(&c, "huge"));
}

static void expect_error(const char *text, const char *want)
{
	struct host_config c;

	cr_assert_eq(host_config_parse(text, "t.conf", &c, err, sizeof(err)), -EINVAL, "%s", text);
	cr_assert_str_eq(err, want);
}

Test(host_config, errors_name_file_line_and_fix)
{
	expect_error("[alias a]\nvendor = 0x10de\nvendr = 1\n",
		     "t.conf:3: alias a: unknown key 'vendr' (have vendor, device, class, mdev_type, description)");
	expect_error("[alias a]\nvendor = nvidia\n",
		     "t.conf:2: alias a: vendor 'nvidia' is not a 16-bit hex id like 0x10de");
	expect_error("vendor = 1\n", "t.conf:1: 'vendor' outside a section: put it under "
		     "[alias NAME] or [flavor NAME]");
	expect_error("[gpu]\nvendor = 1\n", "t.conf:2: section [gpu]: expected [alias NAME] or "
		     "[flavor NAME] (NAME: letters, digits, . _ -)");
	expect_error("[flavor f]\ndevices = h200:2\n", "t.conf: flavor f uses alias 'h200', which "
		     "is not defined (add an [alias h200] section)");
	expect_error("[flavor f]\nhugepages = 4K\n",
		     "t.conf:2: flavor f: hugepages '4K' must be 2M, 1G or none");
	expect_error("[alias a]\ndevice = 0x1234\n", "t.conf: alias a has a device id but no vendor");
	expect_error("[alias a]\ndescription = x\n", "t.conf: alias a needs a vendor, a class or an mdev_type");
	expect_error("[alias a]\nclass = 0x123\n",
		     "t.conf:2: alias a: class '0x123' must be 2, 4 or 6 hex digits (0x03, 0x0302, 0x010802)");
	expect_error("[flavor f]\ncpus = 0\n", "t.conf:2: flavor f: cpus '0' must be 1 to 255");
	expect_error("[alias a]\nvendor = 1\n[flavor f]\ndevices = a:0\n",
		     "t.conf:4: flavor f: 'a:0': the count must be 1 to 16");
	expect_error("[alias a]\nnot a key value line\n",
		     "t.conf:2: not a 'key = value' line (longer than 200 bytes?)");
	/* Found by tests/fuzz: a third word, or a name cut at 31 characters. */
	expect_error("[alias nvme extra]\nclass = 0x0108\n", "t.conf:2: section [alias nvme extra]: "
		     "expected [alias NAME] or [flavor NAME] (NAME: letters, digits, . _ -)");
	expect_error("[alias abcdefghijklmnopqrstuvwxyz0123456789]\nclass = 0x0108\n",
		     "t.conf:2: section [alias abcdefghijklmnopqrstuvwxyz0123456789]: "
		     "expected [alias NAME] or [flavor NAME] (NAME: letters, digits, . _ -)");
}

Test(host_config, files)
{
	struct host_config c;
	char path[] = "/tmp/host-conf-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, conf_text, strlen(conf_text)), (ssize_t)strlen(conf_text));
	close(fd);
	cr_assert_eq(host_config_load(path, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.nr_flavors, 2);
	unlink(path);
	cr_assert_eq(host_config_load(path, &c, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(host_pci, h100_resource_file)
{
	struct host_res res[HOST_NR_RES];
	char path[512], text[1024], sz[16];
	const char *fx = getenv("FIXTURES");

	cr_assert_not_null(fx, "FIXTURES is set by meson");
	snprintf(path, sizeof(path), "%s/h100-resource.txt", fx);
	cr_assert_eq(host_read_str(path, text, sizeof(text)), 0, "%s", path);
	cr_assert_eq(host_parse_resource(text, res), 0);
	cr_assert_eq(res[0].size, 16ULL << 20);
	cr_assert_eq(res[1].size, 0);
	cr_assert_eq(res[2].size, 128ULL << 30);
	cr_assert_eq(res[4].size, 32ULL << 20);
	cr_assert_eq(res[6].size, 0, "no ROM");
	cr_assert(res[2].flags & HOST_RES_MEM64);
	cr_assert(res[2].flags & HOST_RES_PREFETCH);
	host_format_size(res[2].size, sz, sizeof(sz));
	cr_assert_str_eq(sz, "128G");
	host_format_size(1536ULL << 20, sz, sizeof(sz));
	cr_assert_str_eq(sz, "1536M");
	host_format_size(256, sz, sizeof(sz));
	cr_assert_str_eq(sz, "256");
	cr_assert_str_eq(host_class_name(0x030200), "3D controller");
	cr_assert_str_eq(host_class_name(0x0c0330), "USB controller");
	cr_assert_str_eq(host_class_name(0x0b4000), "Processor");
	cr_assert_str_eq(host_class_name(0xffff00), "Unassigned class");
}

/* Selection: the testbed's nvme on vfio-pci, a second one on nvme. */
static struct host_env *env;
static struct host_config conf;

static void setup(void)
{
	env = fake_host();
	fake_module("vfio_pci");
	fake_pci("0000:00:02.0", 0x1b36, 0x0010, 0x010802, 2, "vfio-pci", "nvme");
	fake_pci("0000:00:05.0", 0x1b36, 0x0010, 0x010802, 6, "nvme", "nvme");
	fake_pci("0000:00:04.0", 0x1af4, 0x1000, 0x020000, 4, "vfio-pci", "virtio-pci");
	cr_assert_eq(host_config_parse(conf_text, "t.conf", &conf, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	host_unlock_all();
	fake_host_cleanup();
}

static void opts(struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->vm.nr_cpus = 1;
	o->vm.ram_size = 256ULL << 20;
}

TestSuite(host_select, .init = setup, .fini = teardown);

Test(host_select, alias_picks_a_free_device_and_locks_it)
{
	struct cli_opts o;
	char own[HOST_BDF_LEN];

	opts(&o);
	o.devices[o.nr_devices++] = "00:04.0";
	o.devices[o.nr_devices++] = "alias:nvme:1";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.nr_devices, 2);
	cr_assert_str_eq(o.devices[0], "00:04.0");
	cr_assert_str_eq(o.devices[1], "0000:00:02.0");
	cr_assert_eq(host_lock_holder(env, "0000:00:02.0"), getpid());
	snprintf(own, sizeof(own), "%s", o.devices[1]);
	/* A second request in the same VM finds nothing left. */
	opts(&o);
	o.devices[o.nr_devices++] = own;
	o.devices[o.nr_devices++] = "alias:nvme";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "alias nvme (1b36:0010): 1 wanted but only 0 free: 0000:00:05.0 is on "
			 "nvme (vfio-vmm bind 0000:00:05.0); free some or ask for fewer");
}

Test(host_select, flavor_wanting_two_when_one_is_free_is_refused)
{
	struct cli_opts o;

	opts(&o);
	o.flavor = "big";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "alias nvme (1b36:0010): 2 wanted but only 1 free: 0000:00:05.0 is on "
			 "nvme (vfio-vmm bind 0000:00:05.0); free some or ask for fewer");
	cr_assert_eq(host_lock_holder(env, "0000:00:02.0"), 0, "nothing stays locked");
}

Test(host_select, flavor_sizes_unless_given)
{
	struct cli_opts o;

	fake_pci("0000:00:06.0", 0x10de, 0x2330, 0x030200, 7, "vfio-pci", "nouveau");
	opts(&o);
	o.flavor = "small";
	o.vm.nr_cpus = 4;
	o.cpus_set = true;
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.vm.nr_cpus, 4, "explicit --cpus wins");
	cr_assert_eq(o.vm.ram_size, 1ULL << 30);
	cr_assert_eq(o.vm.hugepage_size, 2ULL << 20);
	cr_assert_eq(o.nr_devices, 2);
	cr_assert_str_eq(o.devices[0], "0000:00:02.0");
	cr_assert_str_eq(o.devices[1], "0000:00:06.0");
	/* A flavor's devices carry no GPUDirect clique, whatever the slots held. */
	cr_assert_eq(o.cliques[0], -1);
	cr_assert_eq(o.cliques[1], -1);
	opts(&o);
	o.flavor = "tiny";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--flavor tiny: no such flavor in the config file (have: small; big)");
}

Test(host_select, cliques_follow_their_devices_past_a_flavor)
{
	struct cli_opts o;

	fake_pci("0000:00:06.0", 0x10de, 0x2330, 0x030200, 7, "vfio-pci", "nouveau");
	opts(&o);
	o.cliques[o.nr_devices] = 5;
	o.devices[o.nr_devices++] = "0000:00:04.0";
	o.flavor = "small";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.nr_devices, 3);
	cr_assert_str_eq(o.devices[0], "0000:00:04.0");
	cr_assert_eq(o.cliques[0], 5, "the explicit device keeps its clique");
	cr_assert_str_eq(o.devices[1], "0000:00:02.0");
	cr_assert_eq(o.cliques[1], -1, "what the flavor picked has none");
	cr_assert_str_eq(o.devices[2], "0000:00:06.0");
	cr_assert_eq(o.cliques[2], -1);
}

Test(host_select, unknown_alias_and_bad_count)
{
	struct cli_opts o;

	opts(&o);
	o.devices[o.nr_devices++] = "alias:h100:2";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "alias 'h100' is not defined in the config file"), "%s", err);
	opts(&o);
	o.devices[o.nr_devices++] = "alias:nvme:x";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--device alias:nvme:x: COUNT must be 1 to 16");
}

/* A child process plays the other vfio-vmm. */
Test(host_select, two_vmms_cannot_take_the_same_device)
{
	const char *devs[] = { "0000:00:02.0" };
	int pipefd[2], status;
	pid_t child;
	char c;

	cr_assert_eq(pipe(pipefd), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (!child) {
		close(pipefd[0]);
		if (host_lock_devices_env(env, devs, 1, err, sizeof(err)))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], &c, 1), 1, "the child took the lock");
	cr_assert_eq(host_lock_holder(env, "0000:00:02.0"), child);
	cr_assert_eq(host_lock_devices_env(env, devs, 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "0000:00:02.0 is in use by another vfio-vmm (pid "), "%s", err);
	struct cli_opts o;

	opts(&o);
	o.devices[o.nr_devices++] = "alias:nvme:1";
	cr_assert_eq(host_resolve_run_env(env, &conf, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "0000:00:02.0 is in use by vfio-vmm pid "), "%s", err);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	/* The kernel dropped the dead VMM's lock. */
	cr_assert_eq(host_lock_devices_env(env, devs, 1, err, sizeof(err)), 0, "%s", err);
}

/* docs/vfio-vmm.1 names every option and subcommand --help prints. */
Test(host_docs, man_page_covers_the_help)
{
	char path[512], *man, *help = NULL, *p, word[64], roff[160];
	const char *fx = getenv("FIXTURES");
	size_t len = 0;
	FILE *f;
	long n;

	cr_assert_not_null(fx);
	snprintf(path, sizeof(path), "%s/../../docs/vfio-vmm.1", fx);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	man = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(man, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	f = open_memstream(&help, &len);
	cli_usage(f);
	fclose(f);
	for (p = help; (p = strstr(p, "--")); p += 2) {
		size_t k = 0;

		while (k < sizeof(word) - 1 && (p[2 + k] == '-' || isalnum((unsigned char)p[2 + k])))
			k++;
		snprintf(word, sizeof(word), "%.*s", (int)k, p + 2);
		snprintf(roff, sizeof(roff), "\\-\\-%s", word);
		cr_assert(k && strstr(man, roff), "the man page lacks --%s", word);
	}
	for (const char *const *c = (const char *const[]){ "B vfio-vmm doctor", "B vfio-vmm devices",
			  "B vfio-vmm bind", "B vfio-vmm unbind", "B vfio-vmm exec", "SS exec", "alias:", NULL }; *c; c++)
		cr_assert(strstr(man, *c), "the man page lacks %s", *c);
	free(help);
	free(man);
}

/* Another process has the group's node open: the refusal names it. */
Test(host_select, group_in_use_names_the_holder)
{
	const char *devs[] = { "0000:00:02.0" };
	struct host_pci_dev d;
	char node[32];

	cr_assert_eq(host_pci_read(env, devs[0], &d), 0);
	snprintf(node, sizeof(node), "/dev/vfio/%d", d.group);
	fake_proc_fd(4242, "qemu-system-x86", node);
	cr_assert_eq(host_lock_devices_env(env, devs, 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "group"), "%s", err);
	cr_assert(strstr(err, "is in use by pid 4242 (qemu-system-x86)"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
}

/* --device DEV,clique=N on something that is not an NVIDIA GPU: one line, from sysfs. */
Test(host_select, clique_only_on_nvidia_gpus)
{
	struct cli_opts o;

	fake_pci("0000:00:06.0", 0x10de, 0x2330, 0x030200, 7, "vfio-pci", "nouveau");
	opts(&o);
	o.devices[0] = "0000:00:06.0";
	o.cliques[0] = 3;
	o.devices[1] = "0000:00:02.0";
	o.cliques[1] = -1;
	o.nr_devices = 2;
	cr_assert_eq(host_check_cliques_env(env, &o, err, sizeof(err)), 0, "%s", err);
	o.cliques[1] = 4;
	cr_assert_eq(host_check_cliques_env(env, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "--device 0000:00:02.0,clique=4: 0000:00:02.0 is 1b36:0010"), "%s",
		  err);
	cr_assert(strstr(err, "not an NVIDIA GPU"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
}

/* An mdev instance of TYPE at sys/bus/mdev/devices/UUID (only its mdev_type link matters). */
static void fake_mdev(const char *uuid, const char *type)
{
	char rel[256], path[1024], target[256];

	snprintf(rel, sizeof(rel), "sys/bus/mdev/devices/%s/uevent", uuid);
	fake_file(rel, "");
	snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s/mdev_type", fake_root(), uuid);
	snprintf(target, sizeof(target), "../../../devices/mgpu/mdev_supported_types/%s", type);
	cr_assert_eq(symlink(target, path), 0);
}

static const char mdev_conf[] =
	"[alias mig3g]\n"
	"mdev_type = mgpu-h100-3g\n"
	"[flavor gpu.2x]\n"
	"memory = 2G\n"
	"devices = mig3g:2\n";

#define U1 "6a5f0a3e-0001-4d3c-9b1e-000000000001"
#define U2 "6a5f0a3e-0001-4d3c-9b1e-000000000002"
#define U3 "6a5f0a3e-0001-4d3c-9b1e-000000000003"

Test(host_select, mdev_type_alias_picks_instances_of_that_type)
{
	struct host_config mc;
	struct cli_opts o;

	cr_assert_eq(host_config_parse(mdev_conf, "m.conf", &mc, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(host_alias_matches(host_config_alias(&mc, "mig3g"), 0x10de, 0x2330, 0x030200),
		      "an mdev alias matches no PCI function");
	fake_mdev(U3, "mgpu-h100-3g");
	fake_mdev(U2, "mgpu-h100-1g");
	fake_mdev(U1, "mgpu-h100-3g");
	/* Only two of that type: the flavor gets both, in UUID order, locked. */
	opts(&o);
	o.flavor = "gpu.2x";
	cr_assert_eq(host_resolve_run_env(env, &mc, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.nr_devices, 2);
	cr_assert_str_eq(o.devices[0], U1);
	cr_assert_str_eq(o.devices[1], U3);
	cr_assert_eq(o.vm.ram_size, 2ULL << 30);
	cr_assert_eq(host_lock_holder(env, U1), getpid());
	host_unlock_all();
	/* One named outright is not picked again: one left, two wanted. */
	opts(&o);
	o.devices[o.nr_devices++] = "/sys/bus/mdev/devices/" U1;
	o.devices[o.nr_devices++] = "alias:mig3g:2";
	cr_assert_eq(host_resolve_run_env(env, &mc, &o, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "alias mig3g (mdev type mgpu-h100-3g): 2 wanted but only 1 free; "
			 "create more or ask for fewer");
	cr_assert_eq(host_lock_holder(env, U3), 0, "nothing stays locked");
}

Test(host_select, mdev_type_alias_without_instances_says_how_to_make_one)
{
	struct host_config mc;
	struct cli_opts o;

	cr_assert_eq(host_config_parse(mdev_conf, "m.conf", &mc, err, sizeof(err)), 0, "%s", err);
	opts(&o);
	o.devices[o.nr_devices++] = "alias:mig3g";
	cr_assert_eq(host_resolve_run_env(env, &mc, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "alias mig3g: no mgpu-h100-3g instance in "), "%s", err);
	cr_assert(strstr(err, "mdev_supported_types/mgpu-h100-3g/create"), "%s", err);
}

Test(host_config, mdev_type_errors)
{
	struct host_config c;

	cr_assert_eq(host_config_parse("[alias a]\nmdev_type = ../x\n", "t.conf", &c, err,
				       sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "t.conf:2: alias a: mdev_type '../x' is not a type name"), "%s", err);
	cr_assert_eq(host_config_parse("[alias a]\nmdev_type = t\nvendor = 0x10de\n", "t.conf", &c,
				       err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "t.conf: alias a: mdev_type names mediated devices; it takes no "
			 "vendor, device or class");
}
