/*
 * detect.c -- one memory error per case, each in its own function so that
 * the report's stacks can be matched (tools/valgrind/expected/<case>.txt).
 * Under memcheck with the annotations every case must be reported; under a
 * library built without them (the negative control) none may be.
 *
 *   detect CASE    (a row of cases[] below; detect --list prints them)
 *
 * The fork cases make the error in the child; the parent exits with the
 * child's status, so valgrind's error exit code of the child (99) shows.
 *
 * The churn cases run on the smallest pool (14 MiB): freed blocks held in
 * memcheck's quarantine must never make an allocation fail that fits the
 * pool.  big-churn: 100 rounds of malloc(6 MiB)/touch/free (more than
 * half the pool each).  big-churn-uaf: the same, then a use-after-free of
 * a small block just freed, which the quarantine must still catch.
 * small-churn: 20 rounds of 8 MiB in blocks of about 64 KiB, all freed,
 * then one block of about 8 MiB (sizes minus memcheck's 48 bytes of red
 * zones, so the engine sees 64 KiB and 8 MiB): it fits only if the
 * quarantine gives the small blocks back.
 */
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmmtest_child.h"

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

/* exits 1 at the first refusal: the test expects 0 (or 99 with -uaf) */
static NOINLINE void big_churn(void)
{
	for (int i = 0; i < 100; i++) {
		char *p = malloc(6 << 20);
		if (p == NULL)
			FAIL("round %d: malloc(6 MiB) failed on a 14 MiB pool "
			     "(errno %d)",
			     i, errno);
		memset(p, i, 6 << 20);
		sink = p;
		free(p);
	}
}

static NOINLINE void case_big_churn_uaf(void)
{
	big_churn();
	case_use_after_free(); /* read of a small block just freed */
}

static NOINLINE void case_small_churn(void)
{
	enum { BLOCK = (64 << 10) - 48, COUNT = 128, BIG = (8 << 20) - 48 };
	static char *blocks[COUNT];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < COUNT; i++) {
			blocks[i] = malloc(BLOCK);
			if (blocks[i] == NULL)
				FAIL("round %d: block %d of 64 KiB failed "
				     "(errno %d)",
				     round, i, errno);
			memset(blocks[i], i, BLOCK);
		}
		for (int i = 0; i < COUNT; i++)
			free(blocks[i]);
		char *big = malloc(BIG);
		if (big == NULL)
			FAIL("round %d: malloc(8 MiB) failed after freeing "
			     "8 MiB of small blocks (errno %d)",
			     round, errno);
		memset(big, round, BIG);
		sink = big;
		free(big);
	}
}

static int run_fn(void *fn)
{
	((void (*)(void))fn)();
	return 0;
}

/* the child's exit status (valgrind's error code 99 when it found one) */
static int in_child(void (*fn)(void))
{
	struct vt_status st = vt_run_fn(run_fn, (void *)fn, 0);
	CHECK(st.how == VT_EXITED);
	return st.code;
}

static NOINLINE void child_leak(void)
{
	case_leak();
}

static NOINLINE void child_overrun(void)
{
	case_overrun();
}

/* one row per case (`detect --list` prints the names); fork: the error is
 * made in a child, whose exit status is the parent's */
static const struct {
	const char *name;
	void (*fn)(void);
	bool fork;
} cases[] = {
	{"leak", case_leak, false},
	{"overrun", case_overrun, false},
	{"use-after-free", case_use_after_free, false},
	{"uninit", case_uninit, false},
	{"double-free", case_double_free, false},
	{"aligned-overrun", case_aligned_overrun, false},
	{"fork-leak", child_leak, true},
	{"fork-overrun", child_overrun, true},
	{"big-churn", big_churn, false},
	{"big-churn-uaf", case_big_churn_uaf, false},
	{"small-churn", case_small_churn, false},
};

int main(int argc, char **argv)
{
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < ncases; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc != 2)
		FAIL("usage: detect CASE | --list");
	size_t i = 0;
	while (i < ncases && strcmp(cases[i].name, argv[1]) != 0)
		i++;
	if (i == ncases)
		FAIL("unknown case %s", argv[1]);
	/* blocks the parent holds across the fork */
	char *keep = malloc(1000);
	CHECK(keep != NULL);
	memset(keep, 1, 1000);
	int status = 0;
	if (cases[i].fork)
		status = in_child(cases[i].fn);
	else
		cases[i].fn();
	for (int j = 0; j < 1000; j++)
		CHECK(keep[j] == 1);
	free(keep);
	return status;
}
