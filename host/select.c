// SPDX-License-Identifier: MIT
/*
 * Turning "give me two h100s" into two PCI addresses nobody else uses.
 * A device must already be on vfio-pci to be picked: choosing a device a
 * host driver is using and silently taking it away would be a surprise,
 * so selection only reports it with the bind command that would free it.
 */
#include "host/select.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/bind.h"
#include "host/mdev.h"
#include "iommu/sysfs.h"
#include "util/errbuf.h"
#include "util/log.h"

/* The addresses the run's alias entries became; o->devices points here. */
static char picked_names[CLI_MAX_DEVICES][HOST_BDF_LEN];

static void note(char *list, size_t len, const char *fmt, ...)
{
	size_t used = strlen(list);
	va_list ap;

	if (used + 2 >= len)
		return;
	if (used)
		used += (size_t)snprintf(list + used, len - used, "; ");
	va_start(ap, fmt);
	vsnprintf(list + used, len - used, fmt, ap);
	va_end(ap);
}

static bool is_taken(const char *bdf, const char *const *taken, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (taken[i] && !strcmp(taken[i], bdf))
			return true;
	return false;
}

/* 1: picked and locked; 0: not free (why in notes); <0: cannot lock at all. */
static int try_pick(const struct host_env *env, const struct host_pci_dev *d, char *notes,
		    size_t len)
{
	char why[256];
	pid_t holder;
	int ret;

	if (!host_is_vfio_driver(d->driver)) {
		note(notes, len, "%s is on %s (vfio-vmm bind %s)", d->bdf,
		     d->driver[0] ? d->driver : "no driver", d->bdf);
		return 0;
	}
	if (d->group < 0 || iommu_group_viable(env->sysfs, d->group, why, sizeof(why))) {
		note(notes, len, "%s: %s", d->bdf, d->group < 0 ? "no IOMMU group" : why);
		return 0;
	}
	ret = host_lock_device(env, d->bdf, &holder);
	if (ret == -EBUSY) {
		note(notes, len, "%s is in use by vfio-vmm pid %d", d->bdf, (int)holder);
		return 0;
	}
	return ret ? ret : 1;
}

/*
 * An mdev_type alias: COUNT instances of that type that exist already
 * (/sys/bus/mdev/devices/UUID whose mdev_type is it), in UUID order, each
 * locked like a PCI function. Creating instances is the host's business
 * (echo UUID > .../mdev_supported_types/TYPE/create), as with binding.
 */
static int pick_mdevs(const struct host_env *env, const struct host_alias *a, unsigned int count,
		      const char *const *taken, unsigned int nr_taken,
		      char (*out)[HOST_BDF_LEN], char *err, size_t errlen)
{
	char notes[768] = "";
	unsigned int got = 0, matched = 0;
	struct host_mdev *all;
	size_t n;
	pid_t holder;
	int ret = host_mdev_list(env, &all, &n);

	if (ret)
		return errf(err, errlen, "alias %s: cannot list %s/bus/mdev/devices: %s", a->name,
			    env->sysfs, strerror(-ret));
	for (size_t i = 0; i < n && got < count; i++) {
		const char *uuid = all[i].uuid;

		if (strcmp(all[i].type, a->mdev_type) || is_taken(uuid, taken, nr_taken))
			continue;
		matched++;
		ret = host_lock_device(env, uuid, &holder);
		if (ret == -EBUSY) {
			note(notes, sizeof(notes), "%s is in use by vfio-vmm pid %d", uuid,
			     (int)holder);
			ret = 0;
			continue;
		}
		if (ret) {
			errf(err, errlen, "alias %s: cannot lock %s in %s: %s (run as root)",
			     a->name, uuid, env->run_dir, strerror(-ret));
			break;
		}
		snprintf(out[got++], HOST_BDF_LEN, "%s", uuid);
	}
	free(all);
	if (!ret && got < count) {
		if (!matched)
			errf(err, errlen, "alias %s: no %s instance%s in %s/bus/mdev/devices "
			     "(create one: echo $(uuidgen) > /sys/class/mdev_bus/*/"
			     "mdev_supported_types/%s/create)", a->name, a->mdev_type,
			     nr_taken ? " not already in this VM" : "", env->sysfs, a->mdev_type);
		else
			errf(err, errlen, "alias %s (mdev type %s): %u wanted but only %u free%s%s; "
			     "create more or ask for fewer", a->name, a->mdev_type, count, got,
			     notes[0] ? ": " : "", notes);
		ret = -1;
	}
	if (ret) {
		while (got)
			host_unlock_device(out[--got]);
		return -1;
	}
	return 0;
}

