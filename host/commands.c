// SPDX-License-Identifier: MIT
/*
 * Command lines of the host subcommands, and the devices listing. Output
 * goes to the given streams (stdout/stderr in the binary) so tests can
 * read it.
 */
#include "host/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "host/bind.h"
#include "host/config.h"
#include "host/doctor.h"
#include "host/mdev.h"
#include "host/select.h"
#include "iommu/sysfs.h"
#include "vmm/cli.h"

#define MAX_MEMBERS 64

struct cmd_ctx {
	const struct host_env *env;
	FILE *out, *err;
};

/* Why a device cannot be assigned right now; "" when it can. */
static void assign_status(const struct host_env *env, const struct host_pci_dev *d,
			  char (*members)[HOST_BDF_LEN], size_t nr, char *out, size_t len)
{
	struct host_pci_dev m;
	char comm[64];
	pid_t pid;

	out[0] = '\0';
	if (host_is_bridge(d->cls) || (d->cls >> 8) == 0x0600) {
		snprintf(out, len, "no: %s", host_class_name(d->cls));
		return;
	}
	if (d->group < 0) {
		snprintf(out, len, "no: no IOMMU group");
		return;
	}
	for (size_t i = 0; i < nr && i < MAX_MEMBERS; i++) {
		if (!strcmp(members[i], d->bdf) || host_pci_read(env, members[i], &m) ||
		    iommu_driver_allowed(m.driver[0] ? m.driver : NULL) || host_is_bridge(m.cls))
			continue;
		snprintf(out, len, "no: %s in its group is on %s (bind --group)", m.bdf, m.driver);
		return;
	}
	if (!host_is_vfio_driver(d->driver)) {
		snprintf(out, len, "after bind");
		return;
	}
	pid = host_lock_holder(env, d->bdf);
	if (pid > 0) {
		snprintf(out, len, "in use: vfio-vmm pid %d", (int)pid);
		return;
	}
	pid = host_group_user(env, d->group, comm, sizeof(comm));
	if (pid > 0)
		snprintf(out, len, "in use: %s pid %d", comm, (int)pid);
}

static void format_bars(const struct host_pci_dev *d, char *out, size_t len)
{
	char sz[16], idx[8];
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < HOST_NR_RES && used < len; i++) {
		if (!d->res[i].size)
			continue;
		host_format_size(d->res[i].size, sz, sizeof(sz));
		snprintf(idx, sizeof(idx), i == 6 ? "rom" : "%d", i);
		used += (size_t)snprintf(out + used, len - used, "%s%s:%s%s", used ? " " : "", idx,
					 sz, d->res[i].flags & HOST_RES_IO ? "(io)" : "");
	}
	if (!out[0])
		snprintf(out, len, "-");
}

