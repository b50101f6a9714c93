/* SPDX-License-Identifier: MIT */
#ifndef HOST_HOST_H
#define HOST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * host/: preparing a host for passthrough. These commands read and change
 * sysfs (and /run/vfio-vmm), never KVM. Every path they touch hangs off a
 * struct host_env so the unit tests can run them on a fake tree without
 * root; on_write lets a test play the kernel's part when a sysfs file is
 * written (drivers_probe binds, unbind unlinks).
 */
struct host_env {
	const char *sysfs;	/* "/sys" */
	const char *dev;	/* "/dev" */
	const char *proc;	/* "/proc" */
	const char *run_dir;	/* "/run/vfio-vmm": bind state and device locks */
	const char *etc;	/* "/etc": passwd, group, security/limits.conf (NULL: "/etc") */
	int (*on_write)(const char *path, const char *value, void *arg);
	void *arg;
};

void host_env_default(struct host_env *env);

/* A PCI address, or a mediated device's UUID (36 characters) that an mdev_type alias picked. */
#define HOST_BDF_LEN	40
#define HOST_NR_RES	7	/* BAR0..5 and the expansion ROM */

/* Linux IORESOURCE_* bits as they appear in a sysfs resource file. */
#define HOST_RES_IO	0x100UL
#define HOST_RES_MEM	0x200UL
#define HOST_RES_PREFETCH 0x2000UL
#define HOST_RES_MEM64	0x100000UL

struct host_res {
	uint64_t size;		/* 0: not implemented */
	unsigned long flags;
};

/* One PCI function as sysfs describes it. */
struct host_pci_dev {
	char bdf[HOST_BDF_LEN];
	unsigned int vendor, device;
	unsigned int cls;	/* 24 bits: base class, subclass, prog-if */
	char driver[64];	/* "" when unbound */
	int group;		/* -1: no IOMMU group */
	struct host_res res[HOST_NR_RES];
	/* SR-IOV: a VF's PF (its physfn link) and which of its VFs it is (virtfnN) */
	char physfn[HOST_BDF_LEN];	/* "" when not a VF */
	int vf_index;			/* -1 when not a VF or not found */
	int sriov_total, sriov_num;	/* a PF's sriov_totalvfs and sriov_numvfs; -1 if not a PF */
};

/* Small sysfs helpers; all return 0 or -errno. */
int host_path(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int host_read_str(const char *path, char *buf, size_t len);	/* trailing newline cut */
int host_read_hex(const char *path, unsigned long *v);
int host_write_str(const struct host_env *env, const char *path, const char *value);
int host_link_base(const char *path, char *out, size_t len);	/* basename of the target */

/* Reads <sysfs>/bus/pci/devices/<bdf>; -ENODEV when it does not exist. */
int host_pci_read(const struct host_env *env, const char *bdf, struct host_pci_dev *d);
/* Every PCI function, sorted by address; the caller frees *out. */
int host_pci_list(const struct host_env *env, struct host_pci_dev **out, size_t *n);
/* Members of an IOMMU group, sorted; at most max, *n is the full count. */
int host_group_members(const struct host_env *env, int group, char (*out)[HOST_BDF_LEN],
		       size_t max, size_t *n);

/* Parses the text of a sysfs resource file into res[0..HOST_NR_RES). */
int host_parse_resource(const char *text, struct host_res *res);
/* "Ethernet controller", "3D controller" ... from the 24-bit class. */
const char *host_class_name(unsigned int cls);
/* 16M, 128G, 1536M, 256 (bytes): the largest unit that divides exactly. */
void host_format_size(uint64_t bytes, char *out, size_t len);
/* "VF 0 of PF 0000:3e:00.0", "SR-IOV PF 2/8 VFs" (enabled/total), or "". */
void host_sriov_describe(const struct host_pci_dev *d, char *out, size_t len);
bool host_is_bridge(unsigned int cls);
bool host_is_vfio_driver(const char *driver);

#endif
