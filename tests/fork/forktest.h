/*
 * forktest.h -- what the fork scenarios share: which run this is (baseline
 * without the library, or a VMMALLOC_FORK mode), stamped blocks, waiting
 * for children (vmmtest_child.h), and questions to /proc about the pool.
 *
 * Every scenario program takes "--baseline" when it runs without the
 * library; it then checks that there is no pool at all, so a baseline run
 * can never pass by accident with the library loaded.
 */
#ifndef FORKTEST_H
#define FORKTEST_H 1

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmmtest_child.h"

#define FT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* -1 = baseline (no library), else the effective VMMALLOC_FORK mode */
static int ft_mode = -1;

/*
 * The cells a scenario runs in, one --list line each (cmake/VmmTest.cmake's
 * vmm_add_matrix registers fork.<scenario>.<cell>): "baseline" (without the
 * library), "default" (VMMALLOC_FORK unset), "modeN", "node.modeN" (the
 * pool on NUMA node 0), then optional KEY=VALUE words (ARGS=--flag).
 */
#define FT_CELLS_STD "baseline", "default", "mode1", "mode2", "mode3"
#define FT_CELLS(...) static const char *const ft_cells[] = {__VA_ARGS__, NULL}

/* call first: prints the cells for --list (and exits), else decides
 * baseline vs. preloaded and checks that it is so */
static inline void ft_setup_(int argc, char **argv, const char *const *cells)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0 && cells != NULL) {
		for (const char *const *c = cells; *c != NULL; c++)
			printf("%s\n", *c);
		exit(0);
	}
	bool baseline = argc > 1 && strcmp(argv[1], "--baseline") == 0;
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	if (baseline) {
		char real[4096];
		struct vt_range r;
		if (dir != NULL && realpath(dir, real) != NULL &&
		    vt_pool_range(real, &r))
			FAIL("--baseline, but a pool is mapped");
		ft_mode = -1;
		return;
	}
	(void)vt_pool(); /* fails when the library is not there */
	const char *m = getenv("VMMALLOC_FORK");
	ft_mode = m != NULL ? atoi(m) : 1;
}

#define ft_setup(argc, argv) ft_setup_(argc, argv, ft_cells)

static inline bool ft_preloaded(void)
{
	return ft_mode >= 0;
}

/* ---- stamped blocks: every byte says who wrote it ---- */
struct ft_block {
	unsigned char *p;
	size_t size;
	uint32_t tag; /* pid << 8 | generation, or a thread's id */
};

static inline unsigned char ft_byte(uint32_t tag, size_t i)
{
	return (unsigned char)((tag * 2654435761u + i * 7u) >> 11);
}

static inline void ft_stamp(struct ft_block *b)
{
	memcpy(b->p, &b->tag,
	       sizeof(b->tag) < b->size ? sizeof(b->tag) : b->size);
	for (size_t i = sizeof(b->tag); i < b->size; i++)
		b->p[i] = ft_byte(b->tag, i);
}

/* true when the block still holds its stamp */
static inline bool ft_intact(const struct ft_block *b)
{
	uint32_t t = 0;
	size_t n = sizeof(t) < b->size ? sizeof(t) : b->size;
	memcpy(&t, b->p, n);
	if (n == sizeof(t) && t != b->tag)
		return false;
	for (size_t i = sizeof(b->tag); i < b->size; i++)
		if (b->p[i] != ft_byte(b->tag, i))
			return false;
	return true;
}

static inline uint64_t ft_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* open file descriptors of this process */
static inline int ft_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* what /proc/<pid>/maps says about the mapping that contains addr */
struct ft_map {
	bool found;
	bool shared; /* 's' in the flags, else 'p' */
	unsigned long inode;
	char path[512];
};