int host_pick_devices(const struct host_env *env, const struct host_alias *a, unsigned int count,
		      const char *const *taken, unsigned int nr_taken,
		      char (*out)[HOST_BDF_LEN], char *err, size_t errlen)
{
	struct host_pci_dev *all;
	char notes[768] = "", ids[48];
	unsigned int got = 0, matched = 0;
	size_t n;
	int ret;

	if (a->mdev_type[0])
		return pick_mdevs(env, a, count, taken, nr_taken, out, err, errlen);
	ret = host_pci_list(env, &all, &n);
	host_alias_describe(a, ids, sizeof(ids));
	if (ret)
		return errf(err, errlen, "alias %s: cannot list PCI devices: %s", a->name,
			    strerror(-ret));
	for (size_t i = 0; i < n && got < count; i++) {
		if (!host_alias_matches(a, all[i].vendor, all[i].device, all[i].cls) ||
		    is_taken(all[i].bdf, taken, nr_taken))
			continue;
		matched++;
		ret = try_pick(env, &all[i], notes, sizeof(notes));
		if (ret < 0) {
			errf(err, errlen, "alias %s: cannot lock %s in %s: %s (run as root)",
			     a->name, all[i].bdf, env->run_dir, strerror(-ret));
			break;
		}
		if (ret)
			snprintf(out[got++], HOST_BDF_LEN, "%s", all[i].bdf);
	}
	free(all);
	if (ret >= 0 && got < count) {
		if (!matched)
			errf(err, errlen, "alias %s (%s): no such device on this host%s (see "
			     "vfio-vmm devices)", a->name, ids, nr_taken ? " that is not already in "
			     "this VM" : "");
		else
			errf(err, errlen, "alias %s (%s): %u wanted but only %u free%s%s; free some "
			     "or ask for fewer", a->name, ids, count, got, notes[0] ? ": " : "",
			     notes);
		ret = -1;
	}
	if (ret < 0) {
		while (got)
			host_unlock_device(out[--got]);
		return -1;
	}
	return 0;
}

/* "alias:NAME:COUNT" (COUNT defaults to 1): 1 if it is one, -1 if malformed. */
static int parse_alias_arg(const char *arg, char *name, unsigned int *count, char *err,
			   size_t errlen)
{
	const char *p = arg + 6, *colon;
	char *end;
	unsigned long n = 1;
	size_t len;

	if (strncmp(arg, "alias:", 6))
		return 0;
	colon = strchr(p, ':');
	len = colon ? (size_t)(colon - p) : strlen(p);
	if (!len || len >= HOST_NAME_LEN)
		return errf(err, errlen, "--device %s: expected alias:NAME:COUNT", arg);
	memcpy(name, p, len);
	name[len] = '\0';
	if (colon) {
		n = strtoul(colon + 1, &end, 10);
		if (colon[1] < '0' || colon[1] > '9' || *end || !n || n > CLI_MAX_DEVICES)
			return errf(err, errlen, "--device %s: COUNT must be 1 to %d", arg,
				    CLI_MAX_DEVICES);
	}
	*count = (unsigned int)n;
	return 1;
}

struct run_plan {
	const char *devs[CLI_MAX_DEVICES];
	int cliques[CLI_MAX_DEVICES];	/* with devs: -1 for what an alias picked */
	int ports[CLI_MAX_DEVICES];	/* with devs: -1 (on if PCIe) for what an alias picked */
	unsigned int nr;
	const char *taken[CLI_MAX_DEVICES];	/* canonical explicit addresses */
	char canon[CLI_MAX_DEVICES][HOST_BDF_LEN];
	unsigned int nr_taken, nr_picked;
};

static int add_alias(const struct host_env *env, const struct host_config *c, struct run_plan *pl,
		     const char *name, unsigned int count, char *err, size_t errlen)
{
	const struct host_alias *a = host_config_alias(c, name);

	if (!a)
		return errf(err, errlen, "alias '%s' is not defined in the config file (see "
			    "docs/quickstart.md: [alias %s] with vendor and device)", name, name);
	if (pl->nr + count > CLI_MAX_DEVICES)
		return errf(err, errlen, "alias %s: %u more devices exceed the limit of %d", name,
			    count, CLI_MAX_DEVICES);
	if (host_pick_devices(env, a, count, pl->taken, pl->nr_taken,
			      &picked_names[pl->nr_picked], err, errlen))
		return -1;
	for (unsigned int i = 0; i < count; i++) {
		const char *bdf = picked_names[pl->nr_picked++];

		pl->cliques[pl->nr] = -1;
		pl->ports[pl->nr] = -1;
		pl->devs[pl->nr++] = bdf;
		pl->taken[pl->nr_taken++] = bdf;
		log_info("alias %s: picked %s", name, bdf);
	}
	return 0;
}

