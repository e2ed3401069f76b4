/*
 * mut_pool_signals.c -- the mkstemp fallback blocks every signal between
 * creating the pool file's name and unlinking it: a signal handler (or a
 * default action that ends the process) never finds the name in the
 * directory.  A fast interval timer fires throughout thousands of pool
 * creations; its handler looks at the directory each time.
 * Killed mutant: tests/mutants/defs/pool-mkstemp-signals-open.mut.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"
#include "vmmtest.h"

static int dir_fd;
static volatile sig_atomic_t seen, handled;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	char buf[4096];
	handled++;
	lseek(dir_fd, 0, SEEK_SET);
	ssize_t n = getdents64(dir_fd, buf, sizeof(buf));
	for (ssize_t off = 0; off < n;) {
		struct dirent64 *d = (struct dirent64 *)(buf + off);
		if (strncmp(d->d_name, ".vmmalloc.", 10) == 0)
			seen++;
		off += d->d_reclen;
	}
	errno = saved;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	char dir[4096];
	const char *base = getenv("VMMALLOC_TEST_DIR");
	snprintf(dir, sizeof(dir), "%s/vmmunit.XXXXXX", base ? base : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dir_fd >= 0);
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = {{0, 37}, {0, 37}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	int i;
	double t0 = now();
	for (i = 0; i < 5000 && now() - t0 < 4 && !seen; i++) {
		struct vmm_pool p = {.fd = -1};
		CHECK_I(vmm_pool_create(&p, dir, 16 * VMM_MiB,
					VMM_POOL_FORCE_MKSTEMP),
			==, 0);
		CHECK_I(munmap(p.base, p.size), ==, 0);
		close(p.fd);
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
	if (seen)
		FAIL("a signal handler found the pool file's name in the "
		     "directory (creation %d, %d signals)",
		     i, (int)handled);
	CHECK_I(handled, >, 100); /* the timer did fire throughout */
	close(dir_fd);
	CHECK(rmdir(dir) == 0);
	return 0;
}
