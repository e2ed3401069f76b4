/*
 * victim.c -- the preloaded process the crash driver (reclaim.c) kills or
 * lets die.  It fills most of the pool with checked blocks and then dies
 * the way its first argument says:
 *
 *   loop     fill and churn until killed (SIGKILL at a random moment)
 *   abort    abort() at a random point of the fill
 *   segv     a write through a bad pointer at a random point
 *   thread   _exit(42) from a second thread while the first allocates
 *   fork     VMMALLOC_FORK=2 forks in a loop until killed (mid-copy)
 *   exec     fork+exec a long-running program without the library, exit
 *   fullfs   allocate until NULL on a filesystem smaller than the pool;
 *            the second argument "wait" pauses half-way for the driver to
 *            fill the filesystem from outside
 *
 * argv[2] is a seed.  Writes "ready" lines on stdout for the driver.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmmtest_child.h"

#define MAXBLOCKS 4096

static unsigned long long rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

static void *blocks[MAXBLOCKS];
static size_t sizes[MAXBLOCKS];

/* fills `frac` percent of the pool with blocks of 4 KiB..1 MiB */
static size_t fill(struct vt_range pool, unsigned frac, unsigned stop_at,
		   void (*at_stop)(void))
{
	size_t want = (pool.hi - pool.lo) / 100 * frac, got = 0;
	unsigned n = 0;
	while (got < want && n < MAXBLOCKS) {
		if (n == stop_at && at_stop != NULL)
			at_stop();
		size_t s = (size_t)4096 << rnd(9);
		unsigned char *p = malloc(s);
		if (p == NULL)
			break;
		CHECK_IN_POOL(pool, p, s);
		memset(p, (int)(n & 0xff), s);
		blocks[n] = p;
		sizes[n++] = s;
		got += s;
	}
	return n;
}

static void die_abort(void)
{
	abort();
}

static char *volatile bad_pointer; /* NULL, hidden from the compiler */

static void die_segv(void)
{
	bad_pointer[16] = 1;
}

static void *exit_thread(void *arg)
{
	usleep((useconds_t)(uintptr_t)arg);
	_exit(42);
}

static void ready(const char *what)
{
	printf("ready %s\n", what);
	fflush(stdout);
}

static int full_fs(struct vt_range pool, bool wait_outside)
{
	size_t total = 0, n = 0;
	size_t cap = pool.hi - pool.lo;
	static unsigned char *held[1 << 16];
	for (;;) {
		if (wait_outside && total >= cap / 16) {
			wait_outside = false;
			ready("half");
			char go[8];
			CHECK(fgets(go, sizeof(go), stdin) != NULL);
		}
		/* mixed sizes: small slabs and 1 MiB extents */
		size_t s = rnd(4) == 0 ? (size_t)1 << 20 : 64 + rnd(4000);
		unsigned char *p = malloc(s);
		if (p == NULL) {
			CHECK_I(errno, ==, ENOMEM);
			break;
		}
		CHECK_IN_POOL(pool, p, s);
		memset(p, 0x77, s); /* a SIGBUS would kill us here */
		total += s;
		if (n < sizeof(held) / sizeof(held[0]))
			held[n++] = p;
		CHECK(total <= cap);
	}
	/* memory already held stays writable */
	for (size_t i = 0; i < n; i++)
		held[i][0] ^= 1;
	printf("got %zu bytes before ENOMEM\n", total);
	/* freeing gives room back */
	for (size_t i = 0; i < n; i++)
		free(held[i]);
	void *again = malloc(1 << 20);
	CHECK(again != NULL);
	memset(again, 1, 1 << 20);
	free(again);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		FAIL("usage: victim KIND SEED [ARG]");
	rng = strtoull(argv[2], NULL, 10) * 2654435761ULL + 1;
	struct vt_range pool = vt_pool();
	const char *kind = argv[1];
	if (strcmp(kind, "loop") == 0) {
		ready("loop"); /* the pool exists: the driver times this */
		for (;;) {
			unsigned n = (unsigned)fill(pool, 85, 0, NULL);
			for (unsigned i = 0; i < n; i++) {
				CHECK_U(((unsigned char *)blocks[i])[0], ==,
					i & 0xff);
				free(blocks[i]);
			}
		}
	} else if (strcmp(kind, "abort") == 0) {
		fill(pool, 85, rnd(400), die_abort);
		abort();
	} else if (strcmp(kind, "segv") == 0) {
		fill(pool, 85, rnd(400), die_segv);
		die_segv();
	} else if (strcmp(kind, "thread") == 0) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, exit_thread,
				     (void *)(uintptr_t)rnd(20000)) == 0);
		for (;;) {
			unsigned n = (unsigned)fill(pool, 85, 0, NULL);
			for (unsigned i = 0; i < n; i++)
				free(blocks[i]);
		}
	} else if (strcmp(kind, "fork") == 0) {
		fill(pool, 45, 0, NULL);
		ready("fork");
		for (;;) {
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0) {
				void *p = malloc(4096);
				CHECK(p != NULL);
				_exit(0);
			}
			CHECK_EXIT(vt_wait_pid(pid, 0), 0);
		}
	} else if (strcmp(kind, "exec") == 0) {
		fill(pool, 50, 0, NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			char *args[] = {"sleep", "60", NULL};
			char *env[] = {"PATH=/usr/bin:/bin", NULL};
			execve("/bin/sleep", args, env);
			_exit(127);
		}
		printf("ready %d\n", (int)pid);
		fflush(stdout);
		return 0;
	} else if (strcmp(kind, "fullfs") == 0) {
		return full_fs(pool, argc > 3 && strcmp(argv[3], "wait") == 0);
	}
	FAIL("unknown kind %s", kind);
}
