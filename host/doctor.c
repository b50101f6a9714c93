// SPDX-License-Identifier: MIT
/*
 * The checks of "vfio-vmm doctor", in the order a VM start meets them:
 * KVM, the IOMMU and interrupt remapping, the VFIO modules and container
 * node, host GPU drivers, locked memory and hugepages, then each device.
 * Every FAIL is something that would stop "run" with an error; a WARN
 * works but costs safety or speed. Each line carries its fix, because
 * the reader of a FAIL line wants the next command, not a diagnosis.
 */
#include "host/doctor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/bind.h"
#include "host/mdev.h"
#include "host/select.h"
#include "iommu/dma_plan.h"
#include "iommu/sysfs.h"

enum level { PASS, WARN, FAIL };

struct doctor {
	const struct host_env *env;
	const struct doctor_opts *o;
	FILE *out;
	struct doctor_result *res;
	bool nvidia_dev;	/* an NVIDIA function is among the devices */
};

static void say(struct doctor *dr, enum level lv, const char *topic, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say(struct doctor *dr, enum level lv, const char *topic, const char *fmt, ...)
{
	static const char *const names[] = { "PASS", "WARN", "FAIL" };
	va_list ap;

	fprintf(dr->out, "%s  %s: ", names[lv], topic);
	va_start(ap, fmt);
	vfprintf(dr->out, fmt, ap);
	va_end(ap);
	fputc('\n', dr->out);
	if (lv == PASS)
		dr->res->pass++;
	else if (lv == WARN)
		dr->res->warn++;
	else
		dr->res->fail++;
}

static const char *etc_dir(const struct host_env *env)
{
	return env->etc ? env->etc : "/etc";
}

/* The name of group gid in <etc>/group, or its number. */
static void group_name(const struct host_env *env, gid_t gid, char *out, size_t len)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	snprintf(out, len, "%u", (unsigned int)gid);
	snprintf(path, sizeof(path), "%s/group", etc_dir(env));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (c2 && (gid_t)strtoul(c2 + 1, NULL, 10) == gid) {
			snprintf(out, len, "%.*s", (int)(c1 - line < 63 ? c1 - line : 63), line);
			break;
		}
	}
	fclose(f);
}

/* How a node is granted to a user: by group (kvm), by owner (a VFIO group), or to all. */
enum grant { GRANT_KVM_GROUP, GRANT_OWNER, GRANT_WORLD };

/*
 * --user: can that user open path read-write? PASS, or FAIL with the
 * file's owner, group and mode and the commands that grant it; udev_rule
 * keeps a grant across boots (GRANT_KVM_GROUP, GRANT_OWNER).
 */
static bool user_node(struct doctor *dr, const char *topic, const char *path,
		      const struct stat *st, enum grant how, const char *udev_rule)
{
	const struct host_user *u = dr->o->user;
	char grp[HOST_USER_NAME_LEN], fix[640];
	bool group_rw = (st->st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP);

	if (host_user_can_rw(u, st)) {
		say(dr, PASS, topic, "%s can open %s", u->name, path);
		return true;
	}
	group_name(dr->env, st->st_gid, grp, sizeof(grp));
	if (how == GRANT_KVM_GROUP && st->st_gid != 0 && group_rw)
		snprintf(fix, sizeof(fix), "usermod -aG %s %s (log in again)", grp, u->name);
	else if (how == GRANT_KVM_GROUP)
		snprintf(fix, sizeof(fix), "chgrp kvm %s && chmod 0660 %s, usermod -aG kvm %s (log "
			 "in again); to keep it: echo '%s' > /etc/udev/rules.d/90-vfio-vmm.rules",
			 path, path, u->name, udev_rule);
	else if (how == GRANT_OWNER)
		snprintf(fix, sizeof(fix), "chown %s %s now; to keep it: echo '%s' > "
			 "/etc/udev/rules.d/90-vfio-vmm.rules", u->name, path, udev_rule);
	else
		snprintf(fix, sizeof(fix), "chmod 0666 %s", path);
	say(dr, FAIL, topic, "%s cannot open %s (owner %u, group %s, mode %04o). Fix: %s",
	    u->name, path, (unsigned int)st->st_uid, grp, (unsigned int)(st->st_mode & 07777), fix);
	return false;
}

