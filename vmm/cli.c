// SPDX-License-Identifier: MIT
#include "vmm/seccomp.h"
#include "vmm/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/errbuf.h"
#include "util/log.h"

void cli_usage(FILE *f)
{
	fprintf(f,
		"Usage: vfio-vmm run --kernel FILE [options]\n"
		"       vfio-vmm doctor [--memory SIZE] [--hugepages SIZE] [--config FILE]\n"
		"                       [--flavor NAME] [DEV...]\n"
		"       vfio-vmm devices [--json]\n"
		"       vfio-vmm bind [--group] DEV...\n"
		"       vfio-vmm unbind [--group] DEV...\n"
		"       vfio-vmm exec --cid N [--port P] [--timeout S] CMD [ARGS...]\n"
		"       vfio-vmm bench overhead --device DEV [options] CMD [ARGS...]\n"
		"       vfio-vmm --help | --version\n"
		"\n"
		"A minimal KVM VMM for VFIO PCI passthrough.\n"
		"\n"
		"Host commands (each has --help):\n"
		"  doctor             check this host for passthrough: PASS/WARN/FAIL lines,\n"
		"                     each with its fix; exit status 1 on any FAIL\n"
		"  devices            every PCI function: ids, class, driver, IOMMU group,\n"
		"                     BAR sizes, and whether it can be assigned now\n"
		"  bind               hand devices to vfio-pci, remembering their driver\n"
		"  unbind             give devices back to the driver they had before bind\n"
		"  exec               run a command in a guest through vfio-vmm-agent over\n"
		"                     vsock; exits with its status (124 timeout, 255 no\n"
		"                     connection or agent failure)\n"
		"  bench overhead     the same benchmark command on the host and in a guest\n"
		"                     with the device passed through: the overhead in %%\n"
		"\n"
		"run options:\n"
		"  --kernel FILE      kernel to boot: a Linux bzImage, or an ELF with a PVH\n"
		"                     entry note (Linux vmlinux, the guest-tests guests)\n"
		"  --initrd FILE      initial ramdisk for the kernel\n"
		"  --cmdline STR      kernel command line (default: \"console=ttyS0\")\n"
		"  --memory SIZE      guest RAM, e.g. 512M or 4G; a plain number is MiB\n"
		"                     (default 256M; RAM above 3G is placed above 4 GiB)\n"
		"  --cpus N           number of vCPUs, 1-%d (default 1)\n"
		"  --hugepages SIZE   back guest RAM with reserved hugepages: 2M or 1G\n"
		"  --trace CATS       print what happens, for learning and debugging; CATS is a\n"
		"                     comma list of %s\n"
		"  --device DEV       assign a PCI function through VFIO (repeatable): an address\n"
		"                     (0000:3e:00.0 or 3e:00.0), a sysfs path, or\n"
		"                     /sys/bus/mdev/devices/UUID; bind it to vfio-pci first\n"
		"  --device DEV,clique=N\n"
		"                     the same, and an NVIDIA GPU gets the GPUDirect P2P\n"
		"                     clique capability with ID N (0-15); needs --p2p\n"
		"  --device DEV,port=on|off\n"
		"                     a PCIe device sits behind a PCIe root port of its own\n"
		"                     (port=on, the default for a device with a PCIe\n"
		"                     capability); port=off puts it on the root bus\n"
		"  --device alias:NAME:COUNT\n"
		"                     COUNT free devices of a config file alias (on vfio-pci,\n"
		"                     not held by another vfio-vmm)\n"
		"  --disk path=FILE[,readonly=on][,direct=on][,serial=S][,queues=N]\n"
		"                     a virtio-blk disk on a raw image file or a block device\n"
		"                     (repeatable, up to %d; a bare FILE is the path);\n"
		"                     readonly=on: the guest cannot write it, and other VMs may\n"
		"                     share it read-only; direct=on: O_DIRECT, no host page\n"
		"                     cache; serial: GET_ID, up to %d characters (default: the\n"
		"                     file's name); queues: 1-%d (default: one per vCPU)\n"
		"  --net tap=NAME[,mac=MAC][,queues=N]\n"
		"                     a virtio-net device on tap NAME, its data moved by the\n"
		"                     kernel's vhost-net (repeatable, up to %d); the tap is\n"
		"                     created when it does not exist and then removed when\n"
		"                     the VM ends; mac: default 02:... from a hash of NAME;\n"
		"                     queues: 1-%d queue pairs (default 1)\n"
		"  --vsock cid=N      a virtio-vsock device with context id N (3-4294967294)\n"
		"                     over the kernel's vhost-vsock\n"
		"  --flavor NAME      cpus, memory, hugepages and devices of a config flavor\n"
		"                     (options given explicitly win)\n"
		"  --config FILE      aliases and flavors (default /etc/vfio-vmm.conf)\n"
		"  --p2p              also map the devices' BARs for DMA at their guest\n"
		"                     addresses, so assigned devices can reach each other\n"
		"  --stats            print exit counters per device range and interrupt\n"
		"                     counts per vector on exit\n"
		"  --prefault-threads N\n"
		"                     fault guest RAM in on N threads before it is pinned for\n"
		"                     DMA (with --device; default: one per host CPU; 0: off)\n"
		"  --seccomp MODE     system call filters once devices are open: on (default;\n"
		"                     a forbidden call stops the VM, exit 122), log (allowed,\n"
		"                     logged by the kernel's audit), off\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n"
		"\n"
		"The guest's serial console (COM1) is on stdin/stdout; trace goes to stderr.\n"
		"Exit status: 0 guest powered off; N guest wrote N to the test port 0xf4;\n"
		"1 setup failed; 2 bad command line; 120 guest triple fault; 121 KVM error;\n"
		"122 a forbidden system call (seccomp).\n",
		CLI_MAX_CPUS, log_category_names(), CLI_MAX_DISKS, DISK_SERIAL_MAX, DISK_MAX_QUEUES,
		CLI_MAX_NETS, NET_MAX_QUEUE_PAIRS);
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	uint64_t mult = 1ULL << 20;	/* a plain number is MiB */
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		default: return -1;
		}
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (v == 0 || v > UINT64_MAX / mult)
		return -1;
	*bytes = v * mult;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int check_file(const char *opt, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	return errf(err, errlen, "%s %s: %s", opt, path,
		    errno == ENOENT ? "no such file: check the path" : strerror(errno));
}

