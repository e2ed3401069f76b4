/*
 * format.c -- the library's snprintf: a printf subset into a caller's
 * buffer, and the vmm_msg appenders every message is built with.  Where
 * the text goes (stderr, the log file) is log.c's business.
 *
 * NOTES
 * - Runs inside malloc, during initialisation and while jemalloc's fork
 *   handlers hold every arena lock: no allocation, no stdio, no locale, no
 *   errno change, no state -- only the buffer and the arguments are read.
 * - The subset: %s %c %d %i %u %x %p %% with the length modifiers l, ll and
 *   z; no flags, widths or precisions (no caller uses them, and the format
 *   attribute makes the compiler check every caller against printf).  %p
 *   and a NULL %s print like glibc: 0x..., (nil), (null).  An unsupported
 *   conversion prints '?'; a '%' at the very end of the format ends it.
 * - Truncation like snprintf: at most size - 1 characters, then the NUL.
 *   A vmm_msg is filled the same way, so one byte of its buffer is always
 *   left for a newline or the terminator (log.c and vmm_msg_cstr use it).
 */
#include <stdint.h>

#include "format.h"
#include "vmm.h"

/* text in buf[0, len); len never passes size - 1 (when size > 0) */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
	if (s == NULL)
		s = "(null)";
	while (*s != '\0' && o->len + 1 < o->size)
		o->buf[o->len++] = *s++;
}

/* v in base 10 or 16, most significant digit first */
static void put_uint(struct out *o, uint64_t v, unsigned base)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[24]; /* 2^64 - 1 has 20 decimal digits */
	size_t n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	while (n > 0)
		put_char(o, tmp[--n]);
}

static void put_int(struct out *o, int64_t v)
{
	if (v < 0) {
		put_char(o, '-');
		put_uint(o, (uint64_t)0 - (uint64_t)v, 10);
	} else {
		put_uint(o, (uint64_t)v, 10);
	}
}

static void put_hex(struct out *o, uintptr_t v)
{
	put_str(o, "0x");
	put_uint(o, v, 16);
}

static void put_vformat(struct out *o, const char *fmt, va_list ap)
{
	for (const char *f = fmt; *f != '\0'; f++) {
		if (*f != '%') {
			put_char(o, *f);
			continue;
		}
		f++;
		int longs = 0;
		bool size = false;
		for (;; f++) {
			if (*f == 'l')
				longs++;
			else if (*f == 'z')
				size = true;
			else
				break;
		}
		switch (*f) {
		case '%':
			put_char(o, '%');
			break;
		case 'c':
			put_char(o, (char)va_arg(ap, int));
			break;
		case 's':
			put_str(o, va_arg(ap, const char *));
			break;
		case 'p': {
			void *p = va_arg(ap, void *);
			if (p == NULL)
				put_str(o, "(nil)");
			else
				put_hex(o, (uintptr_t)p);
			break;
		}
		case 'd':
		case 'i':
			if (size)
				put_int(o, va_arg(ap, ssize_t));
			else if (longs >= 2)
				put_int(o, va_arg(ap, long long));
			else if (longs == 1)
				put_int(o, va_arg(ap, long));
			else
				put_int(o, va_arg(ap, int));
			break;
		case 'u':
		case 'x': {
			uint64_t v;
			if (size)
				v = va_arg(ap, size_t);
			else if (longs >= 2)
				v = va_arg(ap, unsigned long long);
			else if (longs == 1)
				v = va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned);
			put_uint(o, v, *f == 'u' ? 10 : 16);
			break;
		}
		case '\0':
			return;
		default:
			put_char(o, '?');
			break;
		}
	}
}

size_t vmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {.buf = buf, .size = size, .len = 0};
	put_vformat(&o, fmt, ap);
	if (size > 0)
		buf[o.len] = '\0';
	return o.len;
}

size_t vmm_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t len = vmm_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return len;
}

/* ---- struct vmm_msg: appending to a message ---- */

static struct out msg_out(struct vmm_msg *m)
{
	return (struct out){.buf = m->buf,
			    .size = sizeof(m->buf),
			    .len = m->len};
}

void vmm_msg_str(struct vmm_msg *m, const char *s)
{
	struct out o = msg_out(m);
	put_str(&o, s);
	m->len = o.len;
}

void vmm_msg_u64(struct vmm_msg *m, uint64_t v)
{
	struct out o = msg_out(m);
	put_uint(&o, v, 10);
	m->len = o.len;
}

void vmm_msg_hex(struct vmm_msg *m, uintptr_t v)
{
	struct out o = msg_out(m);
	put_hex(&o, v);
	m->len = o.len;
}

void vmm_msg_vformat(struct vmm_msg *m, const char *fmt, va_list ap)
{
	struct out o = msg_out(m);
	put_vformat(&o, fmt, ap);
	m->len = o.len;
}

void vmm_msg_format(struct vmm_msg *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmm_msg_vformat(m, fmt, ap);
	va_end(ap);
}

const char *vmm_msg_cstr(struct vmm_msg *m)
{
	m->buf[m->len < sizeof(m->buf) ? m->len : sizeof(m->buf) - 1] = '\0';
	return m->buf;
}
