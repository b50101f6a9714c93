// SPDX-License-Identifier: MIT
/*
 * bench overhead's QEMU column: --qemu on the command line, finding the
 * binary, and the QEMU command line built from the same parsed `run`
 * options (vmm/bench_qemu.c).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/net.h"
#include "vmm/bench_overhead.h"
#include "vmm/bench_qemu.h"

/* run checks that the kernel and initrd exist: any readable files do. */
#define KERNEL	"/bin/sh"
#define INITRD	"/etc/passwd"

static char err[512];
static char *args[64];
static struct qemu_cmd q;
static struct cli_opts c;

/* args[at...] from the NULL-terminated list; returns the new count. */
static int argv_of(int at, const char *first, va_list ap)
{
	for (const char *a = first; a; a = va_arg(ap, const char *))
		args[at++] = (char *)a;
	args[at] = NULL;
	return at;
}

static int parse(struct overhead_opts *o, const char *first, ...)
{
	va_list ap;
	int argc;

	args[0] = "overhead";
	va_start(ap, first);
	argc = argv_of(1, first, ap);
	va_end(ap);
	err[0] = '\0';
	return overhead_parse(argc, args, o, err, sizeof(err));
}

/* `vfio-vmm run ARGS... --device 0000:3e:00.0 --vsock cid=42` into c, then QEMU's line. */
static void build(const char *first, ...)
{
	va_list ap;
	int argc;

	args[0] = "vfio-vmm";
	args[1] = "run";
	va_start(ap, first);
	argc = argv_of(2, first, ap);
	va_end(ap);
	args[argc++] = "--device";
	args[argc++] = "0000:3e:00.0";
	args[argc++] = "--vsock";
	args[argc++] = "cid=42";
	args[argc] = NULL;
	memset(&c, 0, sizeof(c));
	cr_assert_eq(cli_parse(argc, args, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qemu_build_argv(&q, "/opt/qemu/qemu", &c, "0000:3e:00.0", 42, err,
				     sizeof(err)), 0, "%s", err);
	cr_assert_null(q.argv[q.argc]);
}

/* The argument after flag's n-th occurrence (0: first), or NULL. */
static const char *after(const char *flag, unsigned int nth)
{
	for (unsigned int i = 1; i + 1 < q.argc; i++)
		if (!strcmp(q.argv[i], flag) && nth-- == 0)
			return q.argv[i + 1];
	return NULL;
}

/* Is "flag value" on the line? */
static bool has(const char *flag, const char *value)
{
	for (unsigned int i = 1; i + 1 < q.argc; i++)
		if (!strcmp(q.argv[i], flag) && !strcmp(q.argv[i + 1], value))
			return true;
	return false;
}

Test(bench_qemu, option_parsed)
{
	struct overhead_opts o;

	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--kernel", "k", "--disk", "path=r", "--",
			   "x", NULL), 0, "%s", err);
	cr_assert_null(o.qemu, "QEMU's column without --qemu");
	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--qemu", "qemu-system-x86_64", "--kernel",
			   "k", "--disk", "path=r", "--", "x", NULL), 0, "%s", err);
	cr_assert_str_eq(o.qemu, "qemu-system-x86_64");
	cr_assert_eq(o.nr_vm_args, 4, "--qemu went to the VM's options");
	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--qemu", "", "--kernel", "k", "--disk",
			   "path=r", "--", "x", NULL), -1);
	cr_assert(strstr(err, "--qemu qemu-system-x86_64"), "%s", err);
	cr_assert_eq(parse(&o, "--device", "3e:00.0", "--kernel", "k", "--disk", "path=r",
			   "--qemu", NULL), -1);
	cr_assert(strstr(err, "needs a value"), "%s", err);
}

