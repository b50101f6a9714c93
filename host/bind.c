// SPDX-License-Identifier: MIT
/*
 * bind/unbind through the kernel's own knobs, the way an admin would:
 *
 *   echo vfio-pci > <dev>/driver_override   only vfio-pci may take it now
 *   echo <bdf>    > <dev>/driver/unbind     the old driver lets go
 *   echo <bdf>    > bus/pci/drivers_probe   vfio-pci takes it
 *
 * driver_override (unlike vfio-pci's new_id) affects this one function,
 * not every device with the same ids, and survives the old driver's
 * module being reloaded. Unbinding clears the override and binds the
 * recorded driver explicitly, since the kernel does not reprobe on unbind.
 */
#include "host/bind.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommu/sysfs.h"

static int dev_path(const struct host_env *env, const char *bdf, const char *file, char *out,
		    size_t len)
{
	return host_path(out, len, "%s/bus/pci/devices/%s/%s", env->sysfs, bdf, file);
}

static int state_path(const struct host_env *env, const char *bdf, char *out, size_t len)
{
	return host_path(out, len, "%s/%s.driver", env->run_dir, bdf);
}

static int read_dev(const struct host_env *env, const char *dev, struct host_pci_dev *d,
		    char *msg, size_t len)
{
	int ret = host_pci_read(env, dev, d);

	if (ret == -EINVAL)
		snprintf(msg, len, "%s: not a PCI address: expected e.g. 0000:3e:00.0 or 3e:00.0",
			 dev);
	else if (ret == -ENODEV)
		snprintf(msg, len, "%s: no such PCI device (see vfio-vmm devices or lspci -D)",
			 d->bdf);
	else if (ret)
		snprintf(msg, len, "%s: cannot read it in sysfs: %s", dev, strerror(-ret));
	return ret;
}

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Does one of pid's fds point at a /dev/vfio/<group> node? */
static bool pid_has_group(const char *proc, const char *pid, const char *want)
{
	char dir[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	bool found = false;
	size_t wl = strlen(want);
	ssize_t n;
	DIR *d;

	if (host_path(dir, sizeof(dir), "%s/%s/fd", proc, pid))
		return false;
	d = opendir(dir);
	if (!d)
		return false;	/* gone, or not ours to look at */
	while (!found && (e = readdir(d))) {
		if (host_path(link, sizeof(link), "%s/%s", dir, e->d_name))
			continue;
		n = readlink(link, target, sizeof(target) - 1);
		if (n < (ssize_t)wl)
			continue;
		target[n] = '\0';
		found = !strcmp(target + n - wl, want) && (n == (ssize_t)wl || target[n - wl - 1] == '/');
	}
	closedir(d);
	return found;
}

pid_t host_group_user(const struct host_env *env, int group, char *comm, size_t len)
{
	char want[32], self[16], path[PATH_MAX];
	struct dirent *e;
	pid_t pid = 0;
	DIR *d;

	snprintf(want, sizeof(want), "vfio/%d", group);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	d = opendir(env->proc);
	if (!d)
		return -errno;
	while (!pid && (e = readdir(d))) {
		if (!is_pid(e->d_name) || !strcmp(e->d_name, self))
			continue;
		if (pid_has_group(env->proc, e->d_name, want))
			pid = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	if (pid && comm) {
		host_path(path, sizeof(path), "%s/%d/comm", env->proc, (int)pid);
		if (host_read_str(path, comm, len))
			snprintf(comm, len, "?");
	}
	return pid;
}

/* A VMM or any other VFIO user has the device: unbinding would hang or hurt. */
static int check_not_in_use(const struct host_env *env, const struct host_pci_dev *d, char *msg,
			    size_t len)
{
	char comm[64];
	pid_t pid = host_lock_holder(env, d->bdf);

	if (pid > 0) {
		snprintf(msg, len, "%s is in use by vfio-vmm (pid %d): stop that VM first", d->bdf,
			 (int)pid);
		return -EBUSY;
	}
	if (d->group < 0)
		return 0;
	pid = host_group_user(env, d->group, comm, sizeof(comm));
	if (pid > 0) {
		snprintf(msg, len, "%s is in use: /dev/vfio/%d is open in %s (pid %d): stop it first",
			 d->bdf, d->group, comm, (int)pid);
		return -EBUSY;
	}
	return 0;
}

static int save_state(const struct host_env *env, const struct host_pci_dev *d, char *msg,
		      size_t len)
{
	char path[PATH_MAX], line[80];
	FILE *f;

	if (mkdir(env->run_dir, 0755) && errno != EEXIST) {
		snprintf(msg, len, "%s: cannot create %s to remember its driver: %s", d->bdf,
			 env->run_dir, strerror(errno));
		return -errno;
	}
	state_path(env, d->bdf, path, sizeof(path));
	snprintf(line, sizeof(line), "%s\n", d->driver);
	f = fopen(path, "w");
	if (!f || fputs(line, f) == EOF || fclose(f)) {
		int ret = -errno;

		snprintf(msg, len, "%s: cannot write %s: %s", d->bdf, path, strerror(errno));
		return ret;
	}
	return 0;
}

/* The driver recorded at bind time: 1 and its name ("" for none), 0 if no record. */
static int load_state(const struct host_env *env, const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX];
	int ret;

	state_path(env, bdf, path, sizeof(path));
	ret = host_read_str(path, drv, len);
	if (ret == -ENOENT)
		return 0;
	return ret ? ret : 1;
}

static int write_dev(const struct host_env *env, const char *bdf, const char *file,
		     const char *value, char *msg, size_t len)
{
	char path[PATH_MAX];
	int ret = dev_path(env, bdf, file, path, sizeof(path));

	if (!ret)
		ret = host_write_str(env, path, value);
	if (ret)
		snprintf(msg, len, "%s: writing '%s' to %s failed: %s%s", bdf, value, path,
			 strerror(-ret), ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
	return ret;
}

static int write_bus(const struct host_env *env, const char *file, const char *bdf, char *msg,
		     size_t len)
{
	char path[PATH_MAX];
	int ret = host_path(path, sizeof(path), "%s/bus/pci/%s", env->sysfs, file);

	if (!ret)
		ret = host_write_str(env, path, bdf);
	if (ret)
		snprintf(msg, len, "%s: writing it to %s failed: %s%s", bdf, path, strerror(-ret),
			 ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
	return ret;
}

static int current_driver(const struct host_env *env, const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX];
	int ret = dev_path(env, bdf, "driver", path, sizeof(path));

	if (!ret)
		ret = host_link_base(path, drv, len);
	if (ret == -ENOENT) {
		drv[0] = '\0';
		ret = 0;
	}
	return ret;
}

/* bind failed half way: give the device back to the driver it had. */
static void bind_rollback(const struct host_env *env, const struct host_pci_dev *d)
{
	char scratch[256], path[PATH_MAX];

	write_dev(env, d->bdf, "driver_override", "\n", scratch, sizeof(scratch));
	if (!d->driver[0])
		return;
	host_path(path, sizeof(path), "drivers/%s/bind", d->driver);
	write_bus(env, path, d->bdf, scratch, sizeof(scratch));
}

static void explain_not_taken(const struct host_env *env, const char *bdf, const char *now,
			      char *msg, size_t len)
{
	char path[PATH_MAX];

	host_path(path, sizeof(path), "%s/module/vfio_pci", env->sysfs);
	if (access(path, F_OK))
		snprintf(msg, len, "%s: vfio-pci did not take it: the vfio-pci module is not "
			 "loaded (modprobe vfio-pci)", bdf);
	else
		snprintf(msg, len, "%s: vfio-pci did not take it (driver now: %s); see dmesg",
			 bdf, now[0] ? now : "none");
}

int host_bind(const struct host_env *env, const char *dev, char *msg, size_t len)
{
	struct host_pci_dev d;
	char now[64];
	int ret = read_dev(env, dev, &d, msg, len);

	if (ret)
		return ret;
	if (host_is_vfio_driver(d.driver)) {
		snprintf(msg, len, "%s: already bound to %s", d.bdf, d.driver);
		return 0;
	}
	if (host_is_bridge(d.cls)) {
		snprintf(msg, len, "%s is a PCI bridge: vfio-pci does not take bridges, and "
			 "they need not leave the host for their group to be viable", d.bdf);
		return -EINVAL;
	}
	ret = save_state(env, &d, msg, len);
	if (!ret)
		ret = write_dev(env, d.bdf, "driver_override", "vfio-pci", msg, len);
	if (!ret && d.driver[0])
		ret = write_dev(env, d.bdf, "driver/unbind", d.bdf, msg, len);
	if (!ret)
		ret = write_bus(env, "drivers_probe", d.bdf, msg, len);
	if (!ret)
		ret = current_driver(env, d.bdf, now, sizeof(now));
	if (!ret && !host_is_vfio_driver(now)) {
		explain_not_taken(env, d.bdf, now, msg, len);
		ret = -ENODEV;
	}
	if (ret) {
		bind_rollback(env, &d);
		return ret;
	}
	snprintf(msg, len, "%s: %s -> %s", d.bdf, d.driver[0] ? d.driver : "(no driver)", now);
	return 0;
}

/* Gives the device to its recorded driver, or lets the kernel choose. */
static int restore_driver(const struct host_env *env, const char *bdf, int have, const char *prev,
			  char *msg, size_t len)
{
	char path[PATH_MAX];

	if (have && !prev[0])
		return 0;	/* it had no driver before bind */
	if (have) {
		host_path(path, sizeof(path), "drivers/%s/bind", prev);
		if (!write_bus(env, path, bdf, msg, len))
			return 0;
	}
	return write_bus(env, "drivers_probe", bdf, msg, len);
}

static void unbind_result(const struct host_pci_dev *d, int have, const char *prev,
			  const char *now, char *msg, size_t len)
{
	const char *shown = now[0] ? now : "(no driver)";

	if (!have)
		snprintf(msg, len, "%s: %s -> %s (no record of its earlier driver: the kernel chose)",
			 d->bdf, d->driver, shown);
	else if (strcmp(prev, now))
		snprintf(msg, len, "%s: %s -> %s, but it was on %s before bind; see dmesg",
			 d->bdf, d->driver, shown, prev[0] ? prev : "no driver");
	else
		snprintf(msg, len, "%s: %s -> %s (restored)", d->bdf, d->driver, shown);
}

int host_unbind(const struct host_env *env, const char *dev, char *msg, size_t len)
{
	struct host_pci_dev d;
	char prev[64] = "", now[64], path[PATH_MAX];
	int ret = read_dev(env, dev, &d, msg, len), have;

	if (ret)
		return ret;
	if (!host_is_vfio_driver(d.driver)) {
		snprintf(msg, len, "%s: not bound to vfio-pci (driver: %s); nothing to do", d.bdf,
			 d.driver[0] ? d.driver : "none");
		return 0;
	}
	ret = check_not_in_use(env, &d, msg, len);
	if (ret)
		return ret;
	have = load_state(env, d.bdf, prev, sizeof(prev));
	if (have < 0)
		have = 0;
	ret = write_dev(env, d.bdf, "driver_override", "\n", msg, len);
	if (!ret)
		ret = write_dev(env, d.bdf, "driver/unbind", d.bdf, msg, len);
	if (!ret)
		ret = restore_driver(env, d.bdf, have, prev, msg, len);
	if (!ret)
		ret = current_driver(env, d.bdf, now, sizeof(now));
	if (ret)
		return ret;
	state_path(env, d.bdf, path, sizeof(path));
	unlink(path);
	unbind_result(&d, have, prev, now, msg, len);
	return have && strcmp(prev, now) ? -EIO : 0;
}

int host_group_bindable(const struct host_env *env, const char *dev,
			char (*out)[HOST_BDF_LEN], size_t max, size_t *n, char *msg, size_t len)
{
	char members[64][HOST_BDF_LEN];
	struct host_pci_dev d, m;
	size_t nr;
	int ret = read_dev(env, dev, &d, msg, len);

	if (ret)
		return ret;
	if (d.group < 0) {
		snprintf(msg, len, "%s has no IOMMU group: enable the IOMMU on the host kernel "
			 "command line (intel_iommu=on, or the AMD IOMMU in firmware)", d.bdf);
		return -ENODEV;
	}
	ret = host_group_members(env, d.group, members, 64, &nr);
	if (ret) {
		snprintf(msg, len, "%s: cannot list IOMMU group %d: %s", d.bdf, d.group,
			 strerror(-ret));
		return ret;
	}
	*n = 0;
	for (size_t i = 0; i < nr && i < 64; i++) {
		if (host_pci_read(env, members[i], &m) || host_is_bridge(m.cls))
			continue;
		if (*n < max)
			snprintf(out[*n], HOST_BDF_LEN, "%s", m.bdf);
		(*n)++;
	}
	return 0;
}
