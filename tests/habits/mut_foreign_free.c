/*
 * mut_foreign_free.c -- a block from glibc's own heap (foreign: what a
 * dlopen(RTLD_DEEPBIND) library gets from libc's malloc, here taken with
 * __libc_malloc) that the program frees through free() goes back to
 * glibc.  glibc's own statistics (mallinfo2 is not one of the library's
 * entry points) show whether it did: 20 MB stay in use if not.
 * Killed mutant: tests/mutants/defs/foreign-free-leaks.mut.
 */
#include <malloc.h>

#include "vmmtest.h"

extern void *__libc_malloc(size_t size);

#define ROUNDS 20000
#define SIZE 1000

int main(void)
{
	struct vt_range pool = vt_pool();
	struct mallinfo2 before = mallinfo2();
	for (int i = 0; i < ROUNDS; i++) {
		char *p = __libc_malloc(SIZE);
		CHECK(p != NULL);
		if (vt_in(pool, p, 1))
			FAIL("__libc_malloc returned a pool block %p", p);
		p[0] = (char)i;
		__asm__ volatile("" : : "r"(p) : "memory");
		errno = 42;
		free(p);
		CHECK_I(errno, ==, 42);
	}
	struct mallinfo2 after = mallinfo2();
	if (after.uordblks > before.uordblks + (1u << 20))
		FAIL("glibc's heap grew from %zu to %zu bytes in use: foreign "
		     "blocks freed through free() were not returned to glibc",
		     before.uordblks, after.uordblks);
	return 0;
}
