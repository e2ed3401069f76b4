/*
 * zeroed.c -- a mode 2 (and 3) child's copy of the pool has blocks for
 * every page the parent had committed, also for those that read as zeros
 * and so are not written into the copy: the child fills its filesystem and
 * then writes the whole of a block the parent only calloc'ed.  Without the
 * reservation those pages would need new blocks in a full tmpfs: SIGBUS.
 * A private tmpfs of 48 MiB (in a mount namespace of this test) under a
 * 64 MiB pool.
 *
 *   zeroed LIBVMMALLOC MODE        (not preloaded itself; needs root)
 *   zeroed --target                (run by the above, preloaded)
 */
#include <fcntl.h>
#include <sys/statvfs.h>

#include "forktest.h"

#define MIB ((size_t)1 << 20)
#define ZERO_MIB 8 /* committed in the parent, never written there */

/* writes into a new file of dir until the filesystem is full */
static int fill(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/filler", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	static char chunk[1 << 16];
	memset(chunk, 0x33, sizeof(chunk));
	for (size_t len = sizeof(chunk); len >= 4096; len /= 2)
		while (write(fd, chunk, len) == (ssize_t)len)
			;
	close(fd);
	return 0;
}

static int target(void)
{
	struct vt_range pool = vt_pool();
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	CHECK(dir != NULL);
	unsigned char *zero = calloc(ZERO_MIB, MIB);
	CHECK(zero != NULL);
	CHECK_IN_POOL(pool, zero, ZERO_MIB * MIB);
	struct ft_block data = {.size = MIB, .p = malloc(MIB), .tag = 7};
	CHECK(data.p != NULL);
	ft_stamp(&data);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (!ft_intact(&data))
			_exit(3);
		for (size_t i = 0; i < ZERO_MIB * MIB; i += 4096)
			if (zero[i] != 0)
				_exit(4);
		if (fill(dir) != 0)
			_exit(5);
		struct statvfs sv;
		if (statvfs(dir, &sv) != 0 || sv.f_bavail != 0)
			_exit(6); /* not full: the test would prove nothing */
		fprintf(stderr, "target: child filled %s, writing\n", dir);
		memset(zero, 0x5a, ZERO_MIB * MIB); /* SIGBUS if not backed */
		char path[4200];
		snprintf(path, sizeof(path), "%s/filler", dir);
		unlink(path);
		_exit(0);
	}
	struct vt_status st = vt_wait_pid(pid, 30);
	if (st.how == VT_SIGNALED)
		FAIL("the child died of signal %d writing pages the parent "
		     "had committed (zeros): the copy did not reserve them",
		     st.code);
	CHECK_EXIT(st, 0);
	CHECK(ft_intact(&data));
	/* the parent's pages are its own: the child's writes went to the copy */
	for (size_t i = 0; i < ZERO_MIB * MIB; i += 4096)
		CHECK(zero[i] == 0);
	fprintf(stderr, "target: child wrote its zero pages\n");
	return 0;
}

static char output[65536];

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--target") == 0)
		return target();
	if (argc != 3)
		FAIL("usage: zeroed LIBVMMALLOC MODE");
	const char *lib = argv[1], *mode = argv[2];
	char dir[4096];
	ft_private_tmpfs(dir, sizeof(dir), "zeroed", "48m");
	struct vt_status st =
		ft_run_target(lib, dir, mode, output, sizeof(output));
	bool ok = vt_exited(st, 0);
	if (!ft_tmpfs_done(dir))
		ok = false;
	if (!ok)
		return 1;
	printf("mode %s: the child's zero pages were backed\n", mode);
	return 0;
}
