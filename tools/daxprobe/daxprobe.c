/*
 * vmmalloc-daxprobe: is a directory on DAX (direct access to persistent memory)?
 * Owns the two checks and the one-line verdict; knows nothing about the library.
 *
 * NOTES
 * - Two independent witnesses: statx() reports STATX_ATTR_DAX on a file whose
 *   page-cache is bypassed (kernel >= 5.8), and mmap(MAP_SHARED_VALIDATE|MAP_SYNC)
 *   succeeds only on a DAX mapping (kernel >= 4.15). Either one alone can be
 *   absent on an old kernel, so "unknown" is distinct from "no".
 * - Both checks need a regular file: with ext4/xfs dax=always only regular files
 *   get S_DAX, never directories. The probe file is O_TMPFILE (no name at all) and
 *   falls back to mkstemp()+unlink() on filesystems without O_TMPFILE.
 * - A character device argument (/dev/daxX.Y, device-dax) is mapped directly:
 *   device-dax refuses mappings smaller than its alignment, so we try 2 MiB then
 *   1 GiB, and report dax=yes when a MAP_SHARED mapping can be written.
 * - Exit status: 0 DAX, 1 not DAX, 2 error (bad argument, cannot create a file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

enum { PROBE_DAX = 0, PROBE_NOT_DAX = 1, PROBE_ERROR = 2 };
enum tri { TRI_NO, TRI_YES, TRI_UNKNOWN };

static const char *tri_name(enum tri t)
{
	return t == TRI_YES ? "yes" : t == TRI_NO ? "no" : "unknown";
}

static const char *fs_name(long type)
{
	/* magic numbers from linux/magic.h, spelled out so old headers do */
	switch ((unsigned long)type & 0xffffffffUL) {
	case 0xEF53UL: return "ext4";
	case 0x58465342UL: return "xfs";
	case 0x01021994UL: return "tmpfs";
	case 0x858458f6UL: return "ramfs";
	case 0x01021997UL: return "9p";
	case 0x794c7630UL: return "overlay";
	case 0x9123683EUL: return "btrfs";
	case 0x6969UL: return "nfs";
	case 0x65735546UL: return "fuse";
	case 0x2fc12fc1UL: return "zfs";
	case 0x62656572UL: return "sysfs";
	case 0x9fa0UL: return "proc";
	case 0x1373UL: return "devfs";
	default: return "other";
	}
}

static int open_probe_file(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;

	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/.vmmalloc-daxprobe.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(path);
	if (fd >= 0)
		(void)unlink(path);
	return fd;
}

static enum tri statx_dax(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0)
		return TRI_UNKNOWN;
	if (!(stx.stx_attributes_mask & STATX_ATTR_DAX))
		return TRI_UNKNOWN;
	return (stx.stx_attributes & STATX_ATTR_DAX) ? TRI_YES : TRI_NO;
}

/* MAP_SYNC is refused (EOPNOTSUPP) unless the mapping is DAX. */
static enum tri map_sync_ok(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (p == MAP_FAILED)
		return TRI_NO;
	((volatile char *)p)[0] = 'x';
	(void)munmap(p, len);
	return TRI_YES;
}

/* A device-dax node's sysfs class link ends in ".../dax" */
static int is_devdax(const struct stat *st)
{
	char link[PATH_MAX], target[PATH_MAX];
	(void)snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		       major(st->st_rdev), minor(st->st_rdev));
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	return base != NULL && strcmp(base, "/dax") == 0;
}

static int probe_devdax(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: open: %s\n", dev, strerror(errno));
		return PROBE_ERROR;
	}
	static const size_t aligns[] = { (size_t)2 << 20, (size_t)1 << 30 };
	enum tri mapped = TRI_NO;
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]) && mapped != TRI_YES; i++) {
		void *p = mmap(NULL, aligns[i], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			continue;
		volatile char *c = p;
		char old = c[0];
		c[0] = (char)~old;
		mapped = c[0] == (char)~old ? TRI_YES : TRI_NO;
		c[0] = old;
		(void)munmap(p, aligns[i]);
	}
	(void)close(fd);
	printf("%s: dax=%s devdax=yes map_shared=%s\n", dev, tri_name(mapped),
	       tri_name(mapped));
	return mapped == TRI_YES ? PROBE_DAX : PROBE_NOT_DAX;
}

static int probe_dir(const char *dir)
{
	struct statfs sfs;
	if (statfs(dir, &sfs) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", dir, strerror(errno));
		return PROBE_ERROR;
	}
	int fd = open_probe_file(dir);
	if (fd < 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: cannot create a probe file: %s\n",
			dir, strerror(errno));
		return PROBE_ERROR;
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t len = page > 0 ? (size_t)page : 4096;
	if (ftruncate(fd, (off_t)len) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: ftruncate: %s\n", dir, strerror(errno));
		(void)close(fd);
		return PROBE_ERROR;
	}
	enum tri sx = statx_dax(fd);
	enum tri ms = map_sync_ok(fd, len);
	(void)close(fd);

	/* MAP_SYNC is the witness that matters to a pool; statx may only veto it */
	int dax = ms == TRI_YES && sx != TRI_NO;
	printf("%s: dax=%s statx=%s map_sync=%s fs=%s\n", dir, dax ? "yes" : "no",
	       tri_name(sx), tri_name(ms), fs_name((long)sfs.f_type));
	return dax ? PROBE_DAX : PROBE_NOT_DAX;
}

static void usage(FILE *f)
{
	fputs("usage: vmmalloc-daxprobe DIR|/dev/daxX.Y\n"
	      "  prints one line 'DIR: dax=yes|no statx=... map_sync=... fs=...'\n"
	      "  exit status: 0 DAX, 1 not DAX, 2 error\n", f);
}

int main(int argc, char *argv[])
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2) {
		usage(stderr);
		return PROBE_ERROR;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", argv[1], strerror(errno));
		return PROBE_ERROR;
	}
	if (S_ISCHR(st.st_mode)) {
		if (is_devdax(&st))
			return probe_devdax(argv[1]);
		fprintf(stderr, "vmmalloc-daxprobe: %s: not a device-dax node\n", argv[1]);
		return PROBE_ERROR;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: not a directory or a character device\n",
			argv[1]);
		return PROBE_ERROR;
	}
	return probe_dir(argv[1]);
}
