/*
 * foreign_ctor.c -- malloc_usable_size() of a foreign block (one of
 * glibc's own, as a dlopen(RTLD_DEEPBIND) library makes) while another
 * thread holds the dynamic loader's lock: here it is inside dlopen, in a
 * library constructor that waits for this thread.  Sizing the block must
 * not need the loader, or the two threads wait for each other (until the
 * constructor gives up, after 5 s).
 *
 *   foreign_ctor LIBRARY     (tests/habits/foreign_lib.c)
 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <time.h>

#include "vmmtest.h"

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);

#define LIMIT_MS 2000

static const char *lib;

static void *loader(void *arg)
{
	(void)arg;
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		FAIL("dlopen(%s): %s", lib, dlerror());
	dlclose(h);
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	lib = argv[1];
	struct vt_range pool = vt_pool();
	char *foreign = __libc_malloc(100);
	CHECK(foreign != NULL);
	if (vt_in(pool, foreign, 1))
		SKIP("__libc_malloc allocated in the pool: nothing foreign");

	int up[2], down[2];
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	char fds[64];
	snprintf(fds, sizeof(fds), "%d,%d", up[1], down[0]);
	CHECK(setenv("FOREIGN_LIB_HANDSHAKE", fds, 1) == 0);

	pthread_t t;
	CHECK_I(pthread_create(&t, NULL, loader, NULL), ==, 0);
	char c;
	CHECK_I(read(up[0], &c, 1), ==, 1); /* the constructor is running */
	long t0 = now_ms();
	size_t n = malloc_usable_size(foreign);
	long waited = now_ms() - t0;
	CHECK_I(write(down[1], "g", 1), ==, 1); /* let it finish */
	CHECK_I(pthread_join(t, NULL), ==, 0);
	CHECK_U(n, >=, 100);
	if (waited > LIMIT_MS)
		FAIL("malloc_usable_size of a foreign block waited %ld ms for "
		     "the dynamic loader (held by a library constructor)",
		     waited);
	__libc_free(foreign);
	printf("sized a foreign block in %ld ms while another thread was "
	       "in dlopen\n",
	       waited);
	return 0;
}
