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
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
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
	if (geteuid() != 0)
		SKIP("mounting a tmpfs needs root");
	if (unshare(CLONE_NEWNS) != 0)
		SKIP("unshare(CLONE_NEWNS): %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		SKIP("making mounts private: %s", strerror(errno));
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/vmmfork-zeroed.XXXXXX", tmp);
	CHECK(mkdtemp(dir) != NULL);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=48m,mode=0700") != 0) {
		int err = errno;
		rmdir(dir);
		SKIP("mount -t tmpfs: %s", strerror(err));
	}

	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore); /* inherited by the target */
	char pre[4200], pdir[4200], fork_mode[32];
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lib);
	snprintf(pdir, sizeof(pdir), "VMMALLOC_POOL_DIR=%s", dir);
	snprintf(fork_mode, sizeof(fork_mode), "VMMALLOC_FORK=%s", mode);
	const char *env[] = {pre, pdir, "VMMALLOC_POOL_SIZE=64M", fork_mode,
			     NULL};
	char *args[] = {self, "--target", NULL};
	struct vt_spawn s = {.argv = args,
			     .env = env,
			     .err = output,
			     .errlen = sizeof(output)};
	struct vt_status st = vt_run(&s, 60);
	fprintf(stderr, "---- target's stderr ----\n%s----\n", output);
	char buf[64];
	fprintf(stderr, "target: %s\n", vt_status_text(st, buf, sizeof(buf)));
	bool ok = vt_exited(st, 0);
	/* nothing may stay behind: no name, no blocks (unlinked files die) */
	struct statvfs sv;
	CHECK(statvfs(dir, &sv) == 0);
	if (sv.f_bfree != sv.f_blocks) {
		fprintf(stderr, "FAIL: %lu blocks still used in the tmpfs\n",
			(unsigned long)(sv.f_blocks - sv.f_bfree));
		ok = false;
	}
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (!ok)
		return 1;
	printf("mode %s: the child's zero pages were backed\n", mode);
	return 0;
}
