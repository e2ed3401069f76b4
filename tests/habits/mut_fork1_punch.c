/*
 * mut_fork1_punch.c -- after a fork in mode 1 (the pool remapped
 * MAP_PRIVATE in both processes) the file is never punched again: pages
 * the child has not copied yet still read from the file, so a hole the
 * parent punched when freeing a block would zero the child's copy of it.
 * The parent frees a block and makes the library purge (the reclaim before
 * an ENOMEM), then the child reads the block.
 * Killed mutant: tests/mutants/defs/pool-decommit-after-private-remap.mut.
 */
#include <sys/wait.h>

#include "vmmtest.h"

#define BIG (4u << 20)

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 13 + 5);
}

int main(void)
{
	struct vt_range pool = vt_pool();
	unsigned char *b = malloc(BIG);
	CHECK(b != NULL);
	CHECK_IN_POOL(pool, b, BIG);
	for (size_t i = 0; i < BIG; i++)
		b[i] = pattern(i);
	int go[2];
	CHECK(pipe(go) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (size_t i = 0; i < BIG; i++)
			if (b[i] != pattern(i)) {
				fprintf(stderr,
					"child: byte %zu reads %#x, "
					"want %#x\n",
					i, b[i], pattern(i));
				_exit(1);
			}
		_exit(0);
	}
	close(go[0]);
	/* the parent's block goes; the purge would punch its range */
	free(b);
	errno = 0;
	CHECK(malloc(vt_opaque((size_t)1 << 40)) == NULL);
	CHECK(write(go[1], "g", 1) == 1);
	close(go[1]);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("the child's copy of a block changed when the parent "
		     "freed it (status %#x)",
		     status);
	return 0;
}
