// SPDX-License-Identifier: MIT
/*
 * One lock file per assigned PCI function, <run_dir>/<bdf>.lock, flock()ed
 * exclusively for the VM's lifetime. The kernel drops a flock when its
 * holder dies, so a crashed VMM never leaves a device "taken". Two opens
 * of the same file conflict even inside one process, which is what lets
 * alias selection skip devices another vfio-vmm holds. The file holds
 * the holder's pid, for messages only.
 */
#include "host/select.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/bind.h"

#define MAX_HELD 64

static struct {
	char bdf[HOST_BDF_LEN];
	int fd;
} held[MAX_HELD];
static unsigned int nr_held;

static int lock_path(const struct host_env *env, const char *bdf, char *out, size_t len)
{
	return host_path(out, len, "%s/%s.lock", env->run_dir, bdf);
}

static pid_t read_pid(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 1;	/* held, pid not yet written: still held */
	buf[n] = '\0';
	return atoi(buf) > 0 ? (pid_t)atoi(buf) : 1;
}

pid_t host_lock_holder(const struct host_env *env, const char *bdf)
{
	char path[PATH_MAX];
	pid_t pid = 0;
	int fd;

	for (unsigned int i = 0; i < nr_held; i++)
		if (!strcmp(held[i].bdf, bdf))
			return getpid();
	if (lock_path(env, bdf, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB))
		pid = errno == EWOULDBLOCK ? read_pid(fd) : 0;
	close(fd);
	return pid;
}

int host_lock_device(const struct host_env *env, const char *bdf, pid_t *holder)
{
	char path[PATH_MAX], line[24];
	int fd, ret;

	*holder = 0;
	for (unsigned int i = 0; i < nr_held; i++)
		if (!strcmp(held[i].bdf, bdf))
			return 0;
	if (nr_held == MAX_HELD)
		return -ENOSPC;
	if (mkdir(env->run_dir, 0755) && errno != EEXIST)
		return -errno;
	ret = lock_path(env, bdf, path, sizeof(path));
	if (ret)
		return ret;
	/*
	 * Owner-only: flock needs no write access, so a lock file others could
	 * open would let any local user hold a device "in use" against us.
	 * fchmod also tightens a file an older vfio-vmm made 0644.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		if (ret == -EWOULDBLOCK) {
			*holder = read_pid(fd);
			ret = -EBUSY;
		}
		close(fd);
		return ret;
	}
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, line, strlen(line), 0) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	snprintf(held[nr_held].bdf, sizeof(held[0].bdf), "%s", bdf);
	held[nr_held++].fd = fd;
	return 0;
}

void host_unlock_device(const char *bdf)
{
	for (unsigned int i = 0; i < nr_held; i++) {
		if (strcmp(held[i].bdf, bdf))
			continue;
		/* The file stays: removing it would race with a new locker. */
		close(held[i].fd);
		held[i] = held[--nr_held];
		return;
	}
}

void host_unlock_all(void)
{
	while (nr_held)
		close(held[--nr_held].fd);
}
