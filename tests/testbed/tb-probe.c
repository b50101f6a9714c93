// SPDX-License-Identifier: MIT
/*
 * tb-probe: a tiny static helper for the testbed's L1. It checks the two
 * kernel interfaces the VMM depends on without needing the VMM itself, so a
 * broken L1 (no kvm_amd, no IOMMU, no vfio-pci) is told apart from a broken
 * vfio-vmm.
 *
 *   tb-probe kvm            /dev/kvm answers, a VM and a vCPU can be created
 *   tb-probe vfio GROUP...  each group is viable and a type1v2 container
 *                           accepts it (this needs interrupt remapping)
 *   tb-probe runas UID GID MEMLOCK_KIB CMD...
 *                           runs CMD as that user and group (no
 *                           supplementary groups) with that memlock limit,
 *                           soft and hard: how a non-root user is set up
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/vfio.h>

static int err(const char *what)
{
	int e = errno;

	fprintf(stderr, "tb-probe: %s: %s\n", what, strerror(e));
	return -e;
}

static int probe_kvm(void)
{
	int kvm, vm = -1, vcpu = -1, ret;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return err("open /dev/kvm");

	ret = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		fprintf(stderr, "tb-probe: KVM_GET_API_VERSION = %d, want %d\n",
			ret, KVM_API_VERSION);
		ret = -EINVAL;
		goto out_kvm;
	}
	printf("KVM_GET_API_VERSION %d\n", ret);

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		ret = err("KVM_CREATE_VM");
		goto out_kvm;
	}
	/* The VMM relies on an in-kernel irqchip for irqfd-based MSI delivery. */
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = err("KVM_CREATE_IRQCHIP");
		goto out_vm;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		ret = err("KVM_CREATE_VCPU");
		goto out_vm;
	}
	printf("KVM_CAP_IRQFD %d\n", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD));
	printf("KVM_CAP_NR_MEMSLOTS %d\n",
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS));
	ret = 0;
	close(vcpu);
out_vm:
	close(vm);
out_kvm:
	close(kvm);
	return ret;
}

/* Returns the open group fd (attached to the container) or -errno. */
static int attach_group(int container, const char *group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err(path);

	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
		ret = err("VFIO_GROUP_GET_STATUS");
		goto out_close;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "tb-probe: group %s is not viable\n", group);
		ret = -EBUSY;
		goto out_close;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
		ret = err("VFIO_GROUP_SET_CONTAINER");
		goto out_close;
	}
	printf("group %s viable, attached\n", group);
	return fd;
out_close:
	close(fd);
	return ret;
}

#define MAX_GROUPS 32

static int probe_vfio(int ngroups, char **groups)
{
	int fds[MAX_GROUPS];
	int container, ret, i, n = 0;

	if (ngroups > MAX_GROUPS)
		return -E2BIG;
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return err("open /dev/vfio/vfio");

	ret = ioctl(container, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		fprintf(stderr, "tb-probe: VFIO_GET_API_VERSION = %d\n", ret);
		ret = -EINVAL;
		goto out;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		fprintf(stderr, "tb-probe: no VFIO_TYPE1v2_IOMMU\n");
		ret = -ENOTSUP;
		goto out;
	}
	for (n = 0; n < ngroups; n++) {
		ret = attach_group(container, groups[n]);
		if (ret < 0)
			goto out;
		fds[n] = ret;
	}
	/* Without interrupt remapping in L1 this fails with EPERM. */
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		ret = err("VFIO_SET_IOMMU(TYPE1v2)");
		goto out;
	}
	printf("VFIO_SET_IOMMU type1v2 ok\n");
	ret = 0;
out:
	/* Closing the last group fd detaches it and tears the container down. */
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(container);
	return ret;
}

static int runas(char **argv)
{
	uid_t uid = (uid_t)strtoul(argv[0], NULL, 10);
	gid_t gid = (gid_t)strtoul(argv[1], NULL, 10);
	rlim_t kib = (rlim_t)strtoull(argv[2], NULL, 10);
	struct rlimit rl = { kib * 1024, kib * 1024 };

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return err("setrlimit(RLIMIT_MEMLOCK)");
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		return err("dropping to the user");
	if (setuid(0) == 0) {
		fprintf(stderr, "tb-probe: still able to become root\n");
		return -EPERM;
	}
	execvp(argv[3], argv + 3);
	return err(argv[3]);
}

int main(int argc, char **argv)
{
	int ret = -EINVAL;

	if (argc >= 6 && !strcmp(argv[1], "runas"))
		ret = runas(argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "kvm"))
		ret = probe_kvm();
	else if (argc >= 3 && !strcmp(argv[1], "vfio"))
		ret = probe_vfio(argc - 2, argv + 2);
	else
		fprintf(stderr, "usage: tb-probe kvm | tb-probe vfio GROUP... | "
			"tb-probe runas UID GID MEMLOCK_KIB CMD...\n");
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
