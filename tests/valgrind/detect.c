/*
 * detect.c -- one memory error per case, each in its own function so that
 * the report's stacks can be matched (tools/valgrind/expected/<case>.txt).
 * Under memcheck with the annotations every case must be reported; under a
 * library built without them (the negative control) none may be.
 *
 *   detect leak|overrun|use-after-free|uninit|double-free|aligned-overrun|
 *          fork-leak|fork-overrun
 *
 * The fork cases make the error in the child; the parent exits with the
 * child's status, so valgrind's error exit code of the child (99) shows.
 */
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmmtest.h"

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

static NOINLINE void case_leak(void)
{
	sink = malloc(4);
	CHECK(sink != NULL);
	sink = NULL; /* the only pointer is gone */
}

static NOINLINE void case_overrun(void)
{
	char *p = malloc(48);
	CHECK(p != NULL);
	memset(p, 0, 48);
	*(volatile int *)(void *)(p + 48) = 0x5a5a5a5a; /* 4 bytes past */
	sink = p;
	free(p);
}

static NOINLINE void case_use_after_free(void)
{
	volatile char *p = malloc(32);
	CHECK(p != NULL);
	memset((char *)p, 7, 32);
	free((void *)p);
	sink = (void *)(uintptr_t)p[3]; /* read of the freed block */
}

static NOINLINE void case_uninit(void)
{
	char *p = malloc(16);
	CHECK(p != NULL);
	if (p[5] == 42) /* never written */
		sink = p;
	free(p);
}

static NOINLINE void case_double_free(void)
{
	void *p = malloc(8);
	CHECK(p != NULL);
	free(p);
	free(p);
}

static NOINLINE void case_aligned_overrun(void)
{
	void *v = NULL;
	CHECK(posix_memalign(&v, 64, 100) == 0);
	CHECK(((uintptr_t)v & 63) == 0);
	char *p = v;
	memset(p, 0, 100);
	p[100] = 1; /* one byte past the aligned block */
	free(p);
}

static int in_child(void (*fn)(void))
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		fn();
		exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static NOINLINE void child_leak(void)
{
	case_leak();
}

static NOINLINE void child_overrun(void)
{
	case_overrun();
}

int main(int argc, char **argv)
{
	if (argc != 2)
		FAIL("usage: detect CASE");
	/* blocks the parent holds across the fork */
	char *keep = malloc(1000);
	CHECK(keep != NULL);
	memset(keep, 1, 1000);
	const char *c = argv[1];
	int status = 0;
	if (strcmp(c, "leak") == 0)
		case_leak();
	else if (strcmp(c, "overrun") == 0)
		case_overrun();
	else if (strcmp(c, "use-after-free") == 0)
		case_use_after_free();
	else if (strcmp(c, "uninit") == 0)
		case_uninit();
	else if (strcmp(c, "double-free") == 0)
		case_double_free();
	else if (strcmp(c, "aligned-overrun") == 0)
		case_aligned_overrun();
	else if (strcmp(c, "fork-leak") == 0)
		status = in_child(child_leak);
	else if (strcmp(c, "fork-overrun") == 0)
		status = in_child(child_overrun);
	else
		FAIL("unknown case %s", c);
	for (int i = 0; i < 1000; i++)
		CHECK(keep[i] == 1);
	free(keep);
	return status;
}
