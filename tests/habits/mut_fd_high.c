/*
 * mut_fd_high.c -- the pool's descriptor sits above every descriptor of
 * the program: a program started with only 0, 1 and 2 open that expects
 * its first open() to return 3, or that dup2()s onto small numbers, never
 * meets it.  (habits.fd.* prove that a program which does take the number
 * cannot be harmed; this proves it is not taken in the first place.)
 * Killed mutant: tests/mutants/defs/pool-fd-left-low.mut.
 */
#include <fcntl.h>

#include "vmmtest.h"

int main(void)
{
	int fds[4];
	CHECK_I(vt_pool_fds(fds, 4), ==, 1);
	int pool_fd = fds[0];
	int highest_other = -1, lowest_free = -1;
	for (int fd = 0; fd < 4096; fd++) {
		bool open_ = fcntl(fd, F_GETFD) != -1;
		if (!open_ && lowest_free < 0)
			lowest_free = fd;
		if (open_ && fd != pool_fd)
			highest_other = fd;
	}
	if (pool_fd < highest_other)
		FAIL("the pool's descriptor %d lies below the program's %d",
		     pool_fd, highest_other);
	int fd = open("/dev/null", O_RDONLY);
	CHECK(fd >= 0);
	if (fd > pool_fd || fd != lowest_free)
		FAIL("open() returned %d; the pool's descriptor is %d", fd,
		     pool_fd);
	if (lowest_free == pool_fd + 1)
		FAIL("the pool's descriptor %d took the program's first free "
		     "number",
		     pool_fd);
	close(fd);
	return 0;
}
