/* SPDX-License-Identifier: MIT */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

/*
 * System call filters, installed once every device is open: a guest that
 * finds a bug in our device emulation gets a process that can no longer
 * open files, create sockets, exec, ptrace or change its credentials.
 * Each kind of thread has its own allow-list (filters are per thread):
 *   vCPU  KVM_RUN and the exits' work: config and BAR emulation (VFIO region
 *         I/O, SET_IRQS, reset, memslots, routes, irqfds, ioeventfds), and
 *         starting a virtio device's I/O thread at DRIVER_OK;
 *   I/O   a device's data plane (io_uring_enter, eventfds, block and tap
 *         queue ioctls); a vCPU starts these threads, so they run under
 *         the vCPU filter and add this one (virtio_dev.thread_init);
 *   main  the console, signals and the whole teardown.
 * A forbidden call stops the VM with VMM_EXIT_SECCOMP after one line naming
 * the call and the thread; --seccomp log lets it through and leaves a line
 * in the kernel's audit log instead; --seccomp off installs nothing.
 */
#include <stdbool.h>

enum seccomp_mode { SECCOMP_ON, SECCOMP_LOG, SECCOMP_OFF };
enum seccomp_kind { SECCOMP_VCPU, SECCOMP_IO, SECCOMP_MAIN };

/* "on", "log", "off" -> mode; -1 for anything else. */
int seccomp_parse_mode(const char *s);
/*
 * The process-wide settings, before any thread installs its filter: the
 * mode, and what a violation calls (from the signal handler) to stop the VM.
 */
void seccomp_configure(enum seccomp_mode mode, void (*stop)(void *arg), void *arg);
/* Installs the calling thread's filter for its kind; 0 or -errno (logged). */
int seccomp_install(enum seccomp_kind kind);

#endif