static inline struct ft_map ft_map_of(pid_t pid, const void *addr)
{
	struct ft_map m = {.found = false};
	char name[64];
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(name, "r");
	CHECK(f != NULL);
	char line[4096];
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t lo, hi;
		char perms[8];
		unsigned long long off;
		char dev[32];
		unsigned long ino;
		int pos = 0;
		if (sscanf(line,
			   "%" SCNxPTR "-%" SCNxPTR " %7s %llx %31s %lu%n", &lo,
			   &hi, perms, &off, dev, &ino, &pos) < 6)
			continue;
		if ((uintptr_t)addr < lo || (uintptr_t)addr >= hi)
			continue;
		m.found = true;
		m.shared = perms[3] == 's';
		m.inode = ino;
		const char *p = line + pos;
		while (*p == ' ')
			p++;
		snprintf(m.path, sizeof(m.path), "%s", p);
		m.path[strcspn(m.path, "\n")] = '\0';
		break;
	}
	fclose(f);
	return m;
}

/*
 * The fd of this process whose file has inode ino (the pool), or -1.  Only
 * unlinked files count: inode numbers repeat across filesystems, and in the
 * pmem guest a small file on another mount had the pool's number.
 */
static inline int ft_fd_of_inode(unsigned long ino)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int found = -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		struct stat st;
		if (fd != dirfd(d) && fstat(fd, &st) == 0 &&
		    (unsigned long)st.st_ino == ino && S_ISREG(st.st_mode) &&
		    st.st_nlink == 0) {
			found = fd;
			break;
		}
	}
	closedir(d);
	return found;
}

/* bytes of storage the file of fd really holds (it is sparse) */
static inline size_t ft_backed(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (size_t)st.st_blocks * 512;
}

/* ---- a private tmpfs for the pool (noroom.c, zeroed.c) ---- */

/*
 * Mounts a tmpfs of `size` (a mount option value: "48m") on a new
 * directory under $TMPDIR, named after `what`, in a mount namespace of
 * this process (vt_private_tmpfs); skips (77) where that is not allowed
 * (not root).
 */
static inline void ft_private_tmpfs(char *dir, size_t len, const char *what,
				    const char *size)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, len, "%s/vmmfork-%s.XXXXXX", tmp, what);
	vt_private_tmpfs(dir, size, 0700);
}

/*
 * Runs this program again with --target, preloaded with lib and a 64 MiB
 * pool in dir, VMMALLOC_FORK=mode, without core dumps, for at most 60 s;
 * its stderr goes to out (and is printed).
 */
static inline struct vt_status ft_run_target(const char *lib, const char *dir,
					     const char *mode, char *out,
					     size_t outlen)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore); /* inherited by the target */
	char pre[4200], pdir[4200], fork_mode[32];
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lib);
	snprintf(pdir, sizeof(pdir), "VMMALLOC_POOL_DIR=%s", dir);
	snprintf(fork_mode, sizeof(fork_mode), "VMMALLOC_FORK=%s", mode);
	const char *env[] = {pre, pdir, "VMMALLOC_POOL_SIZE=64M", fork_mode,
			     NULL};
	char *argv[] = {self, "--target", NULL};
	struct vt_spawn s = {.argv = argv,
			     .env = env,
			     .err = out,
			     .errlen = outlen};
	struct vt_status st = vt_run(&s, 60);
	fprintf(stderr, "---- target's stderr ----\n%s----\n", out);
	char buf[64];
	fprintf(stderr, "target: %s\n", vt_status_text(st, buf, sizeof(buf)));
	return st;
}

/* unmounts ft_private_tmpfs's dir; false, said, if a block stayed used
 * (no name, no blocks may stay: unlinked files die with their process) */
static inline bool ft_tmpfs_done(const char *dir)
{
	struct statvfs sv;
	CHECK(statvfs(dir, &sv) == 0);
	bool empty = sv.f_bfree == sv.f_blocks;
	if (!empty)
		fprintf(stderr, "FAIL: %lu blocks still used in the tmpfs\n",
			(unsigned long)(sv.f_blocks - sv.f_bfree));
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	return empty;
}

#endif /* FORKTEST_H */
