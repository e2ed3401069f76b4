/*
 * seam.c -- the pool's mkstemp fallback (what a filesystem without
 * O_TMPFILE gets), forced through vmm_pool_create's test seam, for the
 * crash driver to kill:
 *
 *   once   create one 64 MiB pool, back and touch 32 MiB, check the file
 *          is unlinked and 0600, say "ready", wait to be killed
 *   loop   create and drop pools in a loop until a (blockable) signal
 *
 * The directory is argv[2].
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm.h"
#include "vmmtest.h"

static void check_file(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	CHECK_U(st.st_mode & 07777, ==, 0600);
	CHECK_U(st.st_nlink, ==, 0);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		FAIL("usage: seam once|loop DIR");
	const char *dir = argv[2];
	umask(0); /* the library must ask for 0600 itself */
	if (strcmp(argv[1], "once") == 0) {
		struct vmm_pool p = {.fd = -1};
		CHECK_I(vmm_pool_create(&p, dir, 64 << 20,
					VMM_POOL_FORCE_MKSTEMP),
			==, 0);
		check_file(p.fd);
		CHECK_I(vmm_pool_commit(&p, p.base, 32 << 20), ==, 0);
		memset(p.base, 0x3c, 32 << 20);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	for (unsigned long n = 0;; n++) {
		struct vmm_pool p = {.fd = -1};
		CHECK_I(vmm_pool_create(&p, dir, 16 << 20,
					VMM_POOL_FORCE_MKSTEMP),
			==, 0);
		check_file(p.fd);
		CHECK_I(vmm_pool_commit(&p, p.base, 1 << 20), ==, 0);
		memset(p.base, 1, 1 << 20);
		if (n == 0) {
			printf("ready\n");
			fflush(stdout);
		}
		vmm_pool_destroy(&p);
	}
}
