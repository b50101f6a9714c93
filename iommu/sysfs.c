// SPDX-License-Identifier: MIT
/*
 * From a --device argument to an IOMMU group number, and the group's
 * viability, using only sysfs:
 *
 *   <root>/bus/pci/devices/<bdf> -> ../../../devices/pci0000:00/<bdf>
 *   <bdf>/iommu_group            -> .../kernel/iommu_groups/<N>
 *   <bdf>/driver                 -> .../bus/pci/drivers/<name>
 *   <root>/kernel/iommu_groups/<N>/devices/<member>   (one link per member)
 *
 * VFIO hands a group to userspace only when no kernel driver does DMA
 * through it: every member must be unbound or bound to a driver that
 * leaves DMA to its owner. We check that here so the user gets one line
 * naming every offending member, instead of the kernel's bare "not viable".
 */
#include "iommu/sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_hex(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 8)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (unsigned long)(isdigit((unsigned char)s[i]) ? s[i] - '0' :
					     tolower((unsigned char)s[i]) - 'a' + 10);
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int iommu_parse_bdf(const char *s, char *out, size_t len)
{
	unsigned long dom = 0, bus, dev, fn;
	const char *c1 = strchr(s, ':'), *c2, *dot;

	if (!c1)
		return -EINVAL;
	c2 = strchr(c1 + 1, ':');
	if (c2) {
		/* Domains are 16 bits, wider only behind VMD (e.g. 10000). */
		if (parse_hex(s, (size_t)(c1 - s), 0xfffffffful, &dom))
			return -EINVAL;
		s = c1 + 1;
		c1 = c2;
	}
	dot = strchr(c1 + 1, '.');
	if (!dot || parse_hex(s, (size_t)(c1 - s), 0xff, &bus) ||
	    parse_hex(c1 + 1, (size_t)(dot - c1 - 1), 0x1f, &dev) ||
	    parse_hex(dot + 1, strlen(dot + 1), 7, &fn))
		return -EINVAL;
	if ((size_t)snprintf(out, len, "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn) >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool iommu_is_uuid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t d = 0;

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int parse_path_arg(const char *arg, struct iommu_dev_id *id, char *why, size_t len)
{
	char tmp[PATH_MAX];
	size_t n = strlen(arg);
	const char *base;

	if (n >= sizeof(id->path)) {
		snprintf(why, len, "%.64s...: path too long", arg);
		return -ENAMETOOLONG;
	}
	memcpy(tmp, arg, n + 1);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	base = base_name(tmp);
	if (!iommu_parse_bdf(base, id->name, sizeof(id->name))) {
		id->kind = IOMMU_DEV_PCI;
	} else if (iommu_is_uuid(base)) {
		id->kind = IOMMU_DEV_MDEV;
		snprintf(id->name, sizeof(id->name), "%.36s", base);	/* a UUID */
	} else {
		snprintf(why, len, "%s: not a PCI device or mediated device directory "
			 "(expected /sys/bus/pci/devices/0000:3e:00.0 or /sys/bus/mdev/devices/UUID)",
			 arg);
		return -EINVAL;
	}
	memcpy(id->path, tmp, n + 1);
	return 0;
}

int iommu_parse_device(const char *arg, const char *sysfs_root, struct iommu_dev_id *id,
		       char *why, size_t len)
{
	const char *dir;
	int n;

	memset(id, 0, sizeof(*id));
	id->group = -1;
	if (!sysfs_root)
		sysfs_root = "/sys";
	if (arg[0] == '/')
		return parse_path_arg(arg, id, why, len);

	if (!iommu_parse_bdf(arg, id->name, sizeof(id->name))) {
		id->kind = IOMMU_DEV_PCI;
		dir = "bus/pci/devices";
	} else if (iommu_is_uuid(arg)) {
		id->kind = IOMMU_DEV_MDEV;
		for (n = 0; arg[n]; n++)
			id->name[n] = (char)tolower((unsigned char)arg[n]);
		id->name[n] = '\0';
		dir = "bus/mdev/devices";
	} else {
		snprintf(why, len, "%s: not a device: expected a PCI address like 0000:3e:00.0 or "
			 "3e:00.0 (see lspci -D), a sysfs device path, or a mediated device UUID",
			 arg);
		return -EINVAL;
	}
	n = snprintf(id->path, sizeof(id->path), "%s/%s/%s", sysfs_root, dir, id->name);
	if (n < 0 || (size_t)n >= sizeof(id->path)) {
		snprintf(why, len, "%s: sysfs path too long", arg);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Basename of a symlink's target into out; -errno (ENOENT: no link). */
static int read_link_base(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if ((size_t)snprintf(out, len, "%s", base_name(target)) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static const char *kind_noun(const struct iommu_dev_id *id)
{
	return id->kind == IOMMU_DEV_PCI ? "PCI device (see lspci -D)" :
					   "mediated device (see ls /sys/bus/mdev/devices)";
}

static int check_bound_to_vfio(const struct iommu_dev_id *id, char *why, size_t len)
{
	char drv[256];
	int ret = read_link_base(id->path, "driver", drv, sizeof(drv));

	/* Mediated devices are bound to their vendor's driver, not vfio-pci. */
	if (id->kind != IOMMU_DEV_PCI)
		return 0;
	if (!ret && strstr(drv, "vfio"))
		return 0;
	if (ret && ret != -ENOENT) {
		snprintf(why, len, "%s: cannot read its driver link: %s", id->name, strerror(-ret));
		return ret;
	}
	if (ret)
		snprintf(why, len, "%s is not bound to any driver: echo vfio-pci > "
			 "/sys/bus/pci/devices/%s/driver_override && echo %s > "
			 "/sys/bus/pci/drivers_probe", id->name, id->name, id->name);
	else
		snprintf(why, len, "%s is bound to %s, not vfio-pci: echo vfio-pci > "
			 "/sys/bus/pci/devices/%s/driver_override && echo %s > "
			 "/sys/bus/pci/devices/%s/driver/unbind && echo %s > /sys/bus/pci/drivers_probe",
			 id->name, drv, id->name, id->name, id->name, id->name);
	return -ENODEV;
}

int iommu_resolve_group(struct iommu_dev_id *id, char *why, size_t len)
{
	struct stat st;
	char grp[64], *end;
	long nr;
	int ret;

	if (stat(id->path, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s: no such %s", id->name, kind_noun(id));
		return -ENODEV;
	}
	ret = read_link_base(id->path, "iommu_group", grp, sizeof(grp));
	if (ret == -ENOENT) {
		snprintf(why, len, "%s has no IOMMU group: enable the IOMMU (intel_iommu=on / "
			 "amd_iommu=on) on the host kernel command line", id->name);
		return -ENODEV;
	}
	if (ret) {
		snprintf(why, len, "%s: cannot read its iommu_group link: %s", id->name,
			 strerror(-ret));
		return ret;
	}
	nr = strtol(grp, &end, 10);
	if (end == grp || *end || nr < 0 || nr > 0x7fffffff) {
		snprintf(why, len, "%s: iommu_group link points at \"%s\", not a group number",
			 id->name, grp);
		return -EINVAL;
	}
	id->group = (int)nr;
	return check_bound_to_vfio(id, why, len);
}

bool iommu_driver_allowed(const char *driver)
{
	/*
	 * Since Linux 5.19 a group is viable when no bound driver uses the
	 * kernel's DMA API on it: drivers flagged driver_managed_dma are
	 * vfio-pci and its variants (mlx5_vfio_pci, nvgrace_gpu_vfio_pci...),
	 * pci-stub, and pcieport (root/switch ports). Before 5.19 the rule
	 * was vfio drivers, pci-stub and any bridge; bridges are handled by
	 * the caller.
	 */
	return !driver || strstr(driver, "vfio") || !strcmp(driver, "pci-stub") ||
	       !strcmp(driver, "pcieport");
}

/* A PCI-to-PCI or CardBus bridge, from the class file ("0x060400"). */
static bool member_is_bridge(const char *member)
{
	char path[PATH_MAX], buf[32] = "";
	unsigned long cls;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/class", member) >= sizeof(path))
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	cls = strtoul(buf, NULL, 16) >> 8;
	return cls == 0x0604 || cls == 0x0607;
}

/* snprintf truncates a very long list, which is still one useful line. */
static void add_offender(char *list, size_t len, int *count, const char *name, const char *drv)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s is bound to %s", *count ? ", " : "", name, drv);
	(*count)++;
}

static int member_check(const char *dir, const char *name, char *list, size_t len, int *count)
{
	char member[PATH_MAX], drv[256];
	int ret;

	/* Mediated devices sit alone in a group of their own making. */
	if (iommu_parse_bdf(name, drv, sizeof(drv)))
		return 0;
	if ((size_t)snprintf(member, sizeof(member), "%s/%s", dir, name) >= sizeof(member))
		return -ENAMETOOLONG;
	ret = read_link_base(member, "driver", drv, sizeof(drv));
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (iommu_driver_allowed(drv) || member_is_bridge(member))
		return 0;
	add_offender(list, len, count, name, drv);
	return 0;
}

int iommu_group_viable(const char *sysfs_root, int group, char *why, size_t len)
{
	char dir[PATH_MAX], list[768] = "";
	struct dirent **ents = NULL;
	int n, count = 0, ret = 0;

	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", sysfs_root ? sysfs_root : "/sys",
		 group);
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		ret = -errno;
		snprintf(why, len, "group %d: cannot list %s: %s", group, dir, strerror(-ret));
		return ret;
	}
	for (int i = 0; i < n; i++) {
		if (!ret && ents[i]->d_name[0] != '.')
			ret = member_check(dir, ents[i]->d_name, list, sizeof(list), &count);
		free(ents[i]);
	}
	free(ents);
	if (ret) {
		snprintf(why, len, "group %d: cannot read its members: %s", group, strerror(-ret));
		return ret;
	}
	if (count) {
		snprintf(why, len, "group %d is not viable: %s; bind %s to vfio-pci too", group, list,
			 count > 1 ? "them" : "it");
		return -EBUSY;
	}
	return 0;
}
