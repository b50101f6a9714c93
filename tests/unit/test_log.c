// SPDX-License-Identifier: MIT
/*
 * Rate-limited logging (hostile-guest finding 3): what a guest can trigger
 * prints at most LOG_RL_BURST lines per call site per LOG_RL_INTERVAL_S,
 * then says how many it dropped; and a failing trapped BAR access, driven a
 * million times, does not flood stderr.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_vfio_fake.h"
#include "util/log.h"

static uint64_t fake_now = 1000;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* Runs fn with stderr in a temporary file; returns what it printed (malloc'd). */
static char *capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char *buf = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, (1 << 20) - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
	return buf;
}

static unsigned int lines(const char *s, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void one_site(int times)
{
	for (int i = 0; i < times; i++)
		log_warn_rl("guest did thing %d", i);
}

static void burst_then_window(void)
{
	one_site(1000);
	fake_now += (uint64_t)LOG_RL_INTERVAL_S * 1000000000ull;
	one_site(1);
}

Test(log, rate_limited_per_window)
{
	char *out;

	log_set_clock(fake_clock);
	out = capture(burst_then_window);
	log_set_clock(NULL);
	cr_assert_eq(lines(out, "guest did thing"), LOG_RL_BURST + 1, "%s", out);
	cr_assert(strstr(out, "guest did thing 0\n"), "%s", out);
	cr_assert(strstr(out, "995 more like the next were suppressed"), "%s", out);
	free(out);
}

static void two_sites(void)
{
	for (int i = 0; i < 100; i++) {
		log_warn_rl("site A %d", i);
		log_err_rl("site B %d", i);
	}
}

Test(log, each_call_site_has_its_own_budget)
{
	char *out;

	log_set_clock(fake_clock);
	out = capture(two_sites);
	log_set_clock(NULL);
	cr_assert_eq(lines(out, "site A"), LOG_RL_BURST, "%s", out);
	cr_assert_eq(lines(out, "site B"), LOG_RL_BURST, "%s", out);
	cr_assert_eq(lines(out, "error: site B"), LOG_RL_BURST, "%s", out);
	free(out);
}

static unsigned int flushed;

static void flood_then_exit(void)
{
	one_site(1000);			/* 995 dropped, no later line reports them */
	for (int i = 0; i < 3; i++)
		log_warn_rl("quiet site %d", i);	/* under the burst: nothing dropped */
	flushed = log_ratelimit_flush();
	flushed += 10 * log_ratelimit_flush();	/* a second flush has nothing left */
}

Test(log, suppressed_lines_are_reported_at_exit)
{
	char *out;

	log_set_clock(fake_clock);
	out = capture(flood_then_exit);
	log_set_clock(NULL);
	cr_assert_eq(flushed, 1, "%u summary lines\n%s", flushed, out);
	cr_assert(strstr(out, "995 more lines like 'guest did thing ...' were suppressed "
			      "(rate limit) before exit\n"), "%s", out);
	cr_assert_eq(lines(out, "quiet site"), 3, "%s", out);
	free(out);
}

static void reported_then_exit(void)
{
	burst_then_window();		/* the window's line already counted the 995 */
	flushed = log_ratelimit_flush();
}

Test(log, exit_does_not_repeat_what_a_window_reported)
{
	char *out;

	log_set_clock(fake_clock);
	out = capture(reported_then_exit);
	log_set_clock(NULL);
	cr_assert_eq(flushed, 0, "%s", out);
	cr_assert_eq(lines(out, "before exit"), 0, "%s", out);
	free(out);
}

/* A device whose trapped BAR accesses all fail, hammered by the guest. */
static struct vfio_pci_dev dev;
static struct fake_vfio fake;
static struct fake_host host;

static ssize_t failing_rw(void *h, const struct vfio_region *r, uint64_t off, void *buf,
			  size_t len)
{
	(void)h, (void)r, (void)off, (void)buf, (void)len;
	return -EIO;
}

static ssize_t failing_w(void *h, const struct vfio_region *r, uint64_t off, const void *buf,
			 size_t len)
{
	(void)h, (void)r, (void)off, (void)buf, (void)len;
	return -EIO;
}

static void hammer(void)
{
	uint32_t v = 0;

	for (int i = 0; i < 1000000; i++) {
		vfio_pci_bar_read(&dev, 0, 0x100 + (i % 64) * 4, &v, 4);
		vfio_pci_bar_write(&dev, 0, 0x100, &v, 4);
	}
}

Test(log, failing_trapped_accesses_do_not_flood)
{
	struct vfio_dev_ops ops = fake_vfio_ops;
	char *out;

	fake_pci_init(&dev, &fake, &host, false);
	ops.region_read = failing_rw;
	ops.region_write = failing_w;
	dev.vdev.ops = &ops;
	out = capture(hammer);
	dev.vdev.ops = &fake_vfio_ops;
	cr_assert_leq(lines(out, "\n"), 2 * LOG_RL_BURST, "%u lines", lines(out, "\n"));
	cr_assert_eq(lines(out, "read at"), LOG_RL_BURST, "%s", out);
	cr_assert_eq(lines(out, "write at"), LOG_RL_BURST, "%s", out);
	cr_assert_eq(dev.trap_reads, 1000000);
	free(out);
	vfio_pci_exit(&dev);
	fake_vfio_free(&fake);
}
