// SPDX-License-Identifier: MIT
/*
 * iommu.c driven through a fake backend that behaves like type1v2 (no
 * overlapping maps, unmaps only whole mappings): attach order, all-or-
 * nothing mapping, unmap on exit, extra ranges, RLIMIT_MEMLOCK handling.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "iommu/iommu.h"
#include "test_iommu_fakesys.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define MAX_LIVE 8192

static struct {
	int attaches, infos, map_calls, unmap_calls, fail_map_at;
	unsigned int map_delay_us;
	uint32_t dma_avail;	/* 0: the testbed's 65535 */
	char attached[4][64];
	struct iommu_mapping live[MAX_LIVE];
	int nr_live;
	uint64_t last_unmapped;
} fake;

static int fake_open(struct iommu *io)
{
	io->priv = &fake;
	return 0;
}

static int fake_attach(struct iommu *io, const struct iommu_dev_id *id)
{
	(void)io;
	snprintf(fake.attached[fake.attaches++ % 4], 64, "%s", id->name);
	return open("/dev/null", O_RDONLY);
}

static int fake_get_info(struct iommu *io, struct iommu_info *info)
{
	(void)io;
	fake.infos++;
	*info = (struct iommu_info){ .pgsizes = 0x40201000, .nr_ranges = 2,
		.ranges = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffffULL } },
		.has_dma_avail = true, .dma_avail = fake.dma_avail ? fake.dma_avail : 65535 };
	return 0;
}

static int fake_map(struct iommu *io, uint64_t iova, void *hva, uint64_t size, bool writable)
{
	(void)io;
	cr_assert(writable);
	if (++fake.map_calls == fake.fail_map_at)
		return -ENOMEM;
	if (fake.map_delay_us)
		usleep(fake.map_delay_us);
	for (int i = 0; i < fake.nr_live; i++)
		cr_assert(iova + size <= fake.live[i].iova ||
			  iova >= fake.live[i].iova + fake.live[i].size, "overlap at %#llx",
			  (unsigned long long)iova);
	cr_assert_lt(fake.nr_live, MAX_LIVE);
	fake.live[fake.nr_live++] = (struct iommu_mapping){ iova, size, hva, false };
	return 0;
}

static int fake_unmap(struct iommu *io, uint64_t iova, uint64_t size)
{
	(void)io;
	fake.unmap_calls++;
	for (int i = 0; i < fake.nr_live; i++) {
		if (fake.live[i].iova == iova && fake.live[i].size == size) {
			fake.live[i] = fake.live[--fake.nr_live];
			fake.last_unmapped = iova;
			return 0;
		}
	}
	return -EINVAL;	/* type1v2 never splits a mapping */
}

static void fake_close(struct iommu *io)
{
	io->priv = NULL;
}

static const struct iommu_backend_ops fake_ops = {
	.name = "fake", .open = fake_open, .attach = fake_attach, .get_info = fake_get_info,
	.map = fake_map, .unmap = fake_unmap, .close = fake_close,
};

static void fini(void)
{
	fakesys_cleanup();
}

TestSuite(iommu_map, .fini = fini);

static const struct iommu_ram ram4g[2] = {
	{ 0, (void *)0x7f0000000000ULL, 3 * GiB },
	{ 4 * GiB, (void *)0x7f00c0000000ULL, GiB },
};

/* A VM with edu-like devices in groups 1 and 2, ready to map. */
static void setup(struct iommu *io, struct iommu_device *devs)
{
	const char *args[] = { "00:01.0", "00:02.0" };

	memset(&fake, 0, sizeof(fake));
	fakesys_add_pci("0000:00:01.0", 1, "vfio-pci", NULL);
	fakesys_add_pci("0000:00:02.0", 2, "vfio-pci", NULL);
	cr_assert_eq(iommu_open(io, &fake_ops, fakesys_root()), 0);
	cr_assert_eq(iommu_add_devices(io, args, 2, devs), 0);
}

Test(iommu_map, devices_attach_and_info_read_once)
{
	struct iommu_device devs[2];
	struct iommu io;

	setup(&io, devs);
	cr_assert_eq(fake.attaches, 2);
	cr_assert_str_eq(fake.attached[0], "0000:00:01.0");
	cr_assert_str_eq(fake.attached[1], "0000:00:02.0");
	cr_assert_eq(fake.infos, 1);
	cr_assert_geq(devs[0].fd, 0);
	cr_assert_geq(devs[1].fd, 0);
	cr_assert_eq(devs[1].id.group, 2);
	cr_assert(io.have_info);
	iommu_close(&io);
}

