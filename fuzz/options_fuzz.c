/*
 * options_fuzz.c -- libFuzzer target over the option parser (options.c):
 * vmm_parse_size and vmm_parse_uint are checked against independent
 * reference parsers, and vmm_options_load runs on a fuzzed environment.
 *
 * Input: byte 0 = which of the eight variables are set (bit mask), bytes 1
 * and 2 = the [lo, hi] range for vmm_parse_uint, then the values of
 * VMMALLOC_POOL_DIR, _POOL_SIZE, _FORK, _POOL_PREALLOC, _LOG_LEVEL,
 * _LOG_FILE, _LOG_STATS and _POOL_LAZY separated by '\n'.
 *
 * Bad values make the library print its error line and abort(): this
 * program defines abort() so that the call returns to the harness through
 * longjmp, and the harness checks that the reference parser also rejected
 * a value.  Built with clang -fsanitize=fuzzer,undefined (fuzz/CMakeLists).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvmmalloc.h"
#include "vmm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sigjmp_buf died;
static volatile int armed;

/* vmm_die ends here: back to the harness when it is waiting for it */
void abort(void)
{
	if (armed) {
		armed = 0;
		siglongjmp(died, 1);
	}
	signal(SIGABRT, SIG_DFL);
	raise(SIGABRT);
	_exit(134);
}

#define BUG(...)                                                               \
	do {                                                                   \
		fprintf(stderr, "options_fuzz: " __VA_ARGS__);                 \
		fputc('\n', stderr);                                           \
		armed = 0;                                                     \
		signal(SIGABRT, SIG_DFL);                                      \
		raise(SIGABRT);                                                \
	} while (0)

/* the reference: accept digits, then "", or one of KMGT (any case)
 * followed by "", "B" or "iB" (any case); at most 2^47 */
static int ref_size(const char *s, size_t *out)
{
	unsigned __int128 v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned)(*p++ - '0');
		if (v > ((unsigned __int128)1 << 60))
			v = (unsigned __int128)1 << 60; /* saturate */
	}
	static const char units[] = "kmgt";
	const char *u = *p ? strchr(units, p[0] | 0x20) : NULL;
	unsigned shift = 0;
	if (*p != '\0') {
		if (u == NULL || p[0] == '\0')
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
		p++;
		if ((p[0] | 0x20) == 'i' && (p[1] | 0x20) == 'b' && p[1])
			p += 2;
		else if ((p[0] | 0x20) == 'b' && p[0])
			p++;
		if (*p != '\0')
			return -1;
	}
	v <<= shift;
	if (v > ((unsigned __int128)1 << 47))
		return -1;
	*out = (size_t)v;
	return 0;
}

