/* SPDX-License-Identifier: MIT */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdarg.h>

/* The VMM's 16550 at COM1 (0x3f8): the test result channel. */
#define SERIAL_PORT	0x3f8

void serial_init(void);
void serial_putc(char c);
void puts(const char *s);	/* no newline appended */

int printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int vprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated when size > 0); returns the full length. */
int snprintf(char *buf, unsigned long size, const char *fmt, ...)
	__attribute__((format(__printf__, 3, 4)));
int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap);

#endif
