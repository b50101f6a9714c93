// SPDX-License-Identifier: MIT
/*
 * The guest runtime's printf, compiled for the host. Its symbols are renamed
 * so they do not replace the C library's, and serial_putc is captured into a
 * buffer instead of going to a UART.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#define printf guest_printf
#define vprintf guest_vprintf
#define snprintf guest_snprintf
#define vsnprintf guest_vsnprintf
#define puts guest_puts
#include "guest-tests/lib/printf.c"
#undef printf
#undef vprintf
#undef snprintf
#undef vsnprintf
#undef puts

static char console[256];
static size_t console_len;

void serial_putc(char c)
{
	if (console_len + 1 < sizeof(console))
		console[console_len++] = c;
	console[console_len] = '\0';
}

static const char *fmt(const char *f, ...)
{
	static char buf[128];
	va_list ap;

	va_start(ap, f);
	guest_vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

Test(guest_printf, integers)
{
	cr_assert_str_eq(fmt("%d %i %u", -42, 7, 4000000000u), "-42 7 4000000000");
	cr_assert_str_eq(fmt("%x %X", 0xbeefu, 0xbeefu), "beef BEEF");
	cr_assert_str_eq(fmt("%lx", 0xfedcba9876543210ul), "fedcba9876543210");
	cr_assert_str_eq(fmt("%lu", 18446744073709551615ul), "18446744073709551615");
	cr_assert_str_eq(fmt("%ld", (long)INT64_MIN), "-9223372036854775808");
	cr_assert_str_eq(fmt("%zu %llx", (size_t)12, 0x1ull << 40), "12 10000000000");
	cr_assert_str_eq(fmt("%d %x", 0, 0u), "0 0");
}

Test(guest_printf, width_and_flags)
{
	cr_assert_str_eq(fmt("[%08x]", 0x1234u), "[00001234]");
	cr_assert_str_eq(fmt("[%5d]", -12), "[  -12]");
	cr_assert_str_eq(fmt("[%05d]", -12), "[-0012]");
	cr_assert_str_eq(fmt("[%-6s]", "ab"), "[ab    ]");
	cr_assert_str_eq(fmt("[%3s]", "abcdef"), "[abcdef]");
	cr_assert_str_eq(fmt("%02x:%02x.%x", 0u, 31u, 7u), "00:1f.7");
}

Test(guest_printf, strings_chars_pointers)
{
	cr_assert_str_eq(fmt("%s|%c|%%", "hi", 'x'), "hi|x|%");
	cr_assert_str_eq(fmt("%s", (char *)NULL), "(null)");
	cr_assert_str_eq(fmt("%p", (void *)0xfee00000ul), "0xfee00000");
	/* An unknown conversion is printed, not silently dropped. */
	cr_assert_str_eq(fmt("%q"), "%q");
}

Test(guest_printf, snprintf_truncates_and_counts)
{
	char buf[8];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = guest_snprintf(buf, sizeof(buf), "%s-%d", "abcdef", 12345);
	cr_assert_eq(n, 12);
	cr_assert_str_eq(buf, "abcdef-");
	n = guest_snprintf(buf, 0, "%d", 99);
	cr_assert_eq(n, 2);
	cr_assert_eq(buf[0], 'a');
}

Test(guest_printf, printf_goes_to_serial)
{
	int n;

	console_len = 0;
	n = guest_printf("PASS %s\n", "hello");
	cr_assert_eq(n, 11);
	cr_assert_str_eq(console, "PASS hello\n");
}
