/*
 * mut_log_fd_reuse.c -- the debug variant writes its trace lines to its
 * own duplicate of fd 2, and before every write checks that the number
 * still holds that file: a program that takes the number over (dup2 onto
 * it, as daemons that arrange their descriptors do) never receives our
 * lines in its file.
 * Killed mutant: tests/mutants/defs/log-writes-to-reused-fd.mut.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vmmtest.h"

int main(void)
{
	struct stat err, st;
	CHECK(fstat(2, &err) == 0);
	/* the library's duplicate: the same file, and close-on-exec (what
	 * the process inherited across exec is not) */
	int ours = -1;
	for (int fd = 3; fd < 4096; fd++)
		if (fstat(fd, &st) == 0 && st.st_dev == err.st_dev &&
		    st.st_ino == err.st_ino &&
		    (fcntl(fd, F_GETFD) & FD_CLOEXEC))
			ours = fd;
	if (ours < 0)
		FAIL("no duplicate of fd 2: is this the debug variant?");
	int victim = memfd_create("victim", MFD_CLOEXEC);
	CHECK(victim >= 0);
	CHECK(dup2(victim, ours) == ours);
	close(victim);
	/* level 4 logs every call */
	for (int i = 0; i < 10; i++) {
		void *p = malloc(4321);
		__asm__ volatile("" : "+r"(p)); /* or gcc elides the pair */
		free(p);
	}
	CHECK(fstat(ours, &st) == 0);
	if (st.st_size != 0) {
		char buf[200] = "";
		ssize_t n = pread(ours, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		FAIL("the program's file at fd %d got %lld bytes of our "
		     "output: %s",
		     ours, (long long)st.st_size, buf);
	}
	return 0;
}
