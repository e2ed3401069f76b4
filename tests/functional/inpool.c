/*
 * inpool.c -- every pointer any entry point returns lies inside the pool
 * mapping, for sizes from 1 byte to 64 MiB, from 8 threads at once.
 */
#include <malloc.h>
#include <pthread.h>

#include "vmmtest.h"

#define THREADS 8
static struct vt_range pool;

/*
 * Thread 0 goes up to 64 MiB, the others to 8 MiB, and each block is
 * checked and freed before the next: the peak stays near 120 MiB, so the
 * test also fits the pmem guest's 512 MiB DAX filesystems.
 */
static void check_and_free(void *p, size_t s)
{
	CHECK(p != NULL);
	CHECK_IN_POOL(pool, p, s);
	CHECK_U(malloc_usable_size(p), >=, s);
	((volatile char *)p)[s - 1] = 1;
	free(p);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	size_t max = arg == 0 ? (64u << 20) : (8u << 20);
	for (int round = 0; round < 3; round++) {
		for (size_t s = 1; s <= max; s = s * 2 + (rand_r(&seed) & 7)) {
			void *p;
			check_and_free(malloc(s), s);
			check_and_free(calloc(1, s), s);
			check_and_free(realloc(malloc(s / 2 + 1), s), s);
			CHECK_I(posix_memalign(&p, 64, s), ==, 0);
			check_and_free(p, s);
			check_and_free(aligned_alloc(4096, s), s);
			check_and_free(memalign(256, s), s);
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
