// SPDX-License-Identifier: MIT
/*
 * The backend-independent half of the DMA address space: which devices
 * join it (sysfs.c decides whether they can), what gets mapped at which
 * IOVA (dma_plan.c decides how), and the bookkeeping that lets us undo
 * every mapping: on a failed start, on a BAR move, at exit. The backend
 * (type1.c) only turns these decisions into ioctls.
 */
#include "iommu/iommu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "iommu/dma_plan.h"
#include "iommu/sysfs.h"
#include "util/log.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int iommu_open(struct iommu *io, const struct iommu_backend_ops *ops, const char *sysfs_root)
{
	memset(io, 0, sizeof(*io));
	io->ops = ops;
	io->sysfs_root = sysfs_root ? sysfs_root : "/sys";
	io->vfio_dev_dir = "/dev/vfio";
	io->slow_ns = 1000000000ull;
	trace(LOG_IOMMU, "opening the %s backend", ops->name);
	return ops->open(io);
}

static int resolve_all(struct iommu *io, const char *const *args, int n, struct iommu_device *out)
{
	char why[1024];
	int ret;

	for (int i = 0; i < n; i++) {
		out[i].fd = -1;
		ret = iommu_parse_device(args[i], io->sysfs_root, &out[i].id, why, sizeof(why));
		if (!ret)
			ret = iommu_resolve_group(&out[i].id, why, sizeof(why));
		if (ret) {
			log_err("--device %s", why);
			return ret;
		}
		for (int j = 0; j < i; j++) {
			if (!strcmp(out[j].id.name, out[i].id.name)) {
				log_err("--device %s: given twice", out[i].id.name);
				return -EINVAL;
			}
		}
		trace(LOG_IOMMU, "%s: %s device in IOMMU group %d (%s)", args[i],
		      out[i].id.kind == IOMMU_DEV_PCI ? "PCI" : "mediated", out[i].id.group,
		      out[i].id.path);
	}
	return 0;
}

/* Every distinct group once; reports all non-viable groups, not just the first. */
static int check_groups(struct iommu *io, const struct iommu_device *devs, int n)
{
	char why[1024];
	int ret, err = 0;
	bool seen;

	for (int i = 0; i < n; i++) {
		seen = false;
		for (int j = 0; j < i; j++)
			seen |= devs[j].id.group == devs[i].id.group;
		if (seen)
			continue;
		ret = iommu_group_viable(io->sysfs_root, devs[i].id.group, why, sizeof(why));
		if (ret) {
			log_err("%s", why);
			err = err ? err : ret;
		}
	}
	return err;
}

static void trace_info(const struct iommu_info *info)
{
	trace(LOG_IOMMU, "IOMMU page sizes %#" PRIx64 ", %u usable IOVA ranges, dma_avail %s%u",
	      info->pgsizes, info->nr_ranges, info->has_dma_avail ? "" : "unknown ",
	      info->dma_avail);
	for (unsigned int i = 0; i < info->nr_ranges; i++)
		trace(LOG_IOMMU, "  usable IOVA [%#" PRIx64 "-%#" PRIx64 "]", info->ranges[i].start,
		      info->ranges[i].end);
}

int iommu_add_devices(struct iommu *io, const char *const *args, int n, struct iommu_device *out)
{
	int ret, i;

	ret = resolve_all(io, args, n, out);
	if (!ret)
		ret = check_groups(io, out, n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		ret = io->ops->attach(io, &out[i].id);
		if (ret < 0)
			goto out_close;
		out[i].fd = ret;
	}
	/*
	 * Read only now: each group that joins can narrow the usable IOVA
	 * ranges (the kernel keeps their intersection).
	 */
	ret = io->ops->get_info(io, &io->info);
	if (ret)
		goto out_close;
	io->have_info = true;
	trace_info(&io->info);
	return 0;

out_close:
	while (i-- > 0) {
		close(out[i].fd);
		out[i].fd = -1;
	}
	return ret;
}

void iommu_set_stop(struct iommu *io, iommu_stop_fn stop, void *arg)
{
	io->stop = stop;
	io->stop_arg = arg;
}

static bool stop_requested(struct iommu *io)
{
	return io->stop && io->stop(io->stop_arg);
}

