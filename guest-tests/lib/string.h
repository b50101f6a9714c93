/* SPDX-License-Identifier: MIT */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>

/* gcc may emit calls to the first four even with -ffreestanding. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Finds "key=" as a whole word in the kernel command line; NULL if absent. */
const char *cmdline_get(const char *cmdline, const char *key);
/* key=N (decimal, or hex with 0x) as a number; def when absent or not a number. */
unsigned long long cmdline_get_u64(const char *cmdline, const char *key,
				   unsigned long long def);

#endif