static int apply_flavor(const struct host_config *c, struct cli_opts *o,
			const struct host_flavor **out, char *err, size_t errlen)
{
	const struct host_flavor *f;
	char names[256] = "";

	*out = NULL;
	if (!o->flavor)
		return 0;
	f = host_config_flavor(c, o->flavor);
	if (!f) {
		for (unsigned int i = 0; i < c->nr_flavors; i++)
			note(names, sizeof(names), "%s", c->flavors[i].name);
		return errf(err, errlen, "--flavor %s: no such flavor in the config file (%s%s)",
			    o->flavor, c->nr_flavors ? "have: " : "it defines none",
			    names);
	}
	if (f->cpus && !o->cpus_set)
		o->vm.nr_cpus = f->cpus;
	if (f->memory && !o->memory_set)
		o->vm.ram_size = f->memory;
	if (f->hugepage_size && !o->hugepages_set)
		o->vm.hugepage_size = f->hugepage_size == UINT64_MAX ? 0 : f->hugepage_size;
	*out = f;
	return 0;
}

static int plan_explicit(struct run_plan *pl, const struct cli_opts *o)
{
	for (unsigned int i = 0; i < o->nr_devices; i++) {
		const char *arg = o->devices[i], *slash = strrchr(arg, '/');

		if (!strncmp(arg, "alias:", 6))
			continue;
		const char *base = slash ? slash + 1 : arg;
		char *canon = pl->canon[pl->nr_taken];

		if (!iommu_parse_bdf(base, canon, HOST_BDF_LEN)) {
			pl->taken[pl->nr_taken++] = canon;
		} else if (iommu_is_uuid(base)) {
			/* An mdev named outright: an mdev_type alias must not pick it again. */
			for (unsigned int k = 0; k < 36; k++)
				canon[k] = (char)tolower((unsigned char)base[k]);
			canon[36] = '\0';
			pl->taken[pl->nr_taken++] = canon;
		}
	}
	return 0;
}

int host_resolve_run_env(const struct host_env *env, const struct host_config *c,
			 struct cli_opts *o, char *err, size_t errlen)
{
	static struct run_plan pl;
	const struct host_flavor *f;
	char name[HOST_NAME_LEN];
	unsigned int count = 0;
	int ret;

	memset(&pl, 0, sizeof(pl));
	if (apply_flavor(c, o, &f, err, errlen))
		return -1;
	plan_explicit(&pl, o);
	for (unsigned int i = 0; i < o->nr_devices; i++) {
		ret = parse_alias_arg(o->devices[i], name, &count, err, errlen);
		if (ret < 0)
			goto out_unlock;
		if (!ret) {
			pl.cliques[pl.nr] = o->cliques[i];
			pl.ports[pl.nr] = o->ports[i];
			pl.devs[pl.nr++] = o->devices[i];
		}
		else if (add_alias(env, c, &pl, name, count, err, errlen))
			goto out_unlock;
	}
	for (unsigned int i = 0; f && i < f->nr_devs; i++)
		if (add_alias(env, c, &pl, f->devs[i].alias, f->devs[i].count, err, errlen))
			goto out_unlock;
	memcpy(o->devices, pl.devs, sizeof(pl.devs));
	/* The cliques and ports follow their devices: an alias or a flavor shifts them. */
	for (unsigned int i = 0; i < CLI_MAX_DEVICES; i++) {
		o->cliques[i] = i < pl.nr ? pl.cliques[i] : -1;
		o->ports[i] = i < pl.nr ? pl.ports[i] : -1;
	}
	o->nr_devices = pl.nr;
	return 0;
out_unlock:
	for (unsigned int i = 0; i < pl.nr_picked; i++)
		host_unlock_device(picked_names[i]);
	return -1;
}

static bool needs_config(const struct cli_opts *o)
{
	if (o->flavor || o->config)
		return true;
	for (unsigned int i = 0; i < o->nr_devices; i++)
		if (!strncmp(o->devices[i], "alias:", 6))
			return true;
	return false;
}

