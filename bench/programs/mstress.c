/* mstress.c: mixed sizes with long- and short-lived objects, in the style of
 * mimalloc-bench's mstress. Each thread keeps a table of long-lived objects
 * and, per step, allocates a burst of short-lived objects (mostly small, some
 * medium, a few up to 1 MiB), frees them, replaces some long-lived entries and
 * swaps one object through a shared exchange slot (a remote free later).
 * Figure: allocations per second, all threads.
 */
#include "bench.h"
#include <stdatomic.h>

#define LONG_LIVED 2000
#define BURST 64
#define XSLOTS 64

static _Atomic(void *) exchange[XSLOTS];

static size_t pick_size(uint64_t *seed)
{
	uint64_t r = bench_rand(seed) % 1000;
	if (r < 900)
		return bench_range(seed, 8, 256);
	if (r < 995)
		return bench_range(seed, 257, 64 * 1024);
	return bench_range(seed, 64 * 1024 + 1, 1024 * 1024);
}

static void *touch(void *p, size_t sz)
{
	char *c = p;
	c[0] = 1;
	c[sz / 2] = 2;
	c[sz - 1] = 3;
	return p;
}

struct worker {
	long steps;
	uint64_t seed;
	long allocs;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	void **live = calloc(LONG_LIVED, sizeof(void *));
	void *burst[BURST];

	if (live == NULL)
		bench_die("calloc");
	for (long s = 0; s < w->steps; s++) {
		int n = (int)bench_range(&w->seed, 1, BURST);
		for (int i = 0; i < n; i++) {
			size_t sz = pick_size(&w->seed);
			burst[i] = touch(bench_xmalloc(sz), sz);
		}
		for (int i = 0; i < n; i++)
			free(burst[i]);
		w->allocs += n;
		for (int i = 0; i < 4; i++) {
			unsigned k =
				(unsigned)(bench_rand(&w->seed) % LONG_LIVED);
			size_t sz = pick_size(&w->seed);
			free(live[k]);
			live[k] = touch(bench_xmalloc(sz), sz);
		}
		w->allocs += 4;
		size_t sz = bench_range(&w->seed, 8, 512);
		void *mine = touch(bench_xmalloc(sz), sz);
		unsigned x = (unsigned)(bench_rand(&w->seed) % XSLOTS);
		free(atomic_exchange(&exchange[x], mine));
		w->allocs += 1;
	}
	for (int k = 0; k < LONG_LIVED; k++)
		free(live[k]);
	free(live);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	long steps = bench_scaled(3e5, a.scale, 100) / a.threads;
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));
	pthread_t *tids = calloc((size_t)a.threads, sizeof(*tids));
	long allocs = 0;

	if (w == NULL || tids == NULL)
		bench_die("calloc");
	for (int i = 0; i < a.threads; i++) {
		w[i].steps = steps;
		w[i].seed = 0x5eedULL * (uint64_t)(i + 7);
	}
	double t0 = bench_now();
	bench_spawn(tids, a.threads, work, w, sizeof(*w));
	bench_join(tids, a.threads);
	double t = bench_now() - t0;
	for (int i = 0; i < a.threads; i++)
		allocs += w[i].allocs;
	bench_figure("ops/s", (double)allocs / t);
	for (int x = 0; x < XSLOTS; x++)
		free(atomic_load(&exchange[x]));
	free(w);
	free(tids);
	return 0;
}