static int parse_on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* What GET_ID hands the guest: 1 to 20 printable characters, no spaces (nor commas). */
static bool serial_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > DISK_SERIAL_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/*
 * An option of the form KEY=VALUE[,KEY=VALUE]... (--disk, --net), or a bare
 * first VALUE for keys[0]. Each key at most once; apply() checks and stores
 * the value of key number k. buf is a copy of arg the values may point into.
 */
struct kv_option {
	const char *opt;		/* "--disk" */
	const char *const *keys;
	unsigned int nr_keys;
	const char *key_list;		/* "path, readonly, ..." for the messages */
	int (*apply)(void *ctx, const char *arg, unsigned int k, char *val, char *err,
		     size_t errlen);
};

static int parse_kv(const struct kv_option *kv, const char *arg, char *buf, void *ctx, char *err,
		    size_t errlen)
{
	unsigned int seen = 0, k;
	char *item, *next, *eq;

	for (item = buf; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		eq = strchr(item, '=');
		if (!eq && item == buf && *item) {
			k = 0;		/* a bare first value */
			eq = item - 1;
		} else if (!eq) {
			return errf(err, errlen, "%s %s: '%s' is not KEY=VALUE; use %s", kv->opt,
				    arg, item, kv->key_list);
		} else {
			*eq = '\0';
			for (k = 0; k < kv->nr_keys; k++)
				if (!strcmp(item, kv->keys[k]))
					break;
			if (k == kv->nr_keys)
				return errf(err, errlen, "%s %s: unknown key '%s'; use %s", kv->opt,
					    arg, item, kv->key_list);
		}
		if (seen & (1u << k))
			return errf(err, errlen, "%s %s: %s given twice", kv->opt, arg, kv->keys[k]);
		seen |= 1u << k;
		if (kv->apply(ctx, arg, k, eq + 1, err, errlen))
			return -1;
	}
	return 0;
}

