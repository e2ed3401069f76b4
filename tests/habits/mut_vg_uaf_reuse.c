/*
 * mut_vg_uaf_reuse.c -- under memcheck (run through
 * tools/valgrind/vmm-valgrind, which must see an error) a write through a
 * freed pointer is reported even after the program has allocated blocks of
 * the same size again: freed blocks wait in a quarantine, so the engine
 * does not hand the same bytes straight back, where the stale write would
 * look like a valid one.  Everything is freed: the only error is the write.
 * Killed mutant: tests/mutants/defs/valgrind-no-quarantine.mut.
 */
#include "vmmtest.h"

#define N 16
#define SIZE 64

int main(void)
{
	char *stale = malloc(SIZE);
	CHECK(stale != NULL);
	memset(stale, 0, SIZE);
	volatile char *p = stale;
	__asm__ volatile("" : "+r"(p)); /* the compiler must not see it */
	free(stale);
	char *b[N];
	for (int i = 0; i < N; i++) {
		b[i] = malloc(SIZE);
		CHECK(b[i] != NULL);
		memset(b[i], 0, SIZE);
	}
	p[vt_opaque(8)] = 1; /* the use after free */
	for (int i = 0; i < N; i++)
		free(b[i]);
	return 0;
}
