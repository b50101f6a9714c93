// SPDX-License-Identifier: MIT
/*
 * virtio-blk's I/O thread under the filters it really runs under: started
 * by a vCPU thread (so it inherits the vCPU filter) and adding the I/O
 * filter itself through the device's thread_init hook, as vmm/ sets it.
 * Writes, a flush, write zeroes and reads go through, although neither
 * list carries fsync or fallocate (io_uring does them); a forbidden call
 * in the I/O thread is named as the I/O thread's and stops the VM. Each
 * case runs in a forked child: a filter cannot be taken off again.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blk_harness.h"
#include "vmm/exit_codes.h"
#include "vmm/seccomp.h"

TestSuite(blk_seccomp, .init = blk_setup, .fini = blk_teardown);

static void stop_child(void *arg)
{
	(void)arg;
	_exit(VMM_EXIT_SECCOMP);
}

static int io_filter(void)
{
	return seccomp_install(SECCOMP_IO);
}

static int io_filter_then_open(void)
{
	int ret = seccomp_install(SECCOMP_IO);

	if (!ret && open("/etc/hostname", O_RDONLY) >= 0)
		_exit(30);	/* let through: the test fails on this status */
	return ret;
}

static void count_reset(struct virtio_dev *v)
{
	(void)v;
}

/*
 * In the child: the device opened and its queues set up (setup, before the
 * filters), then this thread becomes a vCPU, and DRIVER_OK starts the I/O
 * thread from it. Exit 0 when every request completed OK.
 */
static void child(int (*init)(void))
{
	struct disk_opts o = { .path = img };
	char err[256];
	struct req w, f, z, r;

	if (virtio_blk_create(&o, 1, &vdev, err, sizeof(err)))
		_exit(90);
	vdev->needs_reset = count_reset;
	vdev->thread_init = init;
	vdrv_init(&drv, vdev);
	vdrv_setup_queues(&drv, 1, 64, F_BASE | F(VIRTIO_BLK_F_WRITE_ZEROES));
	seccomp_configure(SECCOMP_ON, stop_child, NULL);
	if (seccomp_install(SECCOMP_VCPU))
		_exit(91);
	if (vdev->ops->activate(vdev))
		_exit(92);
	w = post_write(0, 10, 4096, 0x33);
	f = post(0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false);
	z = post_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 20, 8, 0);
	complete(0);
	r = post_read(0, 10, 4096);
	complete(0);
	if (status_of(&w) || status_of(&f) || status_of(&z) || status_of(&r))
		_exit(93);
	if (!all(vdrv_host(&drv, r.data), 4096, 0x33))
		_exit(94);
	vdev->ops->reset(vdev);	/* a vCPU resets the device: the thread is joined */
	fprintf(stderr, "io done\n");
	_exit(0);
}

static int run_child(int (*init)(void), char *out, size_t outlen)
{
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("an ASan build filters in log mode only (LeakSanitizer needs ptrace)");
#endif
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		child(init);
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, outlen - 1);
	out[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child killed by signal %d: %s", WTERMSIG(status), out);
	return WEXITSTATUS(status);
}

Test(blk_seccomp, io_thread_serves_under_the_vcpu_and_io_filters)
{
	char out[512];

	cr_assert_eq(run_child(io_filter, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "io done"), "%s", out);
	cr_assert_null(strstr(out, "forbidden"), "%s", out);
	/* What the guest wrote is in the image, what it zeroed is zero. */
	{
		uint8_t buf[4096];

		read_image(10 * 512, buf, sizeof(buf));
		cr_assert(all(buf, sizeof(buf), 0x33));
		read_image(20 * 512, buf, sizeof(buf));
		cr_assert(all(buf, sizeof(buf), 0));
	}
}

Test(blk_seccomp, forbidden_call_in_the_io_thread_is_named_and_stops_the_vm)
{
	char out[512];

	cr_assert_eq(run_child(io_filter_then_open, out, sizeof(out)), VMM_EXIT_SECCOMP, "%s", out);
	cr_assert(strstr(out, "the I/O thread made a forbidden system call: openat"), "%s", out);
}
