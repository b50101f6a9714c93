// SPDX-License-Identifier: MIT
#include "test_iommu_fakesys.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static void mkpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkpath(const char *fmt, ...)
{
	char path[1024], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void link_at(const char *target, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void link_at(const char *target, const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	cr_assert_eq(symlink(target, path), 0, "symlink %s -> %s", path, target);
}

const char *fakesys_root(void)
{
	if (!root[0]) {
		snprintf(root, sizeof(root), "/tmp/iommu-sysfs-XXXXXX");
		cr_assert_not_null(mkdtemp(root));
		mkpath("%s/bus/pci/devices", root);
		mkpath("%s/bus/mdev/devices", root);
		mkpath("%s/kernel/iommu_groups", root);
	}
	return root;
}

void fakesys_add_pci(const char *bdf, int group, const char *driver, const char *cls)
{
	char target[512];
	FILE *f;

	fakesys_root();
	mkpath("%s/devices/pci0000:00/%s", root, bdf);
	mkpath("%s/kernel/iommu_groups/%d/devices", root, group);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	link_at(target, "%s/bus/pci/devices/%s", root, bdf);
	snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
	link_at(target, "%s/devices/pci0000:00/%s/iommu_group", root, bdf);
	snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
	link_at(target, "%s/kernel/iommu_groups/%d/devices/%s", root, group, bdf);
	if (driver) {
		mkpath("%s/bus/pci/drivers/%s", root, driver);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		link_at(target, "%s/devices/pci0000:00/%s/driver", root, bdf);
	}
	snprintf(target, sizeof(target), "%s/devices/pci0000:00/%s/class", root, bdf);
	f = fopen(target, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", cls ? cls : "0x030200");
	fclose(f);
}

void fakesys_add_mdev(const char *uuid, const char *parent, int group)
{
	char target[512];

	fakesys_root();
	mkpath("%s/devices/pci0000:00/%s/%s", root, parent, uuid);
	mkpath("%s/kernel/iommu_groups/%d/devices", root, group);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s/%s", parent, uuid);
	link_at(target, "%s/bus/mdev/devices/%s", root, uuid);
	snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
	link_at(target, "%s/devices/pci0000:00/%s/%s/iommu_group", root, parent, uuid);
	snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s/%s", parent, uuid);
	link_at(target, "%s/kernel/iommu_groups/%d/devices/%s", root, group, uuid);
	mkpath("%s/bus/mdev/drivers/nvidia-vgpu-vfio", root);
	link_at("../../../../bus/mdev/drivers/nvidia-vgpu-vfio",
		"%s/devices/pci0000:00/%s/%s/driver", root, parent, uuid);
}

void fakesys_drop_group_link(const char *bdf)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/devices/pci0000:00/%s/iommu_group", root, bdf);
	cr_assert_eq(unlink(path), 0);
}

void fakesys_cleanup(void)
{
	char cmd[512];

	if (!root[0] || strncmp(root, "/tmp/iommu-sysfs-", 17))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
	root[0] = '\0';
}
