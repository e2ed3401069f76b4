/*
 * fd_takeover -- the program takes the pool's descriptor away, as daemons
 * and shell scripts do, and the pool must neither touch the program's file
 * nor stop working.
 *
 *   fd_takeover dup2       the program dup2()s its own file over the
 *                          descriptor that holds the pool (exec 3>&1)
 *   fd_takeover closefrom  it closes every descriptor >= 3 and opens a file
 *                          of its own, which gets the lowest number
 *   fd_takeover closed     it closes every descriptor >= 3 and opens none
 *
 * Then: fill the pool with 1 MiB blocks until it refuses (so the engine
 * backs ranges), free them, ask for more than the pool (so it reclaims and
 * gives ranges back), fill again, fork (unless VMMALLOC_FORK=0), and check
 * that the program's file is byte for byte what the program wrote, that
 * every block lay in the pool, and that parent and child keep their own
 * copies of the heap.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "vmmtest_child.h"

#define FILE_SIZE 8192
#define BLOCK ((size_t)1 << 20)
#define MAX_BLOCKS 4096

static struct vt_range pool;
static size_t pool_size;
static void *blocks[MAX_BLOCKS];

static void fill_file(int fd)
{
	char buf[FILE_SIZE];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	CHECK(pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
}

static void check_file(int fd, const char *when)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		FAIL("%s: the program's descriptor %d is gone: %s", when, fd,
		     strerror(errno));
	if (st.st_size != FILE_SIZE)
		FAIL("%s: the program's file grew from %d to %jd bytes", when,
		     FILE_SIZE, (intmax_t)st.st_size);
	if (st.st_blocks * 512 > 4 * FILE_SIZE)
		FAIL("%s: the program's file holds %jd bytes of blocks", when,
		     (intmax_t)st.st_blocks * 512);
	char buf[FILE_SIZE];
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != (char)('a' + i % 26))
			FAIL("%s: the program's file was changed at byte %zu "
			     "(0x%02x)",
			     when, i, (unsigned char)buf[i]);
}

/* 1 MiB blocks until the pool refuses; returns how many */
static size_t fill_pool(unsigned char stamp)
{
	size_t n = 0;
	while (n < MAX_BLOCKS) {
		void *p = malloc(BLOCK);
		if (p == NULL)
			break;
		CHECK_IN_POOL(pool, p, BLOCK);
		memset(p, stamp, BLOCK);
		blocks[n++] = p;
	}
	CHECK(n < MAX_BLOCKS);
	/* 1 MiB blocks take 1 MiB + a page each: most of the pool */
	if (n * BLOCK < pool_size / 2)
		FAIL("only %zu blocks of 1 MiB from a %zu MiB pool", n,
		     pool_size >> 20);
	for (size_t i = 0; i < n; i++)
		for (size_t off = 0; off < BLOCK; off += 4096)
			if (((unsigned char *)blocks[i])[off] != stamp)
				FAIL("block %zu lost its contents", i);
	return n;
}

static void free_pool(size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(blocks[i]);
	/* more than the pool: the engine flushes, purges, gives back */
	void *p = malloc(vt_opaque(pool_size + BLOCK));
	CHECK(p == NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		FAIL("usage: fd_takeover dup2|closefrom|closed");
	const char *how = argv[1];
	const char *mode = getenv("VMMALLOC_FORK");
	bool do_fork = mode == NULL || strcmp(mode, "0") != 0;
	pool = vt_pool();
	pool_size = pool.hi - pool.lo;
	int pool_fds[8];
	int npool = vt_pool_fds(pool_fds, 8);
	CHECK_I(npool, ==, 1);

	char path[] = "/tmp/vmmtest-fd.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(unlink(path) == 0);
	if (strcmp(how, "dup2") == 0) {
		/* the program's file takes the pool's number */
		CHECK(dup2(fd, pool_fds[0]) == pool_fds[0]);
		close(fd);
		fd = pool_fds[0];
	} else if (strcmp(how, "closefrom") == 0 ||
		   strcmp(how, "closed") == 0) {
		/* a daemon closes everything above stderr */
		CHECK(syscall(SYS_close_range, 3u, ~0u, 0u) == 0);
		if (strcmp(how, "closed") == 0) {
			fd = -1;
		} else {
			/* a new file, at the lowest number: mkstemp, since
			 * /tmp may refuse O_TMPFILE (overlayfs) */
			char again[] = "/tmp/vmmtest-fd.XXXXXX";
			fd = mkstemp(again);
			CHECK(fd >= 0);
			CHECK(unlink(again) == 0);
		}
	} else {
		FAIL("unknown case %s", how);
	}
	if (fd >= 0)
		fill_file(fd);

	size_t n = fill_pool(0x11);
	free_pool(n);
	n = fill_pool(0x22);
	if (fd >= 0)
		check_file(fd, "after filling and purging the pool");
	free_pool(n);
	char *mine = malloc(BLOCK);
	CHECK(mine != NULL);
	CHECK_IN_POOL(pool, mine, BLOCK);
	memset(mine, 'P', BLOCK);

	if (do_fork) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			for (size_t off = 0; off < BLOCK; off += 4096)
				if (mine[off] != 'P')
					FAIL("child: a block lost its contents");
			memset(mine, 'C', BLOCK);
			size_t m = fill_pool(0x33);
			if (fd >= 0)
				check_file(fd, "in the child");
			free_pool(m);
			if (fd >= 0)
				check_file(fd, "in the child, after purging");
			_exit(0);
		}
		vt_wait_ok(pid);
		for (size_t off = 0; off < BLOCK; off += 4096)
			if (mine[off] != 'P')
				FAIL("parent: the child's writes reached the "
				     "parent's heap");
	}
	free(mine);
	n = fill_pool(0x44);
	free_pool(n);
	if (fd >= 0)
		check_file(fd, "at the end");
	printf("fd_takeover %s: ok\n", how);
	return 0;
}