static const char *const disk_keys[] = { "path", "readonly", "direct", "serial", "queues" };

/* Value of --disk key k (disk_keys); arg is the whole option, for the message. */
static int apply_disk_key(void *ctx, const char *arg, unsigned int k, char *val, char *err,
			  size_t errlen)
{
	struct disk_opts *d = ctx;
	const char *key = disk_keys[k];
	unsigned long n;

	switch (k) {
	case 0:
		if (!*val)
			return errf(err, errlen, "--disk %s: path is empty; use path=FILE", arg);
		d->path = val;
		return 0;
	case 1:
	case 2:
		if (parse_on_off(val, k == 1 ? &d->readonly : &d->direct))
			return errf(err, errlen, "--disk %s: %s=%s: use %s=on or %s=off", arg, key,
				    val, key, key);
		return 0;
	case 3:
		if (!serial_ok(val))
			return errf(err, errlen,
				    "--disk %s: serial=%s: use 1 to %d printable characters, "
				    "no spaces or commas", arg, val, DISK_SERIAL_MAX);
		d->serial = val;
		return 0;
	default:
		if (parse_uint(val, DISK_MAX_QUEUES, &n) || n == 0)
			return errf(err, errlen, "--disk %s: queues=%s: use a number from 1 to %d",
				    arg, val, DISK_MAX_QUEUES);
		d->queues = (unsigned int)n;
		return 0;
	}
}

/*
 * --disk path=FILE[,readonly=on][,direct=on][,serial=S][,queues=N], or a
 * bare FILE first. Only the form is checked here; the file is opened at
 * VM setup, where its errors are reported.
 */
static const struct kv_option disk_kv = {
	"--disk", disk_keys, sizeof(disk_keys) / sizeof(disk_keys[0]),
	"path, readonly, direct, serial or queues", apply_disk_key,
};

static int parse_disk(const char *arg, struct cli_opts *o, char *err, size_t errlen)
{
	struct disk_opts *d;

	if (!*arg)
		return errf(err, errlen, "--disk needs an image, e.g. --disk path=disk.img");
	if (o->nr_disks == CLI_MAX_DISKS)
		return errf(err, errlen, "--disk %s: at most %d disks", arg, CLI_MAX_DISKS);
	if (strlen(arg) >= CLI_DISK_ARG_MAX)
		return errf(err, errlen, "--disk: longer than %d characters", CLI_DISK_ARG_MAX - 1);
	d = &o->disks[o->nr_disks];
	memset(d, 0, sizeof(*d));
	if (parse_kv(&disk_kv, arg, strcpy(o->disk_args[o->nr_disks], arg), d, err, errlen))
		return -1;
	if (!d->path)
		return errf(err, errlen, "--disk %s: no image given; use --disk path=FILE", arg);
	for (unsigned int i = 0; i < o->nr_disks; i++)
		if (!strcmp(o->disks[i].path, d->path))
			return errf(err, errlen, "--disk %s: %s given twice", arg, d->path);
	o->nr_disks++;
	return 0;
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_CPUS, OPT_HUGEPAGES,
       OPT_TRACE, OPT_STATS, OPT_DEVICE, OPT_CONFIG, OPT_FLAVOR, OPT_P2P, OPT_SECCOMP,
       OPT_PREFAULT, OPT_DISK, OPT_NET, OPT_VSOCK };

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "hugepages", required_argument, NULL, OPT_HUGEPAGES },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "p2p", no_argument, NULL, OPT_P2P },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "prefault-threads", required_argument, NULL, OPT_PREFAULT },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "flavor", required_argument, NULL, OPT_FLAVOR },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *const net_keys[] = { "tap", "mac", "queues" };

