/*
* badenv_probe.c -- the program the bad-environment cases run preloaded: when the
 * library accepted the environment, every block (tiny to 32 MiB, from
 * several threads, freed on other threads) must lie in the pool, and the
 * pool file must be unlinked and mode 0600 even under umask 0.
 *
 * Built twice: plain (run with LD_PRELOAD) and linked with -lvmmalloc (the
 * setuid case, where the loader ignores LD_PRELOAD for a relative path).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmmtest.h"

#define NTHREADS 4
#define NBLOCKS 64

static struct vt_range pool;
static void *blocks[NTHREADS][NBLOCKS];

/* small blocks stay live (freed later by another thread) */
static size_t block_size(unsigned t, unsigned i)
{
	return ((size_t)1 << (i % 16)) + t * 7 + i;
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	size_t pool_size = pool.hi - pool.lo;
	for (unsigned i = 0; i < NBLOCKS; i++) {
		size_t s = block_size(t, i);
		unsigned char *p = malloc(s);
		CHECK(p != NULL);
		CHECK_IN_POOL(pool, p, s);
		memset(p, (int)(t * NBLOCKS + i), s);
		blocks[t][i] = p;
		/* large and "oversize" extents up to 32 MiB, one at a time */
		size_t big = ((size_t)64 << 10) << (i % 10);
		if (big > pool_size / (2 * NTHREADS))
			continue;
		p = malloc(big);
		CHECK(p != NULL);
		CHECK_IN_POOL(pool, p, big);
		memset(p, 0x5a, big);
		free(p);
	}
	return NULL;
}

/* the pool's fd: an unlinked file in the pool directory (a node pool's
 * memfd has no name anywhere, and its mode is the kernel's) */
static void check_pool_file(void)
{
	int fds[4];
	CHECK_I(vt_pool_fds(fds, 4), ==, 1);
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[0]);
	struct stat st;
	CHECK(stat(link, &st) == 0);
	if (getenv("VMMALLOC_POOL_NODE") == NULL)
		CHECK_U(st.st_mode & 07777, ==, 0600);
	CHECK_U(st.st_nlink, ==, 0);
	CHECK_U(st.st_uid, ==, geteuid());
	int fl = fcntl(fds[0], F_GETFD);
	CHECK(fl >= 0 && (fl & FD_CLOEXEC));
}

int main(void)
{
	pool = vt_pool();
	check_pool_file();
	pthread_t th[NTHREADS];
	for (unsigned t = 0; t < NTHREADS; t++)
		CHECK(pthread_create(&th[t], NULL, worker,
				     (void *)(uintptr_t)t) == 0);
	for (unsigned t = 0; t < NTHREADS; t++)
		CHECK(pthread_join(th[t], NULL) == 0);
	/* check and free every block on a thread that did not allocate it */
	for (unsigned t = 0; t < NTHREADS; t++) {
		for (unsigned i = 0; i < NBLOCKS; i++) {
			unsigned char *p = blocks[t][i];
			size_t s = block_size(t, i);
			unsigned char v = (unsigned char)(t * NBLOCKS + i);
			CHECK_U(p[0], ==, v);
			CHECK_U(p[s - 1], ==, v);
			p = realloc(p, s + 4096);
			CHECK(p != NULL);
			CHECK_IN_POOL(pool, p, s + 4096);
			CHECK_U(p[s - 1], ==, v);
			free(p);
		}
	}
	printf("probe: %u blocks in the pool\n", NTHREADS * NBLOCKS);
	return 0;
}
