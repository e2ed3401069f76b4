/*
 * mut_small_aligned.c -- an alignment of 16 is honoured for blocks smaller
 * than 16 bytes too: the engine's smallest size class (8 bytes) is only
 * 8-aligned, so these requests must not be served as plain malloc.
 * Killed mutants: tests/mutants/defs/api-aligned-small-size.mut,
 * api-memalign-16-small.mut.
 */
#include <malloc.h>
#include <stdlib.h>

#include "vmmtest.h"

#define HELD 64

int main(void)
{
	struct vt_range pool = vt_pool();
	void *held[HELD];
	for (size_t size = 0; size < 16; size++) {
		/* hold many at once: consecutive 8-byte regions alternate */
		for (int i = 0; i < HELD; i++) {
			void *p = NULL;
			CHECK_I(posix_memalign(&p, 16, size), ==, 0);
			__asm__ volatile("" : "+r"(p));
			CHECK_IN_POOL(pool, p, size);
			if ((uintptr_t)p % 16 != 0)
				FAIL("posix_memalign(16, %zu) = %p", size, p);
			held[i] = p;
		}
		for (int i = 0; i < HELD; i++)
			free(held[i]);
		for (int i = 0; i < HELD; i++) {
			void *p = aligned_alloc(16, size);
			CHECK(p != NULL);
			__asm__ volatile("" : "+r"(p));
			CHECK_IN_POOL(pool, p, size);
			if ((uintptr_t)p % 16 != 0)
				FAIL("aligned_alloc(16, %zu) = %p", size, p);
			held[i] = p;
		}
		for (int i = 0; i < HELD; i++)
			free(held[i]);
		for (int i = 0; i < HELD; i++) {
			void *p = memalign(16, size);
			CHECK(p != NULL);
			__asm__ volatile("" : "+r"(p));
			CHECK_IN_POOL(pool, p, size);
			if ((uintptr_t)p % 16 != 0)
				FAIL("memalign(16, %zu) = %p", size, p);
			held[i] = p;
		}
		for (int i = 0; i < HELD; i++)
			free(held[i]);
	}
	return 0;
}
