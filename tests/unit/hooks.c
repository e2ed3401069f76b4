/*
 * hooks.c -- the engine on a real pool, driven through the private jemalloc:
 * which hooks ran, that start-up backs nothing, that commit backs what the
 * arena uses, that decommit returns it, and that re-committed memory (and
 * calloc after a decommit/commit cycle) reads zeros.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "je.h"
#include "vmm.h"
#include "vmmtest.h"

static long long blocks(void)
{
	struct stat st;
	CHECK(fstat(vmm_pool.fd, &st) == 0);
	return (long long)st.st_blocks * 512;
}

int main(void)
{
	char dir[4096];
	const char *base = getenv("VMMALLOC_TEST_DIR");
	snprintf(dir, sizeof(dir), "%s/vmmunit.XXXXXX", base ? base : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	CHECK_I(vmm_pool_create(&vmm_pool, dir, 64 * VMM_MiB, 0), ==, 0);
	CHECK(rmdir(dir) == 0); /* the pool is unlinked: the dir is empty */

	CHECK(vmm_engine_init(&vmm_pool));
	struct vmm_hook_counts c;
	vmm_engine_counts(&c);
	/* the whole pool went to the arena in one alloc call, backing nothing */
	CHECK_U(c.reserved, ==, vmm_pool.size);
	CHECK_U(c.alloc_ok, ==, 1);
	CHECK_U(c.committed, ==, 0);
	CHECK_I(blocks(), ==, 0);

	CHECK(vmm_engine_bind_thread());
	size_t big = 8 * VMM_MiB;
	unsigned char *p = vmm_je_malloc(big);
	CHECK(p != NULL);
	CHECK(vmm_in_pool(p) && vmm_in_pool(p + big - 1));
	vmm_engine_counts(&c);
	CHECK_U(c.commit_ok, >=, 1);
	CHECK_U(c.committed, >=, big);
	CHECK_I(blocks(), >=, (long long)big); /* backed before use */
	memset(p, 0xee, big);
	CHECK_U(c.alloc_ok, ==,
		1); /* no new extent: it came from the reserve */

	vmm_je_free(p);
	vmm_engine_reclaim(); /* flush + purge: decommit punches the range */
	vmm_engine_counts(&c);
	CHECK_U(c.decommit_ok, >=, 1);
	CHECK_I(blocks(), <, (long long)VMM_MiB);

	/* re-committed memory reads zeros; calloc after the cycle is zero */
	unsigned char *q = vmm_je_malloc(big);
	CHECK(q != NULL);
	for (size_t i = 0; i < big; i += 4096)
		if (q[i] != 0)
			FAIL("re-committed byte %zu = %#x", i, q[i]);
	memset(q, 0x77, big);
	vmm_je_free(q);
	vmm_engine_reclaim();
	unsigned char *z = vmm_je_calloc(1, big);
	CHECK(z != NULL);
	for (size_t i = 0; i < big; i++)
		if (z[i] != 0)
			FAIL("calloc byte %zu = %#x", i, z[i]);
	vmm_je_free(z);

	/* exhaustion: the arena never leaves the pool, it fails */
	errno = 0;
	CHECK(vmm_je_malloc(128 * VMM_MiB) == NULL);
	void *blocks_[16];
	size_t n = 0;
	while (n < 16 && (blocks_[n] = vmm_je_malloc(8 * VMM_MiB)) != NULL) {
		CHECK(vmm_in_pool(blocks_[n]));
		n++;
	}
	CHECK_U(n, >=, 5); /* 8 MiB blocks: at least 40 of the 64 MiB */
	CHECK_U(n, <, 8);
	while (n > 0)
		vmm_je_free(blocks_[--n]);
	return 0;
}
