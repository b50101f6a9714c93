/* SPDX-License-Identifier: MIT */
#ifndef UTIL_ERRBUF_H
#define UTIL_ERRBUF_H

#include <stddef.h>

/*
 * For functions that report a user's mistake as ONE line in a caller's
 * buffer instead of logging it: formats into err and returns ret.
 */
int errbuf_set(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* errbuf_set with ret -1, the common case, under a name short enough to
 * leave room for the message: return errf(err, errlen, "...; use ..."). */
#define errf(err, errlen, ...) errbuf_set((err), (errlen), -1, __VA_ARGS__)

#endif
