/* bench.h: the small toolkit every benchmark program shares: argument
 * parsing, a clock, a fast deterministic PRNG, the one figure line, and an
 * end-of-run memory note on stderr.
 *
 * NOTES
 * - Every program is "NAME [THREADS [SCALE]]" and prints exactly one line on
 *   stdout: "<unit> <value>" (e.g. "ops/s 1.234e+07"). The driver parses it.
 * - The memory note ("# mem ...") goes to stderr so stdout stays one line; it
 *   reports RssAnon and the allocated bytes of any unlinked file held open in
 *   VMMALLOC_POOL_DIR (the pool), read from /proc/self.
 * - Everything is static inline: each program is a single translation unit.
 */
#ifndef BENCH_H
#define BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NOINLINE __attribute__((noinline))

struct bench_args {
	int threads;
	double scale;
};

static inline void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static inline struct bench_args bench_parse(int argc, char **argv,
					    int def_threads)
{
	struct bench_args a = {def_threads, 1.0};
	char *end;

	if (argc > 1) {
		long t = strtol(argv[1], &end, 10);
		if (*end != '\0' || t < 1 || t > 1024) {
			fprintf(stderr, "usage: %s [THREADS [SCALE]]\n",
				argv[0]);
			exit(2);
		}
		a.threads = (int)t;
	}
	if (argc > 2) {
		double s = strtod(argv[2], &end);
		if (*end != '\0' || !(s > 0.0) || s > 1e6) {
			fprintf(stderr, "usage: %s [THREADS [SCALE]]\n",
				argv[0]);
			exit(2);
		}
		a.scale = s;
	}
	return a;
}

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: cheap, deterministic per seed, good enough for size mixes. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline size_t bench_range(uint64_t *state, size_t lo, size_t hi)
{
	return lo + (size_t)(bench_rand(state) % (uint64_t)(hi - lo + 1));
}

static inline long bench_scaled(double base, double scale, long min)
{
	double v = base * scale;
	return v < (double)min ? min : (long)v;
}

static inline void *bench_xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		bench_die("malloc");
	return p;
}

/* Reads one "Key:   N kB" field of /proc/self/status, in KiB; -1 if absent.
 * No stdio and no malloc: it must work when the heap is exhausted. */
static inline long bench_status_kib(const char *key)
{
	char buf[4096];
	size_t klen = strlen(key);
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *line = buf; line != NULL && *line != '\0';) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			return strtol(line + klen + 1, NULL, 10);
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return -1;
}

/* Allocated bytes of unlinked files held open inside VMMALLOC_POOL_DIR.
 * Probes fd numbers with readlink (opendir would need malloc). */
static inline long long bench_pool_bytes(void)
{
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	long long total = 0;

	if (dir == NULL || *dir == '\0')
		return 0;
	for (int fd = 0; fd < 1024; fd++) {
		char path[64], target[4096];
		struct stat st;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, strlen(dir)) != 0 ||
		    strstr(target, "(deleted)") == NULL)
			continue;
		if (fstat(fd, &st) == 0)
			total += (long long)st.st_blocks * 512;
	}
	return total;
}

static inline void bench_mem_note(void)
{
	fprintf(stderr, "# mem rss_kib=%ld rss_anon_kib=%ld pool_kib=%lld\n",
		bench_status_kib("VmRSS"), bench_status_kib("RssAnon"),
		bench_pool_bytes() / 1024);
}

/* The one stdout line. */
static inline void bench_figure(const char *unit, double value)
{
	bench_mem_note();
	printf("%s %.4e\n", unit, value);
	fflush(stdout);
}

static inline void bench_spawn(pthread_t *tids, int n, void *(*fn)(void *),
			       void *args, size_t arg_size)
{
	for (int i = 0; i < n; i++) {
		int rc = pthread_create(&tids[i], NULL, fn,
					(char *)args + (size_t)i * arg_size);
		if (rc != 0) {
			errno = rc;
			bench_die("pthread_create");
		}
	}
}

static inline void bench_join(pthread_t *tids, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
}

#endif
