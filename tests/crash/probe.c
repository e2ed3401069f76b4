/*
 * probe.c -- the program the bad-environment cases run preloaded: when the
 * library accepted the environment, every block (tiny to 32 MiB, from
 * several threads, freed on other threads) must lie in the pool, and the
 * pool file must be unlinked and mode 0600 even under umask 0.
 *
 * Built twice: plain (run with LD_PRELOAD) and linked with -lvmmalloc (the
 * setuid case, where the loader ignores LD_PRELOAD for a relative path).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmmtest.h"

#define NTHREADS 4
#define NBLOCKS 64

static struct vt_range pool;
static void *blocks[NTHREADS][NBLOCKS];

/* small blocks stay live (freed later by another thread) */
static size_t block_size(unsigned t, unsigned i)
{
	return ((size_t)1 << (i % 16)) + t * 7 + i;
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	size_t pool_size = pool.hi - pool.lo;
	for (unsigned i = 0; i < NBLOCKS; i++) {
		size_t s = block_size(t, i);
		unsigned char *p = malloc(s);
		CHECK(p != NULL);
		CHECK_IN_POOL(pool, p, s);
		memset(p, (int)(t * NBLOCKS + i), s);
		blocks[t][i] = p;
		/* large and "oversize" extents up to 32 MiB, one at a time */
		size_t big = ((size_t)64 << 10) << (i % 10);
		if (big > pool_size / (2 * NTHREADS))
			continue;
		p = malloc(big);
		CHECK(p != NULL);
		CHECK_IN_POOL(pool, p, big);
		memset(p, 0x5a, big);
		free(p);
	}
	return NULL;
}

/* the pool's fd: an unlinked file in the pool directory */
static void check_pool_file(void)
{
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	char real[4096];
	CHECK(dir != NULL && realpath(dir, real) != NULL);
	size_t rlen = strlen(real);
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char link[300], target[4200];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, real, rlen) != 0 || target[rlen] != '/' ||
		    strstr(target, " (deleted)") == NULL)
			continue;
		struct stat st;
		CHECK(stat(link, &st) == 0);
		CHECK_U(st.st_mode & 07777, ==, 0600);
		CHECK_U(st.st_nlink, ==, 0);
		CHECK_U(st.st_uid, ==, geteuid());
		int fd = atoi(e->d_name);
		int fl = fcntl(fd, F_GETFD);
		CHECK(fl >= 0 && (fl & FD_CLOEXEC));
		found++;
	}
	closedir(d);
	CHECK_I(found, ==, 1);
}

int main(void)
{
	pool = vt_pool();
	check_pool_file();
	pthread_t th[NTHREADS];
	for (unsigned t = 0; t < NTHREADS; t++)
		CHECK(pthread_create(&th[t], NULL, worker,
				     (void *)(uintptr_t)t) == 0);
	for (unsigned t = 0; t < NTHREADS; t++)
		CHECK(pthread_join(th[t], NULL) == 0);
	/* check and free every block on a thread that did not allocate it */
	for (unsigned t = 0; t < NTHREADS; t++) {
		for (unsigned i = 0; i < NBLOCKS; i++) {
			unsigned char *p = blocks[t][i];
			size_t s = block_size(t, i);
			unsigned char v = (unsigned char)(t * NBLOCKS + i);
			CHECK_U(p[0], ==, v);
			CHECK_U(p[s - 1], ==, v);
			p = realloc(p, s + 4096);
			CHECK(p != NULL);
			CHECK_IN_POOL(pool, p, s + 4096);
			CHECK_U(p[s - 1], ==, v);
			free(p);
		}
	}
	printf("probe: %u blocks in the pool\n", NTHREADS * NBLOCKS);
	return 0;
}
