/*
 * api.c -- every entry point's semantics (glibc's, DESIGN §6), each block
 * checked to lie in the pool.
 */
#include <malloc.h>
#include <unistd.h>

#include "libvmmalloc.h"
#include "vmmtest.h"

static struct vt_range pool;

static void check_block(void *p, size_t size, size_t align)
{
	CHECK(p != NULL);
	CHECK_IN_POOL(pool, p, size);
	CHECK_U((uintptr_t)p % align, ==, 0);
	CHECK_U(malloc_usable_size(p), >=, size);
	memset(p, 0xa5, size);
}

static void test_malloc(void)
{
	void *a = malloc(0), *b = malloc(0);
	CHECK(a != NULL && b != NULL && a != b); /* malloc(0) is unique */
	check_block(a, 0, 8);
	free(a);
	free(b);
	for (size_t s = 1; s <= (4u << 20); s = s * 3 + 1) {
		void *p = malloc(s);
		check_block(p, s, s >= 16 ? 16 : 8);
		free(p);
	}
	errno = 1234;
	free(NULL);
	free(malloc(100));
	CHECK_I(errno, ==, 1234); /* free preserves errno */
	CHECK_U(malloc_usable_size(NULL), ==, 0);
}

static void test_calloc(void)
{
	for (size_t n = 1; n < 100000; n *= 7) {
		unsigned char *p = malloc(n * 8);
		memset(p, 0xff, n * 8);
		free(p);
		p = calloc(n, 8);
		check_block(p, 0, 8);
		for (size_t i = 0; i < n * 8; i++)
			if (p[i] != 0)
				FAIL("calloc(%zu, 8)[%zu] = %d", n, i, p[i]);
		free(p);
	}
	errno = 0;
	CHECK(calloc(vt_opaque(SIZE_MAX / 2), 3) == NULL); /* overflow */
	CHECK_I(errno, ==, ENOMEM);
	void *z = calloc(0, 0);
	CHECK(z != NULL);
	free(z);
}

static void test_realloc(void)
{
	unsigned char *p = realloc(NULL, 10); /* = malloc */
	check_block(p, 10, 8);
	for (int i = 0; i < 10; i++)
		p[i] = (unsigned char)i;
	for (size_t s = 11; s < (8u << 20); s = s * 2 + 3) {
		p = realloc(p, s);
		check_block(p, 0, 8);
		for (int i = 0; i < 10; i++)
			if (p[i] != i)
				FAIL("realloc to %zu lost byte %d", s, i);
	}
	p = realloc(p, 5); /* shrink keeps the prefix */
	for (int i = 0; i < 5; i++)
		CHECK_I(p[i], ==, i);
	errno = 0;
	CHECK(realloc(p, 0) == NULL); /* frees, returns NULL */
	void *q = malloc(64);
	errno = 0;
	CHECK(realloc(q, vt_opaque(SIZE_MAX - 4096)) == NULL);
	CHECK_I(errno, ==, ENOMEM);
	free(q); /* the old block survived the failed realloc */
}

static void test_aligned(void)
{
	long page = sysconf(_SC_PAGESIZE);
	for (size_t a = sizeof(void *); a <= (4u << 20); a *= 2) {
		void *p = NULL;
		CHECK_I(posix_memalign(&p, a, 100), ==, 0);
		check_block(p, 100, a);
		free(p);
		p = aligned_alloc(a, 3 * a);
		check_block(p, 3 * a, a);
		free(p);
		p = memalign(a, 1);
		check_block(p, 1, a);
		free(p);
	}
	/* posix_memalign: EINVAL without touching errno or *memptr */
	void *keep = &keep, *p = keep;
	errno = 77;
	CHECK_I(posix_memalign(&p, 3, 16), ==, EINVAL);
	CHECK_I(posix_memalign(&p, 4, 16), ==, EINVAL); /* < sizeof(void*) */
	CHECK_I(posix_memalign(&p, 0, 16), ==, EINVAL);
	CHECK_I(posix_memalign(&p, 64, vt_opaque(SIZE_MAX - 100)), ==, ENOMEM);
	CHECK_I(errno, ==, 77);
	CHECK(p == keep);
	errno = 0;
	CHECK(aligned_alloc(24, 48) == NULL);
	CHECK_I(errno, ==, EINVAL);
	/* memalign: small alignments are malloc's, others round up */
	p = memalign(48, 100);
	check_block(p, 100, 64);
	free(p);
	p = memalign(1, 10);
	check_block(p, 10, 8);
	free(p);
	errno = 0;
	CHECK(memalign(vt_opaque(SIZE_MAX), 10) == NULL);
	CHECK_I(errno, ==, EINVAL);

	p = valloc(10);
	check_block(p, 10, (size_t)page);
	free(p);
	p = pvalloc(1);
	check_block(p, (size_t)page, (size_t)page);
	free(p);
	p = pvalloc(0);
	check_block(p, (size_t)page, (size_t)page);
	free(p);
	p = pvalloc((size_t)page + 1);
	check_block(p, 2 * (size_t)page, (size_t)page);
	free(p);
	errno = 0;
	CHECK(pvalloc(vt_opaque(SIZE_MAX - 10)) == NULL);
	CHECK_I(errno, ==, ENOMEM);
}

static void test_cfree(void)
{
	void *p = malloc(32);
	check_block(p, 32, 16);
	cfree(p);
	cfree(NULL);
}

int main(void)
{
	pool = vt_pool();
	test_malloc();
	test_calloc();
	test_realloc();
	test_aligned();
	test_cfree();
	return 0;
}
