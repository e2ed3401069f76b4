/*
 * align.c -- every aligned entry point honours the alignment it is given,
 * for every power of two from 1 to 8192 and sizes 0..70000: posix_memalign,
 * aligned_alloc, memalign (also with alignments that are not powers of two,
 * which glibc rounds up), valloc, pvalloc, and jemalloc's mallocx/rallocx
 * with MALLOCX_ALIGN(a) (programs linked against jemalloc call them).  And
 * nallocx(size, flags) is what sallocx() says of mallocx(size, flags) and
 * of rallocx(p, size, flags), with and without MALLOCX_ZERO.
 *
 * Each pointer is hidden from the compiler before its alignment is tested:
 * gcc folds `p % a` to 0 for results of functions declared alloc_align.
 */
#include <dlfcn.h>
#include <malloc.h>

#include "vmmtest.h"

/* jemalloc's non-standard API, exported by the library (prototypes as in
 * jemalloc's API), looked up at run time: the program links to nothing */
static void *(*mallocx)(size_t size, int flags);
static void *(*rallocx)(void *ptr, size_t size, int flags);
static size_t (*sallocx)(const void *ptr, int flags);
static void (*dallocx)(void *ptr, int flags);
static size_t (*nallocx)(size_t size, int flags);
#define LG_ALIGN(lg) ((int)(lg))
#define F_ZERO 0x40

#define MAX_LG 13 /* 8 KiB */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct vt_range pool;
static unsigned long checked;

static uintptr_t hide(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return (uintptr_t)p;
}

#define CHECK_ALIGNED(what, p, align, size)                                    \
	do {                                                                   \
		uintptr_t u_ = hide(p);                                        \
		if (u_ == 0)                                                   \
			FAIL("%s(align %zu, size %zu) = NULL", what,           \
			     (size_t)(align), (size_t)(size));                 \
		if (u_ % (align) != 0)                                         \
			FAIL("%s(align %zu, size %zu) = %#" PRIxPTR            \
			     ": not aligned",                                  \
			     what, (size_t)(align), (size_t)(size), u_);       \
		CHECK_IN_POOL(pool, (void *)u_, (size) ? (size) : 1);          \
		checked++;                                                     \
	} while (0)

static size_t next_size(size_t s)
{
	return s < 1100 ? s + 1 : s + s / 61;
}

/* the bytes [from, to) of p are zero */
static void check_zero(const char *what, const unsigned char *p, size_t from,
		       size_t to, size_t align, size_t size)
{
	for (size_t i = from; i < to; i++)
		if (p[i] != 0)
			FAIL("%s(align %zu, size %zu): byte %zu is %#x, not 0",
			     what, align, size, i, p[i]);
}

static void standard(size_t align, size_t size, size_t page)
{
	void *p;
	if (align >= sizeof(void *)) {
		p = NULL;
		CHECK_I(posix_memalign(&p, align, size), ==, 0);
		CHECK_ALIGNED("posix_memalign", p, align, size);
		memset(p, 0xa5, size);
		free(p);
	}
	p = aligned_alloc(align, size);
	CHECK_ALIGNED("aligned_alloc", p, align, size);
	memset(p, 0xa5, size);
	free(p);
	p = memalign(align, size);
	CHECK_ALIGNED("memalign", p, align, size);
	memset(p, 0xa5, size);
	free(p);
	/* glibc rounds an alignment that is no power of two up to one */
	if (align > 2) {
		p = memalign(align / 2 + 1, size);
		CHECK_ALIGNED("memalign(2^n/2+1)", p, align, size);
		free(p);
		p = memalign(align - 1, size);
		CHECK_ALIGNED("memalign(2^n-1)", p, align, size);
		free(p);
	}
	if (align == page) {
		p = valloc(size);
		CHECK_ALIGNED("valloc", p, page, size);
		free(p);
		p = pvalloc(size);
		CHECK_ALIGNED("pvalloc", p, page, size);
		size_t rounded =
			size == 0 ? page : (size + page - 1) / page * page;
		CHECK_U(malloc_usable_size(p), >=, rounded);
		memset(p, 0xa5, rounded);
		free(p);
	}
}