/* Value of --net key k (net_keys); arg is the whole option, for the message. */
static int apply_net_key(void *ctx, const char *arg, unsigned int k, char *val, char *err,
			 size_t errlen)
{
	struct net_opts *n = ctx;
	const char *why;
	unsigned long v;

	switch (k) {
	case 0:
		if (strlen(val) > NET_IFNAME_MAX)
			return errf(err, errlen,
				    "--net %s: tap name '%s' is %zu characters; Linux allows at most %d",
				    arg, val, strlen(val), NET_IFNAME_MAX);
		if (!net_ifname_ok(val))
			return errf(err, errlen,
				    "--net %s: '%s' is not an interface name; use 1 to %d characters, "
				    "no '/', ':' or spaces", arg, val, NET_IFNAME_MAX);
		n->tap = val;
		return 0;
	case 1:
		if (net_mac_parse(val, n->mac, &why))
			return errf(err, errlen, "--net %s: mac=%s: %s", arg, val, why);
		n->mac_set = true;
		return 0;
	default:
		if (parse_uint(val, NET_MAX_QUEUE_PAIRS, &v) || v == 0)
			return errf(err, errlen, "--net %s: queues=%s: use a number from 1 to %d", arg,
				    val, NET_MAX_QUEUE_PAIRS);
		n->queues = (unsigned int)v;
		return 0;
	}
}

/*
 * --net tap=NAME[,mac=MAC][,queues=N], or a bare NAME first. Only the form
 * is checked here; the tap and vhost-net are opened at VM setup.
 */
static const struct kv_option net_kv = {
	"--net", net_keys, sizeof(net_keys) / sizeof(net_keys[0]), "tap, mac or queues",
	apply_net_key,
};

static int parse_net(const char *arg, struct cli_opts *o, char *err, size_t errlen)
{
	struct net_opts *n;

	if (!*arg)
		return errf(err, errlen, "--net needs a tap, e.g. --net tap=tap0");
	if (o->nr_nets == CLI_MAX_NETS)
		return errf(err, errlen, "--net %s: at most %d network devices", arg, CLI_MAX_NETS);
	if (strlen(arg) >= CLI_NET_ARG_MAX)
		return errf(err, errlen, "--net: longer than %d characters", CLI_NET_ARG_MAX - 1);
	n = &o->nets[o->nr_nets];
	memset(n, 0, sizeof(*n));
	if (parse_kv(&net_kv, arg, strcpy(o->net_args[o->nr_nets], arg), n, err, errlen))
		return -1;
	if (!n->tap)
		return errf(err, errlen, "--net %s: no tap given; use --net tap=NAME", arg);
	for (unsigned int i = 0; i < o->nr_nets; i++) {
		if (!strcmp(o->nets[i].tap, n->tap))
			return errf(err, errlen, "--net %s: tap %s given twice", arg, n->tap);
		if (n->mac_set && o->nets[i].mac_set && !memcmp(o->nets[i].mac, n->mac, 6))
			return errf(err, errlen, "--net %s: this mac is given twice", arg);
	}
	o->nr_nets++;
	return 0;
}

/* --vsock cid=N (or a bare N): the guest's context id. */
static int parse_vsock(const char *arg, struct cli_opts *o, char *err, size_t errlen)
{
	const char *v = strncmp(arg, "cid=", 4) ? arg : arg + 4;
	unsigned long cid;

	if (o->vsock_cid)
		return errf(err, errlen, "--vsock %s: given twice; a VM has one vsock device", arg);
	if (v == arg && strchr(arg, '='))
		return errf(err, errlen, "--vsock %s: unknown key; use --vsock cid=N", arg);
	if (parse_uint(v, 0xfffffffeUL, &cid) || cid < 3)
		return errf(err, errlen,
			    "--vsock %s: cid must be a number from 3 to 4294967294 (0-2 are reserved)",
			    arg);
	o->vsock_cid = (uint32_t)cid;
	return 0;
}

static int parse_device_opts(const char *arg, struct cli_opts *o, char *err, size_t errlen);

