/*
 * stress.c -- 8 threads x 10^6 mixed operations (malloc, calloc, realloc,
 * aligned, free) with blocks handed between threads and freed by another
 * thread, every block stamped and checked before it is freed.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vmmtest.h"

#define THREADS 8
#define SLOTS 4096
static long ops_per_thread = 1000000;
static struct vt_range pool;

struct slot {
	_Atomic(unsigned char *) p;
};
static struct slot slots[SLOTS]; /* shared: any thread may take a block */

static void stamp(unsigned char *p, size_t size)
{
	memcpy(p, &size, sizeof(size));
	for (size_t i = sizeof(size); i < size; i++)
		p[i] = (unsigned char)(size + i);
}

static void verify(const unsigned char *p)
{
	size_t size;
	memcpy(&size, p, sizeof(size));
	for (size_t i = sizeof(size); i < size; i++)
		if (p[i] != (unsigned char)(size + i))
			FAIL("block %p (size %zu) corrupt at %zu", (void *)p,
			     size, i);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
	for (long op = 0; op < ops_per_thread; op++) {
		unsigned r = (unsigned)rand_r(&seed);
		size_t size =
			sizeof(size_t) + (r % 8 == 0 ? r % 65536 : r % 512);
		unsigned char *p;
		switch (r % 5) {
		case 0:
			p = malloc(size);
			break;
		case 1:
			p = calloc(1, size);
			break;
		case 2:
			p = aligned_alloc(64, size);
			break;
		case 3:
			CHECK_I(posix_memalign((void **)&p, 32, size), ==, 0);
			break;
		default:
			p = realloc(malloc(8), size);
			break;
		}
		CHECK(p != NULL);
		CHECK_IN_POOL(pool, p, size);
		stamp(p, size);
		unsigned char *old = atomic_exchange(&slots[r % SLOTS].p, p);
		if (old != NULL) {
			verify(old);
			if (r % 3 ==
			    0) { /* grow or shrink someone else's block */
				size_t ns = sizeof(size_t) + (r >> 8) % 2048;
				old = realloc(old, ns);
				CHECK(old != NULL);
				stamp(old, ns);
				verify(old);
			}
			free(old);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		ops_per_thread = atol(argv[1]);
	pool = vt_pool();
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK_I(pthread_create(&t[i], NULL, worker, (void *)i), ==, 0);
	for (int i = 0; i < THREADS; i++)
		CHECK_I(pthread_join(t[i], NULL), ==, 0);
	for (int i = 0; i < SLOTS; i++) {
		unsigned char *p = atomic_load(&slots[i].p);
		if (p != NULL) {
			verify(p);
			free(p);
		}
	}
	return 0;
}
