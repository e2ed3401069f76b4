/*
 * foreign_lib.c -- a library for the foreign_* tests to load and unload.
 * With FOREIGN_LIB_HANDSHAKE="W,R" (two descriptor numbers) its
 * constructor -- which runs with the dynamic loader's lock held -- writes a
 * byte to W, then waits up to 5 s for a byte on R: a program can then act
 * while another thread is inside dlopen.
 */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

int foreign_lib_answer(void);
int foreign_lib_answer(void)
{
	return 42;
}

static __attribute__((constructor)) void handshake(void)
{
	const char *s = getenv("FOREIGN_LIB_HANDSHAKE");
	if (s == NULL)
		return;
	char *end;
	int w = (int)strtol(s, &end, 10);
	int r = (int)strtol(end + 1, NULL, 10);
	char c = 'c';
	if (write(w, &c, 1) != 1)
		return;
	struct pollfd p = {.fd = r, .events = POLLIN};
	if (poll(&p, 1, 5000) == 1 && read(r, &c, 1) == 1)
		return;
}