static int parse_run_option(int c, const char *arg, struct cli_opts *o, char *err, size_t errlen)
{
	unsigned long n;
	const char *bad;

	switch (c) {
	case OPT_KERNEL:
		o->vm.kernel = arg;
		return 0;
	case OPT_INITRD:
		o->vm.initrd = arg;
		return 0;
	case OPT_CMDLINE:
		o->vm.cmdline = arg;
		return 0;
	case OPT_MEMORY:
		if (cli_parse_size(arg, &o->vm.ram_size))
			return errf(err, errlen, "--memory %s: not a size; use e.g. 512M or 4G", arg);
		if (o->vm.ram_size < (16ULL << 20))
			return errf(err, errlen, "--memory %s: too small; give at least 16M", arg);
		o->memory_set = true;
		return 0;
	case OPT_CPUS:
		if (parse_uint(arg, CLI_MAX_CPUS, &n) || n == 0)
			return errf(err, errlen, "--cpus %s: must be a number from 1 to %d", arg,
				    CLI_MAX_CPUS);
		o->vm.nr_cpus = (unsigned int)n;
		o->cpus_set = true;
		return 0;
	case OPT_HUGEPAGES:
		if (!strcasecmp(arg, "2M") || !strcasecmp(arg, "2MB"))
			o->vm.hugepage_size = 2ULL << 20;
		else if (!strcasecmp(arg, "1G") || !strcasecmp(arg, "1GB"))
			o->vm.hugepage_size = 1ULL << 30;
		else
			return errf(err, errlen, "--hugepages %s: must be 2M or 1G", arg);
		o->hugepages_set = true;
		return 0;
	case OPT_TRACE:
		if (log_parse_categories(arg, &o->trace, &bad))
			return errf(err, errlen, "--trace: unknown category '%s'; use any of %s", bad,
				    log_category_names());
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_P2P:
		o->p2p = true;
		return 0;
	case OPT_PREFAULT:
		if (parse_uint(arg, 256, &n))
			return errf(err, errlen, "--prefault-threads %s: must be a number from 0 to 256",
				    arg);
		o->prefault_threads = (int)n;
		return 0;
	case OPT_SECCOMP: {
		int mode = seccomp_parse_mode(arg);

		if (mode < 0)
			return errf(err, errlen, "--seccomp %s: must be on, log or off", arg);
		o->seccomp = (enum seccomp_mode)mode;
		return 0;
	}
	case OPT_DEVICE:
		if (!*arg)
			return errf(err, errlen, "--device needs a PCI address, e.g. 0000:3e:00.0");
		if (o->nr_devices == CLI_MAX_DEVICES)
			return errf(err, errlen, "--device %s: at most %d devices", arg,
				    CLI_MAX_DEVICES);
		if (parse_device_opts(arg, o, err, errlen))
			return -1;
		for (unsigned int i = 0; i < o->nr_devices; i++)
			if (!strcmp(o->devices[i], o->devices[o->nr_devices]))
				return errf(err, errlen, "--device %s given twice", arg);
		o->nr_devices++;
		return 0;
	case OPT_DISK:
		return parse_disk(arg, o, err, errlen);
	case OPT_NET:
		return parse_net(arg, o, err, errlen);
	case OPT_VSOCK:
		return parse_vsock(arg, o, err, errlen);
	case OPT_CONFIG:
		o->config = arg;
		return check_file("--config", arg, err, errlen);
	case OPT_FLAVOR:
		o->flavor = arg;
		return 0;
	}
	return errf(err, errlen, "unknown option");
}

/* One sub-option of --device DEV,...: clique=N or port=on|off. */
static int parse_device_opt(const char *arg, const char *opt, size_t len, unsigned int i,
			    struct cli_opts *o, char *err, size_t errlen)
{
	char val[16];
	unsigned long n;

	if (len >= 7 && !strncmp(opt, "clique=", 7)) {
		snprintf(val, sizeof(val), "%.*s", (int)(len - 7), opt + 7);
		if (len - 7 >= sizeof(val) || parse_uint(val, 15, &n))
			return errf(err, errlen, "--device %s: clique must be a number from 0 to 15",
				    arg);
		o->cliques[i] = (int)n;
		return 0;
	}
	if (len >= 5 && !strncmp(opt, "port=", 5)) {
		if (len == 7 && !strncmp(opt + 5, "on", 2))
			o->ports[i] = 1;
		else if (len == 8 && !strncmp(opt + 5, "off", 3))
			o->ports[i] = 0;
		else
			return errf(err, errlen, "--device %s: port must be on or off", arg);
		return 0;
	}
	return errf(err, errlen, "--device %s: unknown option '%.*s' (have clique=N, port=on|off)",
		    arg, (int)len, opt);
}

