/* SPDX-License-Identifier: MIT */
#ifndef TESTS_FUZZ_FUZZ_INPUT_H
#define TESTS_FUZZ_FUZZ_INPUT_H

/*
 * Shared by the fuzz targets: reading a fuzz input as a stream of numbers,
 * reporting a broken invariant, and keeping the code under test's error
 * messages off the terminal.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline bool fuzz_more(const struct fuzz_in *in)
{
	return in->left > 0;
}

/* Little-endian, n bytes; zeros once the input runs out (so it always ends). */
static inline uint64_t fuzz_bytes(struct fuzz_in *in, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n && in->left; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_bytes(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)fuzz_bytes(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_bytes(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_bytes(in, 8);
}

/*
 * The original stderr: the code under test logs every rejected input, which
 * would slow the fuzzer and bury its own output, so fuzz_quiet() points
 * stdio's stderr at /dev/null (glibc lets a program assign it). ASan and
 * libFuzzer write to file descriptor 2 themselves and are not affected.
 * FUZZ_VERBOSE=1 keeps the messages, for reading a reproduced crash.
 */
static FILE *fuzz_stderr;

static inline void fuzz_quiet(void)
{
	FILE *null;

	fuzz_stderr = stderr;
	if (getenv("FUZZ_VERBOSE"))
		return;
	null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
}

/* A broken invariant: say which, then abort so libFuzzer keeps the input. */
__attribute__((noreturn, format(printf, 1, 2)))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	/*
	 * Straight to file descriptor 2: fuzz_stderr is per source file, and a
	 * helper linked into a target (fuzz_host.c) never had fuzz_quiet() set it.
	 */
	fflush(NULL);
	va_start(ap, fmt);
	dprintf(2, "fuzz invariant broken: ");
	vdprintf(2, fmt, ap);
	dprintf(2, "\n");
	va_end(ap);
	abort();
}

/*
 * For a target's own checking code (the model, the invariant checks run
 * after every operation): no coverage instrumentation. ASan and UBSan stay.
 * Its branches say nothing about the code under test, which keeps its own
 * coverage, and libFuzzer's comparison hooks on every byte of a 4 KiB
 * config space compared, every route and every ioeventfd slot looked at,
 * cost most of an execution of the whole-device targets.
 */
#define FUZZ_CHECKER __attribute__((no_sanitize("coverage")))

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__VA_ARGS__);                                \
	} while (0)

#endif
