/*
 * env_rewrite -- a program that sets its process title overwrites its
 * environment strings (redis, nginx and postgres do), then forks.  Fork
 * modes 2 and 3 must still give the child its own copy of the pool, made
 * in the pool directory: the library must have captured the directory at
 * start-up, not read it again from the environment at fork time.
 */

#include "pool_maps.h"

extern char **environ;

int main(void)
{
	char mode[16];
	CHECK(getenv("VMMALLOC_FORK") != NULL);
	snprintf(mode, sizeof(mode), "%s", getenv("VMMALLOC_FORK"));
	char dir[4096];
	CHECK(realpath(getenv("VMMALLOC_POOL_DIR"), dir) != NULL);
	char *block = malloc(4096);
	CHECK(block != NULL);
	strcpy(block, "parent");
	struct pool_map before;
	CHECK(pool_map_of(block, &before));
	CHECK(before.shared);

	/* what setproctitle does: every environment byte becomes the title */
	for (char **e = environ; *e != NULL; e++)
		memset(*e, 'x', strlen(*e));

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pool_map m;
		CHECK(pool_map_of(block, &m));
		if (!m.shared)
			FAIL("child: the pool is a private mapping: mode %s "
			     "fell back to mode 1",
			     mode);
		if (m.inode == before.inode)
			FAIL("child: the pool is the parent's file, not a copy");
		if (!pool_map_in_dir(&m, dir))
			FAIL("child: the pool copy %s is not in %s", m.path,
			     dir);
		CHECK_STR(block, "parent");
		strcpy(block, "child");
		_exit(0);
	}
	vt_wait_ok(pid);
	struct pool_map after;
	CHECK(pool_map_of(block, &after));
	if (!after.shared)
		FAIL("parent: the pool became private: mode %s fell back to "
		     "mode 1",
		     mode);
	CHECK_STR(block, "parent");
	free(block);
	printf("env_rewrite mode %s: ok\n", mode);
	return 0;
}