static void format_others(const struct host_pci_dev *d, char (*members)[HOST_BDF_LEN],
			  size_t nr, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < nr && i < MAX_MEMBERS && used < len; i++)
		if (strcmp(members[i], d->bdf))
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "+",
						 members[i]);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void print_json(FILE *out, const struct host_pci_dev *d, char (*members)[HOST_BDF_LEN],
		       size_t nr, const char *status, bool first)
{
	bool any = false;

	fprintf(out, "%s\n  {\"address\": \"%s\", \"vendor\": \"%04x\", \"device\": \"%04x\", "
		"\"class\": \"0x%06x\", \"class_name\": ", first ? "" : ",", d->bdf, d->vendor,
		d->device, d->cls);
	json_str(out, host_class_name(d->cls));
	fprintf(out, ", \"driver\": ");
	if (d->driver[0])
		json_str(out, d->driver);
	else
		fprintf(out, "null");
	if (d->group >= 0)
		fprintf(out, ", \"iommu_group\": %d", d->group);
	else
		fprintf(out, ", \"iommu_group\": null");
	fprintf(out, ", \"group_members\": [");
	for (size_t i = 0; i < nr && i < MAX_MEMBERS; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", members[i]);
	fprintf(out, "], \"bars\": [");
	for (int i = 0; i < HOST_NR_RES; i++) {
		if (!d->res[i].size)
			continue;
		fprintf(out, "%s{\"index\": %d, \"size\": %llu, \"type\": \"%s\", \"prefetchable\": %s}",
			any ? ", " : "", i, (unsigned long long)d->res[i].size,
			i == 6 ? "rom" : d->res[i].flags & HOST_RES_IO ? "io" :
			d->res[i].flags & HOST_RES_MEM64 ? "mem64" : "mem32",
			d->res[i].flags & HOST_RES_PREFETCH ? "true" : "false");
		any = true;
	}
	fprintf(out, "], \"assignable\": %s, \"status\": ", status[0] ? "false" : "true");
	json_str(out, status[0] ? status : "yes");
	if (d->physfn[0])
		fprintf(out, ", \"physfn\": \"%s\", \"vf_index\": %d", d->physfn, d->vf_index);
	if (d->sriov_total > 0)
		fprintf(out, ", \"sriov_totalvfs\": %d, \"sriov_numvfs\": %d", d->sriov_total,
			d->sriov_num);
	fprintf(out, "}");
}

/* Mediated devices after the PCI table (text only: the JSON stays a list of PCI functions). */
static void print_mdevs(const struct host_env *env, FILE *out)
{
	struct host_mdev *m;
	char grp[16], use[64], comm[32];
	size_t n;
	pid_t pid;

	if (host_mdev_list(env, &m, &n) || !n)
		return;
	fprintf(out, "\n%-36s  %-18s  %-12s  %-10s  %-5s  %s\n", "MEDIATED DEVICE", "TYPE", "PARENT",
		"DRIVER", "GROUP", "ASSIGNABLE");
	for (size_t i = 0; i < n; i++) {
		snprintf(grp, sizeof(grp), "%d", m[i].group);
		pid = host_lock_holder(env, m[i].uuid);
		if (pid > 0)
			snprintf(use, sizeof(use), "in use by vfio-vmm pid %d", (int)pid);
		else if (m[i].group >= 0 &&
			 (pid = host_group_user(env, m[i].group, comm, sizeof(comm))) > 0)
			snprintf(use, sizeof(use), "in use by %s pid %d", comm, (int)pid);
		else
			snprintf(use, sizeof(use), "%s", m[i].group < 0 ? "no: no IOMMU group" : "yes");
		fprintf(out, "%-36s  %-18s  %-12s  %-10s  %-5s  %s\n", m[i].uuid, m[i].type,
			m[i].parent, m[i].driver[0] ? m[i].driver : "-",
			m[i].group >= 0 ? grp : "-", use);
	}
	free(m);
}

int host_print_devices(const struct host_env *env, bool json, FILE *out)
{
	char members[MAX_MEMBERS][HOST_BDF_LEN], status[160], bars[96], others[160], grp[16];
	char sriov[80];
	struct host_pci_dev *all;
	size_t n, nr;
	int ret = host_pci_list(env, &all, &n);

	if (ret)
		return ret;
	if (json)
		fprintf(out, "[");
	else
		fprintf(out, "%-12s  %-9s  %-30s  %-10s  %-5s  %-26s  %s\n", "ADDRESS", "IDS", "CLASS",
			"DRIVER", "GROUP", "BARS", "ASSIGNABLE");
	for (size_t i = 0; i < n; i++) {
		const struct host_pci_dev *d = &all[i];

		nr = 0;
		if (d->group >= 0)
			host_group_members(env, d->group, members, MAX_MEMBERS, &nr);
		assign_status(env, d, members, nr, status, sizeof(status));
		if (json) {
			print_json(out, d, members, nr, status, i == 0);
			continue;
		}
		format_bars(d, bars, sizeof(bars));
		format_others(d, members, nr, others, sizeof(others));
		snprintf(grp, sizeof(grp), "%d", d->group);
		host_sriov_describe(d, sriov, sizeof(sriov));
		fprintf(out, "%-12s  %04x:%04x  %-30.30s  %-10s  %-5s  %-26s  %s%s%s%s%s\n", d->bdf,
			d->vendor, d->device, host_class_name(d->cls),
			d->driver[0] ? d->driver : "-", d->group >= 0 ? grp : "-", bars,
			status[0] ? status : "yes", others[0] ? "  group " : "", others,
			sriov[0] ? "  " : "", sriov);
	}
	fprintf(out, json ? "\n]\n" : "");
	free(all);
	if (!json)
		print_mdevs(env, out);
	return 0;
}

static int usage_error(struct cmd_ctx *c, const char *cmd, const char *fmt, const char *arg)
{
	fprintf(c->err, "vfio-vmm %s: ", cmd);
	fprintf(c->err, fmt, arg);
	fprintf(c->err, "; see vfio-vmm %s --help\n", cmd);
	return 2;
}

static const char doctor_help[] =
	"Usage: vfio-vmm doctor [--memory SIZE] [--hugepages 2M|1G] [--user NAME]\n"
	"                       [--config FILE] [--flavor NAME] [DEV...]\n"
	"Checks this host for passthrough and prints PASS, WARN or FAIL per check, each\n"
	"with its fix: /dev/kvm, IOMMU, interrupt remapping, vfio modules, /dev/vfio/vfio,\n"
	"host GPU drivers, locked memory, hugepages, and for each DEV (default: every\n"
	"device on vfio-pci) its driver, group viability, /dev/vfio node and users.\n"
	"  --memory SIZE      guest RAM a VM would pin (default 256M)\n"
	"  --hugepages SIZE   the VM would use 2M or 1G pages: are enough free?\n"
	"  --flavor NAME      memory and hugepages of a config flavor (unless given),\n"
	"                     and are enough of its devices free now?\n"
	"  --config FILE      aliases and flavors (default /etc/vfio-vmm.conf)\n"
	"  --user NAME        could NAME (not root) run the VM? /dev/kvm, /dev/vfio/vfio\n"
	"                     and each device's /dev/vfio/N as that user's owner, groups\n"
	"                     and mode say, and the memlock limit a login of NAME gets\n"
	"                     (/etc/security/limits.conf and limits.d), each with its fix\n"
	"Exit status: 0 no FAIL, 1 any FAIL, 2 bad command line.\n";

/* doctor --flavor: the flavor's sizes unless given, and its devices. */
static int doctor_flavor(struct cmd_ctx *c, const char *config, const char *name,
			 struct doctor_opts *o, bool memory_set, bool hp_set)
{
	static struct host_config conf;
	const struct host_flavor *f;
	char err[512];

	if (host_config_load(config, &conf, err, sizeof(err))) {
		fprintf(c->err, "vfio-vmm doctor: %s\n", err);
		return -1;
	}
	f = host_config_flavor(&conf, name);
	if (!f) {
		fprintf(c->err, "vfio-vmm doctor: --flavor %s: no such flavor in %s\n", name,
			config ? config : HOST_CONFIG_PATH);
		return -1;
	}
	if (f->memory && !memory_set)
		o->memory = f->memory;
	if (f->hugepage_size && !hp_set)
		o->hugepage_size = f->hugepage_size == UINT64_MAX ? 0 : f->hugepage_size;
	o->flavor = f;
	o->config = &conf;
	return 0;
}

static int cmd_doctor(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "hugepages", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "flavor", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct doctor_opts o = { .memory = CLI_DEFAULT_MEMORY };
	static struct host_user user;
	const char *config = NULL, *flavor = NULL;
	bool memory_set = false, hp_set = false;
	struct doctor_result res;
	int ch;

	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(doctor_help, c->out);
			return 0;
		} else if (ch == 'm') {
			if (cli_parse_size(optarg, &o.memory))
				return usage_error(c, "doctor", "--memory %s: not a size like 4G",
						   optarg);
			memory_set = true;
		} else if (ch == 'c') {
			config = optarg;
		} else if (ch == 'f') {
			flavor = optarg;
		} else if (ch == 'u') {
			const char *etc = c->env->etc ? c->env->etc : "/etc";
			int r = host_user_lookup(etc, optarg, &user);
			char why[512];

			if (r) {
				snprintf(why, sizeof(why), "--user %s: %s %s/passwd", optarg,
					 r == -ENOENT ? "no such user in" : strerror(-r), etc);
				return usage_error(c, "doctor", "%s", why);
			}
			o.user = &user;
		} else if (ch == 'p') {
			hp_set = true;
			if (cli_parse_size(optarg, &o.hugepage_size) ||
			    (o.hugepage_size != 2ULL << 20 && o.hugepage_size != 1ULL << 30))
				return usage_error(c, "doctor", "--hugepages %s: must be 2M or 1G",
						   optarg);
		} else {
			return usage_error(c, "doctor", "%s: unknown option or missing value",
					   argv[optind - 1]);
		}
	}
	o.devs = (const char *const *)argv + optind;
	o.nr_devs = (unsigned int)(argc - optind);
	if (flavor && doctor_flavor(c, config, flavor, &o, memory_set, hp_set))
		return 2;
	host_doctor(c->env, &o, c->out, &res);
	return res.fail ? 1 : 0;
}

