// SPDX-License-Identifier: MIT
#include "host/mdev.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu/sysfs.h"

/* The last path component of dir/name's symlink target, "" when there is none. */
static void link_base(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *slash;
	ssize_t n;

	out[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	if ((size_t)snprintf(out, len, "%s", slash ? slash + 1 : target) >= len)
		out[0] = '\0';
}

int host_mdev_read(const struct host_env *env, const char *arg, struct host_mdev *m)
{
	const char *base = strrchr(arg, '/');
	char dir[PATH_MAX], link[PATH_MAX], grp[32], *end, *slash;
	ssize_t n;

	base = base ? base + 1 : arg;
	if (!iommu_is_uuid(base))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 36; i++)
		m->uuid[i] = (char)tolower((unsigned char)base[i]);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/bus/mdev/devices/%s", env->sysfs, m->uuid) >=
	    sizeof(dir) || access(dir, F_OK))
		return -ENOENT;
	link_base(dir, "mdev_type", m->type, sizeof(m->type));
	link_base(dir, "driver", m->driver, sizeof(m->driver));
	link_base(dir, "iommu_group", grp, sizeof(grp));
	m->group = (int)strtol(grp, &end, 10);
	if (!grp[0] || *end)
		m->group = -1;
	/* The instance's own link points at .../PARENT/UUID. */
	n = readlink(dir, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		slash = strrchr(link, '/');
		if (slash) {
			*slash = '\0';
			slash = strrchr(link, '/');
			snprintf(m->parent, sizeof(m->parent), "%.63s", slash ? slash + 1 : link);
		}
	}
	return 0;
}

static int cmp_mdev(const void *x, const void *y)
{
	return strcmp(((const struct host_mdev *)x)->uuid, ((const struct host_mdev *)y)->uuid);
}

int host_mdev_list(const struct host_env *env, struct host_mdev **out, size_t *n)
{
	char dir[PATH_MAX];
	struct host_mdev *all = NULL, *p;
	size_t cap = 0;
	struct dirent *e;
	DIR *d;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s/bus/mdev/devices", env->sysfs);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;	/* no mdev module: none */
	while ((e = readdir(d))) {
		if (!iommu_is_uuid(e->d_name))
			continue;
		if (*n == cap) {
			p = realloc(all, (cap = cap ? 2 * cap : 8) * sizeof(*all));
			if (!p) {
				closedir(d);
				free(all);
				*n = 0;
				return -ENOMEM;
			}
			all = p;
		}
		if (!host_mdev_read(env, e->d_name, &all[*n]))
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(all, *n, sizeof(*all), cmp_mdev);
	*out = all;
	return 0;
}
