/*
 * tcache_idle.c -- memory freed into an idle thread's cache stays
 * reachable.  One thread allocates ~4 MiB of small blocks (8 B to 32 KiB,
 * every size a thread cache may hold), frees them all and then waits,
 * allocating nothing.  The main thread must then still get >= 90% of the
 * pool as 64 KiB blocks.  With `fork`, a child forked while the thread is
 * parked (the thread does not exist there, so what its cache holds is lost
 * in the child for good) must get >= 90% too, and so must the parent after.
 *
 *   tcache_idle [fork]
 */
#include <sys/wait.h>

#include "tcache.h"

#define WANT 0.90

static const size_t sizes[] = {
	8,    16,    24,    48,	   64,	  100,	 128,	200,   256,
	400,  512,   700,   1024,  1500,  2048,	 3000,	4096,  6000,
	8192, 12000, 14336, 16384, 20480, 24576, 28672, 32768,
};

static void free_4mib(void *arg)
{
	(void)arg;
	enum { MAXB = 65536 };
	static void *b[MAXB];
	size_t n = 0, total = 0;
	while (total < ((size_t)4 << 20) && n < MAXB) {
		size_t s = sizes[n % (sizeof(sizes) / sizeof(sizes[0]))];
		b[n] = malloc(s);
		CHECK(b[n] != NULL);
		memset(b[n], 0x3c, s);
		total += s;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		free(b[i]);
}

static double measure(const char *who, struct vt_range pool)
{
	size_t got = tc_reachable(pool);
	double f = (double)got / (double)(pool.hi - pool.lo);
	printf("%s: %.2f MiB of %.2f MiB reachable as 64 KiB blocks (%.1f%%)\n",
	       who, (double)got / (1 << 20),
	       (double)(pool.hi - pool.lo) / (1 << 20), 100 * f);
	fflush(stdout);
	return f;
}

int main(int argc, char **argv)
{
	bool do_fork = argc > 1 && strcmp(argv[1], "fork") == 0;
	struct vt_range pool = vt_pool();
	double before = measure("no idle thread", pool);
	struct tc_idle t;
	tc_idle_start(&t, free_4mib, NULL);
	if (do_fork) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			double f =
				measure("fork child, idle thread gone", pool);
			if (f < WANT)
				FAIL("the child reaches %.1f%% of the pool, "
				     "expected >= %.0f%% (%.1f%% before)",
				     100 * f, 100 * WANT, 100 * before);
			exit(0);
		}
		int status;
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	double f = measure("one idle thread", pool);
	tc_idle_end(&t);
	if (f < WANT)
		FAIL("%.1f%% of the pool is reachable with one idle thread, "
		     "expected >= %.0f%% (%.1f%% without)",
		     100 * f, 100 * WANT, 100 * before);
	return 0;
}
