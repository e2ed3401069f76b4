/*
 * thread_exit.c -- allocations made by other libraries' thread destructors
 * in the first destructor round land in the pool (jemalloc's own cleanup
 * runs last in each round); blocks made in later rounds, after that
 * cleanup, are freed without a crash; threads whose first allocation
 * happens in a destructor too.
 */
#include <malloc.h>
#include <pthread.h>

#include "vmmtest.h"

#define THREADS 8
static struct vt_range pool;
static pthread_key_t key;
static _Atomic int outside, checked;

static void late_dtor(void *arg)
{
	/* keep re-arming so this runs in every destructor round */
	unsigned long round = (unsigned long)(uintptr_t)arg;
	for (int i = 0; i < 64; i++) {
		void *p = malloc(24 + (size_t)i * 40);
		CHECK(p != NULL);
		if (round == 1) {
			if (!vt_in(pool, p, 24))
				outside++;
			checked++;
		}
		p = realloc(p, 5000);
		CHECK(p != NULL);
		CHECK_U(malloc_usable_size(p), >=, 5000);
		free(p);
	}
	if (round < 6)
		pthread_setspecific(key, (void *)(uintptr_t)(round + 1));
}

static void *worker(void *arg)
{
	/* half the threads allocate before exiting, half only in the dtor */
	if ((uintptr_t)arg % 2 == 0) {
		void *volatile p = malloc(100);
		CHECK(vt_in(pool, p, 100));
		free(p);
	}
	pthread_setspecific(key, (void *)(uintptr_t)1);
	return NULL;
}

int main(void)
{
	pool = vt_pool();
	CHECK_I(pthread_key_create(&key, late_dtor), ==, 0);
	for (int round = 0; round < 20; round++) {
		pthread_t t[THREADS];
		for (int i = 0; i < THREADS; i++)
			CHECK_I(pthread_create(&t[i], NULL, worker,
					       (void *)(uintptr_t)i),
				==, 0);
		for (int i = 0; i < THREADS; i++)
			CHECK_I(pthread_join(t[i], NULL), ==, 0);
	}
	CHECK_I(checked, >, 0);
	CHECK_I(outside, ==, 0);
	return 0;
}
