/*
 * mut_pool_cloexec.c -- the pool file is close-on-exec from the moment it
 * is opened, O_TMPFILE and mkstemp alike: not only because pool.c moves the
 * descriptor to a high number with F_DUPFD_CLOEXEC, which cannot happen
 * when RLIMIT_NOFILE leaves no higher number (then the first descriptor is
 * kept), nor for a fork+exec in another thread between the open and the
 * move.  Here the limit leaves exactly one free number.
 * Killed mutants: tests/mutants/defs/pool-tmpfile-no-cloexec.mut,
 * pool-mkstemp-no-cloexec.mut.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vmm.h"
#include "vmmtest.h"

static void check(const char *dir, unsigned flags)
{
	int lowest = 0;
	while (fcntl(lowest, F_GETFD) != -1)
		lowest++;
	struct rlimit old, one;
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	one = old;
	one.rlim_cur = (rlim_t)lowest + 1; /* room for the pool's fd only */
	CHECK(setrlimit(RLIMIT_NOFILE, &one) == 0);
	struct vmm_pool p = {.fd = -1};
	int err = vmm_pool_create(&p, dir, 16 * VMM_MiB, flags);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	CHECK_I(err, ==, 0);
	int fd = p.fd;
	CHECK_I(fd, ==, lowest); /* it could not move */
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		FAIL("the pool's descriptor %d (%s) is not close-on-exec", fd,
		     flags & VMM_POOL_FORCE_MKSTEMP ? "mkstemp" : "O_TMPFILE");
	vmm_pool_destroy(&p);
}

int main(void)
{
	char dir[4096];
	const char *base = getenv("VMMALLOC_TEST_DIR");
	snprintf(dir, sizeof(dir), "%s/vmmunit.XXXXXX", base ? base : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	check(dir, 0);
	check(dir, VMM_POOL_FORCE_MKSTEMP);
	CHECK(rmdir(dir) == 0);
	return 0;
}
