// SPDX-License-Identifier: MIT
/*
 * vfio-vmm: parse the command line, build the VM, its devices and boot
 * state, run the vCPUs, and turn how the guest ended into an exit status.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "devices/power.h"
#include "devices/serial.h"
#include "devices/virtio/virtio_pci.h"
#include "host/commands.h"
#include "host/select.h"
#include "vmm/prefault.h"
#include "vmm/seccomp.h"
#include "vmm/assign.h"
#include "vmm/bench_overhead.h"
#include "vmm/boot.h"
#include "vmm/cli.h"
#include "vmm/exec.h"
#include "vmm/exit_codes.h"
#include "vmm/pci_host_vm.h"
#include "vmm/virtio_devices.h"
#include "util/log.h"
#include "vmm/vm.h"

struct machine {
	struct vm vm;
	struct serial com1;
	struct power power;
	struct assignment assigned;
	struct virtio_devices virtio;
	int sig_fd;
	bool tty_raw;
	struct termios saved_tty;
};

static void com1_set_irq(void *opaque, int level)
{
	struct vm *vm = opaque;

	vm_set_irq_line(vm, SERIAL_COM1_IRQ, level);
}

static void power_stop(void *opaque, int exit_code, const char *why)
{
	struct vm *vm = opaque;

	trace(LOG_EXIT, "guest ends the VM: %s, exit status %d", why, exit_code);
	vm_request_stop(vm, exit_code);
}

static void tty_raw(struct machine *m)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &m->saved_tty))
		return;
	t = m->saved_tty;
	/* Keys go to the guest as typed; Ctrl-C still stops the VMM. */
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_iflag &= ~(ICRNL | IXON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &t))
		m->tty_raw = true;
}

static void tty_restore(struct machine *m)
{
	if (m->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &m->saved_tty);
}

