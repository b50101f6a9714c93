// SPDX-License-Identifier: MIT
/* tb-edubench's statistics and METRIC lines: see edubench_stats.h. */
#include "edubench_stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void edubench_lat_summary(uint32_t *lat_ns, size_t n, struct edubench_lat *out)
{
	size_t rank;

	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(lat_ns, n, sizeof(*lat_ns), cmp_u32);
	out->n = n;
	if (n % 2)
		out->median_us = lat_ns[n / 2] / 1e3;
	else
		out->median_us = ((double)lat_ns[n / 2 - 1] + lat_ns[n / 2]) / 2e3;
	/* Nearest rank: the smallest value with at least 99 % at or below it. */
	rank = (n * 99 + 99) / 100;
	out->p99_us = lat_ns[rank - 1] / 1e3;
	out->min_us = lat_ns[0] / 1e3;
	out->max_us = lat_ns[n - 1] / 1e3;
}

double edubench_per_s(uint64_t events, uint64_t ns)
{
	return ns ? (double)events * 1e9 / (double)ns : 0.0;
}

static int put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *at)
		return -1;
	*at += (size_t)n;
	return 0;
}

int edubench_metrics(const struct edubench_result *r, char *buf, size_t len)
{
	size_t at = 0;

	if (!len)
		return -1;
	buf[0] = '\0';
	if (r->have_irq && r->irqs && r->lat.n &&
	    (put(buf, len, &at, "METRIC irq-rate=%.0f unit=irq/s better=higher\n",
		 edubench_per_s(r->irqs, r->irq_ns)) ||
	     put(buf, len, &at, "METRIC irq-lat=%.3f unit=us better=lower\n",
		 r->lat.median_us) ||
	     put(buf, len, &at, "METRIC irq-lat-p99=%.3f unit=us better=lower\n",
		 r->lat.p99_us)))
		goto full;
	if (r->have_dma && r->dma_bytes &&
	    put(buf, len, &at, "METRIC dma=%.2f unit=KiB/s better=higher\n",
		edubench_per_s(r->dma_bytes, r->dma_ns) / 1024.0))
		goto full;
	return (int)at;
full:
	buf[0] = '\0';
	return -1;
}
