/*
 * node_guard.c -- an allocation the node cannot back is refused with
 * ENOMEM, through the whole path (engine, commit hook, the node guard,
 * reclaim and retry), and the process lives on: the pool (run with a pool
 * far larger than the node) is not the limit here, the node is.  A block of
 * the node's total memory plus 1 GiB must fail at once and allocate
 * nothing; small and large blocks that fit still work afterwards, and the
 * pool's pages stay on the node.
 *
 * Safe on a shared machine only because the guard refuses before backing
 * anything: without it this test would run the node out of memory (an OOM
 * kill, not a failure report), so it is not run against a guard-less build.
 */
#include "vmmtest.h"

static unsigned long long node_total(long node)
{
	char path[96], line[256];
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%ld/meminfo",
		 node);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		SKIP("cannot read %s", path);
	unsigned long long kb = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Node %*d MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	if (kb == 0)
		SKIP("no MemTotal in %s", path);
	return kb * 1024;
}

int main(void)
{
	const char *n = getenv("VMMALLOC_POOL_NODE");
	if (n == NULL)
		SKIP("the pool is not on a NUMA node (run-preloaded -n)");
	long node = atol(n);
	struct vt_range pool = vt_pool();
	unsigned long long total = node_total(node);
	size_t too_much = (size_t)total + ((size_t)1 << 30);
	if (pool.hi - pool.lo < too_much + ((size_t)64 << 20))
		SKIP("the pool (%zu bytes) is not larger than node %ld "
		     "(%llu bytes)",
		     (size_t)(pool.hi - pool.lo), node, total);

	void *small = malloc(100);
	CHECK(small != NULL);
	errno = 0;
	void *p = malloc(vt_opaque(too_much));
	CHECK(p == NULL);
	CHECK_I(errno, ==, ENOMEM);
	errno = 0;
	CHECK(calloc(1, vt_opaque(too_much)) == NULL && errno == ENOMEM);
	void *q = NULL;
	CHECK_I(posix_memalign(&q, 4096, vt_opaque(too_much)), ==, ENOMEM);

	/* what fits still works, in the pool */
	char *big = malloc(64 << 20);
	CHECK(big != NULL);
	CHECK_IN_POOL(pool, big, 64 << 20);
	memset(big, 0x5a, 64 << 20);
	char *grown = realloc(small, 1 << 20);
	CHECK(grown != NULL);
	CHECK_IN_POOL(pool, grown, 1 << 20);
	free(grown);
	free(big);
	printf("node guard: %zu bytes refused with ENOMEM on node %ld "
	       "(%llu bytes of memory); 64 MiB still allocated\n",
	       too_much, node, total);
	return 0;
}
