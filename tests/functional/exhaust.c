/*
 * exhaust.c -- a full pool: every entry point returns NULL (or ENOMEM) and
 * never falls back to the system heap; after freeing, allocation works
 * again.  A 1 TiB request fails cleanly.
 */
#include <malloc.h>

#include "vmmtest.h"

#define MAXB (1 << 20)
static void *blocks[MAXB];
static size_t nblocks;

static size_t fill(size_t size)
{
	size_t n = 0;
	void *p;
	while (nblocks < MAXB && (p = malloc(size)) != NULL) {
		blocks[nblocks++] = p;
		n++;
	}
	CHECK_I(errno, ==, ENOMEM);
	return n;
}

static void drain(void)
{
	while (nblocks > 0)
		free(blocks[--nblocks]);
}

int main(void)
{
	struct vt_range pool = vt_pool();
	errno = 0;
	CHECK(malloc(vt_opaque((size_t)1 << 40)) == NULL); /* 1 TiB */
	CHECK_I(errno, ==, ENOMEM);

	for (int round = 0; round < 3; round++) {
		/* fill with large blocks, then with everything smaller */
		fill(1 << 20);
		fill(4096);
		fill(64);
		fill(8);
		CHECK_U(nblocks, >, 0);
		for (size_t i = 0; i < nblocks; i += 997)
			CHECK_IN_POOL(pool, blocks[i], 8);

		errno = 0;
		CHECK(malloc(64) == NULL && errno == ENOMEM);
		errno = 0;
		CHECK(calloc(8, 8) == NULL && errno == ENOMEM);
		void *q = NULL;
		errno = 0;
		CHECK(realloc(q, 64) == NULL && errno == ENOMEM);
		void *r = blocks[nblocks - 1]; /* 8 bytes; grow it: no room */
		errno = 0;
		CHECK(realloc(r, 1 << 20) == NULL && errno == ENOMEM);
		errno = 0;
		CHECK_I(posix_memalign(&q, 64, 64), ==, ENOMEM);
		CHECK_I(errno, ==, 0); /* posix_memalign leaves errno alone */
		errno = 0;
		CHECK(aligned_alloc(64, 64) == NULL && errno == ENOMEM);
		errno = 0;
		CHECK(memalign(64, 64) == NULL && errno == ENOMEM);
		errno = 0;
		CHECK(valloc(64) == NULL && errno == ENOMEM);
		errno = 0;
		CHECK(pvalloc(64) == NULL && errno == ENOMEM);
		errno = 0;
		CHECK(malloc(0) == NULL && errno == ENOMEM);

		drain();
		/* it recovers: a large block fits again */
		void *big = malloc(8 << 20);
		CHECK(big != NULL);
		CHECK_IN_POOL(pool, big, 8 << 20);
		free(big);
	}
	return 0;
}
