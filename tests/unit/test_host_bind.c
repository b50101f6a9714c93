// SPDX-License-Identifier: MIT
/*
 * bind/unbind, devices and doctor on a fake host whose sysfs files react
 * like the kernel's (test_host_fake.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/bind.h"
#include "host/commands.h"
#include "host/doctor.h"
#include "host/select.h"
#include "test_host_fake.h"

#define NVME "0000:00:02.0"
#define EDU "0000:00:01.0"

static struct host_env *env;
static char msg[1024];

/* The testbed's shape: edu alone, nvme alone, an ICH9 group of three. */
static void setup(void)
{
	env = fake_host();
	fake_module("vfio");
	fake_module("vfio_iommu_type1");
	fake_module("vfio_pci");
	fake_pci(EDU, 0x1234, 0x11e8, 0x00ff00, 1, NULL, NULL);
	fake_pci(NVME, 0x1b36, 0x0010, 0x010802, 2, "nvme", "nvme");
	fake_resource(NVME, "0x00000000fe000000 0x00000000fe003fff 0x0000000000140204\n"
		      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	fake_pci("0000:00:1f.0", 0x8086, 0x2918, 0x060100, 5, "lpc_ich", "lpc_ich");
	fake_pci("0000:00:1f.2", 0x8086, 0x2922, 0x010601, 5, "ahci", "ahci");
	fake_pci("0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, 5, "i801_smbus", "i801_smbus");
	fake_pci("0000:00:1c.0", 0x8086, 0x2940, 0x060400, 5, "pcieport", "pcieport");
}

static void teardown(void)
{
	fake_host_cleanup();
}

TestSuite(host_bind, .init = setup, .fini = teardown);

Test(host_bind, round_trip_restores_the_driver)
{
	char state[512], saved[64];

	cr_assert_eq(host_bind(env, "00:02.0", msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(fake_driver(NVME), "vfio-pci");
	cr_assert_str_eq(fake_override(NVME), "vfio-pci");
	cr_assert_str_eq(msg, NVME ": nvme -> vfio-pci");
	snprintf(state, sizeof(state), "%s/" NVME ".driver", env->run_dir);
	cr_assert_eq(host_read_str(state, saved, sizeof(saved)), 0);
	cr_assert_str_eq(saved, "nvme");

	cr_assert_eq(host_unbind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(fake_driver(NVME), "nvme");
	cr_assert_str_eq(fake_override(NVME), "");
	cr_assert_str_eq(msg, NVME ": vfio-pci -> nvme (restored)");
	cr_assert_neq(access(state, F_OK), 0, "the state file must go");
}

Test(host_bind, idempotent)
{
	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert(strstr(msg, "already bound to vfio-pci"), "%s", msg);
	cr_assert_eq(host_unbind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(host_unbind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert(strstr(msg, "not bound to vfio-pci (driver: nvme); nothing to do"), "%s", msg);
	cr_assert_str_eq(fake_driver(NVME), "nvme");
}

Test(host_bind, unbound_device_goes_back_to_no_driver)
{
	cr_assert_eq(host_bind(env, EDU, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(msg, EDU ": (no driver) -> vfio-pci");
	cr_assert_eq(host_unbind(env, EDU, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(fake_driver(EDU), "");
	cr_assert_str_eq(msg, EDU ": vfio-pci -> (no driver) (restored)");
}

Test(host_bind, clear_errors)
{
	cr_assert_eq(host_bind(env, "00:09.0", msg, sizeof(msg)), -ENODEV);
	cr_assert_str_eq(msg, "0000:00:09.0: no such PCI device (see vfio-vmm devices or lspci -D)");
	cr_assert_eq(host_bind(env, "nvme0", msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "not a PCI address"), "%s", msg);
	cr_assert_eq(host_bind(env, "00:1c.0", msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "is a PCI bridge"), "%s", msg);
}

Test(host_bind, vfio_pci_not_loaded_rolls_back)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/module/vfio_pci/parameters", env->sysfs);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/module/vfio_pci", env->sysfs);
	cr_assert_eq(rmdir(path), 0);
	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), -ENODEV);
	cr_assert(strstr(msg, "the vfio-pci module is not loaded (modprobe vfio-pci)"), "%s", msg);
	cr_assert_str_eq(fake_driver(NVME), "nvme", "rollback gives it back");
	cr_assert_str_eq(fake_override(NVME), "");
}

Test(host_bind, unbind_refused_while_in_use)
{
	pid_t holder;

	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	fake_proc_fd(4242, "qemu-system-x86", "/dev/vfio/2");
	cr_assert_eq(host_unbind(env, NVME, msg, sizeof(msg)), -EBUSY);
	cr_assert_str_eq(msg, NVME " is in use: /dev/vfio/2 is open in qemu-system-x86 (pid 4242): "
			 "stop it first");
	cr_assert_str_eq(fake_driver(NVME), "vfio-pci");
	cr_assert_eq(host_lock_device(env, NVME, &holder), 0);
	cr_assert_eq(host_unbind(env, NVME, msg, sizeof(msg)), -EBUSY);
	{
		/* Nobody but the holder may open the lock file (flock needs no write access). */
		char path[512];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s.lock", env->run_dir, NVME);
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert_eq(st.st_mode & 0777, 0600, "lock file mode %o", st.st_mode & 0777);
	}
	cr_assert(strstr(msg, "in use by vfio-vmm (pid"), "%s", msg);
}

Test(host_bind, group_expansion_skips_bridges)
{
	char out[8][HOST_BDF_LEN];
	size_t n;

	cr_assert_eq(host_group_bindable(env, "00:1f.2", out, 8, &n, msg, sizeof(msg)), 0, "%s",
		     msg);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(out[0], "0000:00:1f.0");
	cr_assert_str_eq(out[1], "0000:00:1f.2");
	cr_assert_str_eq(out[2], "0000:00:1f.3");
}

static int run_cmd(const char *const *args, int argc, const char **out_text, const char **err_text)
{
	struct capture out, err;
	int rc;

	rc = host_main_env(env, argc, (char **)args, capture_start(&out), capture_start(&err));
	*out_text = capture_end(&out);
	*err_text = capture_end(&err);
	return rc;
}

Test(host_bind, bind_group_command)
{
	const char *args[] = { "vfio-vmm", "bind", "--group", "00:1f.2", NULL };
	const char *out, *err;

	cr_assert_eq(run_cmd(args, 4, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "0000:00:1f.0: lpc_ich -> vfio-pci\n"), "%s", out);
	cr_assert(strstr(out, "0000:00:1f.3: i801_smbus -> vfio-pci\n"), "%s", out);
	cr_assert_str_eq(fake_driver("0000:00:1c.0"), "pcieport");
	args[1] = "unbind";
	cr_assert_eq(run_cmd(args, 4, &out, &err), 0, "%s", err);
	cr_assert_str_eq(fake_driver("0000:00:1f.2"), "ahci");
	cr_assert_str_eq(fake_driver("0000:00:1f.0"), "lpc_ich");
}

Test(host_bind, not_a_host_command)
{
	const char *args[] = { "vfio-vmm", "run", "--kernel", "x", NULL };
	const char *out, *err;

	cr_assert_eq(run_cmd(args, 4, &out, &err), -1);
	args[1] = "bind";
	cr_assert_eq(run_cmd(args, 2, &out, &err), 2);
	cr_assert(strstr(err, "name at least one device"), "%s", err);
}

Test(host_bind, devices_table_and_json)
{
	const char *args[] = { "vfio-vmm", "devices", NULL, NULL };
	const char *out, *err;

	cr_assert_eq(host_bind(env, EDU, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(run_cmd(args, 2, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "0000:00:02.0  1b36:0010  Non-Volatile memory controller  nvme"),
		  "%s", out);
	cr_assert(strstr(out, "0:16K"), "%s", out);
	cr_assert(strstr(out, "0000:00:01.0  1234:11e8  Unclassified device"), "%s", out);
	cr_assert(strstr(out, "after bind"), "%s", out);
	cr_assert(strstr(out, "no: 0000:00:1f.0 in its group is on lpc_ich (bind --group)  group "
			 "+0000:00:1c.0,0000:00:1f.0,0000:00:1f.3"), "%s", out);
	args[2] = "--json";
	cr_assert_eq(run_cmd(args, 3, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "{\"address\": \"0000:00:01.0\", \"vendor\": \"1234\", \"device\": "
			 "\"11e8\", \"class\": \"0x00ff00\", \"class_name\": \"Unclassified device\", "
			 "\"driver\": \"vfio-pci\", \"iommu_group\": 1, \"group_members\": "
			 "[\"0000:00:01.0\"], \"bars\": [], \"assignable\": true, \"status\": \"yes\"}"),
		  "%s", out);
	cr_assert(strstr(out, "\"bars\": [{\"index\": 0, \"size\": 16384, \"type\": \"mem64\", "
			 "\"prefetchable\": false}]"), "%s", out);
}

static const char *doctor(const char *const *args, int argc, int *rc)
{
	const char *out, *err;

	*rc = run_cmd(args, argc, &out, &err);
	return out;
}

/* Everything a healthy host has, as files. */
static void healthy(void)
{
	fake_file("proc/interrupts", "  4:  12  IR-IO-APIC  4-edge  ttyS0\n");
	fake_file("proc/cpuinfo", "vendor_id\t: AuthenticAMD\n");
	fake_file("dev/vfio/vfio", "");
	fake_file("sys/class/iommu/dmar0/x", "");
	/* CAP_IPC_LOCK (bit 14): pinning is not limited. */
	fake_file("proc/self/status", "Name:\tvfio-vmm\nVmLck:\t       0 kB\nCapEff:\t0000000000004000\n");
}

Test(host_bind, doctor_passes_with_a_device_bound)
{
	const char *args[] = { "vfio-vmm", "doctor", "00:02.0", NULL };
	const char *out;
	int rc;

	healthy();
	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	out = doctor(args, 3, &rc);
	/* The fake /dev/kvm is missing: that one FAIL is expected and exact. */
	cr_assert(strstr(out, "FAIL  kvm: "), "%s", out);
	cr_assert(strstr(out, "modprobe kvm_amd"), "%s", out);
	cr_assert(strstr(out, "PASS  iommu: on: "), "%s", out);
	cr_assert(strstr(out, "PASS  interrupt remapping: on"), "%s", out);
	cr_assert(strstr(out, "PASS  vfio modules"), "%s", out);
	cr_assert(strstr(out, "PASS  memlock: CAP_IPC_LOCK: pinning 256M"), "%s", out);
	cr_assert(strstr(out, "PASS  0000:00:02.0: 1b36:0010 Non-Volatile memory controller on "
			 "vfio-pci"), "%s", out);
	cr_assert(strstr(out, "PASS  0000:00:02.0: IOMMU group 2 is viable"), "%s", out);
	cr_assert(strstr(out, "/vfio/2 usable"), "%s", out);
	cr_assert(strstr(out, "doctor: "), "%s", out);
	cr_assert(strstr(out, " 1 failed\n"), "%s", out);
	cr_assert_eq(rc, 1);
}

Test(host_bind, doctor_fails_with_the_fix)
{
	const char *args[] = { "vfio-vmm", "doctor", "00:02.0", "00:1f.2", NULL };
	const char *out;
	int rc;

	healthy();
	fake_file("proc/interrupts", "  4:  12  IO-APIC  4-edge  ttyS0\n");
	cr_assert_eq(host_bind(env, "00:1f.2", msg, sizeof(msg)), 0, "%s", msg);
	out = doctor(args, 4, &rc);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(out, "FAIL  0000:00:02.0: bound to nvme, not vfio-pci. Fix: vfio-vmm "
			 "bind 0000:00:02.0"), "%s", out);
	cr_assert(strstr(out, "FAIL  0000:00:1f.2: group 5 is not viable: 0000:00:1f.0 is bound "
			 "to lpc_ich, 0000:00:1f.3 is bound to i801_smbus; bind them to vfio-pci "
			 "too. Fix: vfio-vmm bind --group 0000:00:1f.2"), "%s", out);
	cr_assert(strstr(out, "FAIL  interrupt remapping: off: "), "%s", out);
	cr_assert(strstr(out, "allow_unsafe_interrupts=1"), "%s", out);
	fake_file("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
	out = doctor(args, 4, &rc);
	cr_assert(strstr(out, "WARN  interrupt remapping: off, allowed by"), "%s", out);
}

static void chmod_fake(const char *rel, mode_t mode, uid_t uid)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", fake_root(), rel);
	cr_assert_eq(chmod(path, mode), 0, "%s", path);
	cr_assert_eq(chown(path, uid, 0), 0, "%s", path);
}

/* doctor --user: what alice lacks, each with its fix, then nothing once granted. */
Test(host_bind, doctor_user_names_what_is_missing_and_the_fix)
{
	const char *args[] = { "vfio-vmm", "doctor", "--user", "alice", "--memory", "256M",
			       "00:02.0", NULL };
	const char *out;
	int rc;

	healthy();
	fake_file("etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
	fake_file("etc/group", "root:x:0:\nkvm:x:78:\nalice:x:1000:\n");
	{
		char path[512];

		/* A character node (/dev/null's numbers): doctor checks it is one. */
		snprintf(path, sizeof(path), "%s/dev/kvm", fake_root());
		if (mknod(path, S_IFCHR | 0660, makedev(1, 3)))
			cr_skip_test("mknod: %s (needs root)", strerror(errno));
	}
	chmod_fake("dev/kvm", 0660, 0);
	chmod_fake("dev/vfio/vfio", 0600, 0);
	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	chmod_fake("dev/vfio/2", 0600, 0);
	out = doctor(args, 7, &rc);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(out, "FAIL  kvm: alice cannot open "), "%s", out);
	cr_assert(strstr(out, "/dev/kvm (owner 0, group root, mode 0660). Fix: chgrp kvm "), "%s", out);
	cr_assert(strstr(out, "usermod -aG kvm alice (log in again); to keep it: echo 'KERNEL==\"kvm\", "
			 "GROUP=\"kvm\", MODE=\"0660\"' > /etc/udev/rules.d/90-vfio-vmm.rules"), "%s", out);
	cr_assert(strstr(out, "FAIL  vfio container: alice cannot open "), "%s", out);
	cr_assert(strstr(out, "/dev/vfio/vfio (owner 0, group root, mode 0600). Fix: chmod 0666 "),
		  "%s", out);
	cr_assert(strstr(out, "FAIL  0000:00:02.0: alice cannot open "), "%s", out);
	cr_assert(strstr(out, "/vfio/2 now; to keep it: echo 'SUBSYSTEM==\"vfio\", "
			 "KERNEL==\"2\", OWNER=\"alice\"' > /etc/udev/rules.d/90-vfio-vmm.rules"),
		  "%s", out);
	cr_assert(strstr(out, "FAIL  memlock: a login of alice may pin 8M (no memlock line for "
			 "alice in "), "%s", out);
	cr_assert(strstr(out, "Fix: echo 'alice hard memlock 262144' >> "
			 "/etc/security/limits.d/vfio-vmm.conf"), "%s", out);

	/* The grants doctor named: kvm's group first, alice not in it yet. */
	chmod_fake("dev/kvm", 0660, 0);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/dev/kvm", fake_root());
		cr_assert_eq(chown(path, 0, 78), 0);
	}
	out = doctor(args, 7, &rc);
	cr_assert(strstr(out, "/dev/kvm (owner 0, group kvm, mode 0660). Fix: usermod -aG kvm alice "
			 "(log in again)\n"), "%s", out);
	fake_file("etc/group", "root:x:0:\nkvm:x:78:alice\nalice:x:1000:\n");
	chmod_fake("dev/vfio/vfio", 0666, 0);
	chmod_fake("dev/vfio/2", 0600, 1000);
	fake_file("etc/security/limits.d/vfio-vmm.conf", "alice hard memlock 262144\n");
	out = doctor(args, 7, &rc);
	cr_assert(strstr(out, "PASS  kvm: alice can open "), "%s", out);
	cr_assert(strstr(out, "PASS  vfio container: alice can open "), "%s", out);
	cr_assert(strstr(out, "PASS  0000:00:02.0: alice can open "), "%s", out);
	cr_assert(strstr(out, "PASS  memlock: a login of alice may pin 256M ("), "%s", out);
	cr_assert(strstr(out, "vfio-vmm.conf:1): enough for 256M of guest RAM"), "%s", out);
	cr_assert_null(strstr(out, "alice cannot"), "%s", out);
}

Test(host_bind, doctor_user_unknown_is_a_usage_error)
{
	const char *args[] = { "vfio-vmm", "doctor", "--user", "mallory", NULL };
	const char *out, *err;

	healthy();
	fake_file("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	cr_assert_eq(run_cmd(args, 4, &out, &err), 2);
	cr_assert(strstr(err, "vfio-vmm doctor: --user mallory: no such user in "), "%s", err);
	cr_assert(strstr(err, "/etc/passwd; see vfio-vmm doctor --help\n"), "%s", err);
}

Test(host_bind, doctor_hugepages_and_gpu_drivers)
{
	const char *args[] = { "vfio-vmm", "doctor", "--memory", "1G", "--hugepages", "2M", NULL };
	const char *out;
	int rc;

	healthy();
	fake_file("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "100\n");
	fake_module("nouveau");
	out = doctor(args, 6, &rc);
	cr_assert(strstr(out, "FAIL  hugepages: 100 free 2M pages, the guest needs 512. Fix: "
			 "echo 512 > "), "%s", out);
	cr_assert(strstr(out, "WARN  host gpu drivers: nouveau loaded"), "%s", out);
	cr_assert(strstr(out, "WARN  devices: no device is bound to vfio-pci"), "%s", out);
	fake_file("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "512\n");
	out = doctor(args, 6, &rc);
	cr_assert(strstr(out, "PASS  hugepages: 512 free 2M pages, the guest needs 512"), "%s", out);
}

Test(host_bind, doctor_real_kvm)
{
	const char *args[] = { "vfio-vmm", "doctor", NULL };
	char path[512];
	const char *out;
	int rc;

	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("no usable /dev/kvm here");
	snprintf(path, sizeof(path), "%s/kvm", env->dev);
	cr_assert_eq(symlink("/dev/kvm", path), 0);
	out = doctor(args, 2, &rc);
	cr_assert(strstr(out, "PASS  kvm: "), "%s", out);
	cr_assert(strstr(out, "(KVM API 12)"), "%s", out);
}

Test(host_bind, doctor_memlock_too_low)
{
	const char *args[] = { "vfio-vmm", "doctor", "--memory", "1G", NULL };
	struct rlimit rl = { 64 << 10, 64 << 10 };
	const char *out;
	int rc;

	healthy();
	fake_file("proc/self/status", "Name:\tvfio-vmm\nVmLck:\t       0 kB\nCapEff:\t0000000000000000\n");
	cr_assert_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	out = doctor(args, 4, &rc);
	cr_assert(strstr(out, "FAIL  memlock: "), "%s", out);
	cr_assert(strstr(out, "ulimit -l 1048576"), "%s", out);
	cr_assert_eq(rc, 1);
}

Test(host_bind, doctor_flavor)
{
	char conf[512];
	const char *args[] = { "vfio-vmm", "doctor", "--config", conf, "--flavor", "two", NULL };
	const char *out;
	int rc;

	healthy();
	snprintf(conf, sizeof(conf), "%s/vfio-vmm.conf", fake_root());
	fake_file("vfio-vmm.conf", "[alias nvme]\nvendor = 0x1b36\ndevice = 0x0010\n"
		  "[flavor two]\nmemory = 2G\ndevices = nvme:2\n"
		  "[flavor one]\ndevices = nvme\n");
	cr_assert_eq(host_bind(env, NVME, msg, sizeof(msg)), 0, "%s", msg);
	out = doctor(args, 6, &rc);
	cr_assert(strstr(out, "FAIL  flavor: two: alias nvme (1b36:0010): 2 wanted but only 1 free; "
			 "free some or ask for fewer\n"), "%s", out);
	cr_assert(strstr(out, "PASS  memlock: CAP_IPC_LOCK: pinning 2G"), "%s", out);
	args[5] = "one";
	out = doctor(args, 6, &rc);
	cr_assert(strstr(out, "PASS  flavor: one: 1 x nvme free now: 0000:00:02.0\n"), "%s", out);
	cr_assert_eq(host_lock_holder(env, NVME), 0, "doctor lets the device go");
	args[5] = "three";
	cr_assert_eq(run_cmd(args, 6, &out, &out), 2);
	cr_assert(strstr(out, "--flavor three: no such flavor in "), "%s", out);
}

/* Each state of sysfs reset_method becomes its own doctor line. */
Test(host_bind, doctor_reset_methods)
{
	const char *args[] = { "vfio-vmm", "doctor", "00:01.0", "00:02.0", "00:1f.2", NULL };
	const char *out;
	int rc;

	healthy();
	fake_file("sys/devices/pci0000:00/" NVME "/reset_method", "flr bus\n");
	fake_file("sys/devices/pci0000:00/" EDU "/reset_method", "\n");
	out = doctor(args, 5, &rc);
	cr_assert(strstr(out, "PASS  " NVME ": reset: flr bus (a guest FLR is passed on)"),
		  "%s", out);
	cr_assert(strstr(out, "WARN  " EDU ": no reset method: a VM inherits whatever the "
			 "previous one left in the device"), "%s", out);
	/* No reset_method file at all (older kernel, or none): no reset file either. */
	cr_assert(strstr(out, "WARN  0000:00:1f.2: no reset method"), "%s", out);

	fake_file("sys/devices/pci0000:00/" EDU "/reset_method", "pm\n");
	fake_file("sys/devices/pci0000:00/0000:00:1f.2/reset", "");
	out = doctor(args, 5, &rc);
	cr_assert(strstr(out, "PASS  " EDU ": reset: pm (between VMs; the guest is offered no "
			 "FLR)"), "%s", out);
	cr_assert(strstr(out, "PASS  0000:00:1f.2: resettable (this kernel does not say how)"),
		  "%s", out);
}

/*
 * A function whose only reset is the bus's gets none from VFIO unless every
 * function on that bus is in the assignment: doctor must not promise one.
 */
Test(host_bind, doctor_bus_reset_only_when_the_bus_is_all_assigned)
{
	const char *args[] = { "vfio-vmm", "doctor", "00:01.0", NULL, NULL };
	const char *out;
	int rc;

	healthy();
	fake_file("sys/devices/pci0000:00/" EDU "/reset_method", "bus\n");
	out = doctor(args, 3, &rc);
	cr_assert(strstr(out, "WARN  " EDU ": no reset: reset_method is bus only, and the bus is "
			 "shared with 0000:00:02.0 and others, which this assignment does not "
			 "hold, so VFIO resets nothing"), "%s", out);
	cr_assert_null(strstr(out, EDU ": reset: bus"), "%s", out);
	/* A per-function method next to bus still resets this function alone. */
	fake_file("sys/devices/pci0000:00/" EDU "/reset_method", "pm bus\n");
	out = doctor(args, 3, &rc);
	cr_assert(strstr(out, "PASS  " EDU ": reset: pm bus"), "%s", out);
}

/* Assigning one function of a group blocks the rest: doctor says so, naming one. */
Test(host_bind, doctor_partly_assigned_group)
{
	const char *args[] = { "vfio-vmm", "doctor", "00:1f.2", NULL, NULL, NULL };
	const char *out;
	int rc;

	healthy();
	out = doctor(args, 3, &rc);
	cr_assert(strstr(out, "WARN  0000:00:1f.2: IOMMU group 5 also holds 0000:00:1f.0 and "
			 "others: assigning one function of a group blocks the rest"), "%s", out);
	/* The whole group asked for (the bridge aside): no such line. */
	args[3] = "00:1f.0";
	args[4] = "00:1f.3";
	out = doctor(args, 5, &rc);
	cr_assert_null(strstr(out, "also holds"), "%s", out);
}

/*
 * An mdev instance as the kernel lays it out: the device under its parent,
 * /sys/bus/mdev/devices/UUID a link to it, links to its type, driver and group.
 */
static void fake_mdev(const char *uuid, const char *type, int group, bool node)
{
	char rel[512], path[1024], target[256];

	snprintf(rel, sizeof(rel), "sys/devices/virtual/mgpu/mgpu/%s/uevent", uuid);
	fake_file(rel, "");
	fake_file("sys/bus/mdev/devices/.keep", "");
	snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s", fake_root(), uuid);
	snprintf(target, sizeof(target), "../../../devices/virtual/mgpu/mgpu/%s", uuid);
	cr_assert_eq(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/sys/devices/virtual/mgpu/mgpu/%s/mdev_type", fake_root(),
		 uuid);
	snprintf(target, sizeof(target), "../mdev_supported_types/%s", type);
	cr_assert_eq(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/sys/devices/virtual/mgpu/mgpu/%s/driver", fake_root(), uuid);
	cr_assert_eq(symlink("../../../../../bus/mdev/drivers/mgpu", path), 0);
	if (group < 0)
		return;
	snprintf(path, sizeof(path), "%s/sys/devices/virtual/mgpu/mgpu/%s/iommu_group", fake_root(),
		 uuid);
	snprintf(target, sizeof(target), "../../../../../kernel/iommu_groups/%d", group);
	cr_assert_eq(symlink(target, path), 0);
	if (node) {
		snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
		fake_file(rel, "");
	}
}

#define MDEV_A "6a5f0a3e-0001-4d3c-9b1e-000000000001"
#define MDEV_B "6a5f0a3e-0001-4d3c-9b1e-000000000002"

Test(host_bind, devices_lists_mediated_devices)
{
	const char *args[] = { "vfio-vmm", "devices", NULL, NULL };
	const char *out, *err;

	fake_mdev(MDEV_B, "mgpu-h100-3g", 12, true);
	fake_mdev(MDEV_A, "mgpu-h100", 11, true);
	cr_assert_eq(run_cmd(args, 2, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\nMEDIATED DEVICE                       TYPE                PARENT"),
		  "%s", out);
	cr_assert(strstr(out, "\n" MDEV_A "  mgpu-h100           mgpu          mgpu        11     "
			 "yes\n" MDEV_B "  mgpu-h100-3g"), "%s", out);
	/* --json stays a list of PCI functions. */
	args[2] = "--json";
	cr_assert_eq(run_cmd(args, 3, &out, &err), 0, "%s", err);
	cr_assert_null(strstr(out, MDEV_A), "%s", out);
}

Test(host_bind, doctor_checks_mediated_devices)
{
	const char *args[] = { "vfio-vmm", "doctor", MDEV_A, "/sys/bus/mdev/devices/" MDEV_B,
			       "6a5f0a3e-0001-4d3c-9b1e-0000000000ff", NULL };
	const char *out;
	int rc;

	healthy();
	fake_mdev(MDEV_A, "mgpu-h100", 11, true);
	fake_mdev(MDEV_B, "mgpu-h200", 12, false);
	out = doctor(args, 5, &rc);
	cr_assert(strstr(out, "PASS  " MDEV_A ": mediated device of type mgpu-h100 on mgpu, driver "
			 "mgpu\n"), "%s", out);
	cr_assert(strstr(out, "PASS  " MDEV_A ": "), "%s", out);
	cr_assert(strstr(out, "/vfio/11 usable (IOMMU group 11, emulated by VFIO)"), "%s", out);
	cr_assert(strstr(out, "FAIL  " MDEV_B ": "), "%s", out);
	cr_assert(strstr(out, "/vfio/12 is missing. Fix: "), "%s", out);
	cr_assert(strstr(out, "FAIL  6a5f0a3e-0001-4d3c-9b1e-0000000000ff: no such mediated device"),
		  "%s", out);
	cr_assert_eq(rc, 1);
	/* Without arguments every instance is a candidate: no "nothing on vfio-pci" warning. */
	out = doctor(args, 2, &rc);
	cr_assert(strstr(out, "PASS  " MDEV_A ": mediated device"), "%s", out);
	cr_assert_null(strstr(out, "no device is bound to vfio-pci"), "%s", out);
}

/*
 * SR-IOV: a PF at 00:06.0 with two VFs enabled, the second on vfio-pci.
 * devices names each VF's PF and the PF's VF count; doctor says what VFIO
 * does for a VF, and warns when the PF is on vfio-pci too (VF token).
 */
#define PF "0000:00:06.0"
#define VF0 "0000:00:06.1"
#define VF1 "0000:00:06.2"

static void sriov_host(const char *pf_driver)
{
	fake_pci(PF, 0x1b36, 0x0010, 0x010802, 6, pf_driver, "nvme");
	fake_pci(VF0, 0x1b36, 0x0010, 0x010802, 7, NULL, "nvme");
	fake_pci(VF1, 0x1b36, 0x0010, 0x010802, 8, "vfio-pci", "nvme");
	fake_vf(PF, VF0, 0, 2);
	fake_vf(PF, VF1, 1, 2);
}

Test(host_bind, devices_names_vfs_and_their_pf)
{
	const char *args[] = { "vfio-vmm", "devices", NULL, NULL };
	const char *out, *err;
	struct host_pci_dev d;

	sriov_host("nvme");
	cr_assert_eq(host_pci_read(env, VF1, &d), 0);
	cr_assert_str_eq(d.physfn, PF);
	cr_assert_eq(d.vf_index, 1);
	cr_assert_eq(d.sriov_total, -1);
	cr_assert_eq(host_pci_read(env, PF, &d), 0);
	cr_assert_str_eq(d.physfn, "");
	cr_assert_eq(d.vf_index, -1);
	cr_assert_eq(d.sriov_total, 2);
	cr_assert_eq(d.sriov_num, 2);
	cr_assert_eq(host_pci_read(env, NVME, &d), 0);
	cr_assert_eq(d.sriov_total, -1);
	cr_assert_str_eq(d.physfn, "");

	cr_assert_eq(run_cmd(args, 2, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "after bind  VF 0 of PF " PF "\n"), "%s", out);
	cr_assert(strstr(out, VF1 "  1b36:0010"), "%s", out);
	cr_assert(strstr(out, "yes  VF 1 of PF " PF "\n"), "%s", out);
	cr_assert(strstr(out, "  SR-IOV PF 2/2 VFs\n"), "%s", out);
	/* A function that is neither has nothing after its status. */
	cr_assert(strstr(out, "after bind\n"), "%s", out);
	args[2] = "--json";
	cr_assert_eq(run_cmd(args, 3, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\"status\": \"yes\", \"physfn\": \"" PF "\", \"vf_index\": 1}"),
		  "%s", out);
	cr_assert(strstr(out, "\"sriov_totalvfs\": 2, \"sriov_numvfs\": 2}"), "%s", out);
}

Test(host_bind, bind_and_unbind_a_vf_without_a_driver)
{
	sriov_host("nvme");
	cr_assert_eq(host_bind(env, VF0, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(fake_driver(VF0), "vfio-pci");
	cr_assert_eq(host_unbind(env, VF0, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(fake_driver(VF0), "");
	cr_assert(strstr(msg, "(restored)"), "%s", msg);
}

Test(host_bind, doctor_says_a_vf_is_one)
{
	const char *args[] = { "vfio-vmm", "doctor", VF1, NULL };
	const char *out;
	int rc;

	healthy();
	sriov_host("nvme");
	out = doctor(args, 3, &rc);
	cr_assert(strstr(out, "PASS  " VF1 ": VF 1 of PF " PF " (PF on nvme): VFIO presents the "
			 "PF's vendor ID and the VF device ID"), "%s", out);
	cr_assert(strstr(out, "offers no INTx"), "%s", out);
	cr_assert_null(strstr(out, "WARN  " VF1 ": VF"), "%s", out);
}

Test(host_bind, doctor_warns_of_a_vf_whose_pf_is_on_vfio)
{
	const char *args[] = { "vfio-vmm", "doctor", VF1, NULL };
	const char *out;
	int rc;

	healthy();
	sriov_host("vfio-pci");
	out = doctor(args, 3, &rc);
	cr_assert(strstr(out, "WARN  " VF1 ": VF 1 of PF " PF ", and the PF is on vfio-pci: VFIO "
			 "then wants the VF token"), "%s", out);
	cr_assert(strstr(out, "Fix: give the PF back to its own driver"), "%s", out);
}