Test(iommu_map, nothing_attached_when_a_group_is_not_viable)
{
	const char *args[] = { "00:01.0", "00:1f.2" };
	struct iommu_device devs[2];
	struct iommu io;

	memset(&fake, 0, sizeof(fake));
	fakesys_add_pci("0000:00:01.0", 1, "vfio-pci", NULL);
	fakesys_add_pci("0000:00:1f.2", 5, "vfio-pci", NULL);
	fakesys_add_pci("0000:00:1f.0", 5, "lpc_ich", "0x060100");
	cr_assert_eq(iommu_open(&io, &fake_ops, fakesys_root()), 0);
	cr_assert_eq(iommu_add_devices(&io, args, 2, devs), -EBUSY);
	cr_assert_eq(fake.attaches, 0);

	args[1] = "0000:00:01.0";
	cr_assert_eq(iommu_add_devices(&io, args, 2, devs), -EINVAL, "the same device twice");
	cr_assert_eq(fake.attaches, 0);
	iommu_close(&io);
}

Test(iommu_map, ram_mapped_in_chunks_and_unmapped_on_close)
{
	struct iommu_device devs[2];
	struct iommu io;

	setup(&io, devs);
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), 0);
	cr_assert_eq(fake.map_calls, 4, "one MAP_DMA per GiB, not per 2 MiB page");
	cr_assert_eq(fake.nr_live, 4);
	cr_assert_eq(io.ram_mapped, 4 * GiB);
	/* IOVA = guest physical, host address follows. */
	for (int i = 0; i < fake.nr_live; i++) {
		struct iommu_mapping *m = &fake.live[i];
		const struct iommu_ram *r = m->iova < 4 * GiB ? &ram4g[0] : &ram4g[1];

		cr_assert_eq((uintptr_t)m->hva - (uintptr_t)r->hva, m->iova - r->gpa);
		cr_assert_eq(m->size, GiB);
	}
	iommu_close(&io);
	cr_assert_eq(fake.nr_live, 0);
	cr_assert_eq(fake.unmap_calls, 4);
	cr_assert_eq(fake.last_unmapped, 0, "newest first, so IOVA 0 goes last");
}

Test(iommu_map, failure_undoes_everything_of_that_call)
{
	struct iommu_device devs[2];
	struct iommu io;

	setup(&io, devs);
	cr_assert_eq(iommu_map_extra(&io, 0x8000000000ULL - GiB, (void *)0x7e0000000000ULL, GiB),
		     0);
	fake.fail_map_at = 4;	/* the extra range, then RAM's third GiB */
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), -ENOMEM);
	cr_assert_eq(fake.nr_live, 1, "only the earlier extra range stays");
	cr_assert_eq(fake.live[0].iova, 0x8000000000ULL - GiB);
	cr_assert_eq(io.ram_mapped, 0);
	cr_assert_eq(io.nr_maps, 1);
	cr_assert_eq(fake.unmap_calls, 2);
	iommu_close(&io);
	cr_assert_eq(fake.nr_live, 0);
}

Test(iommu_map, bad_layout_maps_nothing)
{
	struct iommu_ram high = { 4 * GiB, (void *)0x7f0000000000ULL, 512 * GiB };
	struct iommu_device devs[2];
	struct iommu io;

	setup(&io, devs);
	cr_assert_eq(iommu_map_ram(&io, &high, 1, 2 * MiB), -ERANGE);
	cr_assert_eq(fake.map_calls, 0);
	iommu_close(&io);
}

Test(iommu_map, map_needs_an_attached_device)
{
	struct iommu io;

	memset(&fake, 0, sizeof(fake));
	cr_assert_eq(iommu_open(&io, &fake_ops, "/nonexistent"), 0);
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), -EINVAL);
	cr_assert_eq(fake.map_calls, 0);
	iommu_close(&io);
}

