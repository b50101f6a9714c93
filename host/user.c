// SPDX-License-Identifier: MIT
/*
 * What an ordinary user may do, read from the files that decide it (see
 * user.h). Only what vfio-vmm needs: device node permissions by owner,
 * group and mode (ACLs are not read), and the memlock limit.
 */
#include "host/user.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits a passwd or group line in place at ':'; returns the field count. */
static unsigned int split(char *line, char **f, unsigned int max)
{
	unsigned int n = 0;

	line[strcspn(line, "\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		line = strchr(line, ':');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static bool listed(const char *members, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = members; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, name, n))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static void add_group(struct host_user *u, gid_t gid, const char *name)
{
	for (unsigned int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return;
	if (u->ngroups == HOST_USER_MAX_GROUPS)
		return;
	u->groups[u->ngroups] = gid;
	snprintf(u->group_names[u->ngroups], HOST_USER_NAME_LEN, "%s", name);
	u->ngroups++;
}

int host_user_lookup(const char *etc, const char *name, struct host_user *u)
{
	char path[PATH_MAX], line[1024], *f[7];
	bool found = false;
	FILE *fp;

	memset(u, 0, sizeof(*u));
	snprintf(path, sizeof(path), "%s/passwd", etc);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (!found && fgets(line, sizeof(line), fp)) {
		if (split(line, f, 7) >= 4 && !strcmp(f[0], name)) {
			snprintf(u->name, sizeof(u->name), "%s", name);
			u->uid = (uid_t)strtoul(f[2], NULL, 10);
			u->gid = (gid_t)strtoul(f[3], NULL, 10);
			found = true;
		}
	}
	fclose(fp);
	if (!found)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/group", etc);
	fp = fopen(path, "re");
	if (fp) {
		while (fgets(line, sizeof(line), fp)) {
			unsigned int n = split(line, f, 4);
			gid_t gid;

			if (n < 3)
				continue;
			gid = (gid_t)strtoul(f[2], NULL, 10);
			if (gid == u->gid || (n == 4 && listed(f[3], name)))
				add_group(u, gid, f[0]);
		}
		fclose(fp);
	}
	add_group(u, u->gid, "");	/* a primary group /etc/group does not name */
	return 0;
}

bool host_user_can_rw(const struct host_user *u, const struct stat *st)
{
	mode_t m = st->st_mode;

	if (u->uid == 0)
		return true;
	if (st->st_uid == u->uid)
		return (m & (S_IRUSR | S_IWUSR)) == (S_IRUSR | S_IWUSR);
	for (unsigned int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == st->st_gid)
			return (m & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP);
	return (m & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH);
}

/* How specific a limits.conf domain is for this user: 3 user, 2 @group, 1 "*", 0 not ours. */
static int domain_prio(const char *d, const struct host_user *u)
{
	if (!strcmp(d, u->name))
		return 3;
	if (d[0] == '@') {
		for (unsigned int i = 0; i < u->ngroups; i++)
			if (u->group_names[i][0] && !strcmp(d + 1, u->group_names[i]))
				return 2;
		return 0;
	}
	if (!strcmp(d, "*"))
		return u->uid ? 1 : 0;	/* pam_limits: the wildcard does not apply to root */
	return 0;
}

static bool parse_value(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long kib;

	if (!strcmp(v, "unlimited") || !strcmp(v, "infinity") || !strcmp(v, "-1")) {
		*out = UINT64_MAX;
		return true;
	}
	errno = 0;
	kib = strtoull(v, &end, 10);
	if (errno || end == v || *end || kib > UINT64_MAX / 1024)
		return false;
	*out = kib * 1024;
	return true;
}

void host_limits_apply(const char *text, const char *source, const struct host_user *u,
		       struct host_memlock *m)
{
	unsigned int lineno = 0;

	while (*text) {
		char line[512], dom[128], type[16], item[32], val[64];
		size_t n = strcspn(text, "\n");
		uint64_t v;
		int prio;

		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
			 text);
		text += n;
		if (*text == '\n')
			text++;
		line[strcspn(line, "#")] = '\0';
		if (sscanf(line, "%127s %15s %31s %63s", dom, type, item, val) != 4 ||
		    strcmp(item, "memlock") || !parse_value(val, &v))
			continue;
		prio = domain_prio(dom, u);
		if (!prio)
			continue;
		if ((!strcmp(type, "soft") || !strcmp(type, "-")) && prio >= m->prio_soft) {
			m->soft = v;
			m->prio_soft = prio;
		}
		if ((!strcmp(type, "hard") || !strcmp(type, "-")) && prio >= m->prio_hard) {
			m->hard = v;
			m->prio_hard = prio;
			m->found = true;
			snprintf(m->source, sizeof(m->source), "%s:%u", source, lineno);
		}
	}
}

static void apply_file(const char *path, const struct host_user *u, struct host_memlock *m)
{
	FILE *fp = fopen(path, "re");
	char *text;
	size_t n;

	if (!fp)
		return;
	text = calloc(1, 65536);
	if (text) {
		n = fread(text, 1, 65535, fp);
		text[n] = '\0';
		host_limits_apply(text, path, u, m);
		free(text);
	}
	fclose(fp);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int conf_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

void host_user_memlock(const char *etc, const struct host_user *u, struct host_memlock *m)
{
	char path[PATH_MAX];
	struct dirent **list;
	int n;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/security/limits.conf", etc);
	apply_file(path, u, m);
	snprintf(path, sizeof(path), "%s/security/limits.d", etc);
	n = scandir(path, &list, conf_file, by_name);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/security/limits.d/%s", etc, list[i]->d_name);
		apply_file(path, u, m);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}
