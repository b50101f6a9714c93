// SPDX-License-Identifier: MIT
/*
 * What sysfs says about a PCI function: ids, class, driver, IOMMU group
 * and the sizes of its BARs (from the "resource" file, which needs no
 * config space access and so no root).
 */
#include "host/host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu/sysfs.h"

void host_env_default(struct host_env *env)
{
	memset(env, 0, sizeof(*env));
	env->sysfs = "/sys";
	env->dev = "/dev";
	env->proc = "/proc";
	env->run_dir = "/run/vfio-vmm";
	env->etc = "/etc";
}

int host_path(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int host_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int host_read_hex(const char *path, unsigned long *v)
{
	char buf[64], *end;
	int ret = host_read_str(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoul(buf, &end, 16);
	return errno || end == buf || *end ? -EINVAL : 0;
}

int host_write_str(const struct host_env *env, const char *path, const char *value)
{
	size_t len = strlen(value);
	int fd, ret = 0;

	/* O_TRUNC is ignored by sysfs but makes the fake tree's files readable. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, value, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && env->on_write)
		ret = env->on_write(path, value, env->arg);
	return ret;
}

int host_link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	return (size_t)snprintf(out, len, "%s", base) >= len ? -ENAMETOOLONG : 0;
}

int host_parse_resource(const char *text, struct host_res *res)
{
	unsigned long long start, end, flags;
	const char *p = text;
	int i;

	memset(res, 0, sizeof(*res) * HOST_NR_RES);
	for (i = 0; i < HOST_NR_RES && *p; i++) {
		if (sscanf(p, "%llx %llx %llx", &start, &end, &flags) != 3)
			return -EINVAL;
		/* An unimplemented BAR reads as all zeros. */
		if (end > start || (end == start && flags))
			res[i].size = end - start + 1;
		res[i].flags = (unsigned long)flags;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 0;
}

static int read_resource(const char *dir, struct host_res *res)
{
	char path[PATH_MAX], text[1024];
	int ret = host_path(path, sizeof(path), "%s/resource", dir);

	if (!ret)
		ret = host_read_str(path, text, sizeof(text));
	if (ret == -ENOENT) {
		memset(res, 0, sizeof(*res) * HOST_NR_RES);
		return 0;
	}
	return ret ? ret : host_parse_resource(text, res);
}

static int read_id(const char *dir, const char *name, unsigned long *v)
{
	char path[PATH_MAX];
	int ret = host_path(path, sizeof(path), "%s/%s", dir, name);

	return ret ? ret : host_read_hex(path, v);
}

static int read_dec(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[32], *end;
	long v;

	if (host_path(path, sizeof(path), "%s/%s", dir, name) || host_read_str(path, buf, sizeof(buf)))
		return -1;
	v = strtol(buf, &end, 10);
	return end == buf || *end || v < 0 || v > 65535 ? -1 : (int)v;
}

/*
 * SR-IOV as sysfs shows it: a VF has a physfn link to its PF, and the PF a
 * virtfnN link to each VF it has enabled (N is the VF's index, from 0); a
 * PF has sriov_totalvfs and sriov_numvfs.
 */
static void read_sriov(const char *dir, struct host_pci_dev *d)
{
	char path[PATH_MAX], vf[HOST_BDF_LEN];
	struct dirent *e;
	DIR *pf;

	d->vf_index = -1;
	d->sriov_total = read_dec(dir, "sriov_totalvfs");
	d->sriov_num = d->sriov_total < 0 ? -1 : read_dec(dir, "sriov_numvfs");
	host_path(path, sizeof(path), "%s/physfn", dir);
	if (host_link_base(path, d->physfn, sizeof(d->physfn))) {
		d->physfn[0] = '\0';
		return;
	}
	pf = opendir(path);
	if (!pf)
		return;
	while ((e = readdir(pf))) {
		char link[PATH_MAX];

		if (strncmp(e->d_name, "virtfn", 6) ||
		    host_path(link, sizeof(link), "%s/%s", path, e->d_name) ||
		    host_link_base(link, vf, sizeof(vf)) || strcmp(vf, d->bdf))
			continue;
		d->vf_index = atoi(e->d_name + 6);
		break;
	}
	closedir(pf);
}

int host_pci_read(const struct host_env *env, const char *bdf, struct host_pci_dev *d)
{
	char dir[PATH_MAX], path[PATH_MAX], grp[32];
	unsigned long vendor, device, cls;
	int ret;

	memset(d, 0, sizeof(*d));
	d->group = -1;
	d->vf_index = d->sriov_total = d->sriov_num = -1;
	if (iommu_parse_bdf(bdf, d->bdf, sizeof(d->bdf)))
		return -EINVAL;
	ret = host_path(dir, sizeof(dir), "%s/bus/pci/devices/%s", env->sysfs, d->bdf);
	if (ret)
		return ret;
	if (access(dir, F_OK))
		return -ENODEV;
	ret = read_id(dir, "vendor", &vendor);
	if (!ret)
		ret = read_id(dir, "device", &device);
	if (!ret)
		ret = read_id(dir, "class", &cls);
	if (ret)
		return ret;
	d->vendor = (unsigned int)vendor;
	d->device = (unsigned int)device;
	d->cls = (unsigned int)cls;
	host_path(path, sizeof(path), "%s/driver", dir);
	ret = host_link_base(path, d->driver, sizeof(d->driver));
	if (ret && ret != -ENOENT)
		return ret;
	host_path(path, sizeof(path), "%s/iommu_group", dir);
	if (!host_link_base(path, grp, sizeof(grp)))
		d->group = atoi(grp);
	read_sriov(dir, d);
	return read_resource(dir, d->res);
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(((const struct host_pci_dev *)a)->bdf, ((const struct host_pci_dev *)b)->bdf);
}

int host_pci_list(const struct host_env *env, struct host_pci_dev **out, size_t *n)
{
	char dir[PATH_MAX], bdf[HOST_BDF_LEN];
	struct host_pci_dev *list = NULL, *grown;
	size_t cap = 0, count = 0;
	struct dirent *e;
	DIR *d;
	int ret = 0;

	host_path(dir, sizeof(dir), "%s/bus/pci/devices", env->sysfs);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (iommu_parse_bdf(e->d_name, bdf, sizeof(bdf)))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			list = grown;
		}
		ret = host_pci_read(env, bdf, &list[count]);
		if (ret)
			break;
		count++;
	}
	closedir(d);
	if (ret) {
		free(list);
		return ret;
	}
	if (count)
		qsort(list, count, sizeof(*list), cmp_bdf);
	*out = list;
	*n = count;
	return 0;
}