Test(bench_qemu, same_guest_as_run)
{
	uint8_t mac[6];
	char want[64];

	build("--kernel", KERNEL, "--initrd", INITRD, "--cmdline",
	      "console=ttyS0 root=/dev/vda rw", "--memory", "1G", "--cpus", "2", "--disk",
	      "path=/img/root.img,readonly=on,direct=on", "--disk", "path=data.img,serial=D1,queues=3",
	      "--net", "tap=tb0", NULL);
	cr_assert_str_eq(q.argv[0], "/opt/qemu/qemu");
	cr_assert(has("-machine", "q35,accel=kvm"));
	cr_assert(has("-cpu", "host"));
	cr_assert(has("-smp", "2"));
	cr_assert(has("-m", "1024M"));
	cr_assert(has("-kernel", KERNEL));
	cr_assert(has("-initrd", INITRD));
	cr_assert(has("-append", "console=ttyS0 root=/dev/vda rw"));
	cr_assert(has("-serial", "stdio"), "the console must go where vfio-vmm's goes");
	cr_assert_str_eq(after("-drive", 0),
			 "file=/img/root.img,if=none,id=disk0,format=raw,readonly=on,cache=none");
	cr_assert_str_eq(after("-drive", 1), "file=data.img,if=none,id=disk1,format=raw");
	cr_assert(has("-device", "virtio-blk-pci,drive=disk0"));
	cr_assert(has("-device", "virtio-blk-pci,drive=disk1,serial=D1,num-queues=3"));
	cr_assert_str_eq(after("-netdev", 0),
			 "tap,id=net0,ifname=tb0,script=no,downscript=no,vhost=on,queues=1");
	net_mac_default("tb0", mac);
	snprintf(want, sizeof(want), "virtio-net-pci,netdev=net0,mac=%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	cr_assert(has("-device", want), "no '%s'", want);
	cr_assert(has("-device", "vfio-pci,host=0000:3e:00.0"));
	cr_assert(has("-device", "vhost-vsock-pci,guest-cid=42"));
	cr_assert_null(after("-object", 0), "a memory backend without --hugepages");
}

Test(bench_qemu, defaults_are_runs)
{
	build("--kernel", KERNEL, "--disk", "path=r.img", NULL);
	cr_assert(has("-m", "256M"), "vfio-vmm's default memory");
	cr_assert(has("-smp", "1"));
	cr_assert(has("-append", "console=ttyS0"), "vfio-vmm's default command line");
	cr_assert_null(after("-initrd", 0));
	cr_assert_null(after("-netdev", 0));
}

Test(bench_qemu, hugepages_and_queues)
{
	build("--kernel", KERNEL, "--disk", "path=r.img", "--memory", "2G", "--hugepages",
	      "1G", "--net", "tap=tb1,mac=52:54:00:12:34:56,queues=2", NULL);
	cr_assert(has("-object", "memory-backend-memfd,id=ram,size=2048M,hugetlb=on,hugetlbsize=1G"));
	cr_assert(has("-machine", "memory-backend=ram"));
	cr_assert(has("-device", "virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,mq=on,vectors=6"));
	cr_assert(strstr(after("-netdev", 0), ",queues=2"));
}

Test(bench_qemu, commas_escaped_and_overflow_refused)
{
	memset(&c, 0, sizeof(c));
	c.vm.ram_size = 256ull << 20;
	c.vm.nr_cpus = 1;
	c.vm.kernel = "vmlinux";
	c.nr_disks = 1;
	c.disks[0].path = "/img/a,b.img";
	cr_assert_eq(qemu_build_argv(&q, "qemu", &c, "0000:00:04.0", 3, err, sizeof(err)), 0);
	cr_assert_str_eq(after("-drive", 0), "file=/img/a,,b.img,if=none,id=disk0,format=raw");
	/* Eight disks with paths near PATH_MAX do not fit the buffer: refused, said why. */
	{
		static char longpath[4000];

		memset(longpath, 'p', sizeof(longpath) - 1);
		c.nr_disks = CLI_MAX_DISKS;
		for (unsigned int i = 0; i < CLI_MAX_DISKS; i++)
			c.disks[i].path = longpath;
		cr_assert_eq(qemu_build_argv(&q, "qemu", &c, "0000:00:04.0", 3, err, sizeof(err)),
			     -1);
		cr_assert(strstr(err, "QEMU command line is longer"), "%s", err);
	}
}

Test(bench_qemu, find_in_path_or_say_how)
{
	char dir[] = "/tmp/bench-qemu-XXXXXX", bin[512], out[512], *old;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/qemu-fake", dir);
	f = fopen(bin, "w");
	cr_assert_not_null(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(bin, 0755);
	old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", dir, 1);
	cr_assert_eq(qemu_find("qemu-fake", out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(out, bin);
	cr_assert_eq(qemu_find("qemu-missing", out, sizeof(out), err, sizeof(err)), -1);
	cr_assert(strstr(err, "not found in $PATH") && strstr(err, "apt-get install"), "%s", err);
	cr_assert_eq(qemu_find(bin, out, sizeof(out), err, sizeof(err)), 0);
	chmod(bin, 0644);
	cr_assert_eq(qemu_find(bin, out, sizeof(out), err, sizeof(err)), -1);
	cr_assert(strstr(err, "not an executable"), "%s", err);
	if (old)
		setenv("PATH", old, 1);
	free(old);
	unlink(bin);
	rmdir(dir);
}
