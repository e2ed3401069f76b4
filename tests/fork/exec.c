/*
 * exec.c -- fork, then exec right away (valid in every mode, mode 0
 * included): once of a program that is itself preloaded (it gets a pool of
 * its own), once of one that is not (no pool at all).  Neither may inherit
 * the parent's pool fd (close-on-exec), and the parent's heap must be
 * intact afterwards.
 *
 *   exec [--baseline]
 *   exec --as-child preloaded|plain PARENT_POOL_INODE
 */
#include "forktest.h"

extern char **environ;

#define NBLOCKS 256

/* the exec'd program: checks what it got */
static int as_child(const char *kind, unsigned long parent_ino)
{
	bool preloaded = strcmp(kind, "preloaded") == 0;
	void *p = malloc(1000);
	CHECK(p != NULL);
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	char real[4096];
	struct vt_range r;
	bool has_pool =
		dir != NULL
			? realpath(dir, real) != NULL && vt_pool_range(real, &r)
			: vt_node_pool_range(&r); /* VMMALLOC_POOL_NODE */
	if (preloaded) {
		if (!has_pool)
			FAIL("exec'd with LD_PRELOAD but no pool is mapped");
		CHECK_IN_POOL(r, p, 1000);
		CHECK(ft_map_of(getpid(), p).inode != parent_ino);
	} else if (has_pool) {
		FAIL("exec'd without LD_PRELOAD but a pool is mapped");
	}
	if (parent_ino != 0 && ft_fd_of_inode(parent_ino) >= 0)
		FAIL("the parent's pool fd survived exec");
	free(p);
	return 0;
}

/* builds an environment without LD_PRELOAD (before the fork) */
static char **plain_env(void)
{
	size_t n = 0;
	while (environ[n] != NULL)
		n++;
	char **env = calloc(n + 1, sizeof(*env));
	CHECK(env != NULL);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

/* the cells of fork.exec.* (--list) */
FT_CELLS(FT_CELLS_STD, "mode0", "node.mode0");

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--as-child") == 0)
		return as_child(argv[2], strtoul(argv[3], NULL, 10));
	ft_setup(argc, argv);
	alarm(60);

	struct ft_block blocks[NBLOCKS];
	uint64_t seed = 99;
	for (int i = 0; i < NBLOCKS; i++) {
		blocks[i].size = 1 + ft_rand(&seed) % 20000;
		blocks[i].p = malloc(blocks[i].size);
		CHECK(blocks[i].p != NULL);
		blocks[i].tag = (uint32_t)i;
		ft_stamp(&blocks[i]);
	}
	unsigned long ino = 0;
	if (ft_preloaded())
		ino = ft_map_of(getpid(), blocks[0].p).inode;
	char inobuf[32];
	snprintf(inobuf, sizeof(inobuf), "%lu", ino);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	char **envs[2] = {environ, plain_env()};
	const char *kinds[2] = {ft_preloaded() ? "preloaded" : "plain",
				"plain"};
	int fds = ft_fd_count();

	for (int k = 0; k < 2; k++) {
		char *args[] = {self, "--as-child", (char *)kinds[k], inobuf,
				NULL};
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			execve(self, args, envs[k]);
			_exit(127);
		}
		/* the parent allocates meanwhile: a shared heap would show */
		void *tmp[64];
		for (int i = 0; i < 64; i++) {
			tmp[i] = malloc(64 + (size_t)i * 100);
			CHECK(tmp[i] != NULL);
			memset(tmp[i], 0xee, 64 + (size_t)i * 100);
		}
		CHECK_EXIT(vt_wait_pid(pid, 30), 0);
		for (int i = 0; i < 64; i++)
			free(tmp[i]);
	}
	for (int i = 0; i < NBLOCKS; i++) {
		if (!ft_intact(&blocks[i]))
			FAIL("block %d changed across fork+exec", i);
		free(blocks[i].p);
	}
	CHECK_I(ft_fd_count(), ==, fds);
	free(envs[1]);
	printf("fork+exec ok (mode %d)\n", ft_mode);
	return 0;
}
