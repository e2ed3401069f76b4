/*
 * format.c -- format.c's printf subset, which builds every message of the
 * library: each conversion (%s %c %d %i %u %x %p %%) with each length
 * modifier (none, l, ll, z) at its extreme values, against glibc's
 * snprintf for the same format and arguments -- whole, truncated at every
 * buffer size, and appended to a struct vmm_msg.  Then what glibc would do
 * differently, pinned by hand: flags, widths, precisions and other
 * conversions (%m among them) print '?', a '%' at the end of the format
 * stops, a message never outgrows its buffer.  Last, log.c's errno text.
 */
#include <limits.h>
#include <stdarg.h>

#include "format.h"
#include "vmm.h"
#include "vmmtest.h"

static unsigned cases, sizes;

/* a string with its unprintable bytes escaped, for failure messages */
static const char *shown(const char *s, size_t len)
{
	static char out[2][4200];
	static int which;
	char *o = out[which ^= 1];
	size_t n = 0;
	for (size_t i = 0; i < len && n < sizeof(out[0]) - 5; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			o[n++] = (char)c;
		else
			n += (size_t)sprintf(o + n, "\\x%02x", c);
	}
	o[n] = '\0';
	return o;
}

static void same_bytes(const char *what, size_t size, const char *got,
		       size_t glen, const char *want, size_t wlen)
{
	if (glen != wlen || memcmp(got, want, wlen) != 0)
		FAIL("%s, buffer size %zu: \"%s\" (%zu) instead of \"%s\" (%zu)",
		     what, size, shown(got, glen), glen, shown(want, wlen),
		     wlen);
}

/* what a buffer of size bytes keeps of a text of wlen: snprintf's rule */
static size_t kept(size_t size, size_t wlen)
{
	return size == 0 ? 0 : wlen < size ? wlen : size - 1;
}

static void same_len(const char *what, size_t size, size_t glen, size_t wlen)
{
	if (glen != kept(size, wlen))
		FAIL("%s, buffer size %zu: returned %zu instead of %zu", what,
		     size, glen, kept(size, wlen));
}

#define CANARY 0x5a

/*
 * One format, checked against snprintf: whole; into every buffer size from
 * 0 to one past the text (same bytes written, nothing past the size, the
 * length written returned); and appended to a message after a prefix.
 */
