/* SPDX-License-Identifier: MIT */
#ifndef VMM_BENCH_QEMU_H
#define VMM_BENCH_QEMU_H

/*
 * The QEMU column of `vfio-vmm bench overhead --qemu PATH`: QEMU's command
 * line for the same guest `vfio-vmm run` boots from the same options (the
 * parsed struct cli_opts, so the defaults are ours too).
 */
#include <stddef.h>

#include "vmm/cli.h"

#define QEMU_MAX_ARGS	96
#define QEMU_ARGS_BUF	(16 * 1024)

struct qemu_cmd {
	char *argv[QEMU_MAX_ARGS + 1];	/* NULL-terminated; strings in buf or c */
	unsigned int argc;
	char buf[QEMU_ARGS_BUF];
	size_t used;
};

/*
 * q35 under KVM with the host's CPU, c's vCPUs and RAM (hugetlb memfd for
 * --hugepages), the kernel, initrd and command line loaded directly, every
 * --disk as virtio-blk-pci (readonly=on, direct=on as cache=none, serial,
 * queues), every --net as a tap with vhost-net and the same MAC, bdf as
 * vfio-pci, vhost-vsock-pci with guest-cid cid, the console on stdout.
 * 0, or -1 with one line in err.
 */
int qemu_build_argv(struct qemu_cmd *q, const char *qemu, const struct cli_opts *c,
		    const char *bdf, unsigned int cid, char *err, size_t errlen);

/*
 * The QEMU binary: a path with a '/' as it is, else looked up in $PATH.
 * 0 with the path in out, or -1 with one line in err naming the fix.
 */
int qemu_find(const char *qemu, char *out, size_t len, char *err, size_t errlen);

#endif
