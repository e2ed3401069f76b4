/*
 * tsd.c -- a program with many pthread keys (100 here: glibc keeps keys
 * 0-31 in the thread descriptor, the rest in blocks it allocates) whose
 * destructors allocate and re-arm themselves: every destructor round (glibc
 * runs up to 4) and every key, including those numbered after the
 * library's own per-thread cleanup, must be served from the pool --
 * malloc, calloc, realloc and the aligned calls alike.
 *
 * The blocks made late in a thread's life are freed everywhere they can
 * be: in the same destructor call, by the same thread in its next round,
 * and by the main thread after the join.  The threads run in a 14 MiB
 * pool many times over what it holds, so blocks that were not really
 * given back would exhaust it.
 */
#include <malloc.h>
#include <pthread.h>

#include "vmmtest.h"

#define KEYS 100
#define ROUNDS 4 /* glibc's PTHREAD_DESTRUCTOR_ITERATIONS */
#define THREADS 4
#define BATCHES 12

static struct vt_range pool;
static pthread_key_t keys[KEYS];
static _Atomic unsigned long made, outside, calls[ROUNDS + 1];
static _Atomic unsigned long first_outside_key = ~0ul;

/* blocks handed to the main thread, to be freed there */
static pthread_mutex_t handed_lock = PTHREAD_MUTEX_INITIALIZER;
static void *handed[THREADS * KEYS * ROUNDS];
static size_t nhanded;

/* what a key's value points to: a pool block that carries the round */
struct carry {
	unsigned key, round;
	char pad[40];
};

static uintptr_t hide(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return (uintptr_t)p;
}

static void seen(void *p, size_t size, unsigned key)
{
	if (p == NULL)
		FAIL("allocation of %zu bytes failed in the destructor of key "
		     "%u",
		     size, key);
	made++;
	if (!vt_in(pool, p, size)) {
		if (outside++ == 0)
			first_outside_key = key;
	}
}

static void dtor(void *arg)
{
	struct carry *c = arg;
	unsigned key = c->key, round = c->round;
	if (round > ROUNDS)
		FAIL("key %u: destructor round %u", key, round);
	calls[round]++;
	size_t k = key + round * 7;

	char *a = malloc(24 + k * 40);
	seen(a, 24 + k * 40, key);
	memset(a, 1, 24 + k * 40);
	a = realloc(a, 5000 + k * 100);
	seen(a, 5000 + k * 100, key);
	CHECK_U(malloc_usable_size(a), >=, 5000 + k * 100);

	unsigned char *z = calloc(k % 9 + 1, 300);
	seen(z, (k % 9 + 1) * 300, key);
	for (size_t i = 0; i < (k % 9 + 1) * 300; i++)
		CHECK_U(z[i], ==, 0);

	size_t align = (size_t)16 << (k % 9); /* 16 .. 4096 */
	void *m = aligned_alloc(align, 1000);
	seen(m, 1000, key);
	CHECK_U(hide(m) % align, ==, 0);
	void *pm = NULL;
	CHECK_I(posix_memalign(&pm, align, 100), ==, 0);
	seen(pm, 100, key);
	CHECK_U(hide(pm) % align, ==, 0);
	void *big = malloc(70000 + k); /* a large class */
	seen(big, 70000 + k, key);

	/* freed here, at once */
	free(a);
	free(z);
	free(m);
	free(big);
	/* freed by the main thread after the join */
	pthread_mutex_lock(&handed_lock);
	if (nhanded < sizeof(handed) / sizeof(handed[0]))
		handed[nhanded++] = pm;
	else
		free(pm);
	pthread_mutex_unlock(&handed_lock);

	/* the carried block is freed by this thread in its next round */
	free(c);
	if (round < ROUNDS) {
		struct carry *next = malloc(sizeof(*next));
		seen(next, sizeof(*next), key);
		next->key = key;
		next->round = round + 1;
		CHECK_I(pthread_setspecific(keys[key], next), ==, 0);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	void *volatile p = malloc(100); /* the thread uses the pool first */
	free(p);
	for (unsigned i = 0; i < KEYS; i++) {
		struct carry *c = malloc(sizeof(*c));
		CHECK(c != NULL);
		c->key = i;
		c->round = 1;
		CHECK_I(pthread_setspecific(keys[i], c), ==, 0);
	}
	return NULL;
}

int main(void)
{
	pool = vt_pool(); /* stdio: before any thread starts */
	for (unsigned i = 0; i < KEYS; i++)
		CHECK_I(pthread_key_create(&keys[i], dtor), ==, 0);
	for (int b = 0; b < BATCHES; b++) {
		pthread_t t[THREADS];
		for (int i = 0; i < THREADS; i++)
			CHECK_I(pthread_create(&t[i], NULL, worker, NULL), ==,
				0);
		for (int i = 0; i < THREADS; i++)
			CHECK_I(pthread_join(t[i], NULL), ==, 0);
		if (outside != 0)
			FAIL("%lu of %lu blocks made by destructors lie outside "
			     "the pool (the first for key %lu, pthread key "
			     "%u)",
			     (unsigned long)outside, (unsigned long)made,
			     (unsigned long)first_outside_key,
			     (unsigned)keys[first_outside_key]);
		for (size_t i = 0; i < nhanded; i++)
			free(handed[i]);
		nhanded = 0;
	}
	for (unsigned r = 1; r <= ROUNDS; r++)
		CHECK_U(calls[r], ==, (unsigned long)BATCHES * THREADS * KEYS);
	/* what the destructors freed came back: room for a large block */
	void *volatile big = malloc(6 << 20);
	CHECK(big != NULL);
	CHECK_IN_POOL(pool, big, 6 << 20);
	free(big);
	printf("%lu destructor blocks, all in the pool\n", (unsigned long)made);
	return 0;
}
