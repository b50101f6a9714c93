// SPDX-License-Identifier: MIT
#include "vmm/prefault.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define PREFAULT_MAX_THREADS	256

struct slice {
	uint8_t *start;
	uint64_t size, page;
	int err;
	pthread_t thread;
};

static void *populate(void *arg)
{
	struct slice *s = arg;

	if (!s->size)
		return NULL;
	if (!madvise(s->start, s->size, MADV_POPULATE_WRITE))
		return NULL;
	if (errno != EINVAL) {
		s->err = errno;	/* ENOMEM, EFAULT: the memory is not there to be had */
		return NULL;
	}
	/* A kernel without MADV_POPULATE_WRITE: touch each page for writing. */
	for (uint64_t off = 0; off < s->size; off += s->page)
		__atomic_fetch_add(s->start + off, 0, __ATOMIC_RELAXED);
	return NULL;
}

unsigned int prefault_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > PREFAULT_MAX_THREADS ? PREFAULT_MAX_THREADS : (unsigned int)n;
}

int prefault_ranges(const struct prefault_range *r, unsigned int n, uint64_t page_size,
		    unsigned int threads)
{
	struct slice *s;
	uint64_t total = 0, per, left;
	unsigned int k = 0, started = 0;
	int err = 0;

	if (!threads)
		threads = 1;
	if (threads > PREFAULT_MAX_THREADS)
		threads = PREFAULT_MAX_THREADS;
	for (unsigned int i = 0; i < n; i++)
		total += r[i].size;
	if (!total)
		return 0;
	/* Equal slices, in whole backing pages, walking the ranges in order. */
	per = (total / threads + page_size - 1) / page_size * page_size;
	s = calloc((size_t)threads + n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		for (uint64_t off = 0; off < r[i].size; off += left) {
			left = r[i].size - off < per ? r[i].size - off : per;
			s[k++] = (struct slice){ (uint8_t *)r[i].hva + off, left, page_size, 0, 0 };
		}
	}
	for (unsigned int i = 0; i < k; i++) {
		if (pthread_create(&s[i].thread, NULL, populate, &s[i])) {
			populate(&s[i]);	/* no thread: do it here */
			s[i].thread = 0;
			continue;
		}
		started++;
	}
	for (unsigned int i = 0; i < k; i++) {
		if (s[i].thread)
			pthread_join(s[i].thread, NULL);
		if (s[i].err && !err)
			err = s[i].err;
	}
	free(s);
	if (err) {
		log_err("prefaulting guest RAM: %s (is --memory more than the host can give?)",
			strerror(err));
		return -err;
	}
	trace(LOG_IOMMU, "prefaulted %llu MiB of guest RAM in %u slices on %u threads",
	      (unsigned long long)(total >> 20), k, started);
	return 0;
}
