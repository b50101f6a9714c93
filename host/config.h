/* SPDX-License-Identifier: MIT */
#ifndef HOST_CONFIG_H
#define HOST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * /etc/vfio-vmm.conf (or --config FILE), an INI file read with inih:
 *
 *   [alias h100]               a name for a kind of device
 *   vendor = 0x10de
 *   device = 0x2330            optional: any device of the vendor
 *   class = 0x0302             optional: base class (0x03), +subclass, +prog-if
 *   description = NVIDIA H100 80GB
 *
 *   [alias mig3g]              or: instances of a mediated device type
 *   mdev_type = mgpu-h100-3g   (the name in /sys/class/mdev_bus/.../mdev_supported_types)
 *
 *   [flavor gpu.2x]            what a VM of this size gets
 *   cpus = 16
 *   memory = 128G
 *   hugepages = 1G             2M, 1G or none
 *   devices = h100:2, nic:1    alias:count, comma separated
 *
 * docs/quickstart.md is the reference for the format.
 */
#define HOST_CONFIG_PATH	"/etc/vfio-vmm.conf"
#define HOST_NAME_LEN		32
#define HOST_MAX_ALIASES	32
#define HOST_MAX_FLAVORS	32
#define HOST_MAX_FLAVOR_DEVS	8

struct host_alias {
	char name[HOST_NAME_LEN];
	bool has_vendor, has_device;
	unsigned int vendor, device;
	unsigned int cls, cls_bits;	/* cls_bits 0: any class; 8, 16 or 24 */
	char description[64];
	char mdev_type[64];		/* "": a PCI function alias */
};

struct host_flavor_dev {
	char alias[HOST_NAME_LEN];
	unsigned int count;
};

struct host_flavor {
	char name[HOST_NAME_LEN];
	unsigned int cpus;		/* 0: not set */
	uint64_t memory;		/* 0: not set */
	uint64_t hugepage_size;		/* 0: not set; UINT64_MAX: "none" */
	struct host_flavor_dev devs[HOST_MAX_FLAVOR_DEVS];
	unsigned int nr_devs;
};

struct host_config {
	struct host_alias aliases[HOST_MAX_ALIASES];
	unsigned int nr_aliases;
	struct host_flavor flavors[HOST_MAX_FLAVORS];
	unsigned int nr_flavors;
};

/*
 * Loads path (the system file when NULL). A missing system file is an
 * empty config; a missing --config file is an error. Returns 0 or -errno
 * with "FILE:LINE: what is wrong" in err.
 */
int host_config_load(const char *path, struct host_config *c, char *err, size_t len);
int host_config_parse(const char *text, const char *name, struct host_config *c, char *err,
		      size_t len);

const struct host_alias *host_config_alias(const struct host_config *c, const char *name);
const struct host_flavor *host_config_flavor(const struct host_config *c, const char *name);
bool host_alias_matches(const struct host_alias *a, unsigned int vendor, unsigned int device,
			unsigned int cls);
/* "10de:2330", "10de:*", "class 0x0108" for messages. */
void host_alias_describe(const struct host_alias *a, char *out, size_t len);

#endif
