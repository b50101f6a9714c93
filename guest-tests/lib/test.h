/* SPDX-License-Identifier: MIT */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include <stdint.h>

/*
 * Result reporting. The runner requires both the exit status (through the
 * VMM's test exit port) and the printed line, so a guest that dies early
 * cannot pass by accident:
 *   pass:  "PASS <name>", exit status 0
 *   fail:  "ASSERT FAILED ..." / "FAIL ...", exit status 1
 */
#define TEST_EXIT_PORT	0xf4
#define TEST_EXIT_PASS	0
#define TEST_EXIT_FAIL	1

_Noreturn void test_exit(uint32_t status);
_Noreturn void test_pass(const char *name);
_Noreturn void test_fail(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

_Noreturn void test_assert_failed(const char *file, int line, const char *expr);
_Noreturn void test_assert_eq_failed(const char *file, int line, const char *a_expr,
				     const char *b_expr, uint64_t a, uint64_t b);

#define ASSERT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			test_assert_failed(__FILE__, __LINE__, #cond);         \
	} while (0)

/* Both sides are evaluated once and compared as 64-bit unsigned values. */
#define ASSERT_EQ(a, b)                                                        \
	do {                                                                   \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);               \
		if (a_ != b_)                                                  \
			test_assert_eq_failed(__FILE__, __LINE__, #a, #b, a_, b_); \
	} while (0)

#endif
