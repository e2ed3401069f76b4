/*
 * churn.c -- threads that allocate, free and exit, two at a time, on a
 * small pool: the memory they free is reused by the next threads (the pool
 * never runs out), and the pool's backing stays flat.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "vmmtest.h"

#define ROUNDS 400
#define BLOCKS 1000

static struct vt_range pool;

static void *work(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	void *b[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		size_t size = 16 + (size_t)rand_r(&seed) % 4080;
		b[i] = malloc(size);
		CHECK(b[i] != NULL);
		CHECK_IN_POOL(pool, b[i], size);
		memset(b[i], 1, size);
	}
	for (int i = 0; i < BLOCKS; i++)
		free(b[i]);
	return NULL;
}

int main(void)
{
	pool = vt_pool();
	for (uintptr_t r = 0; r < ROUNDS; r++) {
		pthread_t t[2];
		for (uintptr_t i = 0; i < 2; i++)
			CHECK_I(pthread_create(&t[i], NULL, work,
					       (void *)(r * 2 + i + 1)),
				==, 0);
		for (int i = 0; i < 2; i++)
			CHECK_I(pthread_join(t[i], NULL), ==, 0);
	}
	/* 400 rounds x 2 threads x ~2 MiB went through a 14 MiB pool */
	void *big = malloc(8 << 20);
	CHECK(big != NULL);
	free(big);
	return 0;
}
