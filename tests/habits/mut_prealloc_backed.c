/*
 * mut_prealloc_backed.c -- VMMALLOC_POOL_PREALLOC=1 backs the whole pool
 * at start and keeps it backed: freed memory is never punched out of the
 * file, not even by the purge that precedes an ENOMEM.
 * Killed mutant: tests/mutants/defs/prealloc-not-kept-backed.mut.
 */
#include <sys/stat.h>

#include "vmmtest.h"

static long long backed(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (long long)st.st_blocks * 512;
}

int main(void)
{
	struct vt_range pool = vt_pool();
	int fds[4];
	CHECK_I(vt_pool_fds(fds, 4), ==, 1);
	struct stat st;
	CHECK(fstat(fds[0], &st) == 0);
	long long want = (long long)(pool.hi - pool.lo);
	CHECK_I(backed(fds[0]), >=, want);

	size_t big = 8u << 20;
	char *p = malloc(big);
	CHECK(p != NULL);
	CHECK_IN_POOL(pool, p, big);
	memset(p, 0x5a, big);
	free(p);
	/* fails, after flushing the thread cache and purging the arena */
	errno = 0;
	CHECK(malloc(vt_opaque((size_t)1 << 30)) == NULL);
	CHECK_I(errno, ==, ENOMEM);
	CHECK_I(backed(fds[0]), >=, want);
	return 0;
}
