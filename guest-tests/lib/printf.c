// SPDX-License-Identifier: MIT
/*
 * A small printf: %c %s %d %i %u %x %X %p %% with the l/ll/z length
 * modifiers, a field width and '0' or '-' flags. Enough for test output;
 * no floating point (the guests are built with -mno-sse).
 */
#include <stdbool.h>
#include <stdint.h>

#include "serial.h"

struct out {
	void (*put)(struct out *o, char c);
	char *buf;
	unsigned long size;
	unsigned long len;	/* characters produced, even if not stored */
};

struct spec {
	bool zero;
	bool left;
	int width;
	int lmod;		/* number of 'l' (z counts as 2) */
};

static void put_serial(struct out *o, char c)
{
	serial_putc(c);
	o->len++;
}

static void put_buf(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_padded(struct out *o, const struct spec *sp, const char *s, int n,
			bool negative)
{
	int pad = sp->width - n - (negative ? 1 : 0);
	char fill = sp->zero && !sp->left ? '0' : ' ';

	if (negative && fill == '0')
		o->put(o, '-');
	while (!sp->left && pad-- > 0)
		o->put(o, fill);
	if (negative && fill != '0')
		o->put(o, '-');
	while (n--)
		o->put(o, *s++);
	while (sp->left && pad-- > 0)
		o->put(o, ' ');
}

static void emit_uint(struct out *o, const struct spec *sp, uint64_t v, unsigned int base,
		      bool upper, bool negative)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v % base];
		v /= base;
	} while (v);
	emit_padded(o, sp, tmp + sizeof(tmp) - n, n, negative);
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '0')
			sp->zero = true;
		else if (*f == '-')
			sp->left = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	for (;; f++) {
		if (*f == 'l')
			sp->lmod++;
		else if (*f == 'z')
			sp->lmod = 2;
		else
			break;
	}
	return f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->lmod >= 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->lmod >= 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void format_one(struct out *o, const struct spec *sp, char conv, va_list *ap)
{
	const char *s;
	int64_t sv;
	char c;
	int n;

	switch (conv) {
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_padded(o, sp, &c, 1, false);
		break;
	case 's':
		s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		for (n = 0; s[n]; n++)
			;
		emit_padded(o, sp, s, n, false);
		break;
	case 'd':
	case 'i':
		sv = arg_signed(sp, ap);
		emit_uint(o, sp, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, 10, false, sv < 0);
		break;
	case 'u':
		emit_uint(o, sp, arg_unsigned(sp, ap), 10, false, false);
		break;
	case 'x':
	case 'X':
		emit_uint(o, sp, arg_unsigned(sp, ap), 16, conv == 'X', false);
		break;
	case 'p':
		o->put(o, '0');
		o->put(o, 'x');
		emit_uint(o, sp, (uintptr_t)va_arg(*ap, void *), 16, false, false);
		break;
	case '%':
		o->put(o, '%');
		break;
	default:	/* unknown: print it verbatim so the mistake is visible */
		o->put(o, '%');
		o->put(o, conv);
		break;
	}
}

static int format(struct out *o, const char *fmt, va_list ap)
{
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			o->put(o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp);
		if (!*fmt)
			break;
		format_one(o, &sp, *fmt++, &aq);
	}
	va_end(aq);
	return (int)o->len;
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = { .put = put_serial };

	return format(&o, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, unsigned long size, const char *fmt, va_list ap)
{
	struct out o = { .put = put_buf, .buf = buf, .size = size };
	int n = format(&o, fmt, ap);

	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, unsigned long size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
