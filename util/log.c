// SPDX-License-Identifier: MIT
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

unsigned int log_enabled;

static const struct {
	const char *name;
	unsigned int bit;
} cats[] = {
	{ "vfio", LOG_VFIO }, { "pci", LOG_PCI },   { "irq", LOG_IRQ },
	{ "exit", LOG_EXIT }, { "boot", LOG_BOOT }, { "iommu", LOG_IOMMU },
	{ "kvm", LOG_KVM },   { "vhost", LOG_VHOST },
};

const char *log_category_names(void)
{
	return "vfio,pci,irq,exit,boot,iommu,kvm,vhost,all";
}

int log_parse_categories(const char *list, unsigned int *mask, const char **bad)
{
	static char badword[32];
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;

		if (n == 3 && !strncasecmp(p, "all", 3)) {
			*mask = ~0u;
			found = true;
		}
		for (size_t i = 0; !found && i < sizeof(cats) / sizeof(cats[0]); i++) {
			if (strlen(cats[i].name) == n && !strncasecmp(p, cats[i].name, n)) {
				*mask |= cats[i].bit;
				found = true;
			}
		}
		if (!found && n > 0) {
			snprintf(badword, sizeof(badword), "%.*s", (int)n, p);
			if (bad)
				*bad = badword;
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static const char *cat_name(enum log_cat cat)
{
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		if (cats[i].bit == (unsigned int)cat)
			return cats[i].name;
	return "?";
}

/* Trace goes to stderr so the guest console on stdout stays clean. */
void log_trace(enum log_cat cat, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%-5s] %s\n", cat_name(cat), buf);
}

static void log_prefixed(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "vfio-vmm: %s%s\n", prefix, buf);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_prefixed("error: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_prefixed("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_prefixed("", fmt, ap);
	va_end(ap);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t (*log_clock)(void) = monotonic_ns;
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_ratelimit *rl_sites;	/* under rl_lock */

void log_set_clock(uint64_t (*now_ns)(void))
{
	log_clock = now_ns ? now_ns : monotonic_ns;
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	uint64_t now = log_clock();
	unsigned long long dropped = 0;
	bool ok;

	pthread_mutex_lock(&rl_lock);
	if (!rl->window_start || now - rl->window_start >= LOG_RL_INTERVAL_S * 1000000000ull) {
		dropped = rl->suppressed;
		rl->window_start = now ? now : 1;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	ok = rl->printed < LOG_RL_BURST;
	if (ok)
		rl->printed++;
	else
		rl->suppressed++;
	if (!ok && !rl->listed) {
		rl->listed = true;
		rl->next = rl_sites;
		rl_sites = rl;
	}
	pthread_mutex_unlock(&rl_lock);
	if (dropped)
		log_warn("%llu more like the next were suppressed in the last %d s", dropped,
			 LOG_RL_INTERVAL_S);
	return ok;
}

unsigned int log_ratelimit_flush(void)
{
	unsigned int n = 0;

	pthread_mutex_lock(&rl_lock);
	for (struct log_ratelimit *rl = rl_sites; rl; rl = rl->next) {
		const char *what = rl->what ? rl->what : "?";
		size_t len = strcspn(what, "%");	/* the text before the first value */

		if (!rl->suppressed)
			continue;
		fprintf(stderr, "vfio-vmm: warning: %llu more lines like '%.*s%s' were suppressed "
			"(rate limit) before exit\n", rl->suppressed, (int)(len > 60 ? 60 : len),
			what, (len > 60 || what[len]) ? "..." : "");
		rl->suppressed = 0;
		n++;
	}
	pthread_mutex_unlock(&rl_lock);
	return n;
}
