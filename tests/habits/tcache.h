/*
 * tcache.h -- shared by the idle-thread cache tests: how much of the pool
 * is still reachable as 64 KiB blocks, and threads that park after freeing
 * (thread_lines.c parks its workers the same way).
 */
#ifndef TCACHE_H
#define TCACHE_H 1

#include <pthread.h>

#include "vmmtest.h"

#define TC_BLOCK ((size_t)64 << 10)
#define TC_MAXB 65536

/* bytes of the pool reachable as 64 KiB blocks (allocated, then freed) */
static inline size_t tc_reachable(struct vt_range pool)
{
	static void *b[TC_MAXB];
	size_t n = 0;
	void *p;
	while (n < TC_MAXB && (p = malloc(TC_BLOCK)) != NULL) {
		CHECK_IN_POOL(pool, p, TC_BLOCK);
		b[n++] = p;
	}
	CHECK(n < TC_MAXB);
	for (size_t i = 0; i < n; i++)
		free(b[i]);
	return n * TC_BLOCK;
}

/* a thread that runs fn(arg), then says so and waits until told to end */
struct tc_idle {
	pthread_t tid;
	void (*fn)(void *);
	void *arg;
	int ready[2], stop[2];
};

static inline void *tc_idle_main(void *a)
{
	struct tc_idle *t = a;
	t->fn(t->arg);
	char c = 1;
	CHECK(write(t->ready[1], &c, 1) == 1);
	CHECK(read(t->stop[0], &c, 1) >= 0); /* parked: allocates nothing */
	return NULL;
}

static inline void tc_idle_start(struct tc_idle *t, void (*fn)(void *),
				 void *arg)
{
	t->fn = fn;
	t->arg = arg;
	CHECK(pipe(t->ready) == 0 && pipe(t->stop) == 0);
	CHECK(pthread_create(&t->tid, NULL, tc_idle_main, t) == 0);
	char c;
	CHECK(read(t->ready[0], &c, 1) == 1);
}

static inline void tc_idle_end(struct tc_idle *t)
{
	close(t->stop[1]);
	CHECK(pthread_join(t->tid, NULL) == 0);
	close(t->stop[0]);
	close(t->ready[0]);
	close(t->ready[1]);
}

#endif /* TCACHE_H */
