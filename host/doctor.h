/* SPDX-License-Identifier: MIT */
#ifndef HOST_DOCTOR_H
#define HOST_DOCTOR_H

#include <stdint.h>
#include <stdio.h>

#include "host/config.h"
#include "host/host.h"
#include "host/user.h"

/*
 * vfio-vmm doctor: is this host ready to assign devices? One line per
 * check, "PASS|WARN|FAIL  topic: finding. Fix: what to do".
 */
struct doctor_opts {
	uint64_t memory;	/* guest RAM a VM would pin */
	uint64_t hugepage_size;	/* 0: the VM would use 4 KiB pages */
	const char *const *devs;	/* none: every device on vfio-pci */
	unsigned int nr_devs;
	const struct host_flavor *flavor;	/* enough free devices for it? */
	const struct host_config *config;
	/* --user: judge device nodes and the memlock limit for this user, not us. */
	const struct host_user *user;
};

struct doctor_result {
	unsigned int pass, warn, fail;
};

void host_doctor(const struct host_env *env, const struct doctor_opts *o, FILE *out,
		 struct doctor_result *res);

#endif
