/* SPDX-License-Identifier: MIT */
#ifndef TEST_HOST_FAKE_H
#define TEST_HOST_FAKE_H

#include <stdio.h>

#include "host/host.h"

/*
 * A fake host for host/ tests, in a temp dir: sys/ shaped like sysfs (real
 * symlinks for driver, iommu_group, group members), dev/, proc/, run/.
 * The env's on_write hook plays the kernel: drivers_probe binds the device
 * to its driver_override (or its native driver), unbind removes the driver
 * link, drivers/X/bind binds to X unless an override says otherwise.
 * vfio-pci only binds while the fake vfio_pci module is "loaded".
 */
struct host_env *fake_host(void);	/* fresh tree for each test */
void fake_host_cleanup(void);
const char *fake_root(void);

/* driver NULL: unbound. native: what drivers_probe picks without an override. */
void fake_pci(const char *bdf, unsigned int vendor, unsigned int device, unsigned int cls,
	      int group, const char *driver, const char *native);
void fake_resource(const char *bdf, const char *text);
/* vf (made with fake_pci) becomes VF number index of pf, which offers total. */
void fake_vf(const char *pf, const char *vf, int index, int total);
void fake_module(const char *name);
void fake_file(const char *rel, const char *text);	/* rel to the root: "proc/interrupts" */
void fake_proc_fd(int pid, const char *comm, const char *target);

/* The device's driver now ("" when unbound), and its driver_override. */
const char *fake_driver(const char *bdf);
const char *fake_override(const char *bdf);

/* Everything a stream wrote, for matching (memstream helper). */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};
FILE *capture_start(struct capture *c);
const char *capture_end(struct capture *c);

#endif
