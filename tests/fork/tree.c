/*
 * tree.c -- a fork tree of depth 3 (fan-out 2) while two threads in every
 * process allocate, stamp, check and free.  Each process stamps its blocks
 * with its pid, forks, stamps more, waits for its children (checking their
 * exit codes), then checks that every stamp it owns, inherited ones
 * included, is intact.
 *
 *   tree [--baseline] [--expect-corruption]
 *
 * Exit codes: 0 clean, 10 a stamp of this process changed, 11 a child
 * failed, 12 a thread saw a stamp change.  --expect-corruption (mode 0, a
 * shared heap) inverts the verdict: the run passes only if some process
 * detected corruption or died; every process has an alarm, so it cannot
 * hang.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "forktest.h"

#define DEPTH 3
#define FANOUT 2
#define BLOCKS 128
#define THREAD_LIVE 64

static struct ft_block mine[(DEPTH + 1) * 2 * BLOCKS];
static size_t nmine;
static atomic_bool stop;
static atomic_bool thread_saw_corruption;
static struct vt_range pool;

static void *churn(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15u + 1;
	struct ft_block live[THREAD_LIVE] = {{0}};
	uint32_t tag = (uint32_t)getpid() << 8 | (uint32_t)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		size_t i = ft_rand(&seed) % THREAD_LIVE;
		if (live[i].p != NULL) {
			if (!ft_intact(&live[i]))
				atomic_store(&thread_saw_corruption, true);
			free(live[i].p);
		}
		size_t size = 8 + ft_rand(&seed) % 4096;
		if (ft_rand(&seed) % 64 == 0)
			size = 64 * 1024 + ft_rand(&seed) % (512 * 1024);
		live[i].p = malloc(size);
		if (live[i].p == NULL)
			continue;
		live[i].size = size;
		live[i].tag = tag;
		ft_stamp(&live[i]);
	}
	for (size_t i = 0; i < THREAD_LIVE; i++) {
		if (live[i].p != NULL && !ft_intact(&live[i]))
			atomic_store(&thread_saw_corruption, true);
		free(live[i].p);
	}
	return NULL;
}

static pthread_t threads[2];

static void start_threads(void)
{
	atomic_store(&stop, false);
	for (uintptr_t i = 0; i < 2; i++)
		CHECK(pthread_create(&threads[i], NULL, churn,
				     (void *)(i + 1)) == 0);
}

static void stop_threads(void)
{
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(threads[i], NULL) == 0);
}

static void add_blocks(uint64_t *seed, uint32_t gen)
{
	for (int i = 0; i < BLOCKS; i++) {
		struct ft_block *b = &mine[nmine++];
		b->size = 16 + ft_rand(seed) % 8192;
		b->p = malloc(b->size);
		CHECK(b->p != NULL);
		if (ft_preloaded())
			CHECK_IN_POOL(pool, b->p, b->size);
		b->tag = (uint32_t)getpid() << 8 | gen;
		ft_stamp(b);
	}
}

static int check_blocks(void)
{
	for (size_t i = 0; i < nmine; i++)
		if (!ft_intact(&mine[i])) {
			fprintf(stderr,
				"pid %d: block %zu (%p, tag %#x) changed\n",
				(int)getpid(), i, (void *)mine[i].p,
				(unsigned)mine[i].tag);
			return 10;
		}
	return 0;
}

/* one process of the tree; returns its exit code */
static int node(int level)
{
	uint64_t seed = (uint64_t)getpid() * 0x2545f4914f6cdd1du + 7;
	start_threads();
	add_blocks(&seed, (uint32_t)(2 * level));
	int ret = 0;
	pid_t kids[FANOUT];
	int nkids = 0;
	for (int k = 0; level < DEPTH && k < FANOUT; k++) {
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0)
			FAIL("fork: %s", strerror(errno));
		if (pid == 0) {
			alarm(60);
			nkids = 0;
			/* what the parent stamped must have come along */
			int r = check_blocks();
			if (ft_preloaded())
				pool = vt_pool();
			if (r == 0)
				r = node(level + 1);
			fflush(NULL);
			_exit(r);
		}
		kids[nkids++] = pid;
	}
	/* allocations after the fork: a shared heap hands out the same blocks */
	add_blocks(&seed, (uint32_t)(2 * level + 1));
	for (int k = 0; k < nkids; k++) {
		struct vt_status st = vt_wait_pid(kids[k], 90);
		char buf[64];
		if (!vt_exited(st, 0)) {
			fprintf(stderr, "pid %d: child %d: %s\n", (int)getpid(),
				(int)kids[k],
				vt_status_text(st, buf, sizeof(buf)));
			ret = 11;
		}
	}
	stop_threads();
	int r = check_blocks();
	if (r != 0)
		ret = r;
	if (atomic_load(&thread_saw_corruption) && ret == 0)
		ret = 12;
	return ret;
}

/* the cells of fork.tree.* (--list) */
FT_CELLS(FT_CELLS_STD, "mode0 ARGS=--expect-corruption", "node.mode1",
	 "node.mode2", "node.mode3");

int main(int argc, char **argv)
{
	ft_setup(argc, argv);
	bool expect_corruption = false;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--expect-corruption") == 0)
			expect_corruption = true;
	if (ft_preloaded())
		pool = vt_pool();
	alarm(120);
	int r = node(0);
	if (expect_corruption) {
		if (r == 0)
			FAIL("a shared heap (VMMALLOC_FORK=0) went unnoticed: "
			     "the tree cannot detect corruption");
		printf("corruption detected as expected (exit %d)\n", r);
		return 0;
	}
	if (r != 0)
		FAIL("fork tree failed with %d", r);
	printf("fork tree of depth %d: %d processes clean\n", DEPTH,
	       (1 << (DEPTH + 1)) - 1);
	return 0;
}