static int record(struct iommu *io, uint64_t iova, void *hva, uint64_t size, bool extra,
		  uint64_t base)
{
	struct iommu_mapping *m;

	if (io->nr_maps == io->cap_maps) {
		size_t cap = io->cap_maps ? io->cap_maps * 2 : 64;

		m = realloc(io->maps, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		io->maps = m;
		io->cap_maps = cap;
	}
	io->maps[io->nr_maps++] = (struct iommu_mapping){ iova, size, hva, extra, base };
	return 0;
}

/* Unmaps and forgets the newest mappings down to index keep. */
static int unmap_down_to(struct iommu *io, size_t keep)
{
	int ret, err = 0;

	while (io->nr_maps > keep) {
		struct iommu_mapping *m = &io->maps[io->nr_maps - 1];

		ret = io->ops->unmap(io, m->iova, m->size);
		if (ret && !err)
			err = ret;
		if (!m->extra)
			io->ram_mapped -= m->size;
		io->nr_maps--;
	}
	return err;
}

static int read_memlock_state(struct memlock_state *st)
{
	char text[4096];
	struct rlimit rl;
	size_t n;
	FILE *f;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	st->soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	st->hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
	f = fopen("/proc/self/status", "r");
	if (!f)
		return -errno;
	n = fread(text + 1, 1, sizeof(text) - 2, f);
	fclose(f);
	/* A leading newline lets the parser match the first line like any other. */
	text[0] = '\n';
	text[n + 1] = '\0';
	return iommu_parse_proc_status(text, &st->locked, &st->cap_ipc_lock);
}

static int ensure_memlock(uint64_t need)
{
	struct memlock_state st;
	struct rlimit rl;
	uint64_t soft;
	char why[512];
	int ret;

	ret = read_memlock_state(&st);
	if (ret) {
		log_warn("cannot read RLIMIT_MEMLOCK state (%s); pinning may fail", strerror(-ret));
		return 0;
	}
	ret = iommu_memlock_plan(&st, need, &soft, why, sizeof(why));
	if (ret < 0) {
		log_err("%s", why);
		return ret;
	}
	trace(LOG_IOMMU, "RLIMIT_MEMLOCK soft %" PRIu64 " hard %" PRIu64 " locked %" PRIu64
	      " CAP_IPC_LOCK %d, need %" PRIu64 "%s", st.soft, st.hard, st.locked,
	      st.cap_ipc_lock, need, ret ? ": raising the soft limit" : "");
	if (!ret)
		return 0;
	rl.rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : soft;
	rl.rlim_max = st.hard == UINT64_MAX ? RLIM_INFINITY : st.hard;
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		ret = -errno;
		log_err("cannot raise RLIMIT_MEMLOCK to %" PRIu64 " bytes: %s", soft, strerror(-ret));
		return ret;
	}
	return 0;
}

struct progress {
	bool on;
	uint64_t total, done, last_ns;
};

static void progress_step(struct progress *p, uint64_t bytes)
{
	char line[128];
	uint64_t t;

	p->done += bytes;
	if (!p->on)
		return;
	t = now_ns();
	if (t - p->last_ns < 100000000ull && p->done < p->total)
		return;
	p->last_ns = t;
	iommu_fmt_progress(p->done, p->total, line, sizeof(line));
	fprintf(stderr, "\r%s", line);
}

static void progress_end(struct progress *p)
{
	if (p->on && p->last_ns)
		fprintf(stderr, "\r\033[K");
}

static int map_region(struct iommu *io, const struct iommu_ram *r, const struct dma_plan *plan,
		      struct progress *prog)
{
	uint64_t off = 0, s;
	int ret;

	while (off < r->size) {
		if (stop_requested(io))
			return -EINTR;
		s = iommu_chunk_size(r->gpa + off, (uintptr_t)r->hva + off, r->size - off,
				     plan->min_page, plan->backing, plan->cap);
		ret = record(io, r->gpa + off, (uint8_t *)r->hva + off, s, false, 0);
		if (ret)
			return ret;
		ret = io->ops->map(io, r->gpa + off, (uint8_t *)r->hva + off, s, true);
		if (ret) {
			io->nr_maps--;	/* never mapped: nothing to undo */
			return ret;
		}
		io->ram_mapped += s;
		off += s;
		progress_step(prog, s);
	}
	return 0;
}

static void report_mapped(const struct dma_plan *plan, uint64_t ns)
{
	char total[32], chunks[256];

	iommu_fmt_bytes(plan->total, total, sizeof(total));
	iommu_fmt_chunks(plan, chunks, sizeof(chunks));
	trace(LOG_IOMMU, "mapped %" PRIu64 " bytes in %" PRIu64 " MAP_DMA calls, %.3f s, "
	      "%.0f MiB/s", plan->total, plan->nr_chunks, (double)ns / 1e9,
	      ns ? (double)plan->total / (1 << 20) / ((double)ns / 1e9) : 0.0);
	log_info("mapped %s of guest RAM for DMA in %.2f s (%s)", total, (double)ns / 1e9, chunks);
}

