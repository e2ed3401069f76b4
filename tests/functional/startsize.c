/*
 * startsize.c -- prints the page faults the process took before main:
 * the library's start-up.  startsize.sh runs it with a 64 MiB and a 1 TiB
 * pool and compares: start-up must cost the same whatever the pool size.
 */
#include <sys/resource.h>

#include "vmmtest.h"

int main(void)
{
	struct rusage ru;
	CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
	printf("faults %ld\n", ru.ru_minflt + ru.ru_majflt);
	return 0;
}
