/* xmalloc.c: producer/consumer in the style of the xmalloc test. Producers
 * allocate batches of small blocks and hand them over a bounded queue;
 * consumers free them, so every free is a cross-thread free. THREADS is the
 * number of producer/consumer pairs. Figure: blocks per second (each block is
 * one malloc and one remote free).
 */
#include "bench.h"

#define BATCH 64
#define QCAP 256

struct batch {
	void *p[BATCH];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct batch *q[QCAP];
	unsigned head, count;
	int producers_left;
} Q = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .not_empty = PTHREAD_COND_INITIALIZER,
       .not_full = PTHREAD_COND_INITIALIZER};

struct prod {
	long batches;
	uint64_t seed;
};

static void *producer(void *arg)
{
	struct prod *pr = arg;

	for (long b = 0; b < pr->batches; b++) {
		struct batch *bt = bench_xmalloc(sizeof(*bt));
		for (int i = 0; i < BATCH; i++) {
			size_t sz = bench_range(&pr->seed, 16, 128);
			char *p = bench_xmalloc(sz);
			p[0] = (char)i;
			bt->p[i] = p;
		}
		pthread_mutex_lock(&Q.lock);
		while (Q.count == QCAP)
			pthread_cond_wait(&Q.not_full, &Q.lock);
		Q.q[(Q.head + Q.count) % QCAP] = bt;
		Q.count++;
		pthread_cond_signal(&Q.not_empty);
		pthread_mutex_unlock(&Q.lock);
	}
	pthread_mutex_lock(&Q.lock);
	Q.producers_left--;
	pthread_cond_broadcast(&Q.not_empty);
	pthread_mutex_unlock(&Q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&Q.lock);
		while (Q.count == 0 && Q.producers_left > 0)
			pthread_cond_wait(&Q.not_empty, &Q.lock);
		if (Q.count == 0) {
			pthread_mutex_unlock(&Q.lock);
			return NULL;
		}
		struct batch *bt = Q.q[Q.head];
		Q.head = (Q.head + 1) % QCAP;
		Q.count--;
		pthread_cond_signal(&Q.not_full);
		pthread_mutex_unlock(&Q.lock);
		for (int i = 0; i < BATCH; i++)
			free(bt->p[i]);
		free(bt);
	}
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	long batches = bench_scaled(1e7 / BATCH, a.scale, 10) / a.threads;
	struct prod *pr = calloc((size_t)a.threads, sizeof(*pr));
	pthread_t *tids = calloc((size_t)a.threads * 2, sizeof(*tids));

	if (pr == NULL || tids == NULL)
		bench_die("calloc");
	Q.producers_left = a.threads;
	for (int i = 0; i < a.threads; i++) {
		pr[i].batches = batches;
		pr[i].seed = 0xabcdefULL * (uint64_t)(i + 1);
	}
	double t0 = bench_now();
	bench_spawn(tids, a.threads, producer, pr, sizeof(*pr));
	for (int i = 0; i < a.threads; i++)
		if (pthread_create(&tids[a.threads + i], NULL, consumer,
				   NULL) != 0)
			bench_die("pthread_create");
	bench_join(tids, a.threads * 2);
	double t = bench_now() - t0;
	bench_figure("ops/s", (double)batches * BATCH * a.threads / t);
	free(pr);
	free(tids);
	return 0;
}