/* dma_avail was read before any mapping: entries made since count too. */
static uint64_t ram_budget(const struct iommu *io)
{
	uint64_t budget = iommu_ram_budget(&io->info);

	return budget > io->nr_maps ? budget - io->nr_maps : 0;
}

int iommu_map_ram(struct iommu *io, const struct iommu_ram *ram, int nr, uint64_t page_size)
{
	struct progress prog = { 0 };
	struct dma_plan plan;
	size_t keep = io->nr_maps;
	uint64_t t0;
	char why[1024];
	int ret;

	if (!io->have_info) {
		log_err("cannot map guest RAM for DMA before a device is attached");
		return -EINVAL;
	}
	ret = iommu_check_ram_layout(&io->info, ram, nr, why, sizeof(why));
	if (!ret)
		ret = iommu_plan_ram(ram, nr, io->info.pgsizes, page_size, ram_budget(io), &plan,
				     why, sizeof(why));
	if (ret) {
		log_err("%s", why);
		return ret;
	}
	ret = ensure_memlock(plan.total);
	if (ret)
		return ret;

	trace(LOG_IOMMU, "mapping %" PRIu64 " bytes of guest RAM in %" PRIu64 " chunks "
	      "(cap %#" PRIx64 ", backing pages %#" PRIx64 ")", plan.total, plan.nr_chunks,
	      plan.cap, page_size);
	prog.total = plan.total;
	prog.on = isatty(STDERR_FILENO) && !trace_on(LOG_IOMMU);
	t0 = now_ns();
	for (int i = 0; i < nr && !ret; i++)
		ret = map_region(io, &ram[i], &plan, &prog);
	progress_end(&prog);
	if (ret == -EINTR) {
		log_info("mapping guest RAM for DMA stopped after %" PRIu64 " of %" PRIu64
			 " bytes; undoing", prog.done, plan.total);
		unmap_down_to(io, keep);
		return ret;
	}
	if (ret) {
		/* All or nothing: a half-mapped guest would corrupt memory silently. */
		log_err("mapping guest RAM for DMA failed after %" PRIu64 " of %" PRIu64
			" bytes: %s; undoing", prog.done, plan.total, strerror(-ret));
		unmap_down_to(io, keep);
		return ret;
	}
	report_mapped(&plan, now_ns() - t0);
	return 0;
}

/* The kernel would say EEXIST; we can say with what. */
static int check_overlap(const struct iommu *io, uint64_t iova, uint64_t size, char *why,
			 size_t len)
{
	for (size_t i = 0; i < io->nr_maps; i++) {
		const struct iommu_mapping *m = &io->maps[i];

		if (iova < m->iova + m->size && m->iova < iova + size) {
			snprintf(why, len, "extra DMA range [%#" PRIx64 "-%#" PRIx64 "] overlaps %s "
				 "mapped at [%#" PRIx64 "-%#" PRIx64 "]", iova, iova + size - 1,
				 m->extra ? "another extra range" : "guest RAM", m->iova,
				 m->iova + m->size - 1);
			return -EEXIST;
		}
	}
	return 0;
}

/* Unmaps and forgets every chunk of the extra range mapped at base; -ENOENT if none. */
static int remove_extra(struct iommu *io, uint64_t base)
{
	size_t keep = 0, n = io->nr_maps;
	int ret, err = -ENOENT;

	for (size_t i = 0; i < n; i++) {
		struct iommu_mapping *m = &io->maps[i];

		if (!m->extra || m->base != base) {
			io->maps[keep++] = *m;
			continue;
		}
		ret = io->ops->unmap(io, m->iova, m->size);
		if (err == -ENOENT || (!err && ret))
			err = ret;
	}
	io->nr_maps = keep;
	return err;
}

/* Progress of one long extra range: a redrawn line on a terminal, else a line every 10 s. */
struct extra_progress {
	uint64_t iova, total, t0, last_ns;
	bool tty, shown;
};

static void extra_progress_step(const struct iommu *io, struct extra_progress *p, uint64_t done,
				uint64_t t)
{
	double gib = (double)(1ULL << 30);

	if (t - p->t0 < io->slow_ns || done == p->total)
		return;
	if (p->tty) {
		if (p->shown && t - p->last_ns < 100000000ull)
			return;
		fprintf(stderr, "\rmapping a BAR for peer DMA: %3u%% (%.1f of %.1f GiB)",
			(unsigned int)(done * 100.0 / (double)p->total), (double)done / gib,
			(double)p->total / gib);
	} else {
		if (p->shown && t - p->last_ns < 10000000000ull)
			return;
		log_info("mapping a BAR for peer DMA at IOVA %#" PRIx64 ": %.1f of %.1f GiB "
			 "after %.0f s", p->iova, (double)done / gib, (double)p->total / gib,
			 (double)(t - p->t0) / 1e9);
	}
	p->shown = true;
	p->last_ns = t;
}

