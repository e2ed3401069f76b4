/*
 * mut_memalign_round.c -- memalign with an alignment that is not a power
 * of two rounds it up to the next power (glibc): memalign(48) is 64-aligned,
 * memalign(24) 32-aligned, every time, not only when a block happens to
 * land on a larger boundary.
 * Killed mutant: tests/mutants/defs/api-memalign-no-round-up.mut.
 */
#include <malloc.h>

#include "vmmtest.h"

#define HELD 64

static void check(size_t alignment, size_t want, size_t size)
{
	struct vt_range pool = vt_pool();
	void *held[HELD];
	for (int i = 0; i < HELD; i++) {
		void *p = memalign(alignment, size);
		CHECK(p != NULL);
		__asm__ volatile("" : "+r"(p));
		CHECK_IN_POOL(pool, p, size);
		if ((uintptr_t)p % want != 0)
			FAIL("memalign(%zu, %zu) = %p, not %zu-aligned",
			     alignment, size, p, want);
		held[i] = p;
	}
	for (int i = 0; i < HELD; i++)
		free(held[i]);
}

int main(void)
{
	check(24, 32, 100);
	check(48, 64, 100);
	check(48, 64, 16);
	check(96, 128, 200);
	check(3000, 4096, 5000);
	check(5000, 8192, 100);
	return 0;
}
