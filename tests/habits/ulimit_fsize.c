/*
 * ulimit_fsize -- a program started under `ulimit -f` smaller than the
 * pool.  It must not die of SIGXFSZ with no word: the library says which
 * limit and which size, and stops (or the pool works within the limit).
 * A limit at least as large as the pool changes nothing.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include "vmmtest.h"

/* runs this program's stage 2 under RLIMIT_FSIZE = limit; returns the
 * wait status and what it wrote on stderr */
static int run_limited(rlim_t limit, char *err, size_t errlen)
{
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {limit, limit};
		CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execl("/proc/self/exe", "ulimit_fsize", "stage2", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	vt_read_all(pfd[0], err, errlen);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	return status;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) { /* stage 2: an ordinary program */
		char *p = malloc(1 << 20);
		CHECK(p != NULL);
		memset(p, 1, 1 << 20);
		free(p);
		return 0;
	}
	size_t pool = vt_pool_size();
	CHECK(pool >= (size_t)14 << 20);

	char err[4096];
	int st = run_limited((rlim_t)(pool / 2), err, sizeof(err));
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ)
		FAIL("killed by SIGXFSZ under ulimit -f %zu (stderr: '%s')",
		     pool / 2 / 1024, err);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		/* it stopped: then with a clear line naming limit and size */
		if (strstr(err, "Error (libvmmalloc)") == NULL ||
		    strstr(err, "VMMALLOC_POOL_SIZE") == NULL)
			FAIL("stopped without a clear message: '%s'", err);
		char limit[64];
		snprintf(limit, sizeof(limit), "%zu", pool / 2);
		if (strstr(err, limit) == NULL || strstr(err, "ulimit") == NULL)
			FAIL("the message does not name the limit (%s): '%s'",
			     limit, err);
		if (strchr(err, '\n') != strrchr(err, '\n'))
			FAIL("more than one line: '%s'", err);
	}
	st = run_limited((rlim_t)pool * 2, err, sizeof(err));
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		FAIL("a limit above the pool size broke the program (status "
		     "%#x, stderr '%s')",
		     st, err);
	CHECK_STR(err, "");
	printf("ulimit_fsize: ok\n");
	return 0;
}
