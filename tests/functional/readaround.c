/*
 * readaround.c -- on a filesystem with a page cache, a fault in the pool
 * fills the page cache of its own granule (the 2 MiB unit commit backs)
 * and nothing else.  The kernel reads a file mapping around each faulting
 * page (read_ahead_kb: 128 KiB on a loop device, 8 MiB on some virtual
 * disks), and for the pool's unwritten blocks that is page cache zeroed
 * for pages nobody touches: a small program paid megabytes of it at
 * start-up on ext4, and its large folios reached into granules commit had
 * not backed (functional.fullfs.ext4).
 *
 * Touches one page in each of 160 blocks of 32 KiB (about 6 MiB of the
 * pool, past its first 2 MiB), then counts the pages the page cache holds
 * (mincore) in the first 32 MiB of the pool outside the granules touched.
 * Run on a disk filesystem (readaround.sh mounts an ext4 image); on tmpfs
 * or DAX nothing is read around and the count is 0 either way.
 */
#include <sys/mman.h>

#include "vmmtest.h"

#define GRANULE (2u << 20)
#define SPAN (32u << 20)
#define BLOCKS 160
#define BLOCK (32u << 10)

int main(void)
{
	struct vt_range pool = vt_pool();
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	CHECK_U(pool.hi - pool.lo, >=, SPAN);

	bool touched[SPAN / GRANULE] = {false};
	void *keep[BLOCKS];
	size_t beyond = 0;
	for (int i = 0; i < BLOCKS; i++) {
		char *b = malloc(BLOCK);
		CHECK(b != NULL);
		keep[i] = b;
		uintptr_t a = (uintptr_t)b + BLOCK / 2;
		CHECK_U(a - pool.lo, <, SPAN);
		b[BLOCK / 2] = 1;
		touched[(a - pool.lo) / GRANULE] = true;
		if (a - pool.lo >= GRANULE)
			beyond++;
	}
	CHECK_U(beyond, >, 0); /* past the first granule too */

	size_t pages = SPAN / page;
	unsigned char *vec = malloc(pages);
	CHECK(vec != NULL);
	CHECK_I(mincore((void *)pool.lo, SPAN, vec), ==, 0);
	size_t cached = 0, outside = 0;
	for (size_t i = 0; i < pages; i++) {
		if (!(vec[i] & 1))
			continue;
		cached++;
		if (!touched[i * page / GRANULE])
			outside++;
	}
	fprintf(stderr,
		"first %u MiB: %zu pages cached, %zu of them outside the "
		"granules touched\n",
		SPAN >> 20, cached, outside);
	CHECK_U(cached, >=, (size_t)BLOCKS);
	CHECK_U(outside, ==, 0);
	for (int i = 0; i < BLOCKS; i++)
		free(keep[i]);
	free(vec);
	return 0;
}