Test(iommu_map, extra_ranges)
{
	struct iommu_device devs[2];
	void *bar = (void *)0x7e0000000000ULL;
	struct iommu io;

	setup(&io, devs);
	cr_assert_eq(iommu_map_extra(&io, 0xfee00000, bar, 4096), -ERANGE);
	cr_assert_eq(iommu_map_extra(&io, 0x1000000000ULL + 4, bar, 4096), -EINVAL);
	cr_assert_eq(fake.map_calls, 0);
	cr_assert_eq(iommu_map_extra(&io, 0x1000000000ULL, bar, 16 * MiB), 0);
	cr_assert_eq(iommu_map_extra(&io, 0x1001000000ULL, bar, MiB), 0);
	cr_assert_eq(fake.nr_live, 2);
	/* Overlaps are refused before the kernel sees them. */
	cr_assert_eq(iommu_map_extra(&io, 0x1000fff000ULL, bar, 8192), -EEXIST);
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), 0);
	cr_assert_eq(iommu_map_extra(&io, 3 * GiB - 4096, bar, 4096), -EEXIST);
	cr_assert_eq(fake.map_calls, 2 + 4);
	iommu_unmap_all(&io);
	cr_assert_eq(iommu_map_extra(&io, 0x1000000000ULL, bar, 16 * MiB), 0);
	cr_assert_eq(iommu_map_extra(&io, 0x1001000000ULL, bar, MiB), 0);
	cr_assert_eq(iommu_unmap_extra(&io, 0x1000000000ULL), 0);
	cr_assert_eq(fake.nr_live, 1);
	cr_assert_eq(fake.live[0].iova, 0x1001000000ULL);
	cr_assert_eq(iommu_unmap_extra(&io, 0x1000000000ULL), -ENOENT);
	iommu_close(&io);
	cr_assert_eq(fake.nr_live, 0);
}

/* Become an ordinary process as far as locked memory goes. */
static void drop_ipc_lock(uint64_t soft, uint64_t hard)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { soft, hard };

	/* Raising the hard limit needs CAP_SYS_RESOURCE, which root keeps. */
	cr_assert_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	cr_assert_eq(syscall(SYS_capget, &h, d), 0);
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	cr_assert_eq(syscall(SYS_capset, &h, d), 0);
}

Test(iommu_map, memlock_too_low_maps_nothing)
{
	struct iommu_device devs[2];
	struct iommu io;

	setup(&io, devs);
	drop_ipc_lock(64 << 10, 64 << 10);
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), -ENOMEM);
	cr_assert_eq(fake.map_calls, 0);
	iommu_close(&io);
}

Test(iommu_map, memlock_soft_limit_raised_to_hard)
{
	struct iommu_ram ram = { 0, (void *)0x7f0000000000ULL, 4 * MiB };
	struct iommu_device devs[2];
	struct rlimit rl;
	struct iommu io;

	/* Keep the hard limit we have: raising it may need CAP_SYS_RESOURCE. */
	cr_assert_eq(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 4 * MiB)
		cr_skip_test("hard RLIMIT_MEMLOCK below 4 MiB");
	setup(&io, devs);
	drop_ipc_lock(64 << 10, rl.rlim_max);
	cr_assert_eq(iommu_map_ram(&io, &ram, 1, 2 * MiB), 0);
	cr_assert_eq(fake.nr_live, 1);
	cr_assert_eq(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
	cr_assert_eq(rl.rlim_cur, rl.rlim_max, "soft limit raised to the hard one");
	iommu_close(&io);
}

Test(iommu_map, progress_line_on_a_terminal)
{
	struct iommu_device devs[2];
	char out[4096], *p, *last = NULL;
	int master, slave, saved, lines = 0;
	struct iommu io;
	ssize_t n;

	setup(&io, devs);
	cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	saved = dup(STDERR_FILENO);
	dup2(slave, STDERR_FILENO);
	fake.map_delay_us = 150000;	/* 4 chunks of a GiB: 0.6 s, a redraw per chunk */
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), 0);
	dup2(saved, STDERR_FILENO);
	/* A pty hands its buffer over in pieces: drain it. */
	fcntl(master, F_SETFL, O_NONBLOCK);
	for (size_t got = 0;; got += (size_t)n) {
		n = read(master, out + got, sizeof(out) - 1 - got);
		if (n <= 0) {
			out[got] = '\0';
			cr_assert_gt(got, 0);
			break;
		}
	}
	for (p = out; (p = strstr(p, "\rmapping guest RAM for DMA: ")); p++, lines++)
		last = p;
	cr_assert_geq(lines, 2, "redrawn while mapping: %s", out);
	cr_assert(!strncmp(last, "\rmapping guest RAM for DMA: 100% (4.0 of 4.0 GiB)", 49), "%s", last);
	cr_assert(strstr(out, "\r\033[K"), "the line is cleared at the end");
	cr_assert(strstr(out, "mapped 4.0 GiB of guest RAM for DMA in "), "%s", out);
	iommu_close(&io);
}