static int ref_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	if (*s == '\0')
		return -1;
	unsigned __int128 v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT64_MAX)
			v = UINT64_MAX; /* saturate */
	}
	if (v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static const char *const names[] = {
	"VMMALLOC_POOL_DIR",	  "VMMALLOC_POOL_SIZE", "VMMALLOC_FORK",
	"VMMALLOC_POOL_PREALLOC", "VMMALLOC_LOG_LEVEL", "VMMALLOC_LOG_FILE",
	"VMMALLOC_LOG_STATS",	  "VMMALLOC_POOL_LAZY",
};
#define NVARS 8

static void check_size(const char *s)
{
	size_t a = 0, b = 0;
	const char *why = vmm_parse_size(s, &a);
	int ref = ref_size(s, &b);
	if ((why == NULL) != (ref == 0))
		BUG("vmm_parse_size(\"%s\"): %s, reference %s", s,
		    why ? why : "accepted", ref ? "rejects" : "accepts");
	if (why == NULL && a != b)
		BUG("vmm_parse_size(\"%s\") = %zu, reference %zu", s, a, b);
	if (why == NULL) {
		/* the value printed in bytes parses back to itself */
		char buf[32];
		snprintf(buf, sizeof(buf), "%zu", a);
		size_t c = 0;
		if (vmm_parse_size(buf, &c) != NULL || c != a)
			BUG("vmm_parse_size round trip of %zu", a);
	}
}

static void check_uint(const char *s, unsigned lo, unsigned hi)
{
	unsigned a = 7777, b = 0;
	bool ok = vmm_parse_uint(s, lo, hi, &a);
	int ref = ref_uint(s, lo, hi, &b);
	if (ok != (ref == 0))
		BUG("vmm_parse_uint(\"%s\", %u, %u): %d, reference %d", s, lo,
		    hi, ok, ref == 0);
	if (ok && a != b)
		BUG("vmm_parse_uint(\"%s\") = %u, reference %u", s, a, b);
	if (!ok && a != 7777)
		BUG("vmm_parse_uint(\"%s\") wrote its output on failure", s);
}

static int devnull = -1, saved_stderr = -1;

/* what vmm_options_load must accept: the reference's verdict */
static bool ref_accepts(char **vals)
{
	size_t sz;
	unsigned u;
	if (vals[0] == NULL || vals[0][0] == '\0')
		return false;
	if (vals[1] == NULL || ref_size(vals[1], &sz) != 0 ||
	    sz < VMMALLOC_MIN_POOL)
		return false;
	if (vals[2] != NULL && ref_uint(vals[2], 0, 3, &u) != 0)
		return false;
	unsigned prealloc = 0, lazy = 0;
	if (vals[3] != NULL && ref_uint(vals[3], 0, 1, &prealloc) != 0)
		return false;
	if (vals[4] != NULL && ref_uint(vals[4], 0, 4, &u) != 0)
		return false;
	if (vals[6] != NULL && strcmp(vals[6], "0") != 0 &&
	    strcmp(vals[6], "1") != 0 && strcmp(vals[6], "json") != 0)
		return false;
	if (vals[7] != NULL && ref_uint(vals[7], 0, 1, &lazy) != 0)
		return false;
	return !(prealloc == 1 && lazy == 1); /* they exclude each other */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size > 4096)
		return 0;
	unsigned mask = data[0];
	unsigned lo = data[1], hi = data[2];
	static char buf[4100];
	memcpy(buf, data + 3, size - 3);
	buf[size - 3] = '\0';
	char *vals[NVARS] = {0};
	char *p = buf;
	for (unsigned i = 0; i < NVARS && p != NULL; i++) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (strlen(p) != (size_t)((nl ? nl : p + strlen(p)) - p))
			return 0; /* an embedded NUL: not an environment */
		if (mask & (1u << i))
			vals[i] = p;
		check_size(p);
		check_uint(p, lo, hi);
		p = nl != NULL ? nl + 1 : NULL;
	}

	for (unsigned i = 0; i < NVARS; i++) {
		if (vals[i] != NULL)
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
	memset(&vmm_opts, 0, sizeof(vmm_opts));
	vmm_opts.fork_mode = VMM_FORK_PRIVATE;
	if (devnull < 0) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 10);
	}
	dup2(devnull, 2); /* the library's error lines */
	bool loaded = false;
	if (sigsetjmp(died, 0) == 0) {
		armed = 1;
		vmm_options_load();
		armed = 0;
		loaded = true;
	}
	dup2(saved_stderr, 2);
	if (loaded != ref_accepts(vals))
		BUG("vmm_options_load %s, the reference %s (size \"%s\")",
		    loaded ? "accepted" : "rejected",
		    loaded ? "rejects" : "accepts",
		    vals[1] ? vals[1] : "(unset)");
	if (loaded) {
		if (vmm_opts.pool_dir == NULL || vmm_opts.pool_dir[0] == '\0' ||
		    vmm_opts.pool_size < VMMALLOC_MIN_POOL ||
		    vmm_opts.fork_mode > VMM_FORK_COPY_OR_PRIVATE ||
		    vmm_opts.log_level > 4 || vmm_opts.log_stats > 2 ||
		    (vmm_opts.pool_prealloc && vmm_opts.pool_lazy))
			BUG("vmm_options_load accepted an invalid setting");
	}
	return 0;
}
