/*
 * forklat.c -- the figures of docs/fork.md (a measurement, not a ctest):
 * fork latency with 100 MiB of live blocks (4-64 KiB, all written).
 * Times fork() until it returns in the parent (prepare handlers, the
 * kernel's fork, parent handlers: the mode's whole cost) and until the
 * child has been reaped, over FORKS forks; prints the first fork and the
 * medians, and the pool file's backed bytes (what mode 2 copies).
 *
 *   forklat [--baseline] [--forks N] [--mib M]
 */
#include "forktest.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	ft_setup_(argc, argv, NULL);
	int forks = 21;
	size_t mib = 100;
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--forks") == 0)
			forks = atoi(argv[i + 1]);
		if (strcmp(argv[i], "--mib") == 0)
			mib = (size_t)atoi(argv[i + 1]);
	}
	size_t live = mib << 20, bytes = 0, n = 0;
	size_t cap = live / 4096 + 1;
	unsigned char **blk = malloc(cap * sizeof(*blk));
	CHECK(blk != NULL);
	uint64_t seed = 42;
	while (bytes < live && n < cap) {
		size_t sz = 4096 + ft_rand(&seed) % (60 * 1024);
		blk[n] = malloc(sz);
		CHECK(blk[n] != NULL);
		memset(blk[n], (int)(n & 0x7f) + 1, sz);
		bytes += sz;
		n++;
	}
	size_t backed = 0;
	if (ft_preloaded()) {
		int fd = ft_fd_of_inode(ft_map_of(getpid(), blk[0]).inode);
		CHECK(fd >= 0);
		backed = ft_backed(fd);
	}
	double *ret = calloc((size_t)forks, sizeof(double));
	double *reap = calloc((size_t)forks, sizeof(double));
	CHECK(ret != NULL && reap != NULL);
	for (int f = 0; f < forks; f++) {
		double t0 = vt_now();
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			if (blk[n / 2][0] !=
			    (unsigned char)(((n / 2) & 0x7f) + 1))
				_exit(3);
			_exit(0);
		}
		ret[f] = (vt_now() - t0) * 1e3;
		CHECK_EXIT(vt_wait_pid(pid, 60), 0);
		reap[f] = (vt_now() - t0) * 1e3;
	}
	double first = ret[0];
	qsort(ret + 1, (size_t)forks - 1, sizeof(double), cmp);
	qsort(reap + 1, (size_t)forks - 1, sizeof(double), cmp);
	printf("mode=%d live_mib=%zu backed_mib=%.1f first_ms=%.3f "
	       "median_fork_ms=%.3f median_reaped_ms=%.3f\n",
	       ft_mode, mib, (double)backed / (1 << 20), first,
	       ret[1 + (forks - 1) / 2], reap[1 + (forks - 1) / 2]);
	return 0;
}
