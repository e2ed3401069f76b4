/* realloc_chain.c: realloc growth chains. Each chain starts with a 16-byte
 * block and grows it step by step (by 1/8 plus 16 bytes) to a target drawn
 * from 256 B..4 KiB (most chains) or up to 1 MiB (one in 16), writing the
 * new tail each time, as a string builder or vector would; then frees it.
 * Figure: reallocs per second, all threads.
 */
#include "bench.h"

struct worker {
	long chains;
	uint64_t seed;
	long reallocs;
};

BENCH_NOINLINE void *bench_kernel(void *arg);

BENCH_NOINLINE void *bench_kernel(void *arg)
{
	struct worker *w = arg;

	for (long c = 0; c < w->chains; c++) {
		size_t target = bench_rand(&w->seed) % 16 == 0
					? bench_range(&w->seed, 4096, 1 << 20)
					: bench_range(&w->seed, 256, 4096);
		size_t sz = 16;
		char *p = bench_xmalloc(sz);
		p[0] = 1;
		while (sz < target) {
			size_t nsz = sz + sz / 8 + 16;
			char *q = realloc(p, nsz);
			if (q == NULL)
				bench_die("realloc");
			q[nsz - 1] = (char)nsz;
			q[sz] = 1;
			p = q;
			sz = nsz;
			w->reallocs++;
		}
		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	long chains = bench_scaled(1e5, a.scale, 100) / a.threads;
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));
	pthread_t *tids = calloc((size_t)a.threads, sizeof(*tids));
	long total = 0;

	if (w == NULL || tids == NULL)
		bench_die("calloc");
	for (int i = 0; i < a.threads; i++) {
		w[i].chains = chains;
		w[i].seed = 0xc0ffeeULL * (uint64_t)(i + 3);
	}
	double t0 = bench_now();
	if (a.threads == 1) {
		bench_kernel(&w[0]);
	} else {
		bench_spawn(tids, a.threads, bench_kernel, w, sizeof(*w));
		bench_join(tids, a.threads);
	}
	double t = bench_now() - t0;
	for (int i = 0; i < a.threads; i++)
		total += w[i].reallocs;
	bench_figure("ops/s", (double)total / t);
	free(w);
	free(tids);
	return 0;
}
