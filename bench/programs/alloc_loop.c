/* alloc_loop.c: the small-object fast path. Each thread keeps a ring of 256
 * live blocks and, per operation, frees the oldest and allocates a new one:
 * fixed 64-byte blocks, or (built with BENCH_MIXED) sizes 8..1024 drawn from
 * a skewed table. Figure: malloc+free pairs per second, all threads.
 *
 * NOTES
 * - bench_kernel() is the whole measured loop and is never inlined, so
 *   `callgrind --toggle-collect=bench_kernel` counts exactly the loop.
 * - Sizes are precomputed so the loop spends nothing on the PRNG.
 */
#include "bench.h"

#define RING 256
#define NSIZES 4096

struct worker {
	long ops;
	const size_t *sizes;
	pthread_t tid;
};

BENCH_NOINLINE void *bench_kernel(void *arg);

BENCH_NOINLINE void *bench_kernel(void *arg)
{
	struct worker *w = arg;
	void *ring[RING] = {0};
	const size_t *sizes = w->sizes;

	for (long i = 0; i < w->ops; i++) {
		unsigned slot = (unsigned)i % RING;
		size_t sz = sizes[(unsigned long)i % NSIZES];
		free(ring[slot]);
		char *p = malloc(sz);
		if (p == NULL)
			bench_die("malloc");
		p[0] = (char)i;
		ring[slot] = p;
	}
	for (unsigned s = 0; s < RING; s++)
		free(ring[s]);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	static size_t sizes[NSIZES];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	long ops = bench_scaled(5e7, a.scale, 1000) / a.threads;
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));

	if (w == NULL)
		bench_die("calloc");
	for (int i = 0; i < NSIZES; i++) {
#ifdef BENCH_MIXED
		/* Mostly small, a tail up to 1 KiB: 8 << (0..7), jittered. */
		size_t base = (size_t)8 << (bench_rand(&seed) % 8);
		sizes[i] = base + bench_range(&seed, 0, base - 1);
		if (sizes[i] > 1024)
			sizes[i] = 1024;
#else
		(void)seed;
		sizes[i] = 64;
#endif
	}
	double t0 = bench_now();
	if (a.threads == 1) {
		w[0].ops = ops;
		w[0].sizes = sizes;
		bench_kernel(&w[0]);
	} else {
		for (int i = 0; i < a.threads; i++) {
			w[i].ops = ops;
			w[i].sizes = sizes;
			if (pthread_create(&w[i].tid, NULL, bench_kernel,
					   &w[i]) != 0)
				bench_die("pthread_create");
		}
		for (int i = 0; i < a.threads; i++)
			pthread_join(w[i].tid, NULL);
	}
	double t = bench_now() - t0;
	bench_figure("ops/s", (double)ops * a.threads / t);
	free(w);
	return 0;
}
