/*
 * lazy.c -- VMMALLOC_POOL_LAZY=1 (libvmmalloc(7)): a commit reserves no
 * blocks of the pool file, a page gets its block when it is first
 * written, and freed memory still goes back to the filesystem.  Run as
 * `lazy 1` with the variable set and as `lazy 0` without it: a 64 MiB
 * block with three pages written holds all 64 MiB of the file by default
 * and under 8 MiB when lazy; written whole, it holds 64 MiB either way;
 * freed and purged, nothing.  (fullfs.c: a full filesystem is SIGBUS when
 * lazy, ENOMEM by default.)  With a second argument `fork` (run under
 * VMMALLOC_FORK=2), a child's copy of the pool follows the same rule: the
 * three pages' data, and under 8 MiB of blocks when lazy, 64 MiB when not;
 * and making it gives the parent's file no blocks (reading a hole of a
 * tmpfs file through a shared mapping allocates it: run it on tmpfs).
 */
#include <sys/stat.h>

#include "vmmtest.h"
#include "vmmtest_child.h"

#define BIG ((size_t)64 << 20)

static long long blocks(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (long long)st.st_blocks * 512;
}

/* in a mode-2 child: its own copy of the pool, and the data in it */
static void child_copy(const char *p, bool lazy)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd;
		CHECK_I(vt_pool_fds(&fd, 1), ==, 1);
		long long held = blocks(fd);
		printf("child's copy: %lld KiB\n", held >> 10);
		if (lazy)
			CHECK_I(held, <, 8 << 20);
		else
			CHECK_I(held, >=, (long long)BIG);
		CHECK_I(p[0], ==, 1);
		CHECK_I(p[BIG / 2], ==, 2);
		CHECK_I(p[BIG - 1], ==, 3);
		CHECK_I(p[4096], ==, 0);
		fflush(stdout);
		_exit(0);
	}
	vt_wait_ok(pid);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2 || (argc == 3 && strcmp(argv[2], "fork") == 0));
	bool lazy = strcmp(argv[1], "1") == 0;
	const char *v = getenv("VMMALLOC_POOL_LAZY");
	CHECK(lazy == (v != NULL && strcmp(v, "1") == 0));
	struct vt_range pool = vt_pool();
	int fds[4];
	CHECK_I(vt_pool_fds(fds, 4), ==, 1);
	long long before = blocks(fds[0]);

	char *p = malloc(BIG);
	CHECK(p != NULL);
	CHECK_IN_POOL(pool, p, BIG);
	p[0] = 1;
	p[BIG / 2] = 2;
	p[BIG - 1] = 3;
	long long held = blocks(fds[0]) - before;
	printf("%s: a 64 MiB block with 3 pages written holds %lld KiB\n",
	       lazy ? "lazy" : "default", held >> 10);
	if (lazy)
		CHECK_I(held, <, 8 << 20);
	else
		CHECK_I(held, >=, (long long)BIG);
	/* the pages never written read as zeros */
	for (size_t off = 4096; off < BIG - 4096; off += 1 << 20)
		CHECK_I(p[off], ==, 0);
	if (argc == 3) {
		child_copy(p, lazy);
		held = blocks(fds[0]) - before;
		printf("after the fork: %lld KiB\n", held >> 10);
		if (lazy)
			CHECK_I(held, <, 8 << 20);
	}

	memset(p, 0x5a, BIG);
	held = blocks(fds[0]) - before;
	printf("written whole: %lld KiB\n", held >> 10);
	CHECK_I(held, >=, (long long)BIG);

	free(p);
	/* fails, after flushing the thread cache and purging the arena */
	errno = 0;
	CHECK(malloc(vt_opaque((size_t)1 << 40)) == NULL);
	CHECK_I(errno, ==, ENOMEM);
	held = blocks(fds[0]) - before;
	printf("freed and purged: %lld KiB\n", held >> 10);
	CHECK_I(held, <, 4 << 20);
	return 0;
}
