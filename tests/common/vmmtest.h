/*
 * vmmtest.h -- the one helper every test includes: typed checks that print
 * both expressions and both values, the skip status (77), and a way to ask
 * /proc/self/maps whether a pointer lies in the pool mapping.
 *
 * Test programs are plain C11 with assertions that fail with exit code 1;
 * a check inside a forked child exits the child with 1 as well.
 */
#ifndef VMMTEST_H
#define VMMTEST_H 1

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VMMTEST_SKIP 77

#define VT_FAIL_(...)                                                          \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)

#define VT_CMP_(type, fmt, a, op, b)                                           \
	do {                                                                   \
		type a_ = (type)(a), b_ = (type)(b);                           \
		if (!(a_ op b_))                                               \
			VT_FAIL_("check failed: %s %s %s (" fmt " vs " fmt     \
				 ")",                                          \
				 #a, #op, #b, a_, b_);                         \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			VT_FAIL_("check failed: %s (errno %d: %s)", #cond,     \
				 errno, strerror(errno));                      \
	} while (0)
#define CHECK_U(a, op, b) VT_CMP_(uintmax_t, "%" PRIuMAX, a, op, b)
#define CHECK_I(a, op, b) VT_CMP_(intmax_t, "%" PRIdMAX, a, op, b)
#define CHECK_P(a, op, b) VT_CMP_(uintptr_t, "%#" PRIxPTR, a, op, b)
#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (strcmp(a_, b_) != 0)                                       \
			VT_FAIL_("check failed: %s == %s (\"%s\" vs \"%s\")",  \
				 #a, #b, a_, b_);                              \
	} while (0)
#define FAIL(...) VT_FAIL_(__VA_ARGS__)

#define SKIP(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "skip: ");                                     \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(VMMTEST_SKIP);                                            \
	} while (0)

/* hides a value from the compiler (huge sizes on purpose) */
static inline size_t vt_opaque(size_t v)
{
	volatile size_t x = v;
	return x;
}

/* the pool mapping: the unlinked file of $VMMALLOC_POOL_DIR in maps */
struct vt_range {
	uintptr_t lo, hi;
};

/* the mapping name of a pool on a NUMA node (VMMALLOC_POOL_NODE) */
#define VT_MEMFD_POOL "/memfd:vmmalloc (deleted)"

/*
 * The lowest to highest address of the mappings in /proc/self/maps whose
 * path is a deleted file inside `dir` (dir != NULL: the pool file), or the
 * device `dir` itself (a device DAX pool: VMMALLOC_POOL_DIR=/dev/daxX.Y),
 * or, with dir NULL, the node pool's memfd; false if there is none.  Uses
 * stdio, so call it before taking snapshots that must not allocate.
 */
static inline bool vt_maps_range(const char *dir, struct vt_range *r)
{
	struct stat st;
	bool device =
		dir != NULL && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode);
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return false;
	char line[4096];
	size_t dlen = dir != NULL ? strlen(dir) : 0;
	bool found = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *path = strchr(line, '/');
		if (path == NULL)
			continue;
		if (device ? strncmp(path, dir, dlen) != 0 || path[dlen] != '\n'
		    : dir != NULL ? strncmp(path, dir, dlen) != 0 ||
					    path[dlen] != '/' ||
					    strstr(path, " (deleted)") == NULL
				  : strncmp(path, VT_MEMFD_POOL,
					    strlen(VT_MEMFD_POOL)) != 0)
			continue;
		uintptr_t lo, hi;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) != 2)
			continue;
		if (!found || lo < r->lo)
			r->lo = lo;
		if (!found || hi > r->hi)
			r->hi = hi;
		found = true;
	}
	fclose(f);
	return found;
}

/* the pool file's mapping inside `dir`; false if there is none */
static inline bool vt_pool_range(const char *dir, struct vt_range *r)
{
	return vt_maps_range(dir, r);
}

/* the mapping of the memfd that holds a node pool; false if there is none */
static inline bool vt_node_pool_range(struct vt_range *r)
{
	return vt_maps_range(NULL, r);
}

/* the pool's range, failing the test when there is no pool */
static inline struct vt_range vt_pool(void)
{
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	struct vt_range r = {0, 0};
	if (dir == NULL && getenv("VMMALLOC_POOL_NODE") != NULL) {
		if (!vt_node_pool_range(&r))
			FAIL("no %s mapping in /proc/self/maps", VT_MEMFD_POOL);
		return r;
	}
	if (dir == NULL)
		FAIL("VMMALLOC_POOL_DIR is not set: run through run-preloaded");
	char real[4096];
	if (realpath(dir, real) == NULL)
		FAIL("realpath(%s): %s", dir, strerror(errno));
	/* a device's pool after a fork in mode 2: the child's memfd copy */
	if (!vt_pool_range(real, &r) && !vt_node_pool_range(&r))
		FAIL("no pool mapping of %s in /proc/self/maps", real);
	return r;
}

/*
 * The descriptors of this process that hold the pool file (an unlinked
 * file in $VMMALLOC_POOL_DIR): fills fds[] and returns how many.
 */
static inline int vt_pool_fds(int *fds, int max)
{
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	char real[4096];
	size_t rlen = 0;
	if (dir == NULL && getenv("VMMALLOC_POOL_NODE") != NULL)
		real[0] = '\0'; /* a node pool: the memfd's name matches */
	else if (dir == NULL || realpath(dir, real) == NULL)
		FAIL("VMMALLOC_POOL_DIR is not set or does not exist");
	else
		rlen = strlen(real);
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char link[300], target[4200];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (rlen == 0 ? strcmp(target, VT_MEMFD_POOL) != 0
			      : (strncmp(target, real, rlen) != 0 ||
				 target[rlen] != '/' ||
				 strstr(target, " (deleted)") == NULL))
			continue;
		if (n < max)
			fds[n] = atoi(e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* VMMALLOC_POOL_SIZE of this run (run-preloaded sets it): bytes, or a
 * number with a K, M, G or T suffix */
static inline size_t vt_pool_size(void)
{
	const char *s = getenv("VMMALLOC_POOL_SIZE");
	if (s == NULL)
		FAIL("VMMALLOC_POOL_SIZE is not set: run through run-preloaded");
	char *end;
	size_t size = strtoull(s, &end, 10);
	const char *units = "KMGT";
	const char *u = *end != '\0' ? strchr(units, *end) : NULL;
	return u != NULL ? size << (10 * (u - units + 1)) : size;
}

/* reads fd to its end (or until out is full), ends out with a NUL and
 * closes fd; returns the length */
static inline size_t vt_read_all(int fd, char *out, size_t outlen)
{
	size_t len = 0;
	ssize_t n;
	while (len + 1 < outlen &&
	       (n = read(fd, out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	return len;
}

static inline bool vt_in(struct vt_range r, const void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p;
	return a >= r.lo && a + size <= r.hi && a + size >= a;
}

#define CHECK_IN_POOL(r, p, size)                                              \
	do {                                                                   \
		if (!vt_in((r), (p), (size)))                                  \
			VT_FAIL_("%s = %p (+%zu) lies outside the pool "       \
				 "[%#" PRIxPTR ", %#" PRIxPTR ")",             \
				 #p, (void *)(p), (size_t)(size), (r).lo,      \
				 (r).hi);                                      \
	} while (0)

#endif /* VMMTEST_H */
