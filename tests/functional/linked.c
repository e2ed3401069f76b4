/* linked.c -- built with -lvmmalloc (pkg-config), run without LD_PRELOAD */
#include <libvmmalloc.h>

#include "vmmtest.h"

int main(void)
{
	struct vt_range pool = vt_pool();
	for (size_t s = 1; s < (1u << 24); s *= 3) {
		void *p = malloc(s);
		CHECK_IN_POOL(pool, p, s);
		cfree(p);
	}
	puts("linked with -lvmmalloc: heap in the pool");
	return 0;
}