static void jemalloc_api(size_t align, unsigned lg, size_t size)
{
	for (int zero = 0; zero <= F_ZERO; zero += F_ZERO) {
		int flags = LG_ALIGN(lg) | zero;
		const char *what = zero ? "mallocx(ZERO)" : "mallocx";
		unsigned char *p = mallocx(size, flags);
		CHECK_ALIGNED(what, p, align, size);
		size_t usable = sallocx(p, 0);
		if (usable != nallocx(size, flags))
			FAIL("%s(align %zu, size %zu): sallocx %zu, nallocx "
			     "%zu",
			     what, align, size, usable, nallocx(size, flags));
		if (zero)
			check_zero(what, p, 0, usable, align, size);
		memset(p, 0x5a, size);
		memset(p + size, 0, usable - size);

		/* shrink, keep, grow: by a little and by a lot */
		size_t targets[] = {size / 2, size, size + 1, size * 3 + 100};
		size_t old = size;
		for (size_t i = 0; i < COUNT(targets); i++) {
			size_t to = targets[i];
			what = zero ? "rallocx(ZERO)" : "rallocx";
			unsigned char *q = rallocx(p, to, flags);
			CHECK_ALIGNED(what, q, align, to);
			size_t keep = old < to ? old : to;
			for (size_t j = 0; j < keep; j++)
				if (q[j] != 0x5a)
					FAIL("%s(align %zu, %zu -> %zu): byte "
					     "%zu lost",
					     what, align, old, to, j);
			usable = sallocx(q, 0);
			if (usable != nallocx(to, flags))
				FAIL("%s(align %zu, %zu -> %zu): sallocx %zu, "
				     "nallocx %zu",
				     what, align, old, to, usable,
				     nallocx(to, flags));
			/* zeroed beyond what the block held (it was zero) */
			if (zero && to > old)
				check_zero(what, q, old, to, align, to);
			/* pattern up to `to`, zeros in the rest of the block */
			memset(q, 0x5a, to);
			memset(q + to, 0, usable - to);
			p = q;
			old = to;
		}
		dallocx(p, flags);
	}
}

#define LOOKUP(f)                                                              \
	do {                                                                   \
		*(void **)&f = dlsym(RTLD_DEFAULT, #f);                        \
		if (f == NULL)                                                 \
			FAIL("%s is not exported", #f);                        \
	} while (0)

int main(void)
{
	pool = vt_pool();
	LOOKUP(mallocx);
	LOOKUP(rallocx);
	LOOKUP(sallocx);
	LOOKUP(dallocx);
	LOOKUP(nallocx);
	/* the cases of the issue first, spelled out: runs of 8-byte blocks,
	 * one in two of which lies 8 bytes off a 16-byte boundary */
	for (int i = 0; i < 4; i++) {
		void *p = memalign(16, 8);
		CHECK_ALIGNED("memalign", p, 16, 8);
	}
	for (int i = 0; i < 4; i++) {
		void *p = mallocx(8, LG_ALIGN(4));
		CHECK_ALIGNED("mallocx", p, 16, 8);
	}
	for (int i = 0; i < 4; i++) {
		void *p = rallocx(mallocx(32, LG_ALIGN(4)), 4, LG_ALIGN(4));
		CHECK_ALIGNED("rallocx", p, 16, 4);
	}
	for (int i = 0; i < 4; i++) {
		void *p = mallocx(1, LG_ALIGN(4));
		CHECK_U(nallocx(1, LG_ALIGN(4)), ==, sallocx(p, 0));
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (unsigned lg = 0; lg <= MAX_LG; lg++) {
		size_t align = (size_t)1 << lg;
		for (size_t size = 0; size <= 70000; size = next_size(size)) {
			standard(align, size, page);
			jemalloc_api(align, lg, size);
		}
	}
	printf("%lu blocks checked\n", checked);
	return 0;
}
