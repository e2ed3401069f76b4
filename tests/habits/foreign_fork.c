/*
 * foreign_fork.c -- malloc_usable_size() of a foreign block (one of
 * glibc's own, as a dlopen(RTLD_DEEPBIND) library makes) in the child of a
 * multi-threaded fork, while another thread of the parent sits in
 * dlopen/dlclose: the child must not need the dynamic loader (its locks
 * and lists may be caught mid-change by the fork), so it must finish.
 *
 * The parent never sizes a foreign block itself before forking: each child
 * is the first to ask.  Each child gets a deadline; a hung child is killed
 * and fails the test.
 *
 *   foreign_fork LIBRARY [FORKS]
 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#include "vmmtest.h"

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);

#define DEADLINE_MS 10000

static const char *lib;
static atomic_bool stop;
static _Atomic unsigned long loads;

static void *loader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL)
			FAIL("dlopen(%s): %s", lib, dlerror());
		dlclose(h);
		loads++;
	}
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waits for pid until the deadline; false if it is still running then */
static bool wait_until(pid_t pid, long deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		CHECK(r >= 0);
		if (r == pid)
			return true;
		if (now_ms() > deadline)
			return false;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	CHECK(argc >= 2);
	lib = argv[1];
	int forks = argc > 2 ? atoi(argv[2]) : 200;
	struct vt_range pool = vt_pool();

	/* glibc's own block: foreign to the pool */
	char *foreign = __libc_malloc(100);
	CHECK(foreign != NULL);
	if (vt_in(pool, foreign, 1))
		SKIP("__libc_malloc allocated in the pool: nothing foreign");
	memset(foreign, 'f', 100);

	pthread_t t;
	CHECK_I(pthread_create(&t, NULL, loader, NULL), ==, 0);
	while (loads < 10)
		sched_yield();

	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			size_t n = malloc_usable_size(foreign);
			_exit(n >= 100 && foreign[99] == 'f' ? 0 : 3);
		}
		int status = 0;
		if (!wait_until(pid, now_ms() + DEADLINE_MS, &status)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			atomic_store(&stop, true);
			FAIL("fork %d of %d: the child still ran after %d ms "
			     "(hung in malloc_usable_size of a foreign block)",
			     i + 1, forks, DEADLINE_MS);
		}
		if (WIFSIGNALED(status))
			FAIL("fork %d: the child died of signal %d", i + 1,
			     WTERMSIG(status));
		if (WEXITSTATUS(status) != 0)
			FAIL("fork %d: the child exited with %d (usable size of "
			     "the foreign block wrong)",
			     i + 1, WEXITSTATUS(status));
	}
	atomic_store(&stop, true);
	CHECK_I(pthread_join(t, NULL), ==, 0);
	CHECK_U(malloc_usable_size(foreign), >=, 100);
	__libc_free(foreign);
	printf("%d forks, %lu dlopen/dlclose in the other thread\n", forks,
	       (unsigned long)loads);
	return 0;
}
