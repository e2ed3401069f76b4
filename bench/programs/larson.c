/* larson.c: server churn in the style of Larson & Krishnan's benchmark. Each
 * worker owns a table of live blocks and replaces random entries with new
 * blocks of random size; after each round the worker exits and a fresh thread
 * inherits its table, so blocks are freed by threads that did not allocate
 * them. Figure: replacements per second, all threads.
 *
 * NOTES
 * - Op-count bounded (not time bounded) so runs are comparable across
 *   allocators and callgrind counts repeat exactly.
 */
#include "bench.h"

#define SLOTS 1000
#define ROUNDS 10
#define MIN_SZ 16
#define MAX_SZ 400

struct table {
	void *slot[SLOTS];
	uint64_t seed;
	long ops;
};

static void *round_fn(void *arg)
{
	struct table *t = arg;

	for (long i = 0; i < t->ops; i++) {
		unsigned k = (unsigned)(bench_rand(&t->seed) % SLOTS);
		size_t sz = bench_range(&t->seed, MIN_SZ, MAX_SZ);
		free(t->slot[k]);
		char *p = malloc(sz);
		if (p == NULL)
			bench_die("malloc");
		p[0] = 1;
		p[sz - 1] = 2;
		t->slot[k] = p;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	long total = bench_scaled(3e7, a.scale, 1000);
	long per_round = total / a.threads / ROUNDS;
	struct table *tabs = calloc((size_t)a.threads, sizeof(*tabs));
	pthread_t *tids = calloc((size_t)a.threads, sizeof(*tids));

	if (tabs == NULL || tids == NULL)
		bench_die("calloc");
	for (int i = 0; i < a.threads; i++) {
		uint64_t seed = 0x1234567ULL * (uint64_t)(i + 1);
		tabs[i].seed = seed;
		for (int k = 0; k < SLOTS; k++) {
			size_t sz = bench_range(&tabs[i].seed, MIN_SZ, MAX_SZ);
			tabs[i].slot[k] = bench_xmalloc(sz);
		}
		tabs[i].ops = per_round;
	}
	double t0 = bench_now();
	for (int r = 0; r < ROUNDS; r++) {
		bench_spawn(tids, a.threads, round_fn, tabs, sizeof(*tabs));
		bench_join(tids, a.threads);
	}
	double t = bench_now() - t0;
	bench_figure("ops/s", (double)per_round * ROUNDS * a.threads / t);
	for (int i = 0; i < a.threads; i++)
		for (int k = 0; k < SLOTS; k++)
			free(tabs[i].slot[k]);
	free(tabs);
	free(tids);
	return 0;
}
