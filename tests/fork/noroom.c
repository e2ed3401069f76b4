/*
 * noroom.c -- mode 2 and mode 3 where the pool directory has room for one
 * pool's data only: a private tmpfs of 48 MiB (mounted in a mount namespace
 * of this test) under a pool holding ~30 MiB of live blocks.
 * - mode 2: the fork fails with the original's line
 *   "Error (libvmmalloc): pool cloning failed" and the process terminates;
 * - mode 3: the fork falls back to a private remap (mode 1) and works.
 * An allocation on the failure path (made while jemalloc's fork handler
 * holds every arena lock) deadlocks unless a thread cache serves it; a
 * 64 MiB pool's caches hold only blocks up to 1 KiB, a few each (the
 * private engine ignores MALLOC_CONF, so tcache:false cannot be asked for
 * any more).  The deadline below then fails the test.  Two threads
 * allocate all the time.
 *
 *   noroom LIBVMMALLOC MODE        (not preloaded itself; needs root)
 *   noroom --target                (run by the above, preloaded)
 */
#include <pthread.h>
#include <stdatomic.h>

#include "forktest.h"

#define MIB ((size_t)1 << 20)
#define LIVE_MIB 30

static atomic_bool stop;

static void *churn(void *arg)
{
	(void)arg;
	void *held[32] = {0};
	unsigned i = 0;
	while (!atomic_load(&stop)) {
		free(held[i % 32]);
		held[i % 32] = malloc(16 + i % 3000);
		i++;
	}
	for (i = 0; i < 32; i++)
		free(held[i]);
	return NULL;
}

static int target(void)
{
	struct vt_range pool = vt_pool();
	static struct ft_block blocks[LIVE_MIB];
	for (int i = 0; i < LIVE_MIB; i++) {
		blocks[i].size = MIB;
		blocks[i].p = malloc(MIB);
		CHECK(blocks[i].p != NULL);
		CHECK_IN_POOL(pool, blocks[i].p, MIB);
		blocks[i].tag = (uint32_t)i;
		ft_stamp(&blocks[i]);
	}
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, churn, NULL) == 0);
	fprintf(stderr, "target: %d MiB live, forking\n", LIVE_MIB);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		fprintf(stderr, "target: child ran\n");
		for (int i = 0; i < LIVE_MIB; i++)
			if (!ft_intact(&blocks[i]))
				_exit(3);
		void *p = malloc(2 * MIB);
		if (p == NULL)
			_exit(4);
		memset(p, 7, 2 * MIB);
		free(p);
		_exit(0);
	}
	CHECK_EXIT(vt_wait_pid(pid, 30), 0);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	for (int i = 0; i < LIVE_MIB; i++)
		CHECK(ft_intact(&blocks[i]));
	/* no room for a clone: the fork fell back to mode 1 */
	if (ft_map_of(getpid(), blocks[0].p).shared)
		FAIL("the pool is still MAP_SHARED: no fallback happened");
	fprintf(stderr, "target: fell back to a private remap\n");
	return 0;
}

static char output[65536];

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--target") == 0)
		return target();
	if (argc != 3)
		FAIL("usage: noroom LIBVMMALLOC MODE");
	const char *lib = argv[1], *mode = argv[2];
	char dir[4096];
	ft_private_tmpfs(dir, sizeof(dir), "noroom", "48m");

	struct vt_status st =
		ft_run_target(lib, dir, mode, output, sizeof(output));
	bool ok = true;
	if (st.how == VT_TIMEOUT) {
		fprintf(stderr, "FAIL: the target did not finish within 60 s "
				"(deadlock)\n");
		ok = false;
	} else if (strcmp(mode, "2") == 0) {
		if (strstr(output,
			   "Error (libvmmalloc): pool cloning failed") ==
		    NULL) {
			fprintf(stderr,
				"FAIL: no 'pool cloning failed' line\n");
			ok = false;
		}
		if (vt_exited(st, 0)) {
			fprintf(stderr, "FAIL: the target did not terminate\n");
			ok = false;
		}
		if (strstr(output, "child ran") != NULL) {
			fprintf(stderr,
				"FAIL: a child ran after the failure\n");
			ok = false;
		}
	} else {
		if (!vt_exited(st, 0)) {
			fprintf(stderr, "FAIL: mode %s did not fall back\n",
				mode);
			ok = false;
		}
		if (strstr(output, "Error (libvmmalloc)") != NULL ||
		    strstr(output, "fell back") == NULL) {
			fprintf(stderr, "FAIL: unexpected output\n");
			ok = false;
		}
	}
	if (!ft_tmpfs_done(dir))
		ok = false;
	if (!ok)
		return 1;
	printf("no room, mode %s: as expected\n", mode);
	return 0;
}