Test(iommu_map, entries_already_used_shrink_the_ram_budget)
{
	const char *args[] = { "00:01.0" };
	struct iommu_device dev;
	struct iommu io;

	memset(&fake, 0, sizeof(fake));
	fake.dma_avail = 8;	/* budget 8 - 2 kept for extra ranges = 6 */
	fakesys_add_pci("0000:00:01.0", 1, "vfio-pci", NULL);
	cr_assert_eq(iommu_open(&io, &fake_ops, fakesys_root()), 0);
	cr_assert_eq(iommu_add_devices(&io, args, 1, &dev), 0);
	for (uint64_t i = 0; i < 3; i++)
		cr_assert_eq(iommu_map_extra(&io, 0x1000000000ULL + i * MiB,
					     (void *)0x7e0000000000ULL, MiB), 0);
	/* 3 entries left: 4 x 1 GiB do not fit, 2 + 1 + 1 GiB do. */
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), 0);
	cr_assert_eq(fake.map_calls, 3 + 3);
	cr_assert_eq(fake.live[3].size, 2 * GiB);
	iommu_close(&io);
	cr_assert_eq(fake.nr_live, 0);
}

/* stderr of fn(arg) while it runs, in buf. */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t len)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	cr_assert(f);
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

struct extra_call {
	struct iommu *io;
	uint64_t iova, size;
	int ret;
};

static void call_map_extra(void *arg)
{
	struct extra_call *c = arg;

	c->ret = iommu_map_extra(c->io, c->iova, (void *)0x7e0000000000ULL, c->size);
}

/* 3 GiB starting half a GiB past a GiB boundary: 512 MiB, 1 GiB, 1 GiB, 512 MiB. */
#define XIOVA	(0x1000000000ULL + 512 * MiB)

Test(iommu_map, extra_range_in_iova_aligned_gib_chunks)
{
	static const uint64_t want[4] = { 512 * MiB, GiB, GiB, 512 * MiB };
	struct iommu_device devs[2];
	struct iommu io;
	uint64_t off = 0;

	setup(&io, devs);
	cr_assert_eq(iommu_map_extra(&io, XIOVA, (void *)0x7e0000000000ULL, 3 * GiB), 0);
	cr_assert_eq(fake.map_calls, 4);
	cr_assert_eq(fake.nr_live, 4);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(fake.live[i].iova, XIOVA + off);
		cr_assert_eq(fake.live[i].size, want[i], "chunk %d", i);
		cr_assert_eq((uintptr_t)fake.live[i].hva, 0x7e0000000000ULL + off);
		cr_assert(i == 0 || (fake.live[i].iova & (GiB - 1)) == 0, "chunk %d starts a GiB", i);
		off += want[i];
	}
	/* A BAR of its own size as its neighbour stays apart from it. */
	cr_assert_eq(iommu_map_extra(&io, XIOVA + 3 * GiB, (void *)0x7e0000000000ULL, 16 * MiB), 0);
	cr_assert_eq(iommu_unmap_extra(&io, XIOVA), 0);
	cr_assert_eq(fake.unmap_calls, 4, "every chunk unmapped");
	cr_assert_eq(fake.nr_live, 1);
	cr_assert_eq(fake.live[0].iova, XIOVA + 3 * GiB);
	cr_assert_eq(iommu_unmap_extra(&io, XIOVA), -ENOENT);
	iommu_close(&io);
	cr_assert_eq(fake.nr_live, 0);
}

