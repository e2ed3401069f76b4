/*
 * mut_fork2_holes.c -- fork mode 2 copies every data range of the pool
 * file into the child's copy, also those after a hole: a block written
 * behind a range that was freed and punched out (the purge before an
 * ENOMEM) reads the same in the child.  Three blocks, the middle one
 * freed: the higher one lies after the hole.
 * Killed mutant: tests/mutants/defs/fork2-clone-first-extent-only.mut.
 */
#include <sys/wait.h>

#include "vmmtest.h"

#define BIG (4u << 20)

static unsigned char pattern(size_t i, size_t k)
{
	return (unsigned char)(i * 7 + 3 + k);
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a;
	uintptr_t y = (uintptr_t) * (void *const *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	const char *mode = getenv("VMMALLOC_FORK");
	if (mode == NULL || strcmp(mode, "2") != 0)
		FAIL("run with VMMALLOC_FORK=2");
	struct vt_range pool = vt_pool();
	unsigned char *b[3];
	for (int k = 0; k < 3; k++) {
		b[k] = malloc(BIG);
		CHECK(b[k] != NULL);
		CHECK_IN_POOL(pool, b[k], BIG);
	}
	qsort(b, 3, sizeof(b[0]), by_address);
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < BIG; i++)
			b[k][i] = pattern(i, k);
	/* free the middle one and make the library purge: a hole between
	 * the other two */
	free(b[1]);
	errno = 0;
	CHECK(malloc(vt_opaque((size_t)1 << 40)) == NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (size_t k = 0; k < 3; k += 2)
			for (size_t i = 0; i < BIG; i++)
				if (b[k][i] != pattern(i, k)) {
					fprintf(stderr,
						"child: byte %zu of "
						"block %zu reads %#x\n",
						i, k, b[k][i]);
					_exit(1);
				}
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("the mode-2 child did not see the parent's blocks "
		     "(status %#x)",
		     status);
	free(b[0]);
	free(b[2]);
	return 0;
}
