/*
 * test-ofdlock: hold a lock on a range of a file the way libvmmalloc holds
 * its range of a device DAX, then run a command that keeps it.  For the
 * tests of vmmalloc-daxprobe and vmmalloc-run only (never installed).
 *
 *   test-ofdlock [-p] FILE START LEN COMMAND [ARGS]
 *   test-ofdlock -m FILE START LEN
 *
 * Opens FILE read-write, takes an open file description write lock
 * (F_OFD_SETLK; with -p a POSIX F_SETLK) on [START, START+LEN) (LEN 0: to
 * the end of the file and beyond) and execs COMMAND with the descriptor
 * open, so the lock is COMMAND's (its /proc/PID/fdinfo shows it) until it
 * exits.  With -m (a real device DAX: LEN a multiple of its alignment) it
 * maps the range shared, closes the descriptor and waits to be killed: the
 * mapping alone holds the lock, as when a program closed the library's
 * descriptor, and only /proc/PID/maps shows the holder.  Exit status 75
 * when another process holds part of the range, 2 on any other error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int number(const char *s, off_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return -1;
	*out = (off_t)v;
	return 0;
}

int main(int argc, char *argv[])
{
	int posix = argc > 1 && strcmp(argv[1], "-p") == 0;
	int map = argc > 1 && strcmp(argv[1], "-m") == 0;
	char **a = argv + 1 + posix + map;
	off_t start, len;
	if (argc - 1 - posix - map < (map ? 3 : 4) ||
	    number(a[1], &start) != 0 || number(a[2], &len) != 0 ||
	    (map && len == 0)) {
		fputs("usage: test-ofdlock [-p] FILE START LEN COMMAND [ARGS]\n"
		      "       test-ofdlock -m FILE START LEN\n",
		      stderr);
		return 2;
	}
	int fd = open(a[0], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "test-ofdlock: %s: %s\n", a[0],
			strerror(errno));
		return 2;
	}
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = start,
			   .l_len = len};
	if (fcntl(fd, posix ? F_SETLK : F_OFD_SETLK, &fl) != 0) {
		int busy = errno == EAGAIN || errno == EACCES;
		fprintf(stderr, "test-ofdlock: %s: lock [%lld, +%lld): %s\n",
			a[0], (long long)start, (long long)len,
			strerror(errno));
		return busy ? 75 : 2;
	}
	if (map) {
		void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, start);
		if (p == MAP_FAILED) {
			fprintf(stderr, "test-ofdlock: %s: mmap: %s\n", a[0],
				strerror(errno));
			return 2;
		}
		close(fd);
		for (;;)
			pause();
	}
	execvp(a[3], a + 3);
	fprintf(stderr, "test-ofdlock: %s: %s\n", a[3], strerror(errno));
	return 2;
}