/* --device DEV[,clique=N][,port=on|off]: the device goes in devices[nr_devices], not yet counted. */
static int parse_device_opts(const char *arg, struct cli_opts *o, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ','), *opt;
	unsigned int i = o->nr_devices;

	o->devices[i] = arg;
	o->cliques[i] = -1;
	o->ports[i] = -1;
	if (!comma)
		return 0;
	if (!strncmp(arg, "alias:", 6))
		return errf(err, errlen, "--device %s: options need a PCI address, not an alias",
			    arg);
	if (comma == arg)
		return errf(err, errlen, "--device %s: a PCI address goes before the options, "
			    "e.g. 0000:3e:00.0%s", arg, arg);
	if ((size_t)(comma - arg) >= CLI_DEVICE_ARG_MAX)
		return errf(err, errlen, "--device %s: the device name is too long", arg);
	for (opt = comma + 1;; opt = comma + 1) {
		comma = strchr(opt, ',');
		if (parse_device_opt(arg, opt, comma ? (size_t)(comma - opt) : strlen(opt), i, o,
				     err, errlen))
			return -1;
		if (!comma)
			break;
	}
	snprintf(o->device_args[i], CLI_DEVICE_ARG_MAX, "%.*s", (int)(strchr(arg, ',') - arg),
		 arg);
	o->devices[i] = o->device_args[i];
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	bool run = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->vm.ram_size = CLI_DEFAULT_MEMORY;
	o->vm.nr_cpus = 1;
	o->prefault_threads = -1;
	for (unsigned int i = 0; i < CLI_MAX_DEVICES; i++) {
		o->cliques[i] = -1;
		o->ports[i] = -1;
	}
	o->vm.cmdline = "console=ttyS0";
	err[0] = '\0';

	if (argc >= 2 && !strcmp(argv[1], "run")) {
		run = true;
		argc--;
		argv++;
	}
	optind = 0;	/* full re-initialisation, so tests can parse many times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hV", long_opts, NULL)) != -1) {
		if (c == 'h') {
			o->action = CLI_HELP;
			return 0;
		}
		if (c == 'V') {
			o->action = CLI_VERSION;
			return 0;
		}
		if (c == ':')
			return errf(err, errlen, "%s needs a value; see vfio-vmm --help",
				    argv[optind - 1]);
		if (c == '?') {
			if (optopt)
				return errf(err, errlen, "-%c: unknown option; see vfio-vmm --help",
					    optopt);
			return errf(err, errlen, "%s: unknown option; see vfio-vmm --help",
				    argv[optind - 1]);
		}
		if (parse_run_option(c, optarg, o, err, errlen))
			return -1;
	}
	if (optind < argc)
		return errf(err, errlen, "unexpected argument '%s'%s; see vfio-vmm --help",
			    argv[optind], run ? "" : " (did you mean 'vfio-vmm run'?)");
	if (!run)
		return errf(err, errlen, "no command given: use 'vfio-vmm run --kernel FILE' or --help");
	if (!o->vm.kernel)
		return errf(err, errlen, "run: --kernel FILE is required");
	if (check_file("--kernel", o->vm.kernel, err, errlen))
		return -1;
	if (o->vm.initrd && check_file("--initrd", o->vm.initrd, err, errlen))
		return -1;
	if (o->p2p && o->nr_devices == 0)
		return errf(err, errlen, "--p2p needs at least one --device");
	for (unsigned int i = 0; i < o->nr_devices && !o->p2p; i++)
		if (o->cliques[i] >= 0)
			return errf(err, errlen, "--device %s,clique=%d needs --p2p: the clique tells "
				    "the guest's driver that P2P DMA works, which it does only with "
				    "the BARs mapped for DMA", o->devices[i], o->cliques[i]);
	o->action = CLI_RUN;
	return 0;
}
