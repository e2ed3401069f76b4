/*
 * node_crash.c -- a pool on a NUMA node leaves nothing behind, whatever
 * kills its processes: there is no file at all.  Victims (this program
 * re-executed with the library preloaded, VMMALLOC_POOL_NODE set) fill
 * part of their pool, fork under the cell's VMMALLOC_FORK (mode 2: the
 * child's copy is a second memfd), and are killed by SIGKILL, SIGABRT or
 * SIGSEGV.  While they live, no descriptor or mapping of theirs names a
 * file in a directory (only /memfd:vmmalloc); after they die, no
 * .vmmalloc.* name (the mkstemp fallback's) is in /tmp, TMPDIR or the
 * working directory.  run-preloaded -n runs this in a fresh directory
 * with TMPDIR there and fails the test if anything is left in it.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include "vmmtest_child.h"

#define ROUNDS 5

static int victim(int ready)
{
	setpgid(0, 0);
	size_t total = 0;
	for (int i = 0; i < 64; i++) {
		size_t s = (size_t)(i + 1) * 4096 * 8;
		char *p = malloc(s);
		CHECK(p != NULL);
		memset(p, i, s);
		total += s;
	}
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		char *q = malloc(1 << 20);
		CHECK(q != NULL);
		memset(q, 1, 1 << 20);
		CHECK(write(ready, "c", 1) == 1);
		for (;;)
			pause();
	}
	CHECK(write(ready, "p", 1) == 1);
	(void)total;
	for (;;)
		pause();
}

/* no descriptor or file mapping of pid names a path other than the
 * program, its libraries, /dev and the pool's memfd; returns memfd fds */
static int check_proc(pid_t pid, const char *self, const char *lib)
{
	char path[64], target[4096];
	int memfds = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	CHECK(d != NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char link[400];
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, VT_MEMFD_POOL) == 0) {
			memfds++;
			continue;
		}
		if (target[0] != '/' || strncmp(target, "/dev/", 5) == 0)
			continue; /* pipes, sockets, anon inodes, terminals */
		if (strstr(target, "ctest") != NULL ||
		    strstr(target, "Testing/Temporary") != NULL)
			continue; /* ctest's output files, inherited */
		FAIL("pid %d holds %s (fd %s)", (int)pid, target, e->d_name);
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	char line[4096];
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, '/');
		if (p == NULL)
			continue;
		p[strcspn(p, "\n")] = '\0';
		if (strcmp(p, VT_MEMFD_POOL) == 0 || strcmp(p, self) == 0 ||
		    strcmp(p, lib) == 0 || strncmp(p, "/usr/", 5) == 0 ||
		    strncmp(p, "/lib", 4) == 0)
			continue;
		FAIL("pid %d maps %s", (int)pid, p);
	}
	fclose(f);
	return memfds;
}

static void no_pool_names(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, ".vmmalloc.", 10) == 0)
			FAIL("%s/%s exists", dir, e->d_name);
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--victim") == 0)
		return victim(atoi(argv[2]));
	if (getenv("VMMALLOC_POOL_NODE") == NULL)
		SKIP("the pool is not on a NUMA node (run-preloaded -n)");
	char self[4096], lib[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	const char *pre = getenv("LD_PRELOAD");
	CHECK(pre != NULL && realpath(pre, lib) != NULL);
	const char *tmpdir = getenv("TMPDIR");
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);

	static const int sigs[] = {SIGKILL, SIGABRT, SIGSEGV};
	for (int round = 0; round < ROUNDS; round++) {
		/* the victim says "p" and its child "c" on the victim's stdout */
		char *args[] = {self, "--victim", "1", NULL};
		struct vt_spawn s = {.argv = args,
				     .group = true,
				     .pipe_out = true};
		struct vt_child c = vt_start(&s);
		char buf[2];
		size_t got = 0;
		while (got < 2) {
			ssize_t r = read(c.out, buf + got, 2 - got);
			if (r <= 0)
				FAIL("the victim died before it was ready");
			got += (size_t)r;
		}
		/* the victim and its child: each has its own memfd pool */
		CHECK_I(check_proc(c.pid, self, lib), ==, 1);
		int sig = sigs[round % 3];
		CHECK(kill(-c.pid, sig) == 0);
		CHECK_SIGNAL(vt_wait(&c, 0), sig);
		kill(-c.pid, SIGKILL); /* the grandchild, if it outlived it */
		no_pool_names("/tmp");
		no_pool_names(cwd);
		if (tmpdir != NULL)
			no_pool_names(tmpdir);
	}
	printf("node crash: %d victims killed, no file anywhere\n", ROUNDS);
	return 0;
}
