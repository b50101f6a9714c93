/* SPDX-License-Identifier: MIT */
#ifndef VMM_EXIT_CODES_H
#define VMM_EXIT_CODES_H

/*
 * The VMM's exit status (documented in docs/vfio-vmm.md):
 *   0        the guest powered off or reset
 *   N        the guest wrote N to the test exit port (0xf4): N & 0xff
 *   1        setup failed (KVM, devices, loading the kernel)
 *   2        bad command line (one line says what and how to fix it), also
 *            when a --net or --vsock backend cannot be had as asked (no
 *            vhost module, a CID in use, a tap in use or not a tap)
 *   120      the guest crashed: triple fault
 *   121      KVM error: internal error, failed entry, unexpected exit
 *   122      a thread made a system call its seccomp filter forbids
 * The test port lets a guest report any 0..255; tests use 0 and 1.
 */
#define VMM_EXIT_OK		0
#define VMM_EXIT_SETUP		1
#define VMM_EXIT_USAGE		2
#define VMM_EXIT_GUEST_CRASH	120
#define VMM_EXIT_KVM_ERROR	121
#define VMM_EXIT_SECCOMP	122

#endif