int iommu_map_extra(struct iommu *io, uint64_t iova, void *hva, uint64_t size)
{
	uint64_t min_page = io->info.pgsizes & -io->info.pgsizes;
	struct extra_progress p = { .iova = iova, .total = size };
	uint64_t off, s = 0, t, tc, longest = 0, chunks = 0;
	char why[1024], sz[32], done[32];
	int ret;

	if (!io->have_info)
		return -EINVAL;
	ret = iommu_check_iova(&io->info, iova, size, "extra DMA range", why, sizeof(why));
	if (!ret && ((iova | (uintptr_t)hva | size) & (min_page - 1))) {
		snprintf(why, sizeof(why), "extra DMA range at %#" PRIx64 " (%#" PRIx64 " bytes) is "
			 "not aligned to the IOMMU page size %#" PRIx64, iova, size, min_page);
		ret = -EINVAL;
	}
	if (!ret)
		ret = check_overlap(io, iova, size, why, sizeof(why));
	if (ret) {
		log_err("%s", why);
		return ret;
	}
	p.tty = isatty(STDERR_FILENO) && !trace_on(LOG_IOMMU);
	p.t0 = t = now_ns();
	for (off = 0; off < size && !ret; off += s) {
		if (stop_requested(io)) {
			ret = -EINTR;
			break;
		}
		/* IOVA-aligned GiBs: the IOMMU can still use its biggest pages in each. */
		s = IOMMU_EXTRA_CHUNK - ((iova + off) & (IOMMU_EXTRA_CHUNK - 1));
		if (s > size - off)
			s = size - off;
		ret = record(io, iova + off, (uint8_t *)hva + off, s, true, iova);
		if (ret)
			break;
		tc = t;
		ret = io->ops->map(io, iova + off, (uint8_t *)hva + off, s, true);
		if (ret) {
			io->nr_maps--;	/* never mapped: nothing to undo */
			break;
		}
		chunks++;
		t = now_ns();
		longest = t - tc > longest ? t - tc : longest;
		extra_progress_step(io, &p, off + s, t);
	}
	if (p.tty && p.shown)
		fprintf(stderr, "\r\033[K");
	iommu_fmt_bytes(size, sz, sizeof(sz));
	if (ret) {
		/* off: the bytes mapped before the stop or the failure. */
		iommu_fmt_bytes(off, done, sizeof(done));
		remove_extra(io, iova);
		if (ret == -EINTR)
			log_info("stopped mapping a %s BAR for peer DMA at IOVA %#" PRIx64 " after "
				 "%s in %" PRIu64 " MAP_DMA calls; unmapped again", sz, iova, done,
				 chunks);
		return ret;
	}
	t = now_ns() - p.t0;
	trace(LOG_IOMMU, "extra range at IOVA %#" PRIx64 ": %" PRIu64 " bytes in %" PRIu64
	      " MAP_DMA calls, %.3f s, longest call %.3f s", iova, size, chunks, (double)t / 1e9,
	      (double)longest / 1e9);
	if (t >= io->slow_ns)
		log_info("mapped a %s BAR for peer DMA at IOVA %#" PRIx64 " in %.1f s (%" PRIu64
			 " MAP_DMA calls, the longest %.2f s)", sz, iova, (double)t / 1e9, chunks,
			 (double)longest / 1e9);
	return 0;
}

int iommu_unmap_extra(struct iommu *io, uint64_t iova)
{
	return remove_extra(io, iova);
}

void iommu_unmap_all(struct iommu *io)
{
	uint64_t t0 = now_ns(), bytes = io->ram_mapped;
	size_t n = io->nr_maps;

	if (!n)
		return;
	if (unmap_down_to(io, 0))
		log_warn("some DMA mappings could not be unmapped; closing the container drops them");
	trace(LOG_IOMMU, "unmapped %zu mappings (%" PRIu64 " bytes of RAM) in %.3f s", n, bytes,
	      (double)(now_ns() - t0) / 1e9);
}

void iommu_close(struct iommu *io)
{
	if (!io->ops)
		return;
	iommu_unmap_all(io);
	io->ops->close(io);
	free(io->maps);
	io->maps = NULL;
	io->nr_maps = io->cap_maps = 0;
	io->ops = NULL;
}
