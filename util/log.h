/* SPDX-License-Identifier: MIT */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One small logging module. Errors and warnings always print; trace lines
 * print only for the categories enabled with --trace. The trace output is
 * meant to teach: it names the ioctl, the register and the decoded value.
 */
enum log_cat {
	LOG_VFIO = 1u << 0,	/* VFIO ioctls, regions, reset */
	LOG_PCI = 1u << 1,	/* config space accesses, BAR placement */
	LOG_IRQ = 1u << 2,	/* GSI routes, irqfds, MSI/MSI-X changes */
	LOG_EXIT = 1u << 3,	/* every vCPU exit */
	LOG_BOOT = 1u << 4,	/* kernel loading, memory layout, ACPI */
	LOG_IOMMU = 1u << 5,	/* DMA map/unmap */
	LOG_KVM = 1u << 6,	/* KVM VM/vCPU setup */
	LOG_VHOST = 1u << 7,	/* vhost and tap ioctls (virtio-net, vsock) */
};

extern unsigned int log_enabled;

/* Parses "vfio,pci" or "all"; returns -1 and names the bad word on error. */
int log_parse_categories(const char *list, unsigned int *mask, const char **bad);
const char *log_category_names(void);

static inline bool trace_on(enum log_cat cat)
{
	return (log_enabled & cat) != 0;
}

void log_trace(enum log_cat cat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * What a guest can trigger is logged through these: at most LOG_RL_BURST
 * lines per call site in any LOG_RL_INTERVAL_S seconds, then one line saying
 * how many were suppressed. A hostile guest can make an access fail a million
 * times a second; the log must stay readable and the disk unfilled.
 */
#define LOG_RL_BURST		5
#define LOG_RL_INTERVAL_S	10

struct log_ratelimit {
	const char *what;	/* the call site's format string, for the summary */
	uint64_t window_start;	/* ns, CLOCK_MONOTONIC */
	unsigned int printed;	/* in this window */
	unsigned long long suppressed;
	struct log_ratelimit *next;	/* every call site that has suppressed a line */
	bool listed;
};

/* true: print this one (after reporting what the last window suppressed). */
bool log_ratelimit_ok(struct log_ratelimit *rl);
/*
 * At exit: one line per call site whose last window suppressed lines no
 * later line reported, so a flood that ends the VM (or just the VM ending)
 * does not hide how much was dropped. Returns the number of such lines.
 */
unsigned int log_ratelimit_flush(void);
/* Tests replace the clock (ns); NULL restores CLOCK_MONOTONIC. */
void log_set_clock(uint64_t (*now_ns)(void));

#define LOG_RL_FMT_(fmt, ...) fmt

#define log_warn_rl(...)                                                       \
	do {                                                                   \
		static struct log_ratelimit rl_ = {                            \
			.what = LOG_RL_FMT_(__VA_ARGS__, 0) };                 \
		if (log_ratelimit_ok(&rl_))                                    \
			log_warn(__VA_ARGS__);                                 \
	} while (0)

#define log_err_rl(...)                                                        \
	do {                                                                   \
		static struct log_ratelimit rl_ = {                            \
			.what = LOG_RL_FMT_(__VA_ARGS__, 0) };                 \
		if (log_ratelimit_ok(&rl_))                                    \
			log_err(__VA_ARGS__);                                  \
	} while (0)

#define trace(cat, ...)                                                        \
	do {                                                                   \
		if (trace_on(cat))                                             \
			log_trace(cat, __VA_ARGS__);                           \
	} while (0)

#endif
