// SPDX-License-Identifier: MIT
/*
 * The seccomp filters, each in a forked child (a filter cannot be taken
 * off again): what a vCPU thread does after setup passes; a forbidden call
 * is caught, named on stderr, and stops the VM with exit status 122 (here
 * the stop callback exits the child with it); log mode lets it through;
 * off installs nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/exit_codes.h"
#include "vmm/seccomp.h"

static void stop_child(void *arg)
{
	(void)arg;
	_exit(VMM_EXIT_SECCOMP);
}

/* Runs fn in a child under kind's filter in mode; returns its exit status, stderr in err. */
static int in_child(enum seccomp_mode mode, enum seccomp_kind kind, void (*fn)(void), char *err,
		    size_t errlen)
{
	int pipefd[2], status;
	pid_t pid;
	ssize_t n;

#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("an ASan build filters in log mode only (LeakSanitizer needs ptrace)");
#endif
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		seccomp_configure(mode, stop_child, NULL);
		if (seccomp_install(kind))
			_exit(99);
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], err, errlen - 1);
	err[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* What a vCPU does once the guest runs: eventfds, reads and writes, an allowed ioctl. */
static void vcpu_work(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t v = 1;
	void *p;

	if (fd < 0 || write(fd, &v, 8) != 8 || read(fd, &v, 8) != 8)
		_exit(10);
	/* KVM_IRQFD is on the list: an eventfd answers ENOTTY, not SIGSYS. */
	if (ioctl(fd, KVM_IRQFD, NULL) != -1 || errno != ENOTTY)
		_exit(11);
	p = malloc(1 << 20);	/* mmap */
	free(p);
	close(fd);
	fprintf(stderr, "vcpu work done\n");
}

/*
 * What a virtio-net or vsock device does at DRIVER_OK and reset (from a
 * vCPU), and its control thread (a vCPU's child): vhost and tap requests.
 * On an eventfd each answers ENOTTY (or EINVAL), not SIGSYS.
 */
static void vhost_work(void)
{
	static const unsigned long req[] = {
		VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM,
		VHOST_SET_VRING_ADDR, VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE,
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_NET_SET_BACKEND,
		VHOST_VSOCK_SET_RUNNING, TUNSETOFFLOAD, TUNSETQUEUE,
	};
	int fd = eventfd(0, EFD_CLOEXEC);

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (ioctl(fd, req[i], NULL) != -1)
			_exit(12);
	close(fd);
	fprintf(stderr, "vhost work done\n");
}

static void vhost_setup_after_filters(void)
{
	/* Taking a device's ownership, or a CID, is setup: not once the guest runs. */
	ioctl(0, VHOST_SET_OWNER, 0);
	_exit(60);
}

static void make_socket(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	_exit(s >= 0 ? 20 : 21);
}

static void open_file(void)
{
	int fd = open("/etc/hostname", O_RDONLY);

	_exit(fd >= 0 ? 30 : 31);
}

static void create_vm_ioctl(void)
{
	/* Any fd: the filter decides on the request number before the kernel sees it. */
	ioctl(0, KVM_CREATE_VM, 0);
	_exit(40);
}

static void sync_file(void)
{
	fsync(2);
	_exit(70);
}

static void fork_process(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	_exit(pid > 0 ? 50 : 51);
}

Test(seccomp, vcpu_work_passes)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, vcpu_work, err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(err, "vcpu work done"), "%s", err);
}

Test(seccomp, vhost_at_driver_ok_and_reset_passes)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, vhost_work, err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(err, "vhost work done"), "%s", err);
	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_MAIN, vhost_work, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, vhost_setup_after_filters, err,
			      sizeof(err)), VMM_EXIT_SECCOMP, "%s", err);
}

Test(seccomp, socket_in_a_vcpu_stops_the_vm_and_is_named)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, make_socket, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
	cr_assert(strstr(err, "the vCPU thread made a forbidden system call: socket"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
}

Test(seccomp, opening_files_is_for_main_only)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, open_file, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
	cr_assert(strstr(err, "openat"), "%s", err);
	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_IO, open_file, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_MAIN, open_file, err, sizeof(err)), 30, "%s",
		     err);
}

Test(seccomp, setup_ioctls_are_gone)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_MAIN, create_vm_ioctl, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
	cr_assert(strstr(err, "ioctl"), "%s", err);
}

/* virtio-blk's flush and write zeroes are io_uring operations: no thread makes the calls. */
Test(seccomp, fsync_is_on_no_running_threads_list)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, sync_file, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
	cr_assert(strstr(err, "fsync"), "%s", err);
	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_IO, sync_file, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
}

Test(seccomp, no_new_processes_only_threads)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_ON, SECCOMP_VCPU, fork_process, err, sizeof(err)),
		     VMM_EXIT_SECCOMP, "%s", err);
	cr_assert(strstr(err, "clone"), "%s", err);
}

Test(seccomp, log_mode_lets_it_through_and_off_installs_nothing)
{
	char err[512];

	cr_assert_eq(in_child(SECCOMP_LOG, SECCOMP_VCPU, make_socket, err, sizeof(err)), 20, "%s",
		     err);
	cr_assert_eq(in_child(SECCOMP_OFF, SECCOMP_VCPU, make_socket, err, sizeof(err)), 20, "%s",
		     err);
	cr_assert_eq(seccomp_parse_mode("on"), SECCOMP_ON);
	cr_assert_eq(seccomp_parse_mode("log"), SECCOMP_LOG);
	cr_assert_eq(seccomp_parse_mode("off"), SECCOMP_OFF);
	cr_assert_eq(seccomp_parse_mode("yes"), -1);
}
