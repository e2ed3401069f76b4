/* thread_churn.c: threads that allocate, free and exit, in the style of
 * mimalloc-bench's mleak. Per round THREADS threads each allocate 1000 blocks
 * of 16 B..4 KiB, free them all and exit; a well-behaved allocator ends each
 * round with nothing left behind, so memory stays flat. Judged on memory:
 * stderr gets "# churn" with RSS after the first round and at the end (the
 * driver also records peak RSS and pool blocks). Figure: seconds.
 */
#include "bench.h"

#define BLOCKS 1000

struct worker {
	uint64_t seed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	void *blk[BLOCKS];

	for (int i = 0; i < BLOCKS; i++) {
		size_t sz = bench_range(&w->seed, 16, 4096);
		char *p = bench_xmalloc(sz);
		p[0] = 1;
		p[sz - 1] = 1;
		blk[i] = p;
	}
	for (int i = 0; i < BLOCKS; i++)
		free(blk[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	long rounds = bench_scaled(500, a.scale, 4);
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));
	pthread_t *tids = calloc((size_t)a.threads, sizeof(*tids));
	long rss_first = 0, pool_first = 0;

	if (w == NULL || tids == NULL)
		bench_die("calloc");
	double t0 = bench_now();
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < a.threads; i++)
			w[i].seed =
				0x7777ULL * (uint64_t)(r * a.threads + i + 1);
		bench_spawn(tids, a.threads, work, w, sizeof(*w));
		bench_join(tids, a.threads);
		if (r == 0) {
			rss_first = bench_status_kib("VmRSS");
			pool_first = (long)(bench_pool_bytes() / 1024);
		}
	}
	double t = bench_now() - t0;
	fprintf(stderr,
		"# churn rss_first_kib=%ld rss_last_kib=%ld "
		"pool_first_kib=%ld pool_last_kib=%lld\n",
		rss_first, bench_status_kib("VmRSS"), pool_first,
		bench_pool_bytes() / 1024);
	bench_figure("seconds", t);
	free(w);
	free(tids);
	return 0;
}
