/*
 * deepbind.c -- blocks from a dlopen(RTLD_DEEPBIND) library come from
 * glibc's heap, outside the pool; the program frees, reallocs and sizes
 * them through our entry points without crashing, and the library frees
 * our pool blocks... never (that would be glibc's free on a pool block):
 * only its own.
 */
#include <dlfcn.h>
#include <malloc.h>

#include "vmmtest.h"

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	struct vt_range pool = vt_pool();
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
	if (h == NULL)
		FAIL("dlopen: %s", dlerror());
	char *(*deep_strdup)(const char *) =
		(char *(*)(const char *))dlsym(h, "deep_strdup");
	void (*deep_free)(void *) = (void (*)(void *))dlsym(h, "deep_free");
	CHECK(deep_strdup != NULL && deep_free != NULL);

	for (int i = 0; i < 1000; i++) {
		char *a = deep_strdup("foreign block from libc's heap");
		CHECK(a != NULL);
		if (vt_in(pool, a, 1))
			SKIP("RTLD_DEEPBIND library allocated in the pool: "
			     "nothing foreign to test");
		CHECK_U(malloc_usable_size(a), >=, 31);
		CHECK_STR(a, "foreign block from libc's heap");
		if (i % 2 == 0) {
			a = realloc(a, 4096); /* stays glibc's */
			CHECK(a != NULL && !vt_in(pool, a, 1));
			CHECK_STR(a, "foreign block from libc's heap");
		}
		errno = 42;
		if (i % 3 == 0)
			deep_free(a);
		else
			free(a); /* ours, forwarded to glibc */
		CHECK_I(errno, ==, 42);
	}
	char *mine = malloc(100);
	CHECK_IN_POOL(pool, mine, 100);
	free(mine);
	dlclose(h);
	return 0;
}
