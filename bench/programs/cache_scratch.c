/* cache_scratch.c: passive false sharing, in the style of Hoard's
 * cache-scratch. The main thread allocates one small object per thread
 * (adjacent objects share cache lines) and hands each to a worker; the
 * worker frees it, then repeatedly allocates a small object and writes it
 * many times. An allocator that reuses the freed object for the worker puts
 * workers on one cache line. Figure: seconds.
 */
#include "bench.h"

#define OBJ 8
#define WRITES 2000

struct worker {
	char *handed;
	long iters;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	free(w->handed);
	for (long i = 0; i < w->iters; i++) {
		volatile char *p = bench_xmalloc(OBJ);
		for (int k = 0; k < WRITES; k++) {
			for (int j = 0; j < OBJ; j++)
				p[j] = (char)(p[j] + 1);
		}
		free((void *)p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	long iters = bench_scaled(2e5, a.scale, 10) / a.threads;
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));
	pthread_t *tids = calloc((size_t)a.threads, sizeof(*tids));

	if (w == NULL || tids == NULL)
		bench_die("calloc");
	for (int i = 0; i < a.threads; i++) {
		w[i].handed = bench_xmalloc(OBJ);
		w[i].iters = iters;
	}
	double t0 = bench_now();
	bench_spawn(tids, a.threads, work, w, sizeof(*w));
	bench_join(tids, a.threads);
	bench_figure("seconds", bench_now() - t0);
	free(w);
	free(tids);
	return 0;
}