static int cmd_devices(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs("Usage: vfio-vmm devices [--json]\n"
			      "One row per PCI function: address, vendor:device, class, driver, IOMMU\n"
			      "group (+ the other members), BAR sizes (index:size, rom, (io) for I/O\n"
			      "BARs), and whether it can be assigned now: yes, after bind, in use, or\n"
			      "no with the reason. --json prints the same as a JSON array.\n", c->out);
			return 0;
		}
		if (ch != 'j')
			return usage_error(c, "devices", "%s: unknown option", argv[optind - 1]);
		json = true;
	}
	if (optind < argc)
		return usage_error(c, "devices", "unexpected argument '%s'", argv[optind]);
	ret = host_print_devices(c->env, json, c->out);
	if (ret)
		fprintf(c->err, "vfio-vmm devices: cannot list %s/bus/pci/devices: %s\n",
			c->env->sysfs, strerror(-ret));
	return ret ? 1 : 0;
}

/* One bind/unbind; with --group, each bindable member of DEV's group. */
static int bind_one(struct cmd_ctx *c, bool bind, bool group, const char *dev)
{
	char members[MAX_MEMBERS][HOST_BDF_LEN], msg[768];
	size_t nr = 1;
	int failed = 0;

	if (!group)
		snprintf(members[0], HOST_BDF_LEN, "%.*s", HOST_BDF_LEN - 1, dev);
	else if (host_group_bindable(c->env, dev, members, MAX_MEMBERS, &nr, msg, sizeof(msg))) {
		fprintf(c->err, "vfio-vmm: %s\n", msg);
		return 1;
	}
	for (size_t i = 0; i < nr && i < MAX_MEMBERS; i++) {
		int ret = bind ? host_bind(c->env, members[i], msg, sizeof(msg)) :
				 host_unbind(c->env, members[i], msg, sizeof(msg));

		fprintf(ret ? c->err : c->out, "%s%s\n", ret ? "vfio-vmm: " : "", msg);
		failed |= ret != 0;
	}
	return failed;
}

