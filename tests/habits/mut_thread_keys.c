/*
 * mut_thread_keys.c -- a program with several thread keys: the destructor
 * of the last one (key number 7 or so) allocates in the first destructor
 * round, and those blocks still come from the pool -- jemalloc's own
 * thread cleanup holds the last key of glibc's first level (31), so every
 * key a program makes before it runs first.  One key alone proves
 * nothing: it gets number 0 whatever number jemalloc's key has.
 * Killed the mutant that moved jemalloc's key to number 1 while late
 * threads were served by glibc; since engine.c serves them from the pool
 * too (the late path) that mutant changes only speed, and was dropped.
 */
#include <pthread.h>

#include "vmmtest.h"

#define KEYS 8
#define THREADS 8

static struct vt_range pool;
static pthread_key_t keys[KEYS];
static _Atomic int outside, checked;

static void dtor(void *arg)
{
	(void)arg;
	for (int i = 0; i < 16; i++) {
		void *p = malloc(32 + (size_t)i * 64);
		__asm__ volatile("" : "+r"(p)); /* or gcc elides the pair */
		CHECK(p != NULL);
		if (!vt_in(pool, p, 32))
			outside++;
		checked++;
		free(p);
	}
}

static void *worker(void *arg)
{
	void *p = malloc(100); /* the thread is bound to the pool arena */
	__asm__ volatile("" : "+r"(p));
	free(p);
	pthread_setspecific(keys[KEYS - 1], arg);
	return NULL;
}

int main(void)
{
	pool = vt_pool();
	for (int i = 0; i < KEYS; i++)
		CHECK_I(pthread_key_create(&keys[i],
					   i == KEYS - 1 ? dtor : NULL),
			==, 0);
	for (int round = 0; round < 4; round++) {
		pthread_t t[THREADS];
		for (int i = 0; i < THREADS; i++)
			CHECK_I(pthread_create(&t[i], NULL, worker,
					       (void *)(uintptr_t)(i + 1)),
				==, 0);
		for (int i = 0; i < THREADS; i++)
			CHECK_I(pthread_join(t[i], NULL), ==, 0);
	}
	CHECK_I(checked, ==, 4 * THREADS * 16);
	if (outside != 0)
		FAIL("%d of %d blocks allocated by the destructor of key %u "
		     "lie outside the pool",
		     (int)outside, (int)checked, (unsigned)keys[KEYS - 1]);
	return 0;
}
