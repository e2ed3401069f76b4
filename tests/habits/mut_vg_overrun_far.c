/*
 * mut_vg_overrun_far.c -- under memcheck (run through
 * tools/valgrind/vmm-valgrind, which must see an error) a write 20 bytes
 * past the end of a block is reported even though the next block is live:
 * it lands in the block's back red zone.  Without one it would land in
 * the neighbour's bytes (past the neighbour's 16-byte front zone), which
 * memcheck must accept.  Everything is freed: the only error is the write.
 * Killed mutant: tests/mutants/defs/valgrind-no-back-red-zone.mut.
 */
#include "vmmtest.h"

#define N 64
#define SIZE 48

int main(void)
{
	char *b[N];
	for (int i = 0; i < N; i++) {
		b[i] = malloc(SIZE);
		CHECK(b[i] != NULL);
		memset(b[i], 0, SIZE);
	}
	volatile char *p = b[N / 2];
	p[vt_opaque(SIZE + 20)] = 1; /* the overrun */
	for (int i = 0; i < N; i++)
		free(b[i]);
	return 0;
}
