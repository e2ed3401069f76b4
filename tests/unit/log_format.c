/*
 * log_format.c -- log.c's printf subset (%s %c %d %i %u %x %p %% with l, ll
 * and z), which builds every trace line of the debug variant, against
 * glibc's snprintf for the same format and arguments; and its edges: an
 * unknown directive prints '?', a lone '%' at the end stops, and a line
 * never outgrows the message buffer.
 */
#include <limits.h>

#include "vmm.h"
#include "vmmtest.h"

static unsigned cases;

#define SAME(...)                                                            \
	do {                                                                 \
		char want_[1024];                                            \
		snprintf(want_, sizeof(want_), __VA_ARGS__);                 \
		struct vmm_msg m_ = {.len = 0};                              \
		vmm_msg_format(&m_, __VA_ARGS__);                            \
		m_.buf[m_.len] = '\0';                                       \
		CHECK_STR(m_.buf, want_);                                    \
		cases++;                                                     \
	} while (0)

/* formats the compiler would refuse to check against printf */
static void unchecked(const char *fmt, const char *want, ...)
{
	struct vmm_msg m = {.len = 0};
	va_list ap;
	va_start(ap, want);
	vmm_msg_vformat(&m, fmt, ap);
	va_end(ap);
	m.buf[m.len] = '\0';
	CHECK_STR(m.buf, want);
	cases++;
}

int main(void)
{
	SAME("plain text");
	SAME("100%% sure, %c%c", 'o', 'k');
	SAME("%s and %s", "this", "that");
	SAME("%d %d %d %i", 0, -1, INT_MIN, INT_MAX);
	SAME("%ld %ld", LONG_MIN, LONG_MAX);
	SAME("%lld %lli", LLONG_MIN, -12345LL);
	SAME("%zd %zd", (ssize_t)-7, (ssize_t)SSIZE_MAX);
	SAME("%u %u", 0u, UINT_MAX);
	SAME("%lu %llu %zu", ULONG_MAX, ULLONG_MAX, SIZE_MAX);
	SAME("%x %x %lx %llx %zx", 0u, 0xdeadbeefu, 0xfeedfaceUL,
	     0x123456789abcdefULL, (size_t)4096);
	SAME("%p %p", (void *)0x7f00deadbeef, (void *)NULL);
	SAME("[%s]", "");
	unchecked("%s", "(null)", (const char *)NULL);
	unchecked("a %q b", "a ? b");
	unchecked("ends with %", "ends with ");
	unchecked("%l", "");

	/* a long line stops one byte short of the buffer (room for '\n') */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct vmm_msg m = {.len = 0};
	vmm_msg_format(&m, "%s%d%c%%%x", big, -5, 'c', 255u);
	CHECK_U(m.len, ==, sizeof(m.buf) - 1);
	printf("%u formats agree with snprintf\n", cases);
	return 0;
}
