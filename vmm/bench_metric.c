// SPDX-License-Identifier: MIT
/*
 * METRIC lines and their statistics for `vfio-vmm bench overhead`: see
 * bench_metric.h for the format. The text comes from a command that may run
 * in a guest, so the parser takes any bytes and keeps nothing unbounded.
 */
#include "vmm/bench_metric.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errbuf.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

/* strtod on a bounded copy: the token is not NUL-terminated in the line. */
static int parse_value(const char *s, size_t len, double *out)
{
	char buf[64], *end;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strlen(buf) != len)
		return -1;	/* a NUL inside */
	/* Decimal only: no "inf", "nan", hex floats or leading blanks. */
	if (!strchr("+-.0123456789", buf[0]) || strpbrk(buf, "xXnNiI"))
		return -1;
	errno = 0;
	*out = strtod(buf, &end);
	if (errno || *end || !isfinite(*out))
		return -1;
	return 0;
}

int metric_parse_line(const char *line, size_t len, struct metric_line *out, char *err,
		      size_t errlen)
{
	const char *p = line, *end = line + len;
	bool first = true;

	if (len < 7 || memcmp(line, "METRIC ", 7))
		return 0;
	if (len > METRIC_LINE_MAX)
		return errf(err, errlen, "a METRIC line of %zu bytes (at most %d)", len,
			    METRIC_LINE_MAX);
	memset(out, 0, sizeof(*out));
	p += 7;
	while (p < end) {
		const char *tok, *eq;
		size_t klen, vlen;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		eq = memchr(tok, '=', (size_t)(p - tok));
		if (!eq)
			return errf(err, errlen, "'%.*s' is not KEY=VALUE", (int)(p - tok > 40 ? 40 :
				    p - tok), tok);
		klen = (size_t)(eq - tok);
		vlen = (size_t)(p - eq - 1);
		if (first) {
			for (size_t i = 0; i < klen; i++)
				if (!name_char(tok[i]))
					return errf(err, errlen, "metric name with a character "
						    "outside [A-Za-z0-9_.:/-]");
			if (!klen || klen >= METRIC_NAME_LEN)
				return errf(err, errlen, "metric name of %zu characters (1-%d)",
					    klen, METRIC_NAME_LEN - 1);
			if (parse_value(eq + 1, vlen, &out->value))
				return errf(err, errlen, "%.*s: the value is not a finite decimal "
					    "number", (int)klen, tok);
			memcpy(out->name, tok, klen);
			first = false;
		} else if (klen == 4 && !memcmp(tok, "unit", 4)) {
			if (!vlen || vlen >= METRIC_UNIT_LEN)
				return errf(err, errlen, "%s: unit of %zu characters (1-%d)",
					    out->name, vlen, METRIC_UNIT_LEN - 1);
			for (size_t i = 0; i < vlen; i++)
				if (eq[1 + i] <= ' ' || eq[1 + i] > '~')
					return errf(err, errlen, "%s: unit with an unprintable "
						    "character", out->name);
			memcpy(out->unit, eq + 1, vlen);
			out->unit[vlen] = '\0';
		} else if (klen == 6 && !memcmp(tok, "better", 6)) {
			if (vlen == 6 && !memcmp(eq + 1, "higher", 6))
				out->lower_better = false;
			else if (vlen == 5 && !memcmp(eq + 1, "lower", 5))
				out->lower_better = true;
			else
				return errf(err, errlen, "%s: better= takes higher or lower",
					    out->name);
		} else {
			return errf(err, errlen, "%s: unknown key '%.*s' (unit=, better=)",
				    out->name, (int)(klen > 20 ? 20 : klen), tok);
		}
	}
	if (first)
		return errf(err, errlen, "METRIC without NAME=VALUE");
	return 1;
}

static struct metric_series *find_or_add(struct metric_set *set, const struct metric_line *l)
{
	for (unsigned int i = 0; i < set->nr; i++)
		if (!strcmp(set->m[i].name, l->name))
			return &set->m[i];
	if (set->nr == METRIC_MAX)
		return NULL;
	struct metric_series *m = &set->m[set->nr++];

	memset(m, 0, sizeof(*m));
	memcpy(m->name, l->name, sizeof(m->name));
	memcpy(m->unit, l->unit, sizeof(m->unit));
	m->lower_better = l->lower_better;
	return m;
}

unsigned int metric_add_run(struct metric_set *set, enum metric_leg leg, const char *text,
			    size_t len)
{
	bool seen[METRIC_MAX] = { false };
	const char *p = text, *end = text + len;
	unsigned int got = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct metric_line ml;
		struct metric_series *m;
		char err[sizeof(set->first_error)];
		int ret;

		if (l && p[l - 1] == '\r')
			l--;
		ret = metric_parse_line(p, l, &ml, err, sizeof(err));
		p += (nl ? (size_t)(nl - p) + 1 : l);
		if (ret == 0)
			continue;
		if (ret < 0) {
			if (!set->malformed++)
				snprintf(set->first_error, sizeof(set->first_error), "%s", err);
			continue;
		}
		m = find_or_add(set, &ml);
		if (!m || m->n[leg] == METRIC_MAX_RUNS) {
			set->dropped++;
			continue;
		}
		if (seen[m - set->m]) {
			set->duplicates++;
			continue;
		}
		seen[m - set->m] = true;
		m->v[leg][m->n[leg]++] = ml.value;
		got++;
	}
	return got;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void metric_stats(const double *v, unsigned int n, struct metric_stats *st)
{
	double s[METRIC_MAX_RUNS];

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	if (n > METRIC_MAX_RUNS)
		n = METRIC_MAX_RUNS;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	st->n = n;
	st->min = s[0];
	st->max = s[n - 1];
	st->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int metric_overhead(const struct metric_series *m, enum metric_leg leg, double *pct,
		    bool *overlap)
{
	struct metric_stats h, g;

	metric_stats(m->v[LEG_HOST], m->n[LEG_HOST], &h);
	metric_stats(m->v[leg], m->n[leg], &g);
	if (!h.n || !g.n || h.median == 0)
		return -1;
	*pct = (m->lower_better ? g.median - h.median : h.median - g.median) / fabs(h.median) * 100;
	*overlap = g.min <= h.max && h.min <= g.max;
	return 0;
}
