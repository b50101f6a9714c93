/* SPDX-License-Identifier: MIT */
#ifndef HOST_USER_H
#define HOST_USER_H

/*
 * "doctor --user NAME": what an ordinary user needs to run vfio-vmm, seen
 * from root. The user and its groups come from <etc>/passwd and
 * <etc>/group (read directly: a static binary has no NSS), its memlock
 * limit from pam_limits' files, <etc>/security/limits.conf and
 * the .conf files in limits.d, as a login would get it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define HOST_USER_MAX_GROUPS	32
#define HOST_USER_NAME_LEN	64

struct host_user {
	char name[HOST_USER_NAME_LEN];
	uid_t uid;
	gid_t gid;		/* primary group */
	unsigned int ngroups;	/* the primary group and every group listing the user */
	gid_t groups[HOST_USER_MAX_GROUPS];
	char group_names[HOST_USER_MAX_GROUPS][HOST_USER_NAME_LEN];
};

/* 0, or -ENOENT when <etc>/passwd has no such user (-errno when unreadable). */
int host_user_lookup(const char *etc, const char *name, struct host_user *u);

/* Whether the user may open a file with this owner, group and mode read-write. */
bool host_user_can_rw(const struct host_user *u, const struct stat *st);

/* The memlock limit a login of the user gets, in bytes (UINT64_MAX: unlimited). */
struct host_memlock {
	bool found;		/* a hard (or "-") line applies; otherwise the default */
	uint64_t soft, hard;
	char source[128];	/* "file:line" of the line that set the hard limit */
	int prio_soft, prio_hard;	/* internal: how specific the line that set each was */
};

/*
 * Applies one limits file's text (source names it in messages) to *m, as
 * pam_limits does: a line for the user beats one for @group beats "*";
 * among equals the later line wins; "-" sets both; values in KiB,
 * "unlimited" or "infinity" or -1 for no limit. Start from a zeroed *m.
 */
void host_limits_apply(const char *text, const char *source, const struct host_user *u,
		       struct host_memlock *m);
/* limits.conf, then the .conf files in limits.d in name order. */
void host_user_memlock(const char *etc, const struct host_user *u, struct host_memlock *m);

#endif
