/*
 * mut_calloc_wrap.c -- calloc(n, size) whose product wraps around to a
 * small number is ENOMEM, not a small block: checked natively and, through
 * tools/valgrind/vmm-valgrind, under memcheck, where the library's tracking
 * layer does its own multiplication.  (SIZE_MAX / 2 * 3 wraps to a size
 * too large to allocate anyway, so it proves nothing.)
 * Killed mutant: tests/mutants/defs/valgrind-calloc-overflow.mut.
 */
#include "vmmtest.h"

static void wraps(size_t n, size_t size)
{
	errno = 0;
	void *p = calloc(vt_opaque(n), vt_opaque(size));
	if (p != NULL)
		FAIL("calloc(%zu, %zu) = %p: the product wraps to %zu", n, size,
		     p, n * size);
	CHECK_I(errno, ==, ENOMEM);
}

int main(void)
{
	wraps(((size_t)1 << 61) + 1, 8);	       /* wraps to 8 */
	wraps(8, ((size_t)1 << 61) + 2);	       /* wraps to 16 */
	wraps(((size_t)1 << 32) + 1, (size_t)1 << 32); /* wraps to 2^32 */
	void *p = calloc(vt_opaque((size_t)1 << 20), 4);
	CHECK(p != NULL);
	free(p);
	return 0;
}
