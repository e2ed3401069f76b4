/*
 * readaround.c -- the pool's head faults page by page: on a filesystem
 * with a page cache the kernel reads a file mapping around each faulting
 * page (read_ahead_kb: 128 KiB on a loop device, 8 MiB on some virtual
 * disks), and for the pool's unwritten blocks that is page cache zeroed
 * for pages nobody touches.  A small program, whose pool pages all lie in
 * the first 2 MiB, paid 8 MiB of it at start-up on ext4.
 *
 * Touches one page in each of 32 blocks 32 KiB apart in the head, then
 * counts the head's pages the page cache holds (mincore) that this process
 * never mapped (pagemap): pages read around, never asked for.  Run on a
 * disk filesystem (readaround.sh mounts an ext4 image); on tmpfs or DAX
 * nothing is read around and the count is 0 either way.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "vmmtest.h"

#define HEAD (2u << 20)
#define BLOCKS 32
#define BLOCK (32u << 10)

/* whether the page at addr is mapped in this process (pagemap bit 63) */
static bool mapped(int pm, uintptr_t addr, size_t page)
{
	uint64_t e;
	CHECK(pread(pm, &e, sizeof(e), (off_t)(addr / page * sizeof(e))) ==
	      (ssize_t)sizeof(e));
	return (e >> 63) & 1;
}

int main(void)
{
	struct vt_range pool = vt_pool();
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	CHECK_U(pool.hi - pool.lo, >=, HEAD);

	/* blocks in the head only: a fault beyond it reads around, also into
	 * the head */
	void *keep[4 * BLOCKS];
	int n = 0, touched = 0;
	while (touched < BLOCKS && n < 4 * BLOCKS) {
		char *b = malloc(BLOCK);
		CHECK(b != NULL);
		keep[n++] = b;
		uintptr_t a = (uintptr_t)b;
		if (a >= pool.lo && a + BLOCK <= pool.lo + HEAD) {
			b[BLOCK / 2] = 1;
			touched++;
		}
	}
	CHECK_I(touched, ==, BLOCKS);

	size_t pages = HEAD / page;
	unsigned char *vec = malloc(pages);
	CHECK(vec != NULL);
	CHECK_I(mincore((void *)pool.lo, HEAD, vec), ==, 0);
	int pm = open("/proc/self/pagemap", O_RDONLY);
	CHECK(pm >= 0);
	size_t cached = 0, unasked = 0;
	for (size_t i = 0; i < pages; i++) {
		if (!(vec[i] & 1))
			continue;
		cached++;
		if (!mapped(pm, pool.lo + i * page, page))
			unasked++;
	}
	close(pm);
	fprintf(stderr, "head: %zu pages cached, %zu of them never mapped\n",
		cached, unasked);
	CHECK_U(cached, >=, (size_t)BLOCKS);
	CHECK_U(unasked, <=, 4);
	for (int i = 0; i < n; i++)
		free(keep[i]);
	free(vec);
	return 0;
}
