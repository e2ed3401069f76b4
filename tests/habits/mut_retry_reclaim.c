/*
 * mut_retry_reclaim.c -- an allocation that fails only because freed
 * memory is still held (small blocks in the thread cache pin their slabs in
 * the middle of the pool, so no free run is long enough) succeeds: the
 * library flushes the thread cache and purges the arena, then retries,
 * before it answers ENOMEM.
 * Killed mutant: tests/mutants/defs/api-no-retry-before-enomem.mut.
 */
#include "vmmtest.h"

#define MAXB (1 << 20)
#define SMALL 64
static char *blocks[MAXB];

int main(void)
{
	struct vt_range pool = vt_pool();
	size_t n = 0;
	while (n < MAXB && (blocks[n] = malloc(SMALL)) != NULL)
		n++;
	CHECK_U(n, <, MAXB);
	CHECK_U(n, >, 1000);
	/* free everything, the blocks around the middle of the pool last:
	 * those stay in the thread cache and pin their slabs */
	uintptr_t mid = pool.lo + (pool.hi - pool.lo) / 2;
	size_t pinned = 0;
	for (size_t i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)blocks[i];
		if (a >= mid - 32 * SMALL && a < mid + 32 * SMALL &&
		    pinned < 64) {
			blocks[pinned++] = blocks[i];
			continue;
		}
		free(blocks[i]);
	}
	CHECK_U(pinned, >, 0);
	for (size_t i = 0; i < pinned; i++)
		free(blocks[i]);
	/* more than either half of the pool: fits only once they are gone */
	size_t big = (pool.hi - pool.lo) / 10 * 6;
	errno = 0;
	char *p = malloc(big);
	if (p == NULL)
		FAIL("malloc(%zu) in a pool of %zu bytes, all free: %s", big,
		     (size_t)(pool.hi - pool.lo), strerror(errno));
	CHECK_IN_POOL(pool, p, big);
	memset(p, 1, big);
	free(p);
	return 0;
}
