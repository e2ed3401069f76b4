/*
 * fullfs.c -- a pool larger than its filesystem: allocations work until the
 * space runs out, then fail with ENOMEM -- never SIGBUS -- and the space
 * comes back to the filesystem once the blocks are freed and purged.
 * Run with the pool directory on a small tmpfs (see fullfs.sh).
 * `fullfs lazy`, with VMMALLOC_POOL_LAZY=1: the opt-in gives that promise
 * up (libvmmalloc(7)), and the first write that finds the filesystem full
 * must end in SIGBUS, as with any shared file mapping.
 * `fullfs fork`, with VMMALLOC_FORK=2 on ext4 (fullfs.sh --ext4): a block
 * committed when the filesystem ran out lies in a granule backed only in
 * part, and a mode-2 child's copy is backed the same; after the child
 * fills the filesystem, writing that block must still not be SIGBUS.
 */
#include <signal.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "vmmtest.h"
#include "vmmtest_child.h"

static const char *dir;
static bool lazy;

static unsigned long long used(void)
{
	struct statvfs s;
	CHECK(statvfs(dir, &s) == 0);
	return (unsigned long long)(s.f_blocks - s.f_bfree) * s.f_frsize;
}

static void on_sigbus(int sig)
{
	(void)sig;
	static const char msg[] = "SIGBUS: a page of the pool was not backed\n";
	static const char ok[] = "SIGBUS on a full filesystem, as "
				 "VMMALLOC_POOL_LAZY=1 allows\n";
	if (lazy) {
		write(1, ok, sizeof(ok) - 1);
		/* not _exit: in a gcov build the library's _exit first writes
		 * its counters, in memory the full filesystem cannot back */
		syscall(SYS_exit_group, 0);
	}
	write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

#define MAXB 65536
static void *b[MAXB];

static size_t fill(size_t size, bool touch)
{
	size_t n = 0;
	while (n < MAXB) {
		void *p = malloc(size);
		if (p == NULL) {
			CHECK_I(errno, ==, ENOMEM);
			break;
		}
		if (touch)
			memset(p, 0x6b, size); /* touch every page */
		b[n++] = p;
	}
	return n;
}

/*
 * The last blocks that fit were committed when the filesystem had no room
 * for a whole granule: their granules are backed only in part.  They are
 * kept unwritten (a page written before the fork is copied into the
 * child's page cache, and only a fault that finds none of its granule
 * there reads the granule whole), the rest is freed and purged so that
 * the child's copy finds room, and the child fills what is left before
 * writing them.
 */
#define KEPT 3

static int fork_partial(void)
{
	const char *mode = getenv("VMMALLOC_FORK");
	CHECK(mode != NULL && strcmp(mode, "2") == 0);
	size_t size = (size_t)1 << 20;
	size_t n = fill(size, false);
	CHECK_U(n, >, KEPT);
	void *kept[KEPT];
	for (size_t i = 0; i < KEPT; i++)
		kept[i] = b[n - KEPT + i];
	for (size_t i = 0; i < n - KEPT; i++)
		free(b[i]);
	CHECK(malloc(vt_opaque((size_t)1 << 40)) == NULL);
	printf("fork: %zu blocks of 1 MiB, %d kept, filesystem used %llu "
	       "KiB\n",
	       n, KEPT, used() >> 10);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		size_t m = fill(4096, true);
		printf("child: %zu blocks of 4 KiB fill the filesystem (used "
		       "%llu KiB)\n",
		       m, used() >> 10);
		fflush(stdout);
		for (size_t i = 0; i < KEPT; i++) {
			memset(kept[i], 0x5a, size);
			CHECK_I(((unsigned char *)kept[i])[size - 1], ==, 0x5a);
		}
		printf("child: the kept blocks are written\n");
		fflush(stdout);
		_exit(0);
	}
	vt_wait_ok(pid);
	for (size_t i = 0; i < KEPT; i++)
		free(kept[i]);
	return 0;
}

int main(int argc, char **argv)
{
	lazy = argc > 1 && strcmp(argv[1], "lazy") == 0;
	const char *v = getenv("VMMALLOC_POOL_LAZY");
	CHECK(lazy == (v != NULL && strcmp(v, "1") == 0));
	signal(SIGBUS, on_sigbus);
	dir = getenv("VMMALLOC_POOL_DIR");
	CHECK(dir != NULL);
	struct statvfs s;
	CHECK(statvfs(dir, &s) == 0);
	unsigned long long total = (unsigned long long)s.f_blocks * s.f_frsize;
	unsigned long long base = used();
	printf("filesystem %llu MiB, used at start %llu KiB\n", total >> 20,
	       base >> 10);
	if (argc > 1 && strcmp(argv[1], "fork") == 0)
		return fork_partial();

	for (int round = 0; round < 3; round++) {
		size_t size = round == 1 ? 4096 : 1 << 20;
		size_t n = fill(size, true);
		if (lazy)
			FAIL("VMMALLOC_POOL_LAZY=1: %zu blocks of %zu bytes "
			     "written on a %llu MiB filesystem, no SIGBUS",
			     n, size, total >> 20);
		unsigned long long full = used();
		printf("round %d: %zu blocks of %zu bytes, filesystem used %llu "
		       "KiB\n",
		       round, n, size, full >> 10);
		CHECK_U(n * size, <=, total);
		CHECK_U(n * size, >=, total / 2); /* most of the space */
		for (size_t i = 0; i < n; i++)
			free(b[i]);
		/* a failing request flushes and purges: space comes back */
		CHECK(malloc(vt_opaque((size_t)1 << 40)) == NULL);
		unsigned long long after = used();
		printf("round %d: after free, used %llu KiB\n", round,
		       after >> 10);
		CHECK_U(after, <=, base + (2u << 20));
	}
	return 0;
}
