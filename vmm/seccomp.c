// SPDX-License-Identifier: MIT
/*
 * Per-thread seccomp allow-lists (see seccomp.h). Built with libseccomp,
 * which turns these tables into BPF for the running architecture.
 *
 * Thread creation is allowed where devices start their I/O threads (a vCPU
 * at DRIVER_OK, main at teardown joins them): clone only with CLONE_THREAD,
 * and clone3 answered with ENOSYS so glibc falls back to clone, whose flags
 * a filter can see. ioctl is allowed only for the requests the VMM makes
 * after setup; creating a VM, a vCPU or a container is no longer possible.
 */
#include "vmm/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <linux/vhost.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "util/log.h"

static enum seccomp_mode seccomp_mode = SECCOMP_ON;
static void (*stop_fn)(void *arg);
static void *stop_arg;

int seccomp_parse_mode(const char *s)
{
	if (!strcmp(s, "on"))
		return SECCOMP_ON;
	if (!strcmp(s, "log"))
		return SECCOMP_LOG;
	if (!strcmp(s, "off"))
		return SECCOMP_OFF;
	return -1;
}

/* Every thread: memory, time, futexes, signals, eventfds, plain I/O on fds it has. */
static const int common_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(close), SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(sched_yield), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill), SCMP_SYS(madvise), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(eventfd2),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getrandom),
};

/*
 * A vCPU starts device threads at DRIVER_OK (virtio-blk's I/O thread,
 * virtio-net's control queue). A thread inherits its creator's filter, so
 * io_uring_enter, the one call the I/O thread needs beyond the common list,
 * passes here too; the thread then adds the I/O filter on top (seccomp and
 * prctl(NO_NEW_PRIVS) are allowed for that: a filter can only take away).
 * fsync and fallocate are not on any running thread's list: virtio-blk
 * does them as io_uring operations, which the kernel runs.
 */
static const int vcpu_calls[] = {
	SCMP_SYS(io_uring_enter),
};

static const int io_calls[] = {
	SCMP_SYS(io_uring_enter),
};
/* main: the console's signalfd, /proc/interrupts for --stats, teardown. */
static const int main_calls[] = {
	SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register), SCMP_SYS(openat),
	SCMP_SYS(fcntl), SCMP_SYS(flock), SCMP_SYS(unlink), SCMP_SYS(rt_sigaction),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync),
};

/* Requests made once the guest runs, by any thread (teardown makes most of them too). */
static const unsigned long run_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_SET_USER_MEMORY_REGION, KVM_IRQFD,
	KVM_SET_GSI_ROUTING, KVM_IOEVENTFD, KVM_IRQ_LINE,
	VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
	VFIO_GROUP_UNSET_CONTAINER,
	TCGETS, TCSETS, TCSETSW, TCSETSF, FIONREAD,
	/*
	 * vhost-net and vhost-vsock at DRIVER_OK and reset (a vCPU, or main at
	 * teardown), the tap's offloads, and its queues from virtio-net's
	 * control thread (started by a vCPU, so under its filter). Opening,
	 * SET_OWNER and the CID are setup, before the filters.
	 */
	VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM, VHOST_SET_VRING_ADDR,
	VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE, VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL,
	VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING, TUNSETOFFLOAD, TUNSETQUEUE,
};

/* A data plane's block-device requests. */
static const unsigned long io_ioctls[] = { BLKDISCARD, BLKZEROOUT, BLKFLSBUF };

/* virtio-net's control thread: VQ_PAIRS_SET attaches and detaches tap queues. */
static const unsigned long io_thread_ioctls[] = { TUNSETQUEUE };

static const char *const kind_names[] = {
	[SECCOMP_VCPU] = "vCPU", [SECCOMP_IO] = "I/O", [SECCOMP_MAIN] = "main",
};

static __thread enum seccomp_kind my_kind;

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char buf[160];
	const char *name;
	int n;

	(void)sig;
	(void)uc;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	n = snprintf(buf, sizeof(buf),
		     "vfio-vmm: error: seccomp: the %s thread made a forbidden system call: %s (%d); stopping the VM (--seccomp log lets it through)\n",
		     kind_names[my_kind], name ? name : "?", si->si_syscall);
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
		n = 0;
	if (stop_fn)
		stop_fn(stop_arg);
}

void seccomp_configure(enum seccomp_mode mode, void (*stop)(void *arg), void *arg)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };

	seccomp_mode = mode;
	stop_fn = stop;
	stop_arg = arg;
	sigemptyset(&sa.sa_mask);
	if (mode == SECCOMP_ON)
		sigaction(SIGSYS, &sa, NULL);
}

static int allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);

		/* A call this architecture lacks is fine: nothing can make it. */
		if (ret && ret != -EDOM && ret != -EFAULT)
			return ret;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* The request is an int in the kernel: compare the low 32 bits. */
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req[i]));

		if (ret)
			return ret;
	}
	return 0;
}

int seccomp_install(enum seccomp_kind kind)
{
	scmp_filter_ctx ctx;
	int ret;

	enum seccomp_mode mode = seccomp_mode;

	if (mode == SECCOMP_OFF)
		return 0;
#ifdef __SANITIZE_ADDRESS__
	/* The sanitizers' runtime (LeakSanitizer at exit: a process and ptrace) needs more. */
	mode = SECCOMP_LOG;
#endif
	my_kind = kind;
	ctx = seccomp_init(mode == SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx) {
		log_err("seccomp: cannot create a filter");
		return -ENOMEM;
	}
	ret = allow_all(ctx, common_calls, sizeof(common_calls) / sizeof(common_calls[0]));
	if (!ret && kind == SECCOMP_VCPU)
		ret = allow_all(ctx, vcpu_calls, sizeof(vcpu_calls) / sizeof(vcpu_calls[0]));
	if (!ret && kind == SECCOMP_IO)
		ret = allow_all(ctx, io_calls, sizeof(io_calls) / sizeof(io_calls[0]));
	if (!ret && kind == SECCOMP_MAIN)
		ret = allow_all(ctx, main_calls, sizeof(main_calls) / sizeof(main_calls[0]));
	/* Thread names (pthread_setname_np) only. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				       SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	/* A vCPU's device threads add their own filter (see vcpu_calls). */
	if (!ret && kind == SECCOMP_VCPU)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				       SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
	if (!ret && kind == SECCOMP_VCPU)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1,
				       SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER));
	if (!ret && kind == SECCOMP_IO)
		ret = allow_ioctls(ctx, io_thread_ioctls,
				   sizeof(io_thread_ioctls) / sizeof(io_thread_ioctls[0]));
	if (!ret && kind != SECCOMP_IO)
		ret = allow_ioctls(ctx, run_ioctls, sizeof(run_ioctls) / sizeof(run_ioctls[0]));
	if (!ret)
		ret = allow_ioctls(ctx, io_ioctls, sizeof(io_ioctls) / sizeof(io_ioctls[0]));
	/* Threads only: clone with CLONE_THREAD; clone3 hides its flags, so ENOSYS. */
	if (!ret && kind != SECCOMP_IO)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		log_err("seccomp: installing the %s thread's filter: %s", kind_names[kind],
			strerror(-ret));
	return ret;
}
