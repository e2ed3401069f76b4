/*
 * foreign_jeapi.c -- jemalloc's API (which the library exports for
 * programs linked against jemalloc) on blocks that are not the pool's: a
 * glibc block from a dlopen(RTLD_DEEPBIND) library given to rallocx with an
 * alignment or MALLOCX_ZERO moves into the pool with its bytes (and zeros
 * after them), and sallocx/xallocx size it through glibc; and requests
 * no pool can serve: mallocx and rallocx answer NULL, the old block intact.
 */
#include <dlfcn.h>
#include <malloc.h>

#include "vmmtest.h"

#define ZERO 0x40	  /* MALLOCX_ZERO */
#define LG_ALIGN(la) (la) /* MALLOCX_LG_ALIGN */

typedef void *(*mallocx_fn)(size_t, int);
typedef void *(*rallocx_fn)(void *, size_t, int);
typedef size_t (*xallocx_fn)(void *, size_t, size_t, int);
typedef size_t (*sallocx_fn)(const void *, int);
typedef void (*dallocx_fn)(void *, int);

static void *sym(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);
	if (f == NULL)
		FAIL("the preloaded library exports no %s", name);
	return f;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	struct vt_range pool = vt_pool();
	mallocx_fn mallocx = (mallocx_fn)sym("mallocx");
	rallocx_fn rallocx = (rallocx_fn)sym("rallocx");
	xallocx_fn xallocx = (xallocx_fn)sym("xallocx");
	sallocx_fn sallocx = (sallocx_fn)sym("sallocx");
	dallocx_fn dallocx = (dallocx_fn)sym("dallocx");
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
	if (h == NULL)
		FAIL("dlopen: %s", dlerror());
	char *(*deep_strdup)(const char *) =
		(char *(*)(const char *))dlsym(h, "deep_strdup");
	CHECK(deep_strdup != NULL);
	static const char text[] = "foreign block from libc's heap";

	for (int i = 0; i < 100; i++) {
		char *a = deep_strdup(text);
		CHECK(a != NULL);
		if (vt_in(pool, a, 1))
			SKIP("RTLD_DEEPBIND library allocated in the pool: "
			     "nothing foreign to test");
		size_t usable = malloc_usable_size(a);
		CHECK_U(usable, >=, sizeof(text));
		CHECK_U(sallocx(a, 0), ==, usable);
		CHECK_U(xallocx(a, 4096, 0, 0), ==,
			usable); /* never in place */

		int flags = i % 2 ? LG_ALIGN(6) : ZERO;
		char *p = rallocx(a, 300, flags);
		__asm__ volatile("" : "+r"(p));
		CHECK(p != NULL);
		CHECK_IN_POOL(pool, p, 300);
		CHECK_STR(p, text);
		if (flags & ZERO) {
			for (size_t j = usable; j < 300; j++)
				if (p[j] != 0)
					FAIL("rallocx(ZERO)[%zu] = %#x", j,
					     p[j]);
		} else {
			CHECK_U((uintptr_t)p % 64, ==, 0);
		}
		dallocx(p, 0);
	}

	/* more than any pool: NULL, and the block keeps its place and bytes */
	char *b = mallocx(100, LG_ALIGN(6));
	CHECK(b != NULL);
	CHECK_IN_POOL(pool, b, 100);
	memcpy(b, text, sizeof(text));
	errno = 0;
	CHECK(rallocx(b, (size_t)1 << 50, LG_ALIGN(6)) == NULL);
	CHECK_STR(b, text);
	CHECK(mallocx((size_t)1 << 50, LG_ALIGN(12)) == NULL);
	CHECK(mallocx((size_t)1 << 50, LG_ALIGN(12) | ZERO) == NULL);
	CHECK_U(sallocx(b, 0), >=, 100);
	dallocx(b, 0);
	dlclose(h);
	return 0;
}
