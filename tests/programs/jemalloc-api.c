/*
 * jemalloc-api.c -- a program linked against Debian's libjemalloc.so.2, as
 * redis-server is, run with libvmmalloc preloaded: malloc and friends bind
 * to the pool, jemalloc's own API (nallocx, mallctl, mallocx, sdallocx...)
 * binds to whichever library exports it first.
 *
 *   jemalloc-api redis    what Debian's redis-server imports besides the
 *                         malloc family: nallocx, mallctl,
 *                         malloc_stats_print.  Must be safe.
 *   jemalloc-api mixed    the rest of the non-standard API on pool blocks
 *                         (sdallocx, dallocx, sallocx, rallocx, xallocx) and
 *                         free() of mallocx blocks, each in a child.  Safe
 *                         only when libvmmalloc exports that API itself
 *                         (then every call must be safe); otherwise the
 *                         calls reach libjemalloc.so.2 and the test checks
 *                         that the documented hazard is still real.
 */
#include <dlfcn.h>
#include <jemalloc/jemalloc.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmmtest.h"

static struct vt_range pool;
#define IN_POOL(p, n) CHECK_IN_POOL(pool, (p), (n))

static const char *owner(const char *sym)
{
	void *p = dlsym(RTLD_DEFAULT, sym);
	Dl_info info;
	if (p == NULL || dladdr(p, &info) == 0 || info.dli_fname == NULL)
		return "(none)";
	const char *s = strrchr(info.dli_fname, '/');
	return s != NULL ? s + 1 : info.dli_fname;
}

static int redis_subset(void)
{
	/* redis's sds: "already optimal" when nallocx(n) == usable size */
	for (size_t n = 1; n < 70000; n += n / 8 + 1) {
		void *p = malloc(n);
		IN_POOL(p, n);
		size_t u = malloc_usable_size(p);
		size_t x = nallocx(n, 0);
		CHECK(u >= n);
		if (x == u)
			continue;
		/* a mismatch is safe only if it makes redis realloc */
		CHECK(x > n);
		printf("note: nallocx(%zu)=%zu, usable size %zu\n", n, x, u);
		free(p);
	}
	/* INFO memory: epoch + stats reads; they report libjemalloc's heap */
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	CHECK_I(mallctl("epoch", &epoch, &sz, &epoch, sz), ==, 0);
	size_t allocated = 0;
	sz = sizeof(allocated);
	CHECK_I(mallctl("stats.allocated", &allocated, &sz, NULL, 0), ==, 0);
	printf("mallctl stats.allocated = %zu (libjemalloc's own heap, not the pool)\n",
	       allocated);
	/* MEMORY PURGE and the background thread: libjemalloc's arenas only */
	CHECK_I(mallctl("arena.4096.purge", NULL, NULL, NULL, 0), ==, 0);
	bool on = true;
	(void)mallctl("background_thread", NULL, NULL, &on, sizeof(on));
	malloc_stats_print(NULL, NULL, "gmdablxe");
	void *p = malloc(1000);
	IN_POOL(p, 1000);
	free(p);
	return 0;
}

/* runs one mixed call in a child; returns 0 if it survived */
static int in_child(const char *what, void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("safe:   %s\n", what);
		return 0;
	}
	if (WIFSIGNALED(st))
		printf("UNSAFE: %s (signal %d)\n", what, WTERMSIG(st));
	else
		printf("UNSAFE: %s (exit %d)\n", what, WEXITSTATUS(st));
	return 1;
}

static void t_sdallocx(void)
{
	void *p = malloc(100);
	sdallocx(p, 100, 0);
	p = malloc(100);
	IN_POOL(p, 100);
}
static void t_dallocx(void)
{
	void *p = malloc(5000);
	dallocx(p, 0);
	p = malloc(5000);
	IN_POOL(p, 5000);
}
static void t_sallocx(void)
{
	void *p = calloc(1, 100);
	CHECK(sallocx(p, 0) >= 100);
	free(p);
}
static void t_rallocx(void)
{
	char *p = malloc(100);
	memset(p, 7, 100);
	p = rallocx(p, 100000, 0);
	CHECK(p != NULL && p[99] == 7);
	IN_POOL(p, 100000);
	free(p);
}
static void t_xallocx(void)
{
	void *p = calloc(1, 100);
	CHECK(xallocx(p, 100, 0, 0) >= 100);
	free(p);
}
static void t_mallocx_free(void)
{
	void *p = mallocx(100, MALLOCX_ZERO);
	CHECK(p != NULL);
	IN_POOL(p, 100);
	free(p);
}
static void t_malloc_sdallocx_loop(void)
{
	for (int i = 0; i < 100000; i++) {
		void *p = mallocx((size_t)(i % 4000) + 1, 0);
		CHECK(p != NULL);
		sdallocx(p, (size_t)(i % 4000) + 1, 0);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "redis";
	pool = vt_pool();
	printf("malloc -> %s, nallocx -> %s, mallctl -> %s, sdallocx -> %s\n",
	       owner("malloc"), owner("nallocx"), owner("mallctl"),
	       owner("sdallocx"));
	if (strcmp(mode, "redis") == 0)
		return redis_subset();
	int bad = 0;
	bad += in_child("sdallocx(malloc block)", t_sdallocx);
	bad += in_child("dallocx(malloc block)", t_dallocx);
	bad += in_child("sallocx(malloc block)", t_sallocx);
	bad += in_child("rallocx(malloc block)", t_rallocx);
	bad += in_child("xallocx(malloc block)", t_xallocx);
	bad += in_child("free(mallocx block), mallocx block in the pool",
			t_mallocx_free);
	bad += in_child("mallocx + sdallocx loop", t_malloc_sdallocx_loop);
	printf("%d unsafe call(s)\n", bad);
	if (strcmp(owner("mallocx"), owner("malloc")) == 0)
		return bad != 0; /* the library routes the API to the pool */
	/*
	 * libvmmalloc exports only the 11 standard names: these calls reach
	 * libjemalloc.so.2, which does not know pool blocks.  That is the
	 * documented limitation (README, "jemalloc's own API"); check that
	 * it still describes what happens, so the text cannot go stale.
	 */
	printf("libvmmalloc does not export jemalloc's API: as documented, "
	       "mixing it with pool blocks is unsafe\n");
	CHECK(bad > 0);
	return 0;
}
