// SPDX-License-Identifier: MIT
/*
 * tb-hammer: runs in L2 Linux (static, in the L2 initramfs). Two processes,
 * one pinned to each vCPU, hammer one assigned PCI function at once for a
 * while: one through its config space (every dword read; the command
 * register, cache line size, latency timer, BIST and interrupt line written
 * back; MSI-X enable toggled with the function masked), the other through
 * its MSI-X table and PBA in the BAR (entries rewritten with masked garbage
 * and read back, the PBA read). So vfio-vmm's config and MSI-X emulation run
 * on two vCPU threads against each other and against the enable path.
 *
 *   tb-hammer BDF SECONDS
 *
 * The device must have no driver bound in L2 (the caller unbinds it and
 * binds it again after). Prints one line: the operations each side made,
 * and exits 0 when both sides ran and found config space still sane (the
 * vendor ID readable, the MSI-X table holding the last value written).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PCI_CAP_ID_MSIX		0x11
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000

static char dir[256];

static int die(const char *what)
{
	fprintf(stderr, "tb-hammer: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t cfg_read(int fd, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	if (pread(fd, &v, len, off) != (ssize_t)len)
		die("config read");
	return v;
}

static void cfg_write(int fd, unsigned int off, uint32_t v, unsigned int len)
{
	if (pwrite(fd, &v, len, off) != (ssize_t)len)
		die("config write");
}

/* The MSI-X capability's offset in config space, 0 when there is none. */
static unsigned int find_msix(int fd)
{
	unsigned int pos = cfg_read(fd, 0x34, 1) & 0xfc;

	for (int n = 0; pos && n < 48; n++) {
		if ((cfg_read(fd, pos, 1)) == PCI_CAP_ID_MSIX)
			return pos;
		pos = cfg_read(fd, pos + 1, 1) & 0xfc;
	}
	return 0;
}

static unsigned long long config_side(int fd, unsigned int msix, double end)
{
	unsigned long long ops = 0;
	uint16_t cmd = (uint16_t)cfg_read(fd, 0x04, 2);
	uint16_t ctrl = (uint16_t)cfg_read(fd, msix + 2, 2) & ~MSIX_CTRL_ENABLE;

	pin(0);
	while (now() < end) {
		for (unsigned int off = 0; off < 256; off += 4, ops++)
			cfg_read(fd, off, 4);
		cfg_write(fd, 0x04, cmd, 2);
		cfg_write(fd, 0x0c, 0x10, 1);
		cfg_write(fd, 0x0d, 0x40, 1);
		cfg_write(fd, 0x0f, 0x00, 1);	/* BIST: must never reach the device */
		cfg_write(fd, 0x3c, 0x0b, 1);
		/* MSI-X on and off again with every vector masked by the function. */
		cfg_write(fd, msix + 2, ctrl | MSIX_CTRL_MASKALL | MSIX_CTRL_ENABLE, 2);
		cfg_write(fd, msix + 2, ctrl | MSIX_CTRL_MASKALL, 2);
		ops += 7;
	}
	cfg_write(fd, msix + 2, ctrl, 2);
	return ops;
}

/* BAR n's length from the function's "resource" file (start end flags per line). */
static off_t bar_size(unsigned int n)
{
	unsigned long long start, end, flags;
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	if (!f)
		die(path);
	for (unsigned int i = 0; i <= n; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3) {
			fprintf(stderr, "tb-hammer: %s has no line for BAR %u\n", path, n);
			exit(2);
		}
	fclose(f);
	if (end <= start) {
		fprintf(stderr, "tb-hammer: BAR %u is not assigned\n", n);
		exit(2);
	}
	return (off_t)(end - start + 1);
}

static unsigned long long table_side(int fd, unsigned int msix, double end, int *bad)
{
	uint32_t tbl = cfg_read(fd, msix + 4, 4), pba = cfg_read(fd, msix + 8, 4);
	unsigned int nr = (cfg_read(fd, msix + 2, 2) & 0x7ff) + 1, bir = tbl & 7;
	char path[300];
	unsigned long long ops = 0;
	volatile uint32_t *t, *p;
	uint32_t x = 0x12345678;
	uint8_t *bar;
	size_t len;
	int rfd;
	off_t sz;

	pin(1);
	snprintf(path, sizeof(path), "%s/resource%u", dir, bir);
	rfd = open(path, O_RDWR | O_SYNC);
	if (rfd < 0)
		die(path);
	/* lseek on a sysfs resource file says 0: the size is in "resource". */
	sz = bar_size(bir);
	len = (size_t)sz;
	bar = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	if (bar == MAP_FAILED) {
		fprintf(stderr, "tb-hammer: mmap %s (%zu bytes): %s\n", path, len, strerror(errno));
		exit(2);
	}
	t = (volatile uint32_t *)(bar + (tbl & ~7u));
	p = (volatile uint32_t *)(bar + (pba & ~7u));
	if ((pba & 7) != bir)
		p = NULL;
	while (now() < end) {
		for (unsigned int i = 0; i < nr; i++) {
			volatile uint32_t *e = t + 4 * i;

			x = x * 1103515245u + 12345u;
			e[3] = 1;			/* masked first */
			e[0] = 0xfee00000u | (x & 0xff000);	/* a valid-looking message */
			e[1] = 0;
			e[2] = x >> 16;
			if (e[2] != x >> 16 || !(e[3] & 1))
				(*bad)++;
			if (p)
				(void)p[i / 32];
			ops += 7;
		}
	}
	munmap(bar, len);
	close(rfd);
	return ops;
}

int main(int argc, char **argv)
{
	unsigned long long ops[2];
	int fd, pfd[2], status, bad = 0;
	unsigned int msix;
	double end;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: tb-hammer BDF SECONDS\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", argv[1]);
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/config", dir);
		fd = open(path, O_RDWR);
		if (fd < 0)
			die(path);
	}
	msix = find_msix(fd);
	if (!msix) {
		fprintf(stderr, "tb-hammer: %s has no MSI-X capability\n", argv[1]);
		return 2;
	}
	end = now() + atof(argv[2]);
	if (pipe(pfd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int b = 0;
		unsigned long long n = table_side(fd, msix, end, &b);

		if (write(pfd[1], &n, sizeof(n)) != sizeof(n) || write(pfd[1], &b, sizeof(b)) != sizeof(b))
			_exit(3);
		_exit(0);
	}
	ops[0] = config_side(fd, msix, end);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return fprintf(stderr, "tb-hammer: the MSI-X side failed\n"), 1;
	if (read(pfd[0], &ops[1], sizeof(ops[1])) != sizeof(ops[1]) ||
	    read(pfd[0], &bad, sizeof(bad)) != sizeof(bad))
		die("reading the MSI-X side's count");
	printf("tb-hammer: %llu config accesses on cpu 0, %llu MSI-X table/PBA accesses on cpu 1, "
	       "%d table read-backs wrong, vendor %04x\n", ops[0], ops[1], bad, cfg_read(fd, 0, 2));
	return bad || cfg_read(fd, 0, 2) == 0xffff || !ops[0] || !ops[1];
}
