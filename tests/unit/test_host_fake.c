// SPDX-License-Identifier: MIT
#include "test_host_fake.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256], sys[300], dev[300], proc[300], run[300], etc[300];
static struct host_env env;

static struct {
	char bdf[HOST_BDF_LEN];
	char native[32];
} natives[32];
static int nr_natives;

static void mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirs(const char *fmt, ...)
{
	char path[1024], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void putf(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(const char *text, const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	put(path, text);
}

static void link_driver(const char *bdf, const char *drv)
{
	char target[512], path[512];

	snprintf(path, sizeof(path), "%s/devices/pci0000:00/%s/driver", sys, bdf);
	unlink(path);
	if (!drv)
		return;
	mkdirs("%s/bus/pci/drivers/%s", sys, drv);
	putf("", "%s/bus/pci/drivers/%s/bind", sys, drv);
	putf("", "%s/bus/pci/drivers/%s/unbind", sys, drv);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", drv);
	cr_assert_eq(symlink(target, path), 0);
}

static const char *native_of(const char *bdf)
{
	for (int i = 0; i < nr_natives; i++)
		if (!strcmp(natives[i].bdf, bdf))
			return natives[i].native;
	return "";
}

static bool module_loaded(const char *drv)
{
	char path[512];

	if (strcmp(drv, "vfio-pci"))
		return true;
	snprintf(path, sizeof(path), "%s/module/vfio_pci", sys);
	return !access(path, F_OK);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* The kernel's side of the sysfs files host/ writes. */
static int fake_kernel(const char *path, const char *value, void *arg)
{
	char bdf[HOST_BDF_LEN], drv[64];
	const char *ov;

	(void)arg;
	snprintf(bdf, sizeof(bdf), "%s", value);
	if (ends_with(path, "/drivers_probe")) {
		if (fake_driver(bdf)[0])
			return 0;
		ov = fake_override(bdf);
		snprintf(drv, sizeof(drv), "%s", ov[0] ? ov : native_of(bdf));
		if (drv[0] && module_loaded(drv))
			link_driver(bdf, drv);
		return 0;
	}
	if (ends_with(path, "/unbind")) {
		if (!fake_driver(bdf)[0])
			return -ENODEV;
		link_driver(bdf, NULL);
		return 0;
	}
	if (ends_with(path, "/bind")) {
		const char *d = strstr(path, "/drivers/");

		cr_assert_not_null(d, "bind outside drivers/: %s", path);
		snprintf(drv, sizeof(drv), "%.*s", (int)(strlen(d + 9) - 5), d + 9);
		ov = fake_override(bdf);
		if (fake_driver(bdf)[0] || (ov[0] && strcmp(ov, drv)) || !module_loaded(drv))
			return -ENODEV;
		link_driver(bdf, drv);
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_host_cleanup(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
	nr_natives = 0;
}

struct host_env *fake_host(void)
{
	fake_host_cleanup();
	snprintf(root, sizeof(root), "/tmp/host-fake-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(run, sizeof(run), "%s/run/vfio-vmm", root);
	snprintf(etc, sizeof(etc), "%s/etc", root);
	mkdirs("%s/bus/pci/devices", sys);
	mkdirs("%s/kernel/iommu_groups", sys);
	mkdirs("%s/module", sys);
	mkdirs("%s/vfio", dev);
	mkdirs("%s/self", proc);
	mkdirs("%s/run", root);
	putf("", "%s/bus/pci/drivers_probe", sys);
	mkdirs("%s/security/limits.d", etc);
	env = (struct host_env){ .sysfs = sys, .dev = dev, .proc = proc, .run_dir = run,
				 .etc = etc, .on_write = fake_kernel };
	return &env;
}

const char *fake_root(void)
{
	return root;
}

void fake_pci(const char *bdf, unsigned int vendor, unsigned int device, unsigned int cls,
	      int group, const char *driver, const char *native)
{
	char dir[512], buf[64], target[512], path[1024];

	snprintf(dir, sizeof(dir), "%s/devices/pci0000:00/%s", sys, bdf);
	mkdirs("%s", dir);
	snprintf(buf, sizeof(buf), "0x%04x\n", vendor);
	putf(buf, "%s/vendor", dir);
	snprintf(buf, sizeof(buf), "0x%04x\n", device);
	putf(buf, "%s/device", dir);
	snprintf(buf, sizeof(buf), "0x%06x\n", cls);
	putf(buf, "%s/class", dir);
	putf("\n", "%s/driver_override", dir);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sys, bdf);
	cr_assert_eq(symlink(target, path), 0);
	if (group >= 0) {
		mkdirs("%s/kernel/iommu_groups/%d/devices", sys, group);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
		snprintf(path, sizeof(path), "%s/iommu_group", dir);
		cr_assert_eq(symlink(target, path), 0);
		snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s", sys, group, bdf);
		cr_assert_eq(symlink(target, path), 0);
		snprintf(path, sizeof(path), "%s/vfio/%d", dev, group);
		put(path, "");
	}
	link_driver(bdf, driver);
	snprintf(natives[nr_natives].bdf, HOST_BDF_LEN, "%s", bdf);
	snprintf(natives[nr_natives++].native, 32, "%s", native ? native : "");
}

void fake_vf(const char *pf, const char *vf, int index, int total)
{
	char target[512], path[1024], buf[16];

	snprintf(target, sizeof(target), "../%s", pf);
	snprintf(path, sizeof(path), "%s/devices/pci0000:00/%s/physfn", sys, vf);
	cr_assert_eq(symlink(target, path), 0);
	snprintf(target, sizeof(target), "../%s", vf);
	snprintf(path, sizeof(path), "%s/devices/pci0000:00/%s/virtfn%d", sys, pf, index);
	cr_assert_eq(symlink(target, path), 0);
	snprintf(buf, sizeof(buf), "%d\n", total);
	putf(buf, "%s/devices/pci0000:00/%s/sriov_totalvfs", sys, pf);
	snprintf(buf, sizeof(buf), "%d\n", index + 1);
	putf(buf, "%s/devices/pci0000:00/%s/sriov_numvfs", sys, pf);
}

void fake_resource(const char *bdf, const char *text)
{
	putf(text, "%s/devices/pci0000:00/%s/resource", sys, bdf);
}

void fake_module(const char *name)
{
	mkdirs("%s/module/%s/parameters", sys, name);
}

void fake_file(const char *rel, const char *text)
{
	char path[1024], *slash;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs("%s", path);
	*slash = '/';
	put(path, text);
}

void fake_proc_fd(int pid, const char *comm, const char *target)
{
	char path[512];

	mkdirs("%s/%d/fd", proc, pid);
	putf(comm, "%s/%d/comm", proc, pid);
	snprintf(path, sizeof(path), "%s/%d/fd/7", proc, pid);
	cr_assert_eq(symlink(target, path), 0);
}

const char *fake_driver(const char *bdf)
{
	static char drv[64];
	char path[512];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sys, bdf);
	if (host_link_base(path, drv, sizeof(drv)))
		drv[0] = '\0';
	return drv;
}

const char *fake_override(const char *bdf)
{
	static char ov[64];
	char path[512];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", sys, bdf);
	if (host_read_str(path, ov, sizeof(ov)))
		ov[0] = '\0';
	return ov;
}

FILE *capture_start(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	cr_assert_not_null(c->f);
	return c->f;
}

const char *capture_end(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}