static int cmd_bind(struct cmd_ctx *c, bool bind, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = bind ? "bind" : "unbind";
	bool group = false;
	int ch, failed = 0;

	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fprintf(c->out, bind ?
				"Usage: vfio-vmm bind [--group] DEV...\n"
				"Hands each DEV (0000:3e:00.0 or 3e:00.0) to vfio-pci through its\n"
				"driver_override, remembering its driver in %s/<address>.driver.\n"
				"--group binds every function of DEV's IOMMU group (bridges stay).\n"
				"A device already on vfio-pci is left as it is.\n" :
				"Usage: vfio-vmm unbind [--group] DEV...\n"
				"Gives each DEV back to the driver it had before 'vfio-vmm bind' (recorded\n"
				"in %s), or lets the kernel choose one when there is no record.\n"
				"Refused while a VM or another VFIO user holds the device.\n",
				c->env->run_dir);
			return 0;
		}
		if (ch != 'g')
			return usage_error(c, cmd, "%s: unknown option", argv[optind - 1]);
		group = true;
	}
	if (optind == argc)
		return usage_error(c, cmd, "%s", "name at least one device, e.g. 0000:3e:00.0");
	for (int i = optind; i < argc; i++)
		failed |= bind_one(c, bind, group, argv[i]);
	return failed ? 1 : 0;
}

int host_main_env(const struct host_env *env, int argc, char **argv, FILE *out, FILE *err)
{
	struct cmd_ctx c = { .env = env, .out = out, .err = err };

	if (argc < 2)
		return -1;
	optind = 0;	/* full re-initialisation: tests call this many times */
	opterr = 0;
	if (!strcmp(argv[1], "doctor"))
		return cmd_doctor(&c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "devices"))
		return cmd_devices(&c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "bind"))
		return cmd_bind(&c, true, argc - 1, argv + 1);
	if (!strcmp(argv[1], "unbind"))
		return cmd_bind(&c, false, argc - 1, argv + 1);
	return -1;
}

int host_main(int argc, char **argv)
{
	struct host_env env;

	host_env_default(&env);
	return host_main_env(&env, argc, argv, stdout, stderr);
}
