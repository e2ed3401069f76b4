/*
 * mut_mallocx_zero.c -- jemalloc's mallocx(size, MALLOCX_ZERO), which the
 * library exports for programs linked against jemalloc, returns zeroed
 * memory also when the block is a reused one (freshly backed pages read
 * zero anyway and prove nothing).
 * Killed mutant: tests/mutants/defs/jeapi-mallocx-zero-ignored.mut.
 */
#include <dlfcn.h>

#include "vmmtest.h"

#define ZERO 0x40	  /* MALLOCX_ZERO */
#define LG_ALIGN(la) (la) /* MALLOCX_LG_ALIGN */

int main(void)
{
	struct vt_range pool = vt_pool();
	void *(*mallocx)(size_t, int) =
		(void *(*)(size_t, int))dlsym(RTLD_DEFAULT, "mallocx");
	void (*dallocx)(void *, int) =
		(void (*)(void *, int))dlsym(RTLD_DEFAULT, "dallocx");
	if (mallocx == NULL || dallocx == NULL)
		FAIL("the preloaded library exports no mallocx/dallocx");
	static const int flags[] = {ZERO, ZERO | LG_ALIGN(6)};
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		for (size_t size = 16; size <= 64 * 1024;
		     size = size * 2 + 16) {
			/* dirty a block of that size, free it, ask again */
			for (int i = 0; i < 4; i++) {
				unsigned char *d =
					mallocx(size, flags[f] & ~ZERO);
				CHECK(d != NULL);
				memset(d, 0xa5, size);
				dallocx(d, 0);
				unsigned char *p = mallocx(size, flags[f]);
				CHECK(p != NULL);
				CHECK_IN_POOL(pool, p, size);
				for (size_t j = 0; j < size; j++)
					if (p[j] != 0)
						FAIL("mallocx(%zu, %#x)[%zu] = %#x",
						     size, flags[f], j, p[j]);
				dallocx(p, 0);
			}
		}
	}
	return 0;
}