static bool cpu_is_amd(const struct host_env *env)
{
	char path[PATH_MAX], line[256];
	bool amd = false;
	FILE *f;

	host_path(path, sizeof(path), "%s/cpuinfo", env->proc);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "vendor_id", 9)) {
			amd = strstr(line, "AuthenticAMD") || strstr(line, "HygonGenuine");
			break;
		}
	fclose(f);
	return amd;
}

static void check_kvm(struct doctor *dr)
{
	const char *mod = cpu_is_amd(dr->env) ? "kvm_amd" : "kvm_intel";
	char path[PATH_MAX];
	struct stat st;
	int fd, ver;

	host_path(path, sizeof(path), "%s/kvm", dr->env->dev);
	if (stat(path, &st)) {
		say(dr, FAIL, "kvm", "%s is missing. Fix: enable virtualization (VT-x/AMD-V) in "
		    "the firmware, then modprobe %s", path, mod);
		return;
	}
	if (!S_ISCHR(st.st_mode)) {
		say(dr, FAIL, "kvm", "%s is not a device node. Fix: remove it and modprobe %s",
		    path, mod);
		return;
	}
	if (dr->o->user)
		user_node(dr, "kvm", path, &st, GRANT_KVM_GROUP,
			  "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		say(dr, FAIL, "kvm", "cannot open %s: %s. Fix: usermod -aG kvm $USER (log in "
		    "again) or run as root", path, strerror(errno));
		return;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (ver != KVM_API_VERSION)
		say(dr, FAIL, "kvm", "%s answers KVM_GET_API_VERSION with %d, not %d. Fix: a "
		    "kernel with a working KVM", path, ver, KVM_API_VERSION);
	else
		say(dr, PASS, "kvm", "%s usable (KVM API %d)", path, ver);
}

static int count_entries(const char *dir, char *names, size_t len)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	if (names)
		names[0] = '\0';
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (names && strlen(names) + strlen(e->d_name) + 2 < len)
			sprintf(names + strlen(names), "%s%s", n ? " " : "", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void check_iommu(struct doctor *dr)
{
	char path[PATH_MAX], units[128];
	int groups, nr_units;

	host_path(path, sizeof(path), "%s/kernel/iommu_groups", dr->env->sysfs);
	groups = count_entries(path, NULL, 0);
	host_path(path, sizeof(path), "%s/class/iommu", dr->env->sysfs);
	nr_units = count_entries(path, units, sizeof(units));
	if (groups > 0) {
		say(dr, PASS, "iommu", "on: %d IOMMU groups%s%s", groups,
		    nr_units ? ", units: " : "", units);
		return;
	}
	if (cpu_is_amd(dr->env))
		say(dr, FAIL, "iommu", "off (no IOMMU groups). Fix: enable IOMMU/AMD-Vi in the "
		    "firmware, remove amd_iommu=off if set, add iommu=pt to the kernel command line "
		    "(GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub) and reboot");
	else
		say(dr, FAIL, "iommu", "off (no IOMMU groups). Fix: enable VT-d in the firmware, "
		    "add intel_iommu=on iommu=pt to the kernel command line (GRUB_CMDLINE_LINUX in "
		    "/etc/default/grub, update-grub) and reboot");
}

/* Remapped interrupts show up under "IR-" chips (IR-IO-APIC, IR-PCI-MSI...). */
static int remapped_interrupts(const struct host_env *env)
{
	char path[PATH_MAX], line[512];
	bool found = false;
	FILE *f;

	host_path(path, sizeof(path), "%s/interrupts", env->proc);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " IR-") != NULL;
	fclose(f);
	return found;
}

static void check_intremap(struct doctor *dr)
{
	char path[PATH_MAX], val[8] = "";
	int ir = remapped_interrupts(dr->env);

	if (ir > 0) {
		say(dr, PASS, "interrupt remapping", "on (IR- interrupt chips in /proc/interrupts)");
		return;
	}
	host_path(path, sizeof(path), "%s/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
		  dr->env->sysfs);
	host_read_str(path, val, sizeof(val));
	if (val[0] == 'Y' || val[0] == '1') {
		say(dr, WARN, "interrupt remapping", "off, allowed by vfio_iommu_type1."
		    "allow_unsafe_interrupts=1: an assigned device can then write MSIs that raise "
		    "any host interrupt, so do not give it to an untrusted guest. Fix: enable "
		    "interrupt remapping (x2APIC/IR in the firmware, no intremap=off)");
		return;
	}
	say(dr, FAIL, "interrupt remapping", "%s: VFIO refuses to set up the IOMMU "
	    "(VFIO_SET_IOMMU fails with EPERM). Fix: enable it (x2APIC/IR in the firmware, remove "
	    "intremap=off), or accept that devices can forge host interrupts: "
	    "modprobe vfio_iommu_type1 allow_unsafe_interrupts=1",
	    ir < 0 ? "unknown (cannot read /proc/interrupts)" : "off");
}

static bool module_loaded(const struct host_env *env, const char *name)
{
	char path[PATH_MAX];

	host_path(path, sizeof(path), "%s/module/%s", env->sysfs, name);
	return !access(path, F_OK);
}

static void check_modules(struct doctor *dr)
{
	static const char *const mods[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
	char missing[96] = "";

	for (size_t i = 0; i < 3; i++)
		if (!module_loaded(dr->env, mods[i]))
			sprintf(missing + strlen(missing), "%s%s", missing[0] ? " " : "", mods[i]);
	if (!missing[0]) {
		say(dr, PASS, "vfio modules", "vfio, vfio_iommu_type1, vfio_pci loaded");
		return;
	}
	say(dr, FAIL, "vfio modules", "not loaded: %s. Fix: modprobe vfio_pci vfio_iommu_type1 "
	    "(at boot: list them in /etc/modules-load.d/vfio.conf)", missing);
}

static void check_container(struct doctor *dr)
{
	char path[PATH_MAX];
	struct stat st;

	host_path(path, sizeof(path), "%s/vfio/vfio", dr->env->dev);
	if (dr->o->user && !stat(path, &st)) {
		user_node(dr, "vfio container", path, &st, GRANT_WORLD, NULL);
		return;
	}
	if (access(path, F_OK))
		say(dr, FAIL, "vfio container", "%s is missing. Fix: modprobe vfio", path);
	else if (access(path, R_OK | W_OK))
		say(dr, FAIL, "vfio container", "%s: %s. Fix: run as root or chmod 0666 %s", path,
		    strerror(errno), path);
	else
		say(dr, PASS, "vfio container", "%s usable", path);
}

static void check_gpu_drivers(struct doctor *dr)
{
	static const char *const drivers[] = { "nouveau", "nvidia" };
	char loaded[32] = "";

	for (size_t i = 0; i < 2; i++)
		if (module_loaded(dr->env, drivers[i]))
			sprintf(loaded + strlen(loaded), "%s%s", loaded[0] ? " " : "", drivers[i]);
	if (!loaded[0]) {
		say(dr, PASS, "host gpu drivers", "neither nouveau nor nvidia is loaded");
		return;
	}
	say(dr, WARN, "host gpu drivers", "%s loaded: at boot it takes NVIDIA GPUs before "
	    "vfio-pci can%s. Fix: echo 'blacklist nouveau' > /etc/modprobe.d/vfio-vmm.conf (and "
	    "the same for nvidia), update-initramfs -u, reboot; then vfio-vmm bind", loaded,
	    dr->nvidia_dev ? ", and a device checked here is an NVIDIA one" : "");
}

/* Linux's RLIMIT_MEMLOCK when nothing sets one (MLOCK_LIMIT, 5.16 and later). */
#define DEFAULT_MEMLOCK	(8ull << 20)

/* --user: the hard memlock limit that user's login gets must cover guest RAM. */
static void check_user_memlock(struct doctor *dr)
{
	const struct host_user *u = dr->o->user;
	struct host_memlock m;
	char sz[16], lim[24], where[160];
	uint64_t hard;

	host_user_memlock(etc_dir(dr->env), u, &m);
	hard = m.found ? m.hard : DEFAULT_MEMLOCK;
	host_format_size(dr->o->memory, sz, sizeof(sz));
	if (hard == UINT64_MAX)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		host_format_size(hard, lim, sizeof(lim));
	if (m.found)
		snprintf(where, sizeof(where), "%s", m.source);
	else
		snprintf(where, sizeof(where), "no memlock line for %s in %s/security: the "
			 "kernel's default", u->name, etc_dir(dr->env));
	if (hard >= dr->o->memory)
		say(dr, PASS, "memlock", "a login of %s may pin %s (%s): enough for %s of guest RAM",
		    u->name, lim, where, sz);
	else
		say(dr, FAIL, "memlock", "a login of %s may pin %s (%s), less than %s of guest RAM. "
		    "Fix: echo '%s hard memlock %llu' >> /etc/security/limits.d/vfio-vmm.conf (KiB, "
		    "or unlimited) and log in again; a systemd unit needs LimitMEMLOCK= instead",
		    u->name, lim, where, sz, u->name,
		    (unsigned long long)((dr->o->memory + 1023) / 1024));
}

static void check_memlock(struct doctor *dr)
{
	char path[PATH_MAX], text[4096], why[512], sz[16];
	struct memlock_state st = { 0 };
	uint64_t new_soft;
	struct rlimit rl;
	int plan;

	if (dr->o->user) {
		check_user_memlock(dr);
		return;
	}
	host_format_size(dr->o->memory, sz, sizeof(sz));
	host_path(path, sizeof(path), "%s/self/status", dr->env->proc);
	if (!host_read_str(path, text, sizeof(text)))
		iommu_parse_proc_status(text, &st.locked, &st.cap_ipc_lock);
	if (getrlimit(RLIMIT_MEMLOCK, &rl)) {
		say(dr, WARN, "memlock", "getrlimit: %s", strerror(errno));
		return;
	}
	st.soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	st.hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
	plan = iommu_memlock_plan(&st, dr->o->memory, &new_soft, why, sizeof(why));
	if (st.cap_ipc_lock)
		say(dr, PASS, "memlock", "CAP_IPC_LOCK: pinning %s of guest RAM is not limited", sz);
	else if (plan == 0)
		say(dr, PASS, "memlock", "limit allows pinning %s of guest RAM", sz);
	else if (plan == 1)
		say(dr, PASS, "memlock", "pinning %s needs a higher soft limit, which vfio-vmm "
		    "raises itself (the hard limit allows it)", sz);
	else
		say(dr, FAIL, "memlock", "%s", why);
}

static int read_hp(const struct host_env *env, uint64_t size, const char *file, unsigned long *v)
{
	char path[PATH_MAX], buf[32];
	int ret = host_path(path, sizeof(path), "%s/kernel/mm/hugepages/hugepages-%llukB/%s",
			    env->sysfs, (unsigned long long)(size >> 10), file);

	if (!ret)
		ret = host_read_str(path, buf, sizeof(buf));
	*v = ret ? 0 : strtoul(buf, NULL, 10);
	return ret;
}

static void check_hugepages(struct doctor *dr)
{
	uint64_t hp = dr->o->hugepage_size;
	unsigned long n2m, n1g, nfree, need;
	char sz[16];

	if (hp) {
		host_format_size(hp, sz, sizeof(sz));
		need = (unsigned long)((dr->o->memory + hp - 1) / hp);
		if (read_hp(dr->env, hp, "free_hugepages", &nfree))
			say(dr, FAIL, "hugepages", "this host has no %s hugepages", sz);
		else if (nfree < need)
			say(dr, FAIL, "hugepages", "%lu free %s pages, the guest needs %lu. Fix: "
			    "echo %lu > %s/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages (or "
			    "hugepages=%lu on the kernel command line)", nfree, sz, need, need,
			    dr->env->sysfs, (unsigned long long)(hp >> 10), need);
		else
			say(dr, PASS, "hugepages", "%lu free %s pages, the guest needs %lu", nfree, sz,
			    need);
		return;
	}
	read_hp(dr->env, 2ULL << 20, "nr_hugepages", &n2m);
	read_hp(dr->env, 1ULL << 30, "nr_hugepages", &n1g);
	if (n2m || n1g)
		say(dr, PASS, "hugepages", "reserved: %lu x 2M, %lu x 1G (use run --hugepages)",
		    n2m, n1g);
	else
		say(dr, WARN, "hugepages", "none reserved: guest RAM would use 4 KiB pages, which "
		    "pin slower and use more IOMMU entries. Fix: echo N > "
		    "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages, run --hugepages 2M");
}

static void check_node(struct doctor *dr, const struct host_pci_dev *d)
{
	char path[PATH_MAX];

	host_path(path, sizeof(path), "%s/vfio/%d", dr->env->dev, d->group);
	if (dr->o->user) {
		struct stat st;
		char rule[128];

		if (stat(path, &st)) {
			say(dr, FAIL, d->bdf, "%s is missing although the device is on %s. Fix: "
			    "vfio-vmm unbind %s && vfio-vmm bind %s", path, d->driver, d->bdf,
			    d->bdf);
			return;
		}
		snprintf(rule, sizeof(rule), "SUBSYSTEM==\"vfio\", KERNEL==\"%d\", OWNER=\"%s\"",
			 d->group, dr->o->user->name);
		user_node(dr, d->bdf, path, &st, GRANT_OWNER, rule);
		return;
	}
	if (access(path, F_OK))
		say(dr, FAIL, d->bdf, "%s is missing although the device is on %s. Fix: "
		    "vfio-vmm unbind %s && vfio-vmm bind %s", path, d->driver, d->bdf, d->bdf);
	else if (access(path, R_OK | W_OK))
		say(dr, FAIL, d->bdf, "%s: %s. Fix: run as root, or a udev rule: "
		    "SUBSYSTEM==\"vfio\", OWNER=\"<user>\"", path, strerror(errno));
	else
		say(dr, PASS, d->bdf, "%s usable", path);
}

static void check_in_use(struct doctor *dr, const struct host_pci_dev *d)
{
	char comm[64];
	pid_t pid = host_lock_holder(dr->env, d->bdf);

	if (pid > 0) {
		say(dr, WARN, d->bdf, "in use by vfio-vmm pid %d: a new VM cannot take it now",
		    (int)pid);
		return;
	}
	pid = host_group_user(dr->env, d->group, comm, sizeof(comm));
	if (pid > 0)
		say(dr, WARN, d->bdf, "/dev/vfio/%d is open in %s (pid %d): a new VM cannot take "
		    "it now", d->group, comm, (int)pid);
}

/* Is bdf one of the devices doctor was asked about (the assignment-to-be)? */
static bool in_assignment(struct doctor *dr, const char *bdf)
{
	struct host_pci_dev a;

	/* Asked about nothing: every device on vfio-pci is the candidate. */
	if (!dr->o->nr_devs)
		return !host_pci_read(dr->env, bdf, &a) && host_is_vfio_driver(a.driver);

	for (unsigned int i = 0; i < dr->o->nr_devs; i++)
		if (!host_pci_read(dr->env, dr->o->devs[i], &a) && !strcmp(a.bdf, bdf))
			return true;
	return false;
}

/* A reset method that resets this function alone (everything but bus and cxl_bus). */
static bool has_function_reset(const char *methods)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", methods);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (strcmp(t, "bus") && strcmp(t, "cxl_bus"))
			return true;
	return false;
}

/*
 * A function on the same bus outside the assignment, in out; how many in all.
 * VFIO does a bus reset only when it owns every function the reset hits.
 */
static size_t bus_sharers(struct doctor *dr, const struct host_pci_dev *d, char *out, size_t len)
{
	struct host_pci_dev *all;
	size_t n, nr = 0, bus_len = strrchr(d->bdf, ':') - d->bdf + 1;

	out[0] = '\0';
	if (host_pci_list(dr->env, &all, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(all[i].bdf, d->bdf) || strncmp(all[i].bdf, d->bdf, bus_len) ||
		    in_assignment(dr, all[i].bdf))
			continue;
		if (!nr++)
			snprintf(out, len, "%s", all[i].bdf);
	}
	free(all);
	return nr;
}

/*
 * How the kernel can reset the function (sysfs reset_method, Linux 5.15+):
 * VFIO resets it when a VM takes it and when the VM ends, and only an FLR
 * can be offered to the guest (docs/passthrough.md). Without any method the
 * next VM inherits the last one's device state.
 */
static void check_reset(struct doctor *dr, const struct host_pci_dev *d)
{
	char path[PATH_MAX], methods[128] = "";

	host_path(path, sizeof(path), "%s/bus/pci/devices/%s/reset_method", dr->env->sysfs,
		  d->bdf);
	if (host_read_str(path, methods, sizeof(methods))) {
		/* Older kernels only have the reset file, there when a method is. */
		host_path(path, sizeof(path), "%s/bus/pci/devices/%s/reset", dr->env->sysfs,
			  d->bdf);
		if (!access(path, F_OK)) {
			say(dr, PASS, d->bdf, "resettable (this kernel does not say how)");
			return;
		}
		methods[0] = '\0';
	}
	if (methods[0] && !has_function_reset(methods)) {
		char other[HOST_BDF_LEN];
		size_t nr = bus_sharers(dr, d, other, sizeof(other));

		if (nr)
			say(dr, WARN, d->bdf, "no reset: reset_method is %s only, and the bus is "
			    "shared with %s%s, which this assignment does not hold, so VFIO "
			    "resets nothing. Fix: assign every function on the bus together, or "
			    "prefer a device with FLR", methods, other,
			    nr > 1 ? " and others" : "");
		else
			say(dr, PASS, d->bdf, "reset: %s (every function on the bus is in this "
			    "assignment; between VMs, the guest is offered no FLR)", methods);
		return;
	}
	if (!methods[0])
		say(dr, WARN, d->bdf, "no reset method: a VM inherits whatever the previous "
		    "one left in the device. Fix: none on this host; prefer a device with FLR");
	else if (strstr(methods, "flr"))
		say(dr, PASS, d->bdf, "reset: %s (a guest FLR is passed on)", methods);
	else
		say(dr, PASS, d->bdf, "reset: %s (between VMs; the guest is offered no FLR)",
		    methods);
}

/*
 * VFIO hands out a group whole: once one function of it is in a VM, its
 * other functions can be neither another VM's nor the host's until that VM
 * ends. Said when the assignment holds part of a group (bridges aside).
 */
static void check_group_partly(struct doctor *dr, const struct host_pci_dev *d)
{
	char members[64][HOST_BDF_LEN];
	struct host_pci_dev m;
	size_t nr = 0, left = 0;
	const char *first = NULL;

	if (!dr->o->nr_devs || host_group_members(dr->env, d->group, members, 64, &nr))
		return;
	for (size_t i = 0; i < nr && i < 64; i++) {
		if (!strcmp(members[i], d->bdf) || in_assignment(dr, members[i]) ||
		    (!host_pci_read(dr->env, members[i], &m) && host_is_bridge(m.cls)))
			continue;
		if (!left++)
			first = members[i];
	}
	if (left)
		say(dr, WARN, d->bdf, "IOMMU group %d also holds %s%s: assigning one function of "
		    "a group blocks the rest, which can go to no other VM and not back to the "
		    "host while this VM runs. Fix: assign them together, or accept it",
		    d->group, first, left > 1 ? " and others" : "");
}

/*
 * An SR-IOV VF: what VFIO does for it, and the one setup it refuses. With
 * the PF on vfio-pci too (vfio-pci enable_sriov=1), opening the VF needs
 * the VF token the PF's user set (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN), which
 * vfio-vmm does not pass: the kernel answers EACCES.
 */
static void check_vf(struct doctor *dr, const struct host_pci_dev *d)
{
	struct host_pci_dev pf;
	char what[80];

	if (!d->physfn[0])
		return;
	host_sriov_describe(d, what, sizeof(what));
	if (host_pci_read(dr->env, d->physfn, &pf)) {
		say(dr, WARN, d->bdf, "%s, which sysfs cannot describe. Fix: check the PF with "
		    "vfio-vmm devices", what);
		return;
	}
	if (host_is_vfio_driver(pf.driver))
		say(dr, WARN, d->bdf, "%s, and the PF is on %s: VFIO then wants the VF token of "
		    "the PF's user, which vfio-vmm does not pass (EACCES). Fix: give the PF back "
		    "to its own driver", what, pf.driver);
	else
		say(dr, PASS, d->bdf, "%s (PF on %s): VFIO presents the PF's vendor ID and the VF "
		    "device ID, emulates the BARs and memory enable a VF lacks, offers no INTx",
		    what, pf.driver[0] ? pf.driver : "no driver");
}

static void check_device(struct doctor *dr, const char *arg)
{
	struct host_pci_dev d;
	char why[768];
	int ret = host_pci_read(dr->env, arg, &d);

	if (ret) {
		say(dr, FAIL, arg, "%s. Fix: check the address with vfio-vmm devices",
		    ret == -EINVAL ? "not a PCI address" : "no such PCI device");
		return;
	}
	if (!host_is_vfio_driver(d.driver))
		say(dr, FAIL, d.bdf, "bound to %s, not vfio-pci. Fix: vfio-vmm bind %s",
		    d.driver[0] ? d.driver : "no driver", d.bdf);
	else
		say(dr, PASS, d.bdf, "%04x:%04x %s on %s", d.vendor, d.device,
		    host_class_name(d.cls), d.driver);
	check_vf(dr, &d);
	if (d.group < 0) {
		say(dr, FAIL, d.bdf, "no IOMMU group. Fix: turn the IOMMU on (see the iommu line)");
		return;
	}
	if (iommu_group_viable(dr->env->sysfs, d.group, why, sizeof(why)))
		say(dr, FAIL, d.bdf, "%s. Fix: vfio-vmm bind --group %s", why, d.bdf);
	else
		say(dr, PASS, d.bdf, "IOMMU group %d is viable", d.group);
	check_group_partly(dr, &d);
	if (host_is_vfio_driver(d.driver)) {
		check_node(dr, &d);
		check_in_use(dr, &d);
	}
	check_reset(dr, &d);
}

/*
 * A mediated device: it needs no binding (its vendor driver made it), but an
 * IOMMU group VFIO emulates, that group's node, and nobody holding it.
 */
static void check_mdev(struct doctor *dr, const struct host_mdev *m)
{
	char path[PATH_MAX], comm[64];
	pid_t pid;

	say(dr, PASS, m->uuid, "mediated device of type %s on %s, driver %s",
	    m->type[0] ? m->type : "?", m->parent[0] ? m->parent : "?",
	    m->driver[0] ? m->driver : "none");
	if (m->group < 0) {
		say(dr, FAIL, m->uuid, "no IOMMU group: its vendor driver did not register it with "
		    "VFIO. Fix: remove it and create it again, or check the vendor driver");
		return;
	}
	host_path(path, sizeof(path), "%s/vfio/%d", dr->env->dev, m->group);
	if (access(path, F_OK))
		say(dr, FAIL, m->uuid, "%s is missing. Fix: load vfio and the vendor driver "
		    "again, or remove and re-create the instance", path);
	else if (access(path, R_OK | W_OK))
		say(dr, FAIL, m->uuid, "%s: %s. Fix: run as root, or a udev rule: "
		    "SUBSYSTEM==\"vfio\", OWNER=\"<user>\"", path, strerror(errno));
	else
		say(dr, PASS, m->uuid, "%s usable (IOMMU group %d, emulated by VFIO)", path,
		    m->group);
	pid = host_lock_holder(dr->env, m->uuid);
	if (pid > 0)
		say(dr, WARN, m->uuid, "in use by vfio-vmm pid %d: a new VM cannot take it now",
		    (int)pid);
	else if ((pid = host_group_user(dr->env, m->group, comm, sizeof(comm))) > 0)
		say(dr, WARN, m->uuid, "/dev/vfio/%d is open in %s (pid %d): a new VM cannot take "
		    "it now", m->group, comm, (int)pid);
}

static void check_devices(struct doctor *dr)
{
	struct host_pci_dev *all;
	struct host_mdev *mdevs, m;
	size_t n, nr_vfio = 0, nr_mdev = 0;
	int ret;

	if (dr->o->nr_devs) {
		for (unsigned int i = 0; i < dr->o->nr_devs; i++) {
			ret = host_mdev_read(dr->env, dr->o->devs[i], &m);
			if (!ret)
				check_mdev(dr, &m);
			else if (ret == -ENOENT)
				say(dr, FAIL, dr->o->devs[i], "no such mediated device. Fix: check "
				    "the UUID with vfio-vmm devices");
			else
				check_device(dr, dr->o->devs[i]);
		}
		return;
	}
	if (!host_mdev_list(dr->env, &mdevs, &nr_mdev)) {
		for (size_t i = 0; i < nr_mdev; i++)
			check_mdev(dr, &mdevs[i]);
		free(mdevs);
	}
	if (host_pci_list(dr->env, &all, &n)) {
		say(dr, FAIL, "devices", "cannot list %s/bus/pci/devices", dr->env->sysfs);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (host_is_vfio_driver(all[i].driver)) {
			check_device(dr, all[i].bdf);
			nr_vfio++;
		}
	free(all);
	if (!nr_vfio && !nr_mdev)
		say(dr, WARN, "devices", "no device is bound to vfio-pci. Fix: vfio-vmm bind DEV "
		    "(vfio-vmm devices lists them)");
}

/* Would "run --flavor" find its devices now? Picks, reports, lets go. */
static void check_flavor(struct doctor *dr)
{
	const struct host_flavor *f = dr->o->flavor;
	char picked[CLI_MAX_DEVICES][HOST_BDF_LEN], list[256], err[1024];
	const char *taken[CLI_MAX_DEVICES];
	unsigned int nr = 0;

	for (unsigned int i = 0; i < f->nr_devs; i++) {
		const struct host_flavor_dev *fd = &f->devs[i];
		const struct host_alias *a = host_config_alias(dr->o->config, fd->alias);

		list[0] = '\0';
		if (nr + fd->count > CLI_MAX_DEVICES ||
		    host_pick_devices(dr->env, a, fd->count, taken, nr, &picked[nr], err,
				      sizeof(err))) {
			say(dr, FAIL, "flavor", "%s: %s", f->name,
			    nr + fd->count > CLI_MAX_DEVICES ? "too many devices" : err);
			continue;
		}
		for (unsigned int j = 0; j < fd->count; j++, nr++) {
			taken[nr] = picked[nr];
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 j ? " " : "", picked[nr]);
		}
		say(dr, PASS, "flavor", "%s: %u x %s free now: %s", f->name, fd->count, fd->alias,
		    list);
	}
	for (unsigned int i = 0; i < nr; i++)
		host_unlock_device(picked[i]);
}

static bool any_nvidia(const struct host_env *env, const struct doctor_opts *o)
{
	struct host_pci_dev d;

	for (unsigned int i = 0; i < o->nr_devs; i++)
		if (!host_pci_read(env, o->devs[i], &d) && d.vendor == 0x10de)
			return true;
	return false;
}

void host_doctor(const struct host_env *env, const struct doctor_opts *o, FILE *out,
		 struct doctor_result *res)
{
	struct doctor dr = { .env = env, .o = o, .out = out, .res = res };

	memset(res, 0, sizeof(*res));
	dr.nvidia_dev = any_nvidia(env, o);
	check_kvm(&dr);
	check_iommu(&dr);
	check_intremap(&dr);
	check_modules(&dr);
	check_container(&dr);
	check_gpu_drivers(&dr);
	check_memlock(&dr);
	check_hugepages(&dr);
	check_devices(&dr);
	if (o->flavor)
		check_flavor(&dr);
	fprintf(out, "doctor: %u passed, %u warning%s, %u failed\n", res->pass, res->warn,
		res->warn == 1 ? "" : "s", res->fail);
}