#define SAME(...)                                                              \
	do {                                                                   \
		char want_[1024], got_[1024];                                  \
		int n_ = snprintf(want_, sizeof(want_), __VA_ARGS__);          \
		CHECK(n_ >= 0 && (size_t)n_ < sizeof(want_));                  \
		size_t wlen_ = (size_t)n_;                                     \
		size_t glen_ = vmm_snprintf(got_, sizeof(got_), __VA_ARGS__);  \
		same_bytes(#__VA_ARGS__, sizeof(got_), got_, glen_, want_,     \
			   wlen_);                                             \
		CHECK(got_[glen_] == '\0');                                    \
		for (size_t s_ = 0; s_ <= wlen_ + 1; s_++) {                   \
			memset(want_, CANARY, sizeof(want_));                  \
			memset(got_, CANARY, sizeof(got_));                    \
			snprintf(want_, s_, __VA_ARGS__);                      \
			glen_ = vmm_snprintf(got_, s_, __VA_ARGS__);           \
			same_len(#__VA_ARGS__, s_, glen_, wlen_);              \
			same_bytes(#__VA_ARGS__, s_, got_, sizeof(got_),       \
				   want_, sizeof(want_));                      \
			sizes++;                                               \
		}                                                              \
		struct vmm_msg m_ = {.len = 0};                                \
		vmm_msg_str(&m_, "prefix: ");                                  \
		vmm_msg_format(&m_, __VA_ARGS__);                              \
		n_ = snprintf(want_, sizeof(want_), "prefix: ");               \
		snprintf(want_ + n_, sizeof(want_) - (size_t)n_, __VA_ARGS__); \
		same_bytes(#__VA_ARGS__ " after a prefix", sizeof(m_.buf),     \
			   m_.buf, m_.len, want_, (size_t)n_ + wlen_);         \
		cases++;                                                       \
	} while (0)

/*
 * Formats the compiler would refuse to check against printf, or where we
 * differ from glibc on purpose: the expected text is given, and must come
 * out whole and truncated at every size.
 */
static void unchecked(const char *fmt, const char *want, ...)
{
	size_t wlen = strlen(want);
	char got[256];
	for (size_t s = 0; s <= wlen + 1; s++) {
		memset(got, CANARY, sizeof(got));
		va_list ap;
		va_start(ap, want);
		size_t glen = vmm_vsnprintf(got, s, fmt, ap);
		va_end(ap);
		size_t keep = kept(s, wlen);
		same_len(fmt, s, glen, wlen);
		same_bytes(fmt, s, got, glen, want, keep);
		if (s > 0)
			CHECK(got[keep] == '\0');
		for (size_t i = s; i < sizeof(got); i++)
			if (got[i] != CANARY)
				FAIL("%s, buffer size %zu: byte %zu written",
				     fmt, s, i);
		sizes++;
	}
	/* through the va_list entry point of struct vmm_msg as well */
	struct vmm_msg m = {.len = 0};
	va_list ap;
	va_start(ap, want);
	vmm_msg_vformat(&m, fmt, ap);
	va_end(ap);
	CHECK_STR(vmm_msg_cstr(&m), want);
	cases++;
}

static void conversions(void)
{
	/* text and %% */
	SAME("plain text");
	SAME("%s", "");
	SAME("100%% sure, %%%% twice, and %%");
	/* %c: any byte, NUL included */
	SAME("%c%c%c", 'o', 'k', '!');
	SAME("[%c]", '\0');
	SAME("%c", (char)0xff);
	/* %s */
	SAME("%s and %s", "this", "that");
	SAME("[%s]", "");
	SAME("%s%s%s", "a", "", "c");
	/* %d and %i: int, long, long long, ssize_t */
	SAME("%d %d %d %d %d", 0, 1, -1, INT_MIN, INT_MAX);
	SAME("%i %i %i", 0, INT_MIN, INT_MAX);
	SAME("%ld %ld %ld", 0L, LONG_MIN, LONG_MAX);
	SAME("%li %li", LONG_MIN, LONG_MAX);
	SAME("%lld %lld %lld", 0LL, LLONG_MIN, LLONG_MAX);
	SAME("%lli %lli", LLONG_MIN, -12345LL);
	SAME("%zd %zd %zd", (ssize_t)0, (ssize_t)-7, (ssize_t)SSIZE_MAX);
	SAME("%zi %zi", (ssize_t)-SSIZE_MAX - 1, (ssize_t)SSIZE_MAX);
	/* %u: unsigned, unsigned long, unsigned long long, size_t */
	SAME("%u %u %u", 0u, 1u, UINT_MAX);
	SAME("%lu %lu", 0UL, ULONG_MAX);
	SAME("%llu %llu", 0ULL, ULLONG_MAX);
	SAME("%zu %zu", (size_t)0, SIZE_MAX);
	SAME("%u", (unsigned)-1); /* a negative int seen as unsigned */
	/* %x: the same four widths, lower case */
	SAME("%x %x %x %x", 0u, 9u, 0xdeadbeefu, UINT_MAX);
	SAME("%lx %lx", 0xfeedfaceUL, ULONG_MAX);
	SAME("%llx %llx", 0x123456789abcdefULL, ULLONG_MAX);
	SAME("%zx %zx", (size_t)4096, SIZE_MAX);
	/* every power of two and its neighbours, in both bases */
	for (unsigned b = 0; b < 64; b++) {
		unsigned long long v = 1ULL << b;
		SAME("%llu %llx %llu %llx %llu", v - 1, v - 1, v, v, v + 1);
	}
	/* %p: 0x... like glibc, (nil) for NULL */
	SAME("%p %p %p", (void *)0x7f00deadbeef, (void *)NULL, (void *)1);
	SAME("%p", (void *)UINTPTR_MAX);
	/* all of them in one line, as a trace line mixes them */
	SAME("<%u> [%s:%d %s] ptr %p, size %zu, %lld %lx %c%%", 4u, "f.c", 12,
	     "fn", (void *)0x1000, (size_t)77, -3LL, 0xabcUL, 'z');
}

static void differences(void)
{
	/* NULL for %s: glibc prints (null) too, but gcc refuses to check it */
	unchecked("%s", "(null)", (const char *)NULL);
	unchecked("[%s|%s]", "[(null)|x]", (const char *)NULL, "x");
	/* no flags, widths or precisions: '?', then the rest as text */
	unchecked("[%5d]", "[?d]", 42);
	unchecked("[%-s]", "[?s]", "x");
	unchecked("[%08x]", "[?8x]", 1u);
	unchecked("[%#x]", "[?x]", 1u);
	unchecked("[%+d]", "[?d]", 1);
	unchecked("[% d]", "[?d]", 1);
	unchecked("[%.3s]", "[?3s]", "abcdef");
	unchecked("[%*d]", "[?d]", 3, 4);
	/* other conversions and length modifiers are not there either */
	unchecked("%m", "?");
	unchecked("%o %X %e %f %g %n", "? ? ? ? ? ?");
	unchecked("%hd %hhu %jd %td %Lf %qd", "?d ?hu ?d ?d ?f ?d");
	/* a lone conversion skips no argument: the next one still lines up */
	unchecked("%q %d", "? 7", 7);
	/* modifiers mean nothing to %s %c %p and %% */
	unchecked("%ls %lc %zp %l%", "ab c 0x10 %", "ab", 'c', (void *)16);
	/* three or more l's read a long long */
	unchecked("%llld", "-9223372036854775808", LLONG_MIN);
	/* a '%' (with or without modifiers) at the very end stops the text */
	unchecked("ends with %", "ends with ");
	unchecked("%l", "");
	unchecked("x%zll", "x");
	unchecked("", "");
}

static void messages(void)
{
	/* the appenders, one after the other */
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "a=");
	vmm_msg_u64(&m, UINT64_MAX);
	vmm_msg_str(&m, " b=");
	vmm_msg_hex(&m, 0);
	vmm_msg_str(&m, " c=");
	vmm_msg_hex(&m, (uintptr_t)0xc0ffee);
	vmm_msg_str(&m, NULL);
	vmm_msg_format(&m, " %d%s", -1, "!");
	CHECK_STR(vmm_msg_cstr(&m), "a=18446744073709551615 b=0x0 c=0xc0ffee"
				    "(null) -1!");
	CHECK_U(m.len, ==, strlen(m.buf));

	/* a long line stops one byte short of the buffer (room for '\n') */
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m.len = 0;
	vmm_msg_format(&m, "%s%d%c%%%x", big, -5, 'c', 255u);
	CHECK_U(m.len, ==, sizeof(m.buf) - 1);
	CHECK_U(strlen(vmm_msg_cstr(&m)), ==, sizeof(m.buf) - 1);
	/* every appender stops there, at any starting length */
	for (size_t start = sizeof(m.buf) - 4; start < sizeof(m.buf); start++) {
		m.len = start;
		vmm_msg_str(&m, "abcdef");
		CHECK_U(m.len, ==, sizeof(m.buf) - 1);
		m.len = start;
		vmm_msg_u64(&m, 1234567);
		CHECK_U(m.len, ==, sizeof(m.buf) - 1);
		m.len = start;
		vmm_msg_hex(&m, 0xabcdef);
		CHECK_U(m.len, ==, sizeof(m.buf) - 1);
		m.len = start;
		vmm_msg_format(&m, "%d %p", 1234567, (void *)&m);
		CHECK_U(m.len, ==, sizeof(m.buf) - 1);
	}
	/* the digits kept are the leading ones */
	m.len = sizeof(m.buf) - 4;
	vmm_msg_u64(&m, 987654);
	CHECK_STR(vmm_msg_cstr(&m) + sizeof(m.buf) - 4, "987");
}

static void errno_text(void)
{
	/* the formatter never touches errno */
	char buf[64];
	errno = 4321;
	vmm_snprintf(buf, sizeof(buf), "%d %s %p", 1, "x", (void *)buf);
	struct vmm_msg m = {.len = 0};
	vmm_msg_format(&m, "%zu", SIZE_MAX);
	CHECK_I(errno, ==, 4321);
	/* log.c's strerror: glibc's text, never an allocated one */
	CHECK_STR(vmm_strerror(ENOENT), "No such file or directory");
	CHECK_STR(vmm_strerror(ENAMETOOLONG), "File name too long");
	CHECK_STR(vmm_strerror(0), "Success");
	CHECK_STR(vmm_strerror(-1), "unknown error");
	CHECK_STR(vmm_strerror(100000), "unknown error");
}

int main(void)
{
	conversions();
	differences();
	messages();
	errno_text();
	printf("%u formats agree with snprintf or the expected text, at %u "
	       "buffer sizes\n",
	       cases, sizes);
	return 0;
}
