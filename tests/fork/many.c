/*
 * many.c -- 1,000 forks (--forks N; the ctest cells run 300) from a process
 * whose 8 threads allocate, stamp, check and free all the time.  Each child
 * checks a stamped block, then allocates, frees and exits (in mode 0 it
 * execs right away instead: that is the only valid use of mode 0).  No
 * fork may deadlock (every wait has a deadline), no child may fail, and the
 * parent may not gain open fds.
 *
 *   many [--baseline] [--forks N]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "forktest.h"

#define THREADS 8
#define LIVE 256

static atomic_bool stop;
static atomic_bool corrupt;

static void *churn(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15u + 3;
	struct ft_block live[LIVE] = {{0}};
	unsigned ops = 0;
	while (!atomic_load(&stop)) {
		size_t i = ft_rand(&seed) % LIVE;
		if (live[i].p != NULL) {
			if (!ft_intact(&live[i]))
				atomic_store(&corrupt, true);
			free(live[i].p);
		}
		live[i].size = 8 + ft_rand(&seed) % 2048;
		live[i].p = malloc(live[i].size);
		if (live[i].p == NULL) {
			atomic_store(&corrupt, true);
			continue;
		}
		live[i].tag = (uint32_t)(uintptr_t)arg;
		ft_stamp(&live[i]);
		/* bursts, then a pause: 8 threads on 2 shared cores */
		if (++ops % 256 == 0) {
			struct timespec ts = {0, 500 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < LIVE; i++)
		free(live[i].p);
	return NULL;
}

/* the cells of fork.many.* (--list) */
FT_CELLS(FT_CELLS_STD, "mode0");

int main(int argc, char **argv)
{
	ft_setup(argc, argv);
	int forks = 1000;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--forks") == 0)
			forks = atoi(argv[i + 1]);
	alarm(600);
	struct ft_block probe = {.size = 3000, .tag = 0xabc};
	probe.p = malloc(probe.size);
	CHECK(probe.p != NULL);
	ft_stamp(&probe);
	char *true_args[] = {"true", NULL};
	char *true_env[] = {NULL};

	pthread_t th[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, churn, (void *)(i + 1)) ==
		      0);
	int fds = ft_fd_count();
	double t0 = vt_now();
	for (int f = 0; f < forks; f++) {
		pid_t pid = fork();
		if (pid < 0)
			FAIL("fork %d: %s", f, strerror(errno));
		if (pid == 0) {
			if (ft_mode == 0) {
				execve("/bin/true", true_args, true_env);
				_exit(127);
			}
			if (!ft_intact(&probe))
				_exit(3);
			void *p = malloc(100 + (size_t)f);
			if (p == NULL)
				_exit(4);
			memset(p, 1, 100 + (size_t)f);
			free(p);
			_exit(0);
		}
		struct vt_status st = vt_wait_pid(pid, 30);
		char buf[64];
		if (!vt_exited(st, 0))
			FAIL("fork %d of %d: child %s", f, forks,
			     vt_status_text(st, buf, sizeof(buf)));
	}
	double dt = vt_now() - t0;
	double backed_mib = 0;
	if (ft_preloaded()) {
		int fd = ft_fd_of_inode(ft_map_of(getpid(), probe.p).inode);
		CHECK(fd >= 0);
		backed_mib = (double)ft_backed(fd) / (1 << 20);
	}
	int fds_after = ft_fd_count();
	atomic_store(&stop, true);
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	CHECK(!atomic_load(&corrupt));
	CHECK(ft_intact(&probe));
	CHECK_I(fds_after, ==, fds);
	free(probe.p);
	printf("%d forks with %d allocating threads in %.2f s (mode %d, "
	       "pool file %.1f MiB backed)\n",
	       forks, THREADS, dt, ft_mode, backed_mib);
	return 0;
}