/* Console input and SIGINT/SIGTERM, on one thread: poll stdin + signalfd. */
static void *console_thread(void *arg)
{
	struct machine *m = arg;
	struct pollfd pfd[2] = {
		{ .fd = m->sig_fd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	int nfds = 2;

	if (seccomp_install(SECCOMP_MAIN))
		vm_request_stop(&m->vm, VMM_EXIT_SETUP);
	while (!vm_stopping(&m->vm)) {
		if (poll(pfd, nfds, 200) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(m->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				log_info("signal %u: stopping the guest", si.ssi_signo);
				vm_request_stop(&m->vm, 128 + (int)si.ssi_signo);
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t buf[64];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n <= 0) {
				nfds = 1;	/* stdin closed: keep watching signals */
				continue;
			}
			/* The FIFO may be full: retry the rest until the guest drains it. */
			for (ssize_t done = 0; done < n && !vm_stopping(&m->vm);) {
				done += serial_receive(&m->com1, buf + done, (unsigned int)(n - done));
				if (done < n)
					usleep(1000);
			}
		}
	}
	return NULL;
}

static void print_range_stats(const struct bus_range *r, void *arg)
{
	if (r->accesses)
		fprintf(stderr, "  %-5s %-14s 0x%09llx +0x%-8llx %10llu exits\n", (const char *)arg,
			r->name, (unsigned long long)r->base, (unsigned long long)r->size,
			(unsigned long long)r->accesses);
}

static void print_stats(struct machine *m)
{
	struct vm *vm = &m->vm;

	fprintf(stderr, "vfio-vmm stats:\n");
	for (unsigned int i = 0; i < vm->nr_cpus; i++)
		fprintf(stderr, "  vCPU %u: %llu exits\n", i,
			(unsigned long long)vm->vcpus[i].exits);
	bus_for_each(&vm->pio, print_range_stats, "pio");
	bus_for_each(&vm->mmio, print_range_stats, "mmio");
	assign_print_stats(&m->assigned, stderr);
	virtio_devices_print_stats(&m->virtio, stderr);
}

static int setup_devices(struct machine *m)
{
	int ret;

	serial_init(&m->com1, STDOUT_FILENO, com1_set_irq, &m->vm);
	ret = serial_register(&m->com1, &m->vm.pio, SERIAL_COM1_PORT);
	if (!ret)
		ret = power_register(&m->power, &m->vm.pio, power_stop, &m->vm);
	if (ret)
		log_err("registering the platform devices: %s", strerror(-ret));
	return ret;
}

/* A forbidden system call (from the SIGSYS handler): the VM ends with its own status. */
static void seccomp_stop(void *arg)
{
	vm_request_stop(arg, VMM_EXIT_SECCOMP);
}

static int run(const struct cli_opts *o)
{
	struct machine *m;
	struct boot_entry entry;
	pthread_t console;
	sigset_t sigs;
	char err[512];
	int ret;

	/* The user's own mistakes first, then the host's (KVM, VFIO). */
	if (boot_check_files(&o->vm) || vm_check_hugepages(o->vm.ram_size, o->vm.hugepage_size))
		return VMM_EXIT_SETUP;
	m = calloc(1, sizeof(*m));
	if (!m)
		return VMM_EXIT_SETUP;
	/* --disk, --net and --vsock backends: what they name is the user's to fix (exit 2). */
	if (virtio_devices_open(o, &m->virtio, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm: %s\n", err);
		free(m);
		return VMM_EXIT_USAGE;
	}
	if (vm_create(&m->vm, &o->vm)) {
		virtio_devices_release(&m->virtio);
		free(m);
		return VMM_EXIT_SETUP;
	}
	ret = setup_devices(m);
	if (!ret)
		ret = assign_devices(&m->vm, o->devices, o->cliques, o->ports, o->nr_devices,
				     &m->assigned);
	if (!ret)
		ret = virtio_devices_attach(&m->vm, &m->virtio);
	if (!ret)
		ret = vm_place_pci_bars(&m->vm);
	/*
	 * Until here a signal simply ends the process (the kernel drops our
	 * VFIO fds). From now on the stop signals are blocked: DMA mapping
	 * (minutes for a 256 GiB BAR with --p2p on Linux 6.1) asks between
	 * MAP_DMA calls whether one is pending and stops in order; once the
	 * guest runs, the console thread reads them from the signalfd and the
	 * guest is stopped and torn down in order.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);	/* the terminal went away: stop as cleanly as on ^C */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (!ret)
		ret = assign_map_dma(&m->vm, o->p2p, o->prefault_threads < 0 ?
				     prefault_default_threads() : (unsigned int)o->prefault_threads,
				     &m->assigned);
	if (!ret)
		ret = boot_load(&m->vm, &o->vm, &entry);
	if (!ret)
		ret = vcpu_setup_boot(&m->vm.vcpus[0], &entry);
	if (ret) {
		/* A stop signal during setup: torn down in order, then its usual status. */
		int sig = vm_pending_stop_signal();

		assign_release(&m->assigned);
		virtio_devices_release(&m->virtio);
		vm_destroy(&m->vm);
		free(m);
		log_ratelimit_flush();
		if (sig)
			log_info("signal %d during setup: devices released, stopping", sig);
		return sig ? 128 + sig : VMM_EXIT_SETUP;
	}
	m->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	tty_raw(m);
	/*
	 * Every device is open: from here each thread runs under its seccomp
	 * filter. vCPUs install theirs before the first KVM_RUN, the console
	 * thread before it reads input, this thread once both are started.
	 */
	seccomp_configure(o->seccomp, seccomp_stop, &m->vm);
	vm_start(&m->vm);
	pthread_create(&console, NULL, console_thread, m);
	if (seccomp_install(SECCOMP_MAIN))
		vm_request_stop(&m->vm, VMM_EXIT_SETUP);
	ret = vm_join(&m->vm);
	vm_request_stop(&m->vm, ret);
	pthread_join(console, NULL);
	tty_restore(m);
	if (o->stats)
		print_stats(m);
	assign_release(&m->assigned);
	virtio_devices_release(&m->virtio);
	vm_destroy(&m->vm);
	close(m->sig_fd);
	free(m);
	log_ratelimit_flush();	/* what the rate limit dropped since its last report */
	return ret;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	char err[512];
	int host_rc = host_main(argc, argv);	/* doctor, devices, bind, unbind */

	if (host_rc >= 0)
		return host_rc;
	host_rc = exec_main(argc, argv);	/* a command in a guest, through its agent */
	if (host_rc >= 0)
		return host_rc;
	host_rc = bench_main(argc, argv);	/* bench overhead: host against guest */
	if (host_rc >= 0)
		return host_rc;
	if (cli_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	switch (o.action) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("vfio-vmm %s\n", VFIO_VMM_VERSION);
		return 0;
	case CLI_RUN:
		break;
	}
	log_enabled = o.trace;
	/* Aliases and flavors become locked PCI addresses before any VM exists. */
	/* clique= on a device that is not an NVIDIA GPU: the command line's mistake. */
	if (host_check_cliques(&o, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	if (host_resolve_run(&o, err, sizeof(err)) ||
	    host_lock_devices(o.devices, o.nr_devices, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm: %s\n", err);
		return VMM_EXIT_SETUP;
	}
	return run(&o);
}
