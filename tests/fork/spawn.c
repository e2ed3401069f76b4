/*
 * spawn.c -- posix_spawn, system(), popen() and vfork+exec in every mode.
 * Each child runs this program again (preloaded, so it has a pool of its
 * own), which answers with an exit code or a line of output.  None of these
 * runs fork handlers, so they must cost the pool nothing: the parent's pool
 * stays MAP_SHARED (no mode-1 remap) and no clone fd appears.
 *
 *   spawn [--baseline]
 *   spawn --as-child exit N | echo WORD
 */
#include <spawn.h>

#include "forktest.h"

extern char **environ;

static char self[4096];
static struct ft_block blocks[128];

static void check_parent(const char *after, const void *probe, int fds)
{
	for (size_t i = 0; i < FT_COUNT(blocks); i++)
		if (!ft_intact(&blocks[i]))
			FAIL("block %zu changed after %s", i, after);
	if (ft_preloaded()) {
		struct ft_map m = ft_map_of(getpid(), probe);
		if (!m.shared)
			FAIL("%s ran fork handlers: the pool was remapped "
			     "private",
			     after);
	}
	if (ft_fd_count() != fds)
		FAIL("%s changed the number of open fds (%d -> %d)", after, fds,
		     ft_fd_count());
}

static int as_child(char **argv)
{
	void *p = malloc(4096);
	CHECK(p != NULL);
	memset(p, 1, 4096);
	if (getenv("LD_PRELOAD") != NULL && getenv("VMMALLOC_POOL_DIR"))
		CHECK_IN_POOL(vt_pool(), p, 4096);
	free(p);
	if (strcmp(argv[2], "exit") == 0)
		return atoi(argv[3]);
	printf("%s %d\n", argv[3], (int)getpid());
	return 0;
}

/* the cells of fork.spawn.* (--list) */
FT_CELLS(FT_CELLS_STD, "mode0");

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--as-child") == 0)
		return as_child(argv);
	ft_setup(argc, argv);
	alarm(60);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	uint64_t seed = 5;
	for (size_t i = 0; i < FT_COUNT(blocks); i++) {
		blocks[i].size = 1 + ft_rand(&seed) % 30000;
		blocks[i].p = malloc(blocks[i].size);
		CHECK(blocks[i].p != NULL);
		blocks[i].tag = (uint32_t)(i * 3 + 1);
		ft_stamp(&blocks[i]);
	}
	const void *probe = blocks[0].p;
	int fds = ft_fd_count();
	char cmd[4200 + 64];

	/* posix_spawn */
	pid_t pid;
	char *args[] = {self, "--as-child", "exit", "7", NULL};
	CHECK(posix_spawn(&pid, self, NULL, NULL, args, environ) == 0);
	CHECK_EXIT(vt_wait_pid(pid, 30), 7);
	check_parent("posix_spawn", probe, fds);

	/* system() */
	snprintf(cmd, sizeof(cmd), "'%s' --as-child exit 5", self);
	int st = system(cmd);
	CHECK(st != -1 && WIFEXITED(st));
	CHECK_I(WEXITSTATUS(st), ==, 5);
	CHECK_I(WEXITSTATUS(system("exit 3")), ==, 3);
	check_parent("system", probe, fds);

	/* popen() for reading and for writing */
	snprintf(cmd, sizeof(cmd), "'%s' --as-child echo hello", self);
	FILE *f = popen(cmd, "r");
	CHECK(f != NULL);
	char line[128] = "";
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK(strncmp(line, "hello ", 6) == 0);
	CHECK_I(pclose(f), ==, 0);
	f = popen("read x && test \"$x\" = piped", "w");
	CHECK(f != NULL);
	fputs("piped\n", f);
	CHECK_I(pclose(f), ==, 0);
	check_parent("popen", probe, fds);

	/* vfork + exec */
	pid = vfork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *vargs[] = {self, "--as-child", "exit", "9", NULL};
		execve(self, vargs, environ);
		_exit(127);
	}
	CHECK_EXIT(vt_wait_pid(pid, 30), 9);
	check_parent("vfork+exec", probe, fds);

	for (size_t i = 0; i < FT_COUNT(blocks); i++)
		free(blocks[i].p);
	printf("spawn ok (mode %d)\n", ft_mode);
	return 0;
}
