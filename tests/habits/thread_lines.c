/*
 * thread_lines.c -- threads that each write their own small blocks must
 * not find them in one cache line (false sharing: every write of one
 * thread then stalls the other).  The shape of Hoard's cache-scratch: the
 * main thread allocates one small block per worker and hands it over; each
 * worker frees it and allocates blocks of its own.  With one slab per size
 * class for all threads, the second worker's cache is filled with the
 * regions right after the first worker's, and with the handed-back ones
 * next to them: at least one 64-byte line holds blocks of both.
 *
 * The workers run one after the other (each parks once it has its blocks,
 * still holding them), so the outcome does not depend on scheduling.
 *
 *   thread_lines
 */
#include "tcache.h"

#define WORKERS 3
#define BLOCKS 16 /* per worker: more than one cache fill */
#define OBJ 8
#define LINE 64

struct worker {
	void *handed;
	uintptr_t line[BLOCKS];
};

/* runs on a tc_idle thread, which then parks with the blocks still held */
static void take_blocks(void *arg)
{
	struct worker *w = arg;
	free(w->handed);
	for (int i = 0; i < BLOCKS; i++) {
		char *p = malloc(OBJ);
		CHECK(p != NULL);
		p[0] = 1;
		/* gcc may assume malloc's alignment: hide the address */
		uintptr_t a = (uintptr_t)p;
		__asm__ volatile("" : "+r"(a));
		w->line[i] = a / LINE;
	}
}

int main(void)
{
	static struct worker w[WORKERS];
	struct tc_idle t[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		w[i].handed = malloc(OBJ);
		CHECK(w[i].handed != NULL);
	}
	for (int i = 0; i < WORKERS; i++)
		tc_idle_start(&t[i], take_blocks, &w[i]);
	int shared = 0;
	for (int a = 0; a < WORKERS; a++)
		for (int b = a + 1; b < WORKERS; b++)
			for (int i = 0; i < BLOCKS; i++)
				for (int j = 0; j < BLOCKS; j++)
					if (w[a].line[i] == w[b].line[j] &&
					    shared++ < 10)
						printf("workers %d and %d share "
						       "line %#lx\n",
						       a, b,
						       (unsigned long)w[a]
							       .line[i]);
	for (int i = 0; i < WORKERS; i++)
		tc_idle_end(&t[i]);
	CHECK_I(shared, ==, 0);
	printf("%d workers x %d blocks of %d bytes: no shared cache line\n",
	       WORKERS, BLOCKS, OBJ);
	return 0;
}
