// SPDX-License-Identifier: MIT
/*
 * QEMU's command line for bench overhead's third column (bench_qemu.h).
 * Everything comes from the struct cli_opts `run` would use, so a default
 * (memory, vCPUs, the disk's queues, a tap's MAC) is the same on both sides.
 */
#include "vmm/bench_qemu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/net.h"
#include "util/errbuf.h"

/* Appends one argument built from fmt; false when argv or buf is full. */
static bool add(struct qemu_cmd *q, const char *fmt, ...)
{
	size_t room = sizeof(q->buf) - q->used;
	va_list ap;
	int n;

	if (q->argc >= QEMU_MAX_ARGS)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(q->buf + q->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return false;
	q->argv[q->argc++] = q->buf + q->used;
	q->argv[q->argc] = NULL;
	q->used += (size_t)n + 1;
	return true;
}

/* s with every ',' doubled, QEMU's escape inside an option list, into the buffer. */
static const char *escaped(struct qemu_cmd *q, const char *s)
{
	char *start = q->buf + q->used, *p = start;
	char *end = q->buf + sizeof(q->buf) - 1;

	for (; *s; s++) {
		if (p + (*s == ',' ? 2 : 1) > end)
			return NULL;
		if (*s == ',')
			*p++ = ',';
		*p++ = *s;
	}
	*p++ = '\0';
	q->used += (size_t)(p - start);
	return start;
}

static bool add_disk(struct qemu_cmd *q, unsigned int i, const struct disk_opts *d)
{
	const char *path = escaped(q, d->path);
	const char *serial = d->serial ? escaped(q, d->serial) : "";
	char queues[32] = "";

	if (!path || !serial)
		return false;
	if (d->queues)
		snprintf(queues, sizeof(queues), ",num-queues=%u", d->queues);
	return add(q, "-drive") &&
	       add(q, "file=%s,if=none,id=disk%u,format=raw%s%s", path, i,
		   d->readonly ? ",readonly=on" : "", d->direct ? ",cache=none" : "") &&
	       add(q, "-device") &&
	       add(q, "virtio-blk-pci,drive=disk%u%s%s%s", i, d->serial ? ",serial=" : "", serial,
		   queues);
}

static bool add_net(struct qemu_cmd *q, unsigned int i, const struct net_opts *n)
{
	unsigned int pairs = n->queues ? n->queues : 1;
	uint8_t mac[6];
	char mq[48] = "";

	if (n->mac_set)
		memcpy(mac, n->mac, sizeof(mac));
	else
		net_mac_default(n->tap, mac);
	if (pairs > 1)
		snprintf(mq, sizeof(mq), ",mq=on,vectors=%u", 2 * pairs + 2);
	return add(q, "-netdev") &&
	       add(q, "tap,id=net%u,ifname=%s,script=no,downscript=no,vhost=on,queues=%u", i,
		   n->tap, pairs) &&
	       add(q, "-device") &&
	       add(q, "virtio-net-pci,netdev=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x%s", i, mac[0],
		   mac[1], mac[2], mac[3], mac[4], mac[5], mq);
}

int qemu_build_argv(struct qemu_cmd *q, const char *qemu, const struct cli_opts *c,
		    const char *bdf, unsigned int cid, char *err, size_t errlen)
{
	const struct vm_config *vm = &c->vm;
	uint64_t mib = vm->ram_size >> 20;
	bool ok;

	q->argc = 0;
	q->used = 0;
	q->argv[0] = NULL;
	if (!vm->kernel)
		return errf(err, errlen, "bench overhead: the QEMU column needs --kernel");
	if (vm->hugepage_size && vm->hugepage_size != (2ull << 20) &&
	    vm->hugepage_size != (1ull << 30))
		return errf(err, errlen, "bench overhead: --hugepages must be 2M or 1G for QEMU");
	ok = add(q, "%s", qemu) &&
	     add(q, "-machine") && add(q, "q35,accel=kvm") &&
	     add(q, "-cpu") && add(q, "host") &&
	     add(q, "-smp") && add(q, "%u", vm->nr_cpus ? vm->nr_cpus : 1) &&
	     add(q, "-m") && add(q, "%lluM", (unsigned long long)mib) &&
	     add(q, "-nodefaults") && add(q, "-no-user-config") && add(q, "-no-reboot") &&
	     add(q, "-display") && add(q, "none") &&
	     add(q, "-serial") && add(q, "stdio") &&
	     add(q, "-kernel") && add(q, "%s", vm->kernel);
	if (ok && vm->hugepage_size)
		ok = add(q, "-object") &&
		     add(q, "memory-backend-memfd,id=ram,size=%lluM,hugetlb=on,hugetlbsize=%s",
			 (unsigned long long)mib, vm->hugepage_size == (1ull << 30) ? "1G" : "2M") &&
		     add(q, "-machine") && add(q, "memory-backend=ram");
	if (ok && vm->initrd)
		ok = add(q, "-initrd") && add(q, "%s", vm->initrd);
	if (ok && vm->cmdline)
		ok = add(q, "-append") && add(q, "%s", vm->cmdline);
	for (unsigned int i = 0; ok && i < c->nr_disks; i++)
		ok = add_disk(q, i, &c->disks[i]);
	for (unsigned int i = 0; ok && i < c->nr_nets; i++)
		ok = add_net(q, i, &c->nets[i]);
	ok = ok && add(q, "-device") && add(q, "vfio-pci,host=%s", bdf) &&
	     add(q, "-device") && add(q, "vhost-vsock-pci,guest-cid=%u", cid);
	if (!ok)
		return errf(err, errlen, "bench overhead: the QEMU command line is longer than %u "
			    "arguments or %u bytes; use fewer or shorter VM options",
			    QEMU_MAX_ARGS, QEMU_ARGS_BUF);
	return 0;
}

int qemu_find(const char *qemu, char *out, size_t len, char *err, size_t errlen)
{
	const char *path = getenv("PATH"), *p, *colon;

	if (!qemu[0])
		return errf(err, errlen, "bench overhead: --qemu needs QEMU's binary, e.g. --qemu "
			    "qemu-system-x86_64");
	if (strchr(qemu, '/')) {
		if (access(qemu, X_OK))
			return errf(err, errlen, "bench overhead: --qemu %s: not an executable "
				    "file; give the path of qemu-system-x86_64", qemu);
		snprintf(out, len, "%s", qemu);
		return 0;
	}
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = colon + 1) {
		size_t n;

		colon = strchr(p, ':');
		if (!colon)
			colon = p + strlen(p);
		n = (size_t)(colon - p);
		if (n && (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, qemu) < len &&
		    !access(out, X_OK))
			return 0;
		if (!*colon)
			break;
	}
	return errf(err, errlen, "bench overhead: --qemu %s: not found in $PATH; install QEMU "
		    "(apt-get install qemu-system-x86) or give its full path", qemu);
}
