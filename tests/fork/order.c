/*
 * order.c -- the fork handlers' order, seen from the program: user atfork
 * handlers registered in main() allocate in prepare, parent and child while
 * two threads allocate, which only works if the library's prepare runs
 * after them (jemalloc locks the heap last) and its child handler before
 * them (the child's heap is mapped and unlocked first).  In the child
 * handler a mode-2 child must already allocate from its own file.
 *
 * Built twice: "order", where the library initialises from its
 * constructor, and "order-early" (FT_EARLY_MALLOC), linked with early.c,
 * whose constructor calls malloc at load time: the library, linked
 * -z initfirst, must have initialised before it all the same.
 *
 *   order[-early] [--baseline]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "forktest.h"

#define FORKS 20

#ifdef FT_EARLY_MALLOC
#include "early.h"

static bool early_intact(void)
{
	for (size_t i = 0; i < ft_early.size; i++)
		if (ft_early.p[i] != 0x5a)
			return false;
	return true;
}
#endif

/*
 * Every handler allocates more than any thread cache holds (the pool's
 * caches hold no block above 64 KiB), so a malloc that runs while
 * jemalloc's fork locks are held deadlocks every time instead of being
 * served from a cache by luck.
 */
#define FT_UNCACHED 100000
static struct ft_block in_prepare = {.size = FT_UNCACHED, .tag = 0x11};
static void *child_block;
static bool child_block_in_pool;
static unsigned long child_block_inode;
static unsigned long parent_inode;
static struct vt_range pool;

static void prepare(void)
{
	in_prepare.p = malloc(in_prepare.size);
	if (in_prepare.p != NULL)
		ft_stamp(&in_prepare);
}

static void parent(void)
{
	if (in_prepare.p == NULL || !ft_intact(&in_prepare))
		abort();
	free(in_prepare.p);
	void *p = malloc(FT_UNCACHED + 333);
	free(p);
}

static void child(void)
{
	child_block = malloc(FT_UNCACHED + 555);
	if (child_block == NULL)
		return;
	memset(child_block, 5, FT_UNCACHED + 555);
	child_block_in_pool =
		!ft_preloaded() || vt_in(pool, child_block, FT_UNCACHED + 555);
	if (ft_preloaded())
		child_block_inode = ft_map_of(getpid(), child_block).inode;
}

static atomic_bool stop;

static void *churn(void *arg)
{
	(void)arg;
	void *held[64] = {0};
	unsigned i = 0;
	while (!atomic_load(&stop)) {
		free(held[i % 64]);
		held[i % 64] = malloc(8 + (i * 37) % 5000);
		i++;
	}
	for (i = 0; i < 64; i++)
		free(held[i]);
	return NULL;
}

/* the cells of fork.order.* and fork.order-early.* (--list) */
FT_CELLS(FT_CELLS_STD);

int main(int argc, char **argv)
{
	ft_setup(argc, argv);
	alarm(60);
#ifdef FT_EARLY_MALLOC
	if (ft_early.p == NULL)
		FAIL("the early constructor's malloc did not run or failed");
	if (!early_intact())
		FAIL("the early block changed");
	if (ft_preloaded()) {
		pool = vt_pool();
		CHECK_IN_POOL(pool, ft_early.p, ft_early.size);
		CHECK(ft_early.env_seen);
		/*
		 * The library is linked -z initfirst: its constructor runs
		 * before every other object's, so the pool (and its fork
		 * handlers, registered first and so run last in prepare)
		 * already exist when another library's constructor mallocs.
		 */
		if (!ft_early.pool_before)
			FAIL("the early constructor ran before the library's");
	}
#endif
	if (ft_preloaded()) {
		pool = vt_pool();
		void *probe = malloc(100);
		parent_inode = ft_map_of(getpid(), probe).inode;
		free(probe);
	}
	CHECK(pthread_atfork(prepare, parent, child) == 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, churn, NULL) == 0);
	for (int f = 0; f < FORKS; f++) {
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			alarm(20);
			if (child_block == NULL || !child_block_in_pool)
				_exit(2);
			if (!ft_intact(&in_prepare))
				_exit(3);
#ifdef FT_EARLY_MALLOC
			if (!early_intact())
				_exit(4);
#endif
			/* mode 2: the child handler already saw its own file */
			if ((ft_mode == 2 || ft_mode == 3) &&
			    child_block_inode == parent_inode)
				_exit(5);
			free(child_block);
			void *p = malloc(4000);
			if (p == NULL)
				_exit(6);
			free(p);
			_exit(0);
		}
		CHECK_EXIT(vt_wait_pid(pid, 20), 0);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	printf("%d forks with allocating atfork handlers ok (mode %d)\n", FORKS,
	       ft_mode);
	return 0;
}