int host_group_members(const struct host_env *env, int group, char (*out)[HOST_BDF_LEN],
		       size_t max, size_t *n)
{
	char dir[PATH_MAX];
	struct dirent **ents;
	int nr;

	host_path(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", env->sysfs, group);
	nr = scandir(dir, &ents, NULL, alphasort);
	if (nr < 0)
		return -errno;
	*n = 0;
	for (int i = 0; i < nr; i++) {
		if (ents[i]->d_name[0] != '.') {
			if (*n < max)
				snprintf(out[*n], HOST_BDF_LEN, "%.*s", HOST_BDF_LEN - 1, ents[i]->d_name);
			(*n)++;
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

void host_sriov_describe(const struct host_pci_dev *d, char *out, size_t len)
{
	char idx[16] = "";

	if (d->physfn[0]) {
		if (d->vf_index >= 0)
			snprintf(idx, sizeof(idx), " %d", d->vf_index);
		snprintf(out, len, "VF%s of PF %s", idx, d->physfn);
	} else if (d->sriov_total > 0) {
		snprintf(out, len, "SR-IOV PF %d/%d VFs", d->sriov_num < 0 ? 0 : d->sriov_num,
			 d->sriov_total);
	} else {
		out[0] = '\0';
	}
}

bool host_is_bridge(unsigned int cls)
{
	return (cls >> 8) == 0x0604 || (cls >> 8) == 0x0607;
}

bool host_is_vfio_driver(const char *driver)
{
	return driver && strstr(driver, "vfio");
}

/* The PCI code and ID assignment's names, for the classes a host shows. */
static const struct {
	unsigned int cls;	/* base << 8 | sub */
	const char *name;
} class_names[] = {
	{ 0x0100, "SCSI storage controller" },	{ 0x0101, "IDE interface" },
	{ 0x0104, "RAID bus controller" },	{ 0x0106, "SATA controller" },
	{ 0x0107, "Serial Attached SCSI controller" },
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0200, "Ethernet controller" },	{ 0x0207, "Infiniband controller" },
	{ 0x0300, "VGA compatible controller" },	{ 0x0302, "3D controller" },
	{ 0x0401, "Multimedia audio controller" },	{ 0x0403, "Audio device" },
	{ 0x0500, "RAM memory" },		{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },		{ 0x0604, "PCI bridge" },
	{ 0x0700, "Serial controller" },	{ 0x0805, "SD Host controller" },
	{ 0x0806, "IOMMU" },			{ 0x0c03, "USB controller" },
	{ 0x0c05, "SMBus" },			{ 0x1200, "Processing accelerators" },
};

static const char *const base_names[] = {
	"Unclassified device", "Mass storage controller", "Network controller",
	"Display controller", "Multimedia controller", "Memory controller", "Bridge",
	"Communication controller", "Generic system peripheral", "Input device controller",
	"Docking station", "Processor", "Serial bus controller", "Wireless controller",
	"Intelligent controller", "Satellite communications controller",
	"Encryption controller", "Signal processing controller", "Processing accelerators",
	"Non-Essential Instrumentation",
};

const char *host_class_name(unsigned int cls)
{
	unsigned int sub = cls >> 8, base = cls >> 16;

	for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (class_names[i].cls == sub)
			return class_names[i].name;
	if (base < sizeof(base_names) / sizeof(base_names[0]))
		return base_names[base];
	return base == 0xff ? "Unassigned class" : "Unknown class";
}

void host_format_size(uint64_t bytes, char *out, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while (bytes >= 1024 && !(bytes & 1023) && u < 5) {
		bytes >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(out, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(out, len, "%llu%c", (unsigned long long)bytes, units[u]);
}
