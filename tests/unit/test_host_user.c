// SPDX-License-Identifier: MIT
/*
 * doctor --user's building blocks: the user and its groups from passwd and
 * group files, read-write permission by owner/group/other as the kernel
 * decides it (no ACLs), and the memlock limit pam_limits gives a login.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/user.h"

static char dir[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/host-user-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/security/limits.d", dir);
	cr_assert_eq(system(cmd), 0);
	put("passwd", "root:x:0:0:root:/root:/bin/sh\n"
		      "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
		      "bob:x:1001:100::/home/bob:/bin/sh\n");
	put("group", "root:x:0:\nkvm:x:78:bob,alice\nusers:x:100:\nalice:x:1000:\n"
		     "gpu:x:300:carol,alice\naudio:x:29:bobby\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(host_user, .init = setup, .fini = teardown);

static bool in(const struct host_user *u, gid_t g)
{
	for (unsigned int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return true;
	return false;
}

Test(host_user, lookup_finds_the_user_and_its_groups)
{
	struct host_user u;

	cr_assert_eq(host_user_lookup(dir, "alice", &u), 0);
	cr_assert_eq(u.uid, 1000);
	cr_assert_eq(u.gid, 1000);
	cr_assert(in(&u, 1000) && in(&u, 78) && in(&u, 300), "%u groups", u.ngroups);
	cr_assert_not(in(&u, 29), "bobby is not bob, nor alice");
	cr_assert_not(in(&u, 100));
	cr_assert_eq(host_user_lookup(dir, "bob", &u), 0);
	cr_assert(in(&u, 100) && in(&u, 78), "primary group from passwd, kvm from its list");
	cr_assert_not(in(&u, 29), "a member named bobby is not bob");
	cr_assert_eq(host_user_lookup(dir, "nobody", &u), -ENOENT);
	cr_assert_eq(host_user_lookup("/nonexistent-etc", "alice", &u), -ENOENT);
}

static struct stat node(uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st = { .st_uid = uid, .st_gid = gid, .st_mode = S_IFCHR | mode };

	return st;
}

Test(host_user, read_write_by_owner_group_and_other)
{
	struct host_user u;
	struct stat st;

	cr_assert_eq(host_user_lookup(dir, "alice", &u), 0);
	st = node(0, 0, 0600);
	cr_assert_not(host_user_can_rw(&u, &st), "root's 0600 node");
	st = node(1000, 0, 0600);
	cr_assert(host_user_can_rw(&u, &st), "her own node");
	st = node(1000, 78, 0466);
	cr_assert_not(host_user_can_rw(&u, &st), "owner bits decide for the owner: r only");
	st = node(0, 78, 0660);
	cr_assert(host_user_can_rw(&u, &st), "kvm lists her");
	st = node(0, 78, 0640);
	cr_assert_not(host_user_can_rw(&u, &st), "group may only read");
	st = node(0, 29, 0606);
	cr_assert(host_user_can_rw(&u, &st), "other bits for a group she is not in");
	st = node(0, 78, 0606);
	cr_assert_not(host_user_can_rw(&u, &st), "group bits decide for a member, not other");
	cr_assert_eq(host_user_lookup(dir, "root", &u), 0);
	st = node(1000, 1000, 0600);
	cr_assert(host_user_can_rw(&u, &st), "root opens anything");
}

Test(host_user, limits_user_beats_group_beats_wildcard)
{
	struct host_user u;
	struct host_memlock m = { 0 };

	cr_assert_eq(host_user_lookup(dir, "alice", &u), 0);
	host_limits_apply("*      hard memlock 1024\n"
			  "@kvm   hard memlock 2048   # a group she is in\n"
			  "@audio hard memlock 999999 # one she is not in\n"
			  "alice  hard memlock 4096\n"
			  "*      hard memlock 8192\n"
			  "@gpu   soft memlock 512\n",
			  "limits.conf", &u, &m);
	cr_assert(m.found);
	cr_assert_eq(m.hard, 4096ull * 1024, "the user's own line wins over later, wider ones");
	cr_assert_str_eq(m.source, "limits.conf:4");
	cr_assert_eq(m.soft, 512ull * 1024);
	/* A later line for the user wins; "-" sets both; unlimited. */
	host_limits_apply("alice - memlock unlimited\n", "limits.d/x.conf", &u, &m);
	cr_assert_eq(m.hard, UINT64_MAX);
	cr_assert_eq(m.soft, UINT64_MAX);
	cr_assert_str_eq(m.source, "limits.d/x.conf:1");
}

Test(host_user, limits_ignore_other_items_bad_values_and_comments)
{
	struct host_user u;
	struct host_memlock m = { 0 };

	cr_assert_eq(host_user_lookup(dir, "alice", &u), 0);
	host_limits_apply("# alice hard memlock 64\n"
			  "alice hard nofile 65536\n"
			  "alice hard memlock lots\n"
			  "bob hard memlock 64\n"
			  "alice hard\n",
			  "limits.conf", &u, &m);
	cr_assert_not(m.found);
}

Test(host_user, root_is_not_a_wildcard_match)
{
	struct host_user u;
	struct host_memlock m = { 0 };

	cr_assert_eq(host_user_lookup(dir, "root", &u), 0);
	host_limits_apply("* hard memlock 64\n", "limits.conf", &u, &m);
	cr_assert_not(m.found, "pam_limits: '*' does not apply to root");
}

Test(host_user, files_in_order_limits_d_last)
{
	struct host_user u;
	struct host_memlock m;

	cr_assert_eq(host_user_lookup(dir, "alice", &u), 0);
	put("security/limits.conf", "alice hard memlock 1024\n");
	put("security/limits.d/20-b.conf", "alice hard memlock 3072\n");
	put("security/limits.d/10-a.conf", "alice hard memlock 2048\n");
	put("security/limits.d/30-c.conf.off", "alice hard memlock 9\n");
	host_user_memlock(dir, &u, &m);
	cr_assert(m.found);
	cr_assert_eq(m.hard, 3072ull * 1024, "limits.d after limits.conf, by name; .off ignored");
	cr_assert(strstr(m.source, "limits.d/20-b.conf:1"), "%s", m.source);
}
