/* fork_latency.c: fork cost with a live heap. Builds 100 MiB (x SCALE) of
 * live blocks of 4-64 KiB, each stamped, then forks 20 times; each child
 * checks a few stamps, allocates and frees, writes a block and exits. Figure:
 * median milliseconds from fork() to the child reaped (under vmmalloc this
 * includes the VMMALLOC_FORK mode's work). Also noted: the median from
 * fork() to the child's first instruction (mode 2's copy is made before the
 * child runs; the rest is the child's work and teardown) and the live
 * megabytes, so that the copy's rate is live / to-child. A child that finds
 * a bad stamp or dies makes the program exit 3.
 */
#include "bench.h"
#include <sys/mman.h>
#include <sys/wait.h>

#define FORKS 20

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	size_t live =
		(size_t)bench_scaled(100.0 * 1024 * 1024, a.scale, 1 << 20);
	size_t cap = live / 4096 + 1, n = 0, bytes = 0;
	uint64_t seed = 42;
	char **blk = bench_xmalloc(cap * sizeof(*blk));
	size_t *len = bench_xmalloc(cap * sizeof(*len));
	double ms[FORKS], to_child[FORKS];
	int bad = 0;
	/* where each child writes the time it started (not a heap block) */
	volatile double *started =
		mmap(NULL, sizeof(double), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (started == MAP_FAILED)
		bench_die("mmap");

	while (bytes < live && n < cap) {
		size_t sz = bench_range(&seed, 4096, 65536);
		blk[n] = bench_xmalloc(sz);
		memset(blk[n], (int)(n & 0x7f), sz);
		len[n] = sz;
		bytes += sz;
		n++;
	}
	for (int f = 0; f < FORKS; f++) {
		double t0 = bench_now();
		pid_t pid = fork();
		if (pid < 0)
			bench_die("fork");
		if (pid == 0) {
			*started = bench_now();
			for (size_t i = 0; i < n; i += n / 16 + 1)
				if (blk[i][len[i] - 1] != (char)(i & 0x7f))
					_exit(3);
			void *p = malloc(100);
			if (p == NULL)
				_exit(4);
			free(p);
			blk[0][0] = 0x55;
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid)
			bench_die("waitpid");
		ms[f] = (bench_now() - t0) * 1e3;
		to_child[f] = (*started - t0) * 1e3;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "fork_latency: child %d status 0x%x\n",
				f, st);
			bad = 1;
		}
	}
	for (size_t i = 0; i < n; i += n / 16 + 1)
		if (blk[i][len[i] - 1] != (char)(i & 0x7f) || blk[0][0] == 0x55)
			bad = 1;
	qsort(to_child, FORKS, sizeof(to_child[0]), cmp_double);
	fprintf(stderr, "# fork first_ms=%.3f to_child_ms=%.3f live_mb=%.1f\n",
		ms[0], to_child[FORKS / 2], (double)bytes / 1e6);
	qsort(ms, FORKS, sizeof(ms[0]), cmp_double);
	bench_figure("ms/fork", ms[FORKS / 2]);
	for (size_t i = 0; i < n; i++)
		free(blk[i]);
	free(blk);
	free(len);
	return bad ? 3 : 0;
}
