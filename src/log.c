/*
 * log.c -- every message the library writes: error lines and (in the debug
 * variant) trace output, through write(2) only.
 *
 * NOTES
 * - Never allocates and never uses stdio: it runs inside malloc, during
 *   initialisation and while jemalloc's fork handlers hold every arena lock.
 * - errno is preserved across every call here.
 * - strerror() may allocate for unknown codes; strerrordesc_np() never does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

void vmm_msg_str(struct vmm_msg *m, const char *s)
{
	if (s == NULL)
		s = "(null)";
	while (*s != '\0' && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = *s++;
}

void vmm_msg_u64(struct vmm_msg *m, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0 && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = tmp[--n];
}

void vmm_msg_hex(struct vmm_msg *m, uintptr_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[2 * sizeof(v)];
	size_t n = 0;
	do {
		tmp[n++] = digits[v & 0xf];
		v >>= 4;
	} while (v != 0);
	vmm_msg_str(m, "0x");
	while (n > 0 && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = tmp[--n];
}

const char *vmm_strerror(int err)
{
	const char *s = strerrordesc_np(err);
	return s != NULL ? s : "unknown error";
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void vmm_error(struct vmm_msg *m)
{
	int saved = errno;
	static const char prefix[] = "Error (libvmmalloc): ";
	struct vmm_msg line = {.len = 0};
	vmm_msg_str(&line, prefix);
	m->buf[m->len] = '\0';
	vmm_msg_str(&line, m->buf);
	line.buf[line.len++] = '\n';
	write_all(STDERR_FILENO, line.buf, line.len);
	errno = saved;
}

void vmm_die(struct vmm_msg *m)
{
	vmm_error(m);
	abort();
}
