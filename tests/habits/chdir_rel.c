/*
 * chdir_rel -- VMMALLOC_POOL_DIR is relative, and the program then changes
 * directory (daemons chdir("/")).  The child's pool copy of fork mode 2
 * must still be made in the pool directory as it was when the program
 * started.  Stage 1 re-executes itself from the pool directory's parent
 * with a relative name; stage 2 does the chdir and the fork.
 */
#include <libgen.h>

#include "pool_maps.h"

int main(int argc, char **argv)
{
	if (argc == 1) {
		char dir[4096], parent[4096], base[4096];
		CHECK(realpath(getenv("VMMALLOC_POOL_DIR"), dir) != NULL);
		snprintf(parent, sizeof(parent), "%s", dir);
		snprintf(base, sizeof(base), "%s", dir);
		CHECK(chdir(dirname(parent)) == 0);
		CHECK(setenv("VMMALLOC_POOL_DIR", basename(base), 1) == 0);
		execl("/proc/self/exe", argv[0], "stage2", dir, (char *)NULL);
		FAIL("exec: %s", strerror(errno));
	}
	const char *dir = argv[2];
	char *block = malloc(4096);
	CHECK(block != NULL);
	strcpy(block, "parent");
	struct pool_map m;
	CHECK(pool_map_of(block, &m));
	if (!pool_map_in_dir(&m, dir))
		FAIL("the pool %s is not in %s", m.path, dir);
	CHECK(chdir("/") == 0);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pool_map c;
		CHECK(pool_map_of(block, &c));
		if (!pool_map_in_dir(&c, dir))
			FAIL("child: the pool copy %s is not in %s", c.path,
			     dir);
		CHECK(c.shared);
		CHECK(c.inode != m.inode);
		CHECK_STR(block, "parent");
		_exit(0);
	}
	vt_wait_ok(pid);
	free(block);
	printf("chdir_rel: ok\n");
	return 0;
}
