/*
 * early_handler.c -- fork does not deadlock when a library that registered
 * its fork handler before our constructor allocates in it.  Prepare
 * handlers run in reverse order of registration: unless the library
 * registers first (it is linked -z initfirst), that handler would run after
 * ours, with every jemalloc lock already held.
 */
#include <unistd.h>

#include "vmmtest_child.h"

void early_handler_linked(void);

int main(void)
{
	early_handler_linked();
	alarm(30); /* a deadlock ends as SIGALRM, a failure */
	for (int i = 0; i < 20; i++) {
		pid_t c = fork();
		CHECK(c >= 0);
		if (c == 0) {
			void *volatile q = malloc(50);
			free(q);
			_exit(7);
		}
		CHECK_EXIT(vt_wait_pid(c, 0), 7);
	}
	return 0;
}
