// SPDX-License-Identifier: MIT
#include <stdarg.h>

#include "io.h"
#include "serial.h"
#include "test.h"

_Noreturn void test_exit(uint32_t status)
{
	outl(TEST_EXIT_PORT, status);
	/* Only reached if the VMM lacks the exit port: stop for the runner's timeout. */
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

_Noreturn void test_pass(const char *name)
{
	printf("PASS %s\n", name);
	test_exit(TEST_EXIT_PASS);
}

_Noreturn void test_fail(const char *fmt, ...)
{
	va_list ap;

	puts("FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	puts("\n");
	test_exit(TEST_EXIT_FAIL);
}

_Noreturn void test_assert_failed(const char *file, int line, const char *expr)
{
	printf("ASSERT FAILED %s:%d: %s\n", file, line, expr);
	test_exit(TEST_EXIT_FAIL);
}

_Noreturn void test_assert_eq_failed(const char *file, int line, const char *a_expr,
				     const char *b_expr, uint64_t a, uint64_t b)
{
	printf("ASSERT FAILED %s:%d: %s == %s\n", file, line, a_expr, b_expr);
	printf("  left:  0x%lx (%lu)\n  right: 0x%lx (%lu)\n", a, a, b, b);
	test_exit(TEST_EXIT_FAIL);
}