int host_resolve_run(struct cli_opts *o, char *err, size_t errlen)
{
	static struct host_config c;
	struct host_env env;

	host_env_default(&env);
	if (!needs_config(o))
		return 0;
	if (host_config_load(o->config, &c, err, errlen))
		return -1;
	return host_resolve_run_env(&env, &c, o, err, errlen);
}

int host_check_cliques_env(const struct host_env *env, const struct cli_opts *o, char *err,
			   size_t errlen)
{
	for (unsigned int i = 0; i < o->nr_devices; i++) {
		const char *slash = strrchr(o->devices[i], '/');
		char bdf[HOST_BDF_LEN];
		struct host_pci_dev d;

		if (o->cliques[i] < 0 ||
		    iommu_parse_bdf(slash ? slash + 1 : o->devices[i], bdf, sizeof(bdf)) ||
		    host_pci_read(env, bdf, &d))
			continue;	/* mdev, or no such device: checked when opened */
		if (d.vendor != 0x10de || (d.cls >> 16) != 0x03)
			return errf(err, errlen, "--device %s,clique=%d: %s is %04x:%04x (%s), not an "
				    "NVIDIA GPU: the GPUDirect clique capability is NVIDIA's; drop "
				    "clique= for it", o->devices[i], o->cliques[i], d.bdf, d.vendor,
				    d.device, host_class_name(d.cls));
	}
	return 0;
}

int host_check_cliques(const struct cli_opts *o, char *err, size_t errlen)
{
	struct host_env env;

	host_env_default(&env);
	return host_check_cliques_env(&env, o, err, errlen);
}

/*
 * A group's node opens once at a time: when another process (QEMU, a VMM
 * without our lock) has it, VFIO would refuse us later with EBUSY and no
 * name. Say here who holds it (found through /proc/<pid>/fd).
 */
static int group_in_use(const struct host_env *env, const char *bdf, char *err, size_t errlen)
{
	struct host_pci_dev d;
	char comm[64];
	pid_t pid;

	if (host_pci_read(env, bdf, &d) || d.group < 0)
		return 0;
	pid = host_group_user(env, d.group, comm, sizeof(comm));
	if (pid <= 0)
		return 0;
	return errf(err, errlen, "%s: group %d is in use by pid %d (%s): /dev/vfio/%d is open "
		    "there; stop it first or pick another device", bdf, d.group, (int)pid, comm,
		    d.group);
}

int host_lock_devices_env(const struct host_env *env, const char *const *devs, unsigned int n,
			  char *err, size_t errlen)
{
	char bdf[HOST_BDF_LEN];
	pid_t holder;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		const char *slash = strrchr(devs[i], '/');

		if (iommu_parse_bdf(slash ? slash + 1 : devs[i], bdf, sizeof(bdf)))
			continue;	/* mediated devices: the vendor driver arbitrates */
		ret = host_lock_device(env, bdf, &holder);
		if (ret == -EBUSY)
			return errf(err, errlen, "%s is in use by another vfio-vmm (pid %d): stop "
				    "that VM or pick another device", bdf, (int)holder);
		if ((ret == -EACCES || ret == -EPERM) && geteuid() != 0) {
			/*
			 * An ordinary user (docs/quickstart.md, "Without root") cannot
			 * write root's lock directory. Nothing is lost: a VFIO group's
			 * node opens once at a time, so a second VMM is refused there,
			 * and `devices` finds the holder through /proc.
			 */
			trace(LOG_VFIO, "no lock for %s in %s (%s): running as uid %u; the "
			      "group's node still opens only once", bdf, env->run_dir,
			      strerror(-ret), (unsigned int)geteuid());
			continue;
		}
		if (ret == -EACCES || ret == -EROFS || ret == -EPERM) {
			log_warn("cannot lock %s in %s (%s): a second vfio-vmm could try to "
				 "take it too", bdf, env->run_dir, strerror(-ret));
			continue;
		}
		if (ret)
			return errf(err, errlen, "locking %s in %s: %s", bdf, env->run_dir,
				    strerror(-ret));
		if (group_in_use(env, bdf, err, errlen))
			return -1;
	}
	return 0;
}

int host_lock_devices(const char *const *devs, unsigned int n, char *err, size_t errlen)
{
	struct host_env env;

	host_env_default(&env);
	return host_lock_devices_env(&env, devs, n, err, errlen);
}
