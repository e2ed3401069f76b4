/* malloc_large.c: large blocks, in the style of mimalloc-bench's
 * malloc-large. Each thread keeps a window of 8 live blocks of 5-25 MiB; per
 * step it frees the oldest and allocates a new one, writing one byte in every
 * page of it (so page faults and the allocator's reuse of freed large extents
 * show). Figure: seconds.
 */
#include "bench.h"

#define WINDOW 8
#define MIB ((size_t)1 << 20)
#define PAGE 4096

struct worker {
	long steps;
	uint64_t seed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char *win[WINDOW] = {0};

	for (long s = 0; s < w->steps; s++) {
		unsigned k = (unsigned)(s % WINDOW);
		size_t sz = bench_range(&w->seed, 5 * MIB, 25 * MIB);
		free(win[k]);
		win[k] = bench_xmalloc(sz);
		for (size_t off = 0; off < sz; off += PAGE)
			win[k][off] = (char)s;
		win[k][sz - 1] = 1;
	}
	for (int k = 0; k < WINDOW; k++)
		free(win[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	long steps = bench_scaled(400, a.scale, 10) / a.threads;
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));
	pthread_t *tids = calloc((size_t)a.threads, sizeof(*tids));

	if (w == NULL || tids == NULL)
		bench_die("calloc");
	for (int i = 0; i < a.threads; i++) {
		w[i].steps = steps;
		w[i].seed = 0x1a2eULL * (uint64_t)(i + 5);
	}
	double t0 = bench_now();
	bench_spawn(tids, a.threads, work, w, sizeof(*w));
	bench_join(tids, a.threads);
	bench_figure("seconds", bench_now() - t0);
	free(w);
	free(tids);
	return 0;
}
