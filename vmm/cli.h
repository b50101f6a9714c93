/* SPDX-License-Identifier: MIT */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/net.h"
#include "vmm/seccomp.h"
#include "devices/disk.h"
#include "vmm/vm.h"

#define CLI_DEFAULT_MEMORY	(256ULL << 20)
#define CLI_MAX_CPUS		255
#define CLI_MAX_DEVICES		16
#define CLI_MAX_DISKS		8
#define CLI_DEVICE_ARG_MAX	256
#define CLI_DISK_ARG_MAX	4352	/* PATH_MAX and the other keys */
#define CLI_MAX_NETS		4
#define CLI_NET_ARG_MAX		128

enum cli_action {
	CLI_RUN,
	CLI_HELP,	/* help text printed, exit 0 */
	CLI_VERSION,
};

struct cli_opts {
	enum cli_action action;
	struct vm_config vm;
	unsigned int trace;
	bool stats;
	bool p2p;
	enum seccomp_mode seccomp;	/* SECCOMP_ON unless --seccomp says otherwise */
	int prefault_threads;		/* -1: one per host CPU */
	const char *devices[CLI_MAX_DEVICES];
	unsigned int nr_devices;
	int cliques[CLI_MAX_DEVICES];	/* --device DEV,clique=N (0-15); -1: none */
	int ports[CLI_MAX_DEVICES];	/* --device DEV,port=on|off: 1, 0; -1: on if PCIe */
	char device_args[CLI_MAX_DEVICES][CLI_DEVICE_ARG_MAX];	/* DEV of DEV,clique=N,... */
	struct net_opts nets[CLI_MAX_NETS];	/* --net: strings point into net_args */
	char net_args[CLI_MAX_NETS][CLI_NET_ARG_MAX];
	unsigned int nr_nets;
	uint32_t vsock_cid;	/* --vsock cid=N; 0: no vsock device */
	/* host/: aliases and flavors, resolved by host_resolve_run() */
	const char *config;	/* --config FILE, else /etc/vfio-vmm.conf */
	const char *flavor;	/* --flavor NAME */
	bool cpus_set, memory_set, hugepages_set;	/* a flavor must not override these */
	/*
	 * --disk, checked for form only: the files are opened at VM setup
	 * (vmm/disks.c). path and serial point into disk_args, so a struct
	 * cli_opts is not to be copied.
	 */
	struct disk_opts disks[CLI_MAX_DISKS];
	unsigned int nr_disks;
	char disk_args[CLI_MAX_DISKS][CLI_DISK_ARG_MAX];
};

/*
 * Parses argv. Returns 0 on success; on a bad command line returns -1 with
 * a one-line message in err (naming the problem and the fix).
 */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);

/* "256M", "4G", "1536MiB", "512" (MiB). Returns 0 or -1. */
int cli_parse_size(const char *s, uint64_t *bytes);

void cli_usage(FILE *f);

#endif
