/*
 * forktree.c -- a correct program that forks a small tree (depth argv[1],
 * two children per node) while threads of the parent allocate; every
 * process stamps blocks before forking and checks them after, then frees
 * everything.  Under memcheck, helgrind and drd: 0 errors, 0 leaks, in
 * every fork mode.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmmtest_child.h"

#define NBLOCKS 32

static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		char *p = malloc((size_t)(i % 7) * 100 + 1);
		CHECK(p != NULL);
		p[0] = (char)i;
		free(p);
	}
	return NULL;
}

static void stamp(char **b, int level)
{
	for (int i = 0; i < NBLOCKS; i++) {
		size_t n = (size_t)(i * 37 % 500) + 1;
		b[i] = malloc(n);
		CHECK(b[i] != NULL);
		memset(b[i], level * 16 + i, n);
	}
}

static void check_and_free(char **b, int level)
{
	for (int i = 0; i < NBLOCKS; i++) {
		size_t n = (size_t)(i * 37 % 500) + 1;
		for (size_t j = 0; j < n; j++)
			CHECK(b[i][j] == (char)(level * 16 + i));
		free(b[i]);
	}
}

static int node(int level, int depth)
{
	char *b[NBLOCKS];
	stamp(b, level);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, churn, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	int bad = 0;
	if (level < depth) {
		pid_t kids[2];
		for (int k = 0; k < 2; k++) {
			kids[k] = fork();
			CHECK(kids[k] >= 0);
			if (kids[k] == 0) {
				int r = node(level + 1, depth);
				check_and_free(b, level);
				exit(r);
			}
		}
		for (int k = 0; k < 2; k++) {
			struct vt_status st = vt_wait_pid(kids[k], 0);
			if (!vt_exited(st, 0))
				bad = st.how == VT_EXITED ? st.code : 1;
		}
	}
	check_and_free(b, level);
	return bad;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 2;
	return node(0, depth);
}
