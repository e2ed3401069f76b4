/*
 * inpool.c -- every pointer any entry point returns lies inside the pool
 * mapping, for sizes from 1 byte to 64 MiB, from 8 threads at once.
 */
#include <malloc.h>
#include <pthread.h>

#include "vmmtest.h"

#define THREADS 8
static struct vt_range pool;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (int round = 0; round < 3; round++) {
		for (size_t s = 1; s <= (64u << 20); s = s * 2 + (rand_r(&seed) & 7)) {
			void *p[6];
			p[0] = malloc(s);
			p[1] = calloc(1, s);
			p[2] = realloc(malloc(s / 2 + 1), s);
			CHECK_I(posix_memalign(&p[3], 64, s), ==, 0);
			p[4] = aligned_alloc(4096, s);
			p[5] = memalign(256, s);
			for (int i = 0; i < 6; i++) {
				CHECK(p[i] != NULL);
				CHECK_IN_POOL(pool, p[i], s);
				CHECK_U(malloc_usable_size(p[i]), >=, s);
				((volatile char *)p[i])[s - 1] = 1;
			}
			for (int i = 0; i < 6; i++)
				free(p[i]);
		}
	}
	return NULL;
}

int main(void)
{
	pool = vt_pool();
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK_I(pthread_create(&t[i], NULL, worker, (void *)i), ==, 0);
	for (int i = 0; i < THREADS; i++)
		CHECK_I(pthread_join(t[i], NULL), ==, 0);
	/* stdio's and the dynamic linker's blocks are in the pool too */
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != NULL && getline(&line, &cap, f) > 0);
	CHECK_IN_POOL(pool, line, cap);
	free(line);
	fclose(f);
	return 0;
}