Test(iommu_map, failing_chunk_in_the_middle_leaves_nothing_of_the_range)
{
	struct iommu_device devs[2];
	struct iommu io;

	setup(&io, devs);
	cr_assert_eq(iommu_map_extra(&io, 0x2000000000ULL, (void *)0x7e0000000000ULL, 16 * MiB), 0);
	fake.fail_map_at = 4;	/* the third chunk of the next range */
	cr_assert_eq(iommu_map_extra(&io, XIOVA, (void *)0x7e0000000000ULL, 3 * GiB), -ENOMEM);
	cr_assert_eq(fake.unmap_calls, 2, "the two chunks mapped are unmapped again");
	cr_assert_eq(fake.nr_live, 1, "only the earlier range stays");
	cr_assert_eq(fake.live[0].iova, 0x2000000000ULL);
	cr_assert_eq(io.nr_maps, 1);
	/* Nothing left behind: the same range maps whole afterwards. */
	fake.fail_map_at = 0;
	cr_assert_eq(iommu_map_extra(&io, XIOVA, (void *)0x7e0000000000ULL, 3 * GiB), 0);
	cr_assert_eq(fake.nr_live, 5);
	iommu_close(&io);
	cr_assert_eq(fake.nr_live, 0);
}

static int stop_after, stop_asked;

static bool stop_at(void *arg)
{
	cr_assert_eq(arg, &stop_after);
	return ++stop_asked > stop_after;
}

Test(iommu_map, stop_between_chunks_unmaps_what_was_mapped)
{
	struct iommu_device devs[2];
	struct iommu io;
	char err[4096];
	struct extra_call c = { &io, XIOVA, 3 * GiB, 0 };

	setup(&io, devs);
	stop_after = 2;
	stop_asked = 0;
	iommu_set_stop(&io, stop_at, &stop_after);
	capture_stderr(call_map_extra, &c, err, sizeof(err));
	cr_assert_eq(c.ret, -EINTR);
	cr_assert_eq(stop_asked, 3, "asked before each chunk");
	cr_assert_eq(fake.map_calls, 2);
	cr_assert_eq(fake.unmap_calls, 2);
	cr_assert_eq(fake.nr_live, 0);
	cr_assert_eq(io.nr_maps, 0);
	cr_assert(strstr(err, "stopped mapping a 3.0 GiB BAR for peer DMA at IOVA 0x1020000000 "
			 "after 1.5 GiB in 2 MAP_DMA calls; unmapped again"), "%s", err);
	/* Guest RAM too: between its MAP_DMA calls, all or nothing. */
	stop_after = 2;
	stop_asked = 0;
	cr_assert_eq(iommu_map_ram(&io, ram4g, 2, 2 * MiB), -EINTR);
	cr_assert_eq(stop_asked, 3, "asked before each GiB");
	cr_assert_eq(fake.map_calls, 2 + 2);
	cr_assert_eq(fake.nr_live, 0);
	cr_assert_eq(io.ram_mapped, 0);
	iommu_set_stop(&io, NULL, NULL);
	cr_assert_eq(iommu_map_extra(&io, XIOVA, (void *)0x7e0000000000ULL, 3 * GiB), 0);
	iommu_close(&io);
}

Test(iommu_map, extra_progress_only_when_slow)
{
	struct iommu_device devs[2];
	struct iommu io;
	char err[4096];
	struct extra_call c = { &io, 0x1000000000ULL, 16 * MiB, 0 };

	setup(&io, devs);
	capture_stderr(call_map_extra, &c, err, sizeof(err));
	cr_assert_eq(c.ret, 0);
	cr_assert_str_empty(err, "a fast 16 MiB BAR prints nothing: %s", err);
	io.slow_ns = 0;		/* everything counts as slow */
	c.iova = XIOVA;
	c.size = 3 * GiB;
	capture_stderr(call_map_extra, &c, err, sizeof(err));
	cr_assert_eq(c.ret, 0);
	/* Not a terminal: one line, then one every 10 s; the last chunk prints none. */
	cr_assert(strstr(err, "vfio-vmm: mapping a BAR for peer DMA at IOVA 0x1020000000: "
			 "0.5 of 3.0 GiB after 0 s\n"), "%s", err);
	cr_assert_null(strstr(err, "1.5 of 3.0"), "%s", err);
	cr_assert(strstr(err, "vfio-vmm: mapped a 3.0 GiB BAR for peer DMA at IOVA 0x1020000000 in "),
		  "%s", err);
	cr_assert(strstr(err, "(4 MAP_DMA calls, the longest "), "%s", err);
	iommu_close(&io);
}
