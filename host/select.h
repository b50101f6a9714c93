/* SPDX-License-Identifier: MIT */
#ifndef HOST_SELECT_H
#define HOST_SELECT_H

#include <stddef.h>
#include <sys/types.h>

#include "host/config.h"
#include "host/host.h"
#include "vmm/cli.h"

/*
 * From "run --flavor NAME" and "--device alias:NAME:COUNT" to concrete PCI
 * addresses, before the VM is created. A device is free when it is bound
 * to vfio-pci, its group is viable, and no other vfio-vmm holds its lock.
 * Picked devices stay locked for the life of the process.
 */

/*
 * Loads the config (o->config or the system file), applies o->flavor's
 * cpus/memory/hugepages where the command line did not set them, and
 * replaces every alias entry in o->devices with picked addresses (locked).
 * Returns 0, or -1 with one line in err.
 */
int host_resolve_run(struct cli_opts *o, char *err, size_t errlen);
int host_resolve_run_env(const struct host_env *env, const struct host_config *c,
			 struct cli_opts *o, char *err, size_t errlen);

/*
 * --device DEV,clique=N is for NVIDIA GPUs: a PCI address whose sysfs vendor
 * is not 10de or class not 03 (display) is refused with one line, -1. Run it
 * before anything is locked: aliases carry no clique, the explicit devices
 * are all it needs.
 */
int host_check_cliques(const struct cli_opts *o, char *err, size_t errlen);
int host_check_cliques_env(const struct host_env *env, const struct cli_opts *o, char *err,
			   size_t errlen);
/* Locks every device of the run (PCI addresses; others are skipped). */
int host_lock_devices(const char *const *devs, unsigned int n, char *err, size_t errlen);
int host_lock_devices_env(const struct host_env *env, const char *const *devs, unsigned int n,
			  char *err, size_t errlen);

/* Picks count free devices matching the alias into out (canonical BDFs). */
int host_pick_devices(const struct host_env *env, const struct host_alias *a, unsigned int count,
		      const char *const *taken, unsigned int nr_taken,
		      char (*out)[HOST_BDF_LEN], char *err, size_t errlen);

/* lock.c: 0 (now held by us), -EBUSY with *holder, or -errno. */
int host_lock_device(const struct host_env *env, const char *bdf, pid_t *holder);
void host_unlock_device(const char *bdf);
void host_unlock_all(void);

#endif
