/*
 * vmmalloc-daxprobe: can a pool live here?  Three kinds of place: a directory
 * on a DAX filesystem, a device-DAX character device (/dev/daxX.Y), and a
 * memory-only NUMA node (node:N: CXL memory, PMEM as system RAM).
 * Owns the checks and the one-line verdicts; knows nothing about the library.
 *
 * NOTES
 * - Verdict: one line "NAME: kind=K key=value ..." on stdout per object;
 *   reasons a human needs go to stderr.  The keys of a kind never change
 *   order, new ones are appended (scripts match keys, not positions).
 * - Directory: two independent witnesses: statx() reports STATX_ATTR_DAX on a
 *   file whose page-cache is bypassed (kernel >= 5.8), and
 *   mmap(MAP_SHARED_VALIDATE|MAP_SYNC) succeeds only on a DAX mapping (kernel
 *   >= 4.15). Either one alone can be absent on an old kernel, so "unknown" is
 *   distinct from "no".  Both need a regular file (ext4/xfs give S_DAX to
 *   regular files only): an O_TMPFILE, else mkstemp()+unlink().
 * - Character device: device DAX when /sys/dev/char/MAJ:MIN/subsystem ends in
 *   "/dax" (bus/dax, or class/dax before 5.1).  Its "size" and "align" are
 *   read there; a kernel without "align" (before 5.10) maps at 2 MiB, as the
 *   library assumes too.
 * - In use: the library cuts a device into ranges of the pool's size and
 *   each process takes the first free one with an open file description
 *   lock (F_OFD_SETLK), so a program and the programs it runs share one
 *   device.  The probe reads those ranges in /proc/locks (OFD and POSIX
 *   locks on the device's inode; POSIX ones conflict with OFD ones, flock
 *   ones do not and are ignored): in_use=, held= (the bytes of their union
 *   within the device) and pids= where locked= and holder= were (the flock
 *   the library no longer takes), and ranges=START+LEN:PID,... (appended).
 *   /proc/locks gives an OFD lock pid -1: its holders are found in
 *   /proc/PID/fdinfo ("lock:" lines) and /proc/PID/maps (a mapping of the
 *   range keeps the lock after the descriptor is closed); another user's
 *   processes are not readable, and show as "unknown" / "?".  Without
 *   /proc/locks, F_OFD_GETLK over the whole device says only yes or no.
 * - A device partly in use is not an error: a pool takes a free range.  The
 *   write test (map one alignment unit, flip byte 0 and back) runs under
 *   the probe's own F_OFD_SETLK on [0, align): when that range is held the
 *   probe neither maps nor writes (map_shared=unknown) and says why, so it
 *   never touches a byte another process may be using.
 * - --list (and --list DEV...) never maps nor writes a device: sysfs and
 *   /proc only.  --list does create (and unlink) a probe file in each DAX
 *   mount it can write.
 * - Node: /sys/devices/system/node/nodeN: "meminfo" (MemTotal, MemFree in
 *   kB) and "cpulist" (empty: memory-only).  A node onlined from a device DAX
 *   by dax_kmem names it: the dax device whose target_node is N, driver kmem.
 * - Exit status: 0 yes (DAX directory; device DAX that maps, or whose first
 *   unit is held by another process, with bytes no one holds;
 *   memory-only node with memory; --list done), 1 no (directory not on DAX,
 *   character device that is not device DAX or has no size or does not map,
 *   node with CPUs or without memory), 2 error (bad argument, no such
 *   directory/device/node, cannot create a file or open the device),
 *   3 device DAX wholly in use (other processes hold all of it but less than
 *   one alignment unit: no pool of any size can be made there now).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <mntent.h>
#include <stdint.h>
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

enum { PROBE_YES = 0, PROBE_NO = 1, PROBE_ERROR = 2, PROBE_IN_USE = 3 };
enum tri { TRI_NO, TRI_YES, TRI_UNKNOWN };

#define NODE_DIR "/sys/devices/system/node"
#define DAX_BUS_DIR "/sys/bus/dax/devices"
#define DEVDAX_DEFAULT_ALIGN ((uint64_t)2 << 20)

static const char *tri_name(enum tri t)
{
	return t == TRI_YES ? "yes" : t == TRI_NO ? "no" : "unknown";
}

static const char *fs_name(long type)
{
	/* magic numbers from linux/magic.h, spelled out so old headers do */
	switch ((unsigned long)type & 0xffffffffUL) {
	case 0xEF53UL:
		return "ext4";
	case 0x58465342UL:
		return "xfs";
	case 0x01021994UL:
		return "tmpfs";
	case 0x858458f6UL:
		return "ramfs";
	case 0x01021997UL:
		return "9p";
	case 0x794c7630UL:
		return "overlay";
	case 0x9123683EUL:
		return "btrfs";
	case 0x6969UL:
		return "nfs";
	case 0x65735546UL:
		return "fuse";
	case 0x2fc12fc1UL:
		return "zfs";
	case 0x62656572UL:
		return "sysfs";
	case 0x9fa0UL:
		return "proc";
	case 0x1373UL:
		return "devfs";
	default:
		return "other";
	}
}

/* ---- sysfs: small text attributes ---- */

/* the first line of a file, without its newline; 0 or an errno */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return errno;
	int err = 0;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] =
			'\0'; /* an empty attribute (cpulist of a CPU-less node) */
	if (ferror(f))
		err = EIO;
	(void)fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* a decimal or 0x-hex number, the whole attribute; 0 or an errno */
static int read_u64(const char *path, uint64_t *out)
{
	char buf[64];
	int err = read_line(path, buf, sizeof(buf));
	if (err != 0)
		return err;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 0);
	if (errno != 0 || end == buf || *end != '\0' || buf[0] == '-')
		return EIO;
	*out = (uint64_t)v;
	return 0;
}

/* src into out[len], cut if need be (no format-truncation games) */
static void copy_str(char *out, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len)
		n = len - 1;
	memcpy(out, src, n);
	out[n] = '\0';
}

/* the last component of a symbolic link's target, or "" */
static void link_base(const char *link, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	copy_str(out, len, base != NULL ? base + 1 : target);
}

/* ---- directories ---- */

static int open_probe_file(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;

	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/.vmmalloc-daxprobe.XXXXXX",
			 dir);
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

/* dax_opt: the mount's dax option for --list, or NULL */
static int probe_dir(const char *dir, const char *dax_opt)
{
	struct statfs sfs;
	if (statfs(dir, &sfs) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", dir,
			strerror(errno));
		return PROBE_ERROR;
	}
	const char *fs = fs_name((long)sfs.f_type);
	uint64_t avail = (uint64_t)sfs.f_bavail * (uint64_t)sfs.f_bsize;
	int fd = open_probe_file(dir);
	if (fd < 0) {
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: cannot create a probe file: %s\n",
			dir, strerror(errno));
		if (dax_opt !=
		    NULL) /* still listed: the mount table says dax */
			printf("%s: kind=dir dax=unknown statx=unknown map_sync=unknown fs=%s"
			       " free=%" PRIu64 " dax_opt=%s\n",
			       dir, fs, avail, dax_opt);
		return PROBE_ERROR;
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t len = page > 0 ? (size_t)page : 4096;
	if (ftruncate(fd, (off_t)len) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: ftruncate: %s\n", dir,
			strerror(errno));
		(void)close(fd);
		return PROBE_ERROR;
	}
	enum tri sx = statx_dax(fd);
	enum tri ms = map_sync_ok(fd, len);
	(void)close(fd);

	/* MAP_SYNC is the witness that matters to a pool; statx may only veto it */
	int dax = ms == TRI_YES && sx != TRI_NO;
	printf("%s: kind=dir dax=%s statx=%s map_sync=%s fs=%s free=%" PRIu64,
	       dir, dax ? "yes" : "no", tri_name(sx), tri_name(ms), fs, avail);
	if (dax_opt != NULL)
		printf(" dax_opt=%s", dax_opt);
	putchar('\n');
	return dax ? PROBE_YES : PROBE_NO;
}

/* ---- device DAX ---- */

struct devdax {
	char sys[PATH_MAX]; /* /sys/dev/char/MAJ:MIN or /sys/bus/dax/devices/daxX.Y */
	uint64_t size, align;
	char driver[64];      /* device_dax, kmem, or "" (unbound) */
	char target_node[16]; /* "" when the kernel has no such attribute */
};

static void devdax_read(struct devdax *d)
{
	char path[PATH_MAX + 32];
	(void)snprintf(path, sizeof(path), "%s/size", d->sys);
	if (read_u64(path, &d->size) != 0)
		d->size = 0;
	(void)snprintf(path, sizeof(path), "%s/align", d->sys);
	if (read_u64(path, &d->align) != 0 || d->align == 0)
		d->align = DEVDAX_DEFAULT_ALIGN;
	(void)snprintf(path, sizeof(path), "%s/driver", d->sys);
	link_base(path, d->driver, sizeof(d->driver));
	(void)snprintf(path, sizeof(path), "%s/target_node", d->sys);
	if (read_line(path, d->target_node, sizeof(d->target_node)) != 0)
		d->target_node[0] = '\0';
}

/* the subsystem name of a character device ("dax", "mem", "tty", ...) */
static void chardev_subsystem(dev_t rdev, char *out, size_t len)
{
	char link[96];
	(void)snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		       major(rdev), minor(rdev));
	link_base(link, out, len);
}

/*
 * What other processes hold of a device: the library's pools are open file
 * description locks (F_OFD_SETLK) on ranges of it, one range a process.
 * /proc/locks lists them ("1: OFDLCK ADVISORY  WRITE -1 00:05:567 0 67108863",
 * blocked waiters have "->" after the number and hold nothing) but gives an
 * OFD lock no pid (-1): its holders are the processes whose open file shows
 * the same lock in /proc/PID/fdinfo/FD ("lock:\t..."), or that map the
 * range (the mapping holds the description after the descriptor is closed).
 * POSIX locks (F_SETLK, lockf) conflict with OFD locks and carry their pid;
 * flock(2) locks do not conflict with either and are not counted.
 */
#define MAX_RANGES 64
#define MAX_PIDS 8

struct held {
	uint64_t start, end; /* [start, end); end UINT64_MAX: to EOF */
	int ofd;	     /* OFD (pid from fdinfo/maps), else POSIX */
	unsigned npids;
	long pids[MAX_PIDS];
};

struct usage {
	enum tri in_use;
	int bytes_known; /* /proc/locks read: ranges and bytes are exact */
	unsigned n;
	struct held r[MAX_RANGES];
	uint64_t bytes; /* the union of the ranges, within the device */
};

static void add_pid(struct held *h, long pid)
{
	for (unsigned i = 0; i < h->npids; i++)
		if (h->pids[i] == pid)
			return;
	if (h->npids < MAX_PIDS)
		h->pids[h->npids++] = pid;
}

/* one lock line (of /proc/locks, or fdinfo after "lock:\t"): 1 if it is an
 * OFD or POSIX lock held on (dev, ino), with its type and range */
static int parse_lock(const char *line, const struct stat *st, char *type,
		      size_t tlen, long *pid, uint64_t *start, uint64_t *end)
{
	char t[16], arrow[4], last[24];
	unsigned mj, mn;
	unsigned long long ino, s;
	if (sscanf(line, "%*d: %3s", arrow) == 1 && strcmp(arrow, "->") == 0)
		return 0;
	if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu %llu %23s", t, pid,
		   &mj, &mn, &ino, &s, last) != 7)
		return 0;
	if ((strcmp(t, "OFDLCK") != 0 && strcmp(t, "POSIX") != 0) ||
	    mj != major(st->st_dev) || mn != minor(st->st_dev) ||
	    ino != (unsigned long long)st->st_ino)
		return 0;
	*start = (uint64_t)s;
	if (strcmp(last, "EOF") == 0) {
		*end = UINT64_MAX;
	} else {
		char *e;
		unsigned long long v = strtoull(last, &e, 10);
		if (*e != '\0')
			return 0;
		*end = (uint64_t)v + 1; /* /proc/locks gives the last byte */
	}
	copy_str(type, tlen, t);
	return 1;
}

/* the OFD ranges' holders: fdinfo lock lines, then mappings of the range */
static void ofd_holders(struct usage *u, const struct stat *st)
{
	DIR *proc = opendir("/proc");
	if (proc == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (pid <= 0 || *end != '\0')
			continue;
		char path[PATH_MAX], line[512];
		(void)snprintf(path, sizeof(path), "/proc/%ld/fdinfo", pid);
		DIR *fds = opendir(path); /* another user's: not readable */
		struct dirent *f;
		while (fds != NULL && (f = readdir(fds)) != NULL) {
			if (f->d_name[0] == '.')
				continue;
			(void)snprintf(path, sizeof(path),
				       "/proc/%ld/fdinfo/%s", pid, f->d_name);
			FILE *fi = fopen(path, "re");
			if (fi == NULL)
				continue;
			while (fgets(line, sizeof(line), fi) != NULL) {
				char type[16];
				long p;
				uint64_t s, en;
				if (strncmp(line, "lock:", 5) != 0 ||
				    !parse_lock(line + 5 +
							strspn(line + 5, " \t"),
						st, type, sizeof(type), &p, &s,
						&en) ||
				    strcmp(type, "OFDLCK") != 0)
					continue;
				for (unsigned i = 0; i < u->n; i++)
					if (u->r[i].ofd && u->r[i].start == s &&
					    u->r[i].end == en)
						add_pid(&u->r[i], pid);
			}
			(void)fclose(fi);
		}
		if (fds != NULL)
			(void)closedir(fds);
		(void)snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
		FILE *m = fopen(path, "re");
		while (m != NULL && fgets(line, sizeof(line), m) != NULL) {
			unsigned long lo, hi;
			unsigned long long off, ino;
			unsigned mj, mn;
			if (sscanf(line, "%lx-%lx %*s %llx %x:%x %llu", &lo,
				   &hi, &off, &mj, &mn, &ino) != 6 ||
			    mj != major(st->st_dev) ||
			    mn != minor(st->st_dev) ||
			    ino != (unsigned long long)st->st_ino)
				continue;
			uint64_t mend = (uint64_t)off + (hi - lo);
			for (unsigned i = 0; i < u->n; i++)
				if (u->r[i].ofd && u->r[i].start < mend &&
				    (uint64_t)off < u->r[i].end)
					add_pid(&u->r[i], pid);
		}
		if (m != NULL)
			(void)fclose(m);
	}
	(void)closedir(proc);
}

/* the ranges of the device that other processes hold, and by whom; fd: the
 * open device or -1, asked (F_OFD_GETLK) only when /proc/locks is unreadable */
static void device_usage(const struct stat *st, int fd, uint64_t size,
			 struct usage *u)
{
	memset(u, 0, sizeof(*u));
	u->in_use = TRI_UNKNOWN;
	FILE *f = fopen("/proc/locks", "re");
	if (f == NULL) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fd >= 0 && fcntl(fd, F_OFD_GETLK, &fl) == 0)
			u->in_use = fl.l_type == F_UNLCK ? TRI_NO : TRI_YES;
		return;
	}
	char line[256];
	int any_ofd = 0;
	while (fgets(line, sizeof(line), f) != NULL && u->n < MAX_RANGES) {
		char type[16];
		long pid;
		struct held h = {.npids = 0};
		if (!parse_lock(line, st, type, sizeof(type), &pid, &h.start,
				&h.end))
			continue;
		h.ofd = strcmp(type, "OFDLCK") == 0;
		any_ofd |= h.ofd;
		if (!h.ofd && pid > 0)
			add_pid(&h, pid);
		u->r[u->n++] = h;
	}
	(void)fclose(f);
	u->bytes_known = 1;
	u->in_use = u->n > 0 ? TRI_YES : TRI_NO;
	if (any_ofd)
		ofd_holders(u, st);
	/* sorted by start (insertion: a handful), then the union's length */
	for (unsigned i = 1; i < u->n; i++)
		for (unsigned j = i; j > 0 && u->r[j - 1].start > u->r[j].start;
		     j--) {
			struct held t = u->r[j];
			u->r[j] = u->r[j - 1];
			u->r[j - 1] = t;
		}
	uint64_t upto = 0;
	for (unsigned i = 0; i < u->n; i++) {
		uint64_t s = u->r[i].start > upto ? u->r[i].start : upto;
		uint64_t e = u->r[i].end < size ? u->r[i].end : size;
		if (e > s) {
			u->bytes += e - s;
			upto = e;
		}
	}
}

/* " in_use=yes held=N pids=P,Q": every pid once, "unknown" if a range has none */
static void print_usage(const struct usage *u)
{
	printf(" in_use=%s", tri_name(u->in_use));
	if (!u->bytes_known) {
		printf(" held=unknown pids=unknown");
		return;
	}
	printf(" held=%" PRIu64 " pids=", u->bytes);
	if (u->n == 0) {
		printf("none");
		return;
	}
	long seen[MAX_RANGES * MAX_PIDS];
	unsigned nseen = 0, unknown = 0;
	for (unsigned i = 0; i < u->n; i++) {
		unknown |= u->r[i].npids == 0;
		for (unsigned k = 0; k < u->r[i].npids; k++) {
			unsigned j = 0;
			while (j < nseen && seen[j] != u->r[i].pids[k])
				j++;
			if (j == nseen) {
				printf("%s%ld", nseen ? "," : "",
				       u->r[i].pids[k]);
				seen[nseen++] = u->r[i].pids[k];
			}
		}
	}
	if (unknown)
		printf("%sunknown", nseen ? "," : "");
}

/* " ranges=START+LEN:PID/PID,...": LEN "EOF" for a lock to the end, PID "?"
 * when no process of ours shows it (another user's) */
static void print_ranges(const struct usage *u)
{
	if (!u->bytes_known) {
		printf(" ranges=unknown");
		return;
	}
	printf(" ranges=");
	if (u->n == 0)
		printf("none");
	for (unsigned i = 0; i < u->n; i++) {
		printf("%s%" PRIu64 "+", i ? "," : "", u->r[i].start);
		if (u->r[i].end == UINT64_MAX)
			printf("EOF");
		else
			printf("%" PRIu64, u->r[i].end - u->r[i].start);
		putchar(':');
		if (u->r[i].npids == 0)
			putchar('?');
		for (unsigned k = 0; k < u->r[i].npids; k++)
			printf("%s%ld", k ? "/" : "", u->r[i].pids[k]);
	}
}

/* "pid 1234", "pids 1234, 5678" or "pid unknown" for a message */
static void pids_text(const struct usage *u, char *out, size_t len)
{
	long seen[MAX_RANGES * MAX_PIDS];
	unsigned n = 0;
	for (unsigned i = 0; i < u->n; i++)
		for (unsigned k = 0; k < u->r[i].npids; k++) {
			unsigned j = 0;
			while (j < n && seen[j] != u->r[i].pids[k])
				j++;
			if (j == n)
				seen[n++] = u->r[i].pids[k];
		}
	if (n == 0) {
		copy_str(out, len, "pid unknown");
		return;
	}
	size_t at = (size_t)snprintf(out, len, "%s", n > 1 ? "pids " : "pid ");
	for (unsigned j = 0; j < n && at < len; j++)
		at += (size_t)snprintf(out + at, len - at, "%s%ld",
				       j ? ", " : "", seen[j]);
}

static const char *access_name(const char *dev)
{
	int r = access(dev, R_OK) == 0, w = access(dev, W_OK) == 0;
	return r && w ? "rw" : r ? "ro" : w ? "wo" : "none";
}

/*
 * The one-byte write test: under our own OFD lock on [0, len), so never a
 * byte that a pool (another process's locked range) may be using.  TRI_NO
 * if the mapping fails, TRI_UNKNOWN if the range is held (nothing written).
 */
static enum tri write_test(const char *name, int fd, size_t len)
{
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = 0,
			   .l_len = (off_t)len};
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		if (errno == EAGAIN || errno == EACCES)
			fprintf(stderr,
				"vmmalloc-daxprobe: %s: bytes [0, %zu) are held by another"
				" process: not mapped, not written\n",
				name, len);
		else
			fprintf(stderr,
				"vmmalloc-daxprobe: %s: F_OFD_SETLK on [0, %zu): %s: not"
				" mapped, not written\n",
				name, len, strerror(errno));
		return TRI_UNKNOWN;
	}
	enum tri mapped;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		mapped = TRI_NO;
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: mmap of %zu bytes: %s\n", name,
			len, strerror(errno));
	} else {
		volatile char *c = p;
		char old = c[0];
		c[0] = (char)~old;
		mapped = c[0] == (char)~old ? TRI_YES : TRI_NO;
		c[0] = old;
		(void)munmap(p, len);
	}
	fl.l_type = F_UNLCK;
	(void)fcntl(fd, F_OFD_SETLK, &fl);
	return mapped;
}

/*
 * name: what to print; dev: the character device or NULL (kmem, no node);
 * map: 1 to map one unit and write to it (the single-device probe), 0 (--list).
 */
static int probe_devdax(const char *name, const char *dev,
			const struct stat *st, struct devdax *d, int map)
{
	devdax_read(d);
	enum tri mapped = TRI_UNKNOWN;
	struct usage u = {.in_use = TRI_UNKNOWN};
	int fd = -1, open_err = 0;
	const char *acc = "none";
	if (dev != NULL) {
		acc = access_name(dev);
		fd = open(dev, (map ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			open_err = errno; /* a pool needs read-write */
			if (map &&
			    errno == EACCES) /* enough to ask F_OFD_GETLK */
				fd = open(dev, O_RDONLY | O_CLOEXEC);
		}
		if (!map)
			open_err = strcmp(acc, "rw") == 0 ? 0 : EACCES;
		device_usage(st, fd, d->size, &u);
	}
	/* less than one alignment unit free: no pool of any size fits */
	uint64_t unit = d->align < d->size ? d->align : d->size;
	int all_held = u.bytes_known && d->size > 0 && d->size - u.bytes < unit;
	if (map && open_err == 0 && d->size > 0 && !all_held) {
		/* one alignment unit (the whole device if smaller) */
		size_t len = (size_t)(d->align <= d->size ? d->align : d->size);
		mapped = write_test(name, fd, len);
	}
	if (fd >= 0)
		(void)close(fd);

	int dax = dev != NULL && d->size > 0 && mapped != TRI_NO;
	printf("%s: kind=devdax dax=%s devdax=yes", name, dax ? "yes" : "no");
	if (map)
		printf(" map_shared=%s", tri_name(mapped));
	printf(" size=%" PRIu64 " align=%" PRIu64, d->size, d->align);
	print_usage(&u);
	printf(" access=%s driver=%s", acc, d->driver[0] ? d->driver : "none");
	if (d->target_node[0] != '\0')
		printf(" target_node=%s", d->target_node);
	if (dev == NULL)
		printf(" chardev=none");
	else
		print_ranges(&u);
	putchar('\n');

	char who[160];
	pids_text(&u, who, sizeof(who));
	if (all_held) {
		if (u.bytes >= d->size)
			fprintf(stderr,
				"vmmalloc-daxprobe: %s: in use: other processes hold all of"
				" its %" PRIu64 " bytes (%s)\n",
				name, d->size, who);
		else
			fprintf(stderr,
				"vmmalloc-daxprobe: %s: in use: other processes hold all of"
				" it but %" PRIu64
				" bytes, less than one alignment unit (%s)\n",
				name, d->size - u.bytes, who);
		return PROBE_IN_USE;
	}
	if (u.in_use == TRI_YES && u.bytes_known && d->size > 0)
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: partly in use: %" PRIu64
			" of %" PRIu64
			" bytes held by other processes (%s); a pool takes a free range\n",
			name, u.bytes, d->size, who);
	else if (u.in_use == TRI_YES)
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: partly in use by other processes"
			" (/proc/locks unreadable: how much is unknown)\n",
			name);
	if (open_err != 0) {
		if (map) /* --list: access= says it */
			fprintf(stderr,
				"vmmalloc-daxprobe: %s: open read-write: %s\n",
				name, strerror(open_err));
		return PROBE_ERROR;
	}
	if (dev == NULL)
		return PROBE_NO; /* onlined as system RAM: see its node */
	if (d->size == 0) {
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: device DAX of size 0 (not configured)\n",
			name);
		return PROBE_NO;
	}
	return dax ? PROBE_YES : PROBE_NO;
}

/* map: 1 for the write test, 0 for --list DEV */
static int probe_chardev(const char *dev, const struct stat *st, int map)
{
	char subsys[64];
	chardev_subsystem(st->st_rdev, subsys, sizeof(subsys));
	if (strcmp(subsys, "dax") == 0) {
		struct devdax d = {.size = 0};
		(void)snprintf(d.sys, sizeof(d.sys), "/sys/dev/char/%u:%u",
			       major(st->st_rdev), minor(st->st_rdev));
		return probe_devdax(dev, dev, st, &d, map);
	}
	printf("%s: kind=chardev dax=no devdax=no rdev=%u:%u subsystem=%s\n",
	       dev, major(st->st_rdev), minor(st->st_rdev),
	       subsys[0] ? subsys : "unknown");
	fprintf(stderr,
		"vmmalloc-daxprobe: %s: a character device but not device DAX"
		" (subsystem %s, not dax)\n",
		dev, subsys[0] ? subsys : "unknown");
	return PROBE_NO;
}

/* ---- NUMA nodes ---- */

struct node {
	int exists;
	uint64_t total, free; /* bytes */
	char cpus[256];
};

/* "Node 1 MemTotal:  123456 kB" */
static void node_read(unsigned n, struct node *nd)
{
	char path[96], line[160];
	memset(nd, 0, sizeof(*nd));
	(void)snprintf(path, sizeof(path), NODE_DIR "/node%u/meminfo", n);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	nd->exists = 1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char key[32];
		unsigned long long kb;
		if (sscanf(line, "Node %*u %31[^:]: %llu", key, &kb) != 2)
			continue;
		if (strcmp(key, "MemTotal") == 0)
			nd->total = (uint64_t)kb * 1024;
		else if (strcmp(key, "MemFree") == 0)
			nd->free = (uint64_t)kb * 1024;
	}
	(void)fclose(f);
	(void)snprintf(path, sizeof(path), NODE_DIR "/node%u/cpulist", n);
	if (read_line(path, nd->cpus, sizeof(nd->cpus)) != 0)
		nd->cpus[0] = '\0';
}

/* the dax device onlined as system RAM (driver kmem) onto node n, or "" */
static void node_from_dax(unsigned n, char *out, size_t len)
{
	out[0] = '\0';
	DIR *dir = opendir(DAX_BUS_DIR);
	if (dir == NULL)
		return;
	struct dirent *e;
	while (out[0] == '\0' && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX], val[32], drv[64];
		(void)snprintf(path, sizeof(path), DAX_BUS_DIR "/%s/driver",
			       e->d_name);
		link_base(path, drv, sizeof(drv));
		(void)snprintf(path, sizeof(path),
			       DAX_BUS_DIR "/%s/target_node", e->d_name);
		if (strcmp(drv, "kmem") != 0 ||
		    read_line(path, val, sizeof(val)) != 0)
			continue;
		char *end;
		unsigned long t = strtoul(val, &end, 10);
		if (end != val && *end == '\0' && t == n)
			copy_str(out, len, e->d_name);
	}
	(void)closedir(dir);
}

static int memory_only(const struct node *nd)
{
	return nd->total > 0 && nd->cpus[0] == '\0';
}

static void print_node(unsigned n, const struct node *nd)
{
	char from[64];
	node_from_dax(n, from, sizeof(from));
	printf("node:%u: kind=node exists=yes memory_only=%s mem_total=%" PRIu64
	       " mem_free=%" PRIu64 " cpus=%s",
	       n, memory_only(nd) ? "yes" : "no", nd->total, nd->free,
	       nd->cpus[0] ? nd->cpus : "none");
	if (from[0] != '\0')
		printf(" from=%s", from);
	putchar('\n');
}

/* "node:N", N decimal */
static int parse_node(const char *arg, unsigned *n)
{
	const char *s = arg + strlen("node:");
	if (*s < '0' || *s > '9' || strlen(s) > 6)
		return -1;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0')
		return -1;
	*n = (unsigned)v;
	return 0;
}

static int probe_node(const char *arg)
{
	unsigned n;
	if (parse_node(arg, &n) != 0) {
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: incorrect node (node:N, N a NUMA node"
			" number, e.g. node:1)\n",
			arg);
		return PROBE_ERROR;
	}
	struct node nd;
	node_read(n, &nd);
	if (!nd.exists) {
		fprintf(stderr,
			"vmmalloc-daxprobe: node:%u: NUMA node %u does not exist"
			" (no " NODE_DIR "/node%u)\n",
			n, n, n);
		return PROBE_ERROR;
	}
	print_node(n, &nd);
	if (nd.total == 0) {
		fprintf(stderr, "vmmalloc-daxprobe: node:%u: no memory\n", n);
		return PROBE_NO;
	}
	if (!memory_only(&nd)) {
		fprintf(stderr,
			"vmmalloc-daxprobe: node:%u: has CPUs (%s): an ordinary node,"
			" not memory-only\n",
			n, nd.cpus);
		return PROBE_NO;
	}
	return PROBE_YES;
}

/* ---- --list ---- */

/* the value of a mount's dax option that makes files DAX, or NULL */
static const char *dax_option(const struct mntent *m)
{
	const char *o = hasmntopt(m, "dax");
	if (o == NULL)
		return NULL;
	if (o[3] == ',' || o[3] == '\0')
		return "on";
	if (strncmp(o, "dax=always", 10) == 0 &&
	    (o[10] == ',' || o[10] == '\0'))
		return "always";
	if (strncmp(o, "dax=inode", 9) == 0 && (o[9] == ',' || o[9] == '\0'))
		return "inode";
	return NULL; /* dax=never */
}

static int list_all(void)
{
	unsigned ndirs = 0, ndevs = 0, nnodes = 0;
	FILE *mt = setmntent("/proc/self/mounts", "re");
	if (mt == NULL) {
		fprintf(stderr, "vmmalloc-daxprobe: /proc/self/mounts: %s\n",
			strerror(errno));
		return PROBE_ERROR;
	}
	struct mntent *m;
	while ((m = getmntent(mt)) != NULL) {
		const char *opt = dax_option(m);
		if (opt == NULL)
			continue;
		(void)probe_dir(m->mnt_dir,
				opt); /* prints a line whatever it finds */
		ndirs++;
	}
	(void)endmntent(mt);

	DIR *dir = opendir(DAX_BUS_DIR);
	struct dirent *e;
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		struct devdax d = {.size = 0};
		(void)snprintf(d.sys, sizeof(d.sys), DAX_BUS_DIR "/%s",
			       e->d_name);
		char dev[PATH_MAX];
		(void)snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		struct stat st = {.st_mode = 0};
		int has_dev = stat(dev, &st) == 0 && S_ISCHR(st.st_mode);
		(void)probe_devdax(has_dev ? dev : e->d_name,
				   has_dev ? dev : NULL, &st, &d, 0);
		ndevs++;
	}
	if (dir != NULL)
		(void)closedir(dir);

	dir = opendir(NODE_DIR);
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		unsigned n;
		char tail;
		if (sscanf(e->d_name, "node%u%c", &n, &tail) != 1)
			continue;
		struct node nd;
		node_read(n, &nd);
		if (!nd.exists || !memory_only(&nd))
			continue;
		print_node(n, &nd);
		nnodes++;
	}
	if (dir != NULL)
		(void)closedir(dir);

	printf("list: dir=%u devdax=%u node=%u\n", ndirs, ndevs, nnodes);
	return PROBE_YES;
}

static void usage(FILE *f)
{
	fputs("usage: vmmalloc-daxprobe DIR|/dev/daxX.Y|node:N\n"
	      "       vmmalloc-daxprobe --list [/dev/daxX.Y ...]\n"
	      "  DIR          is the directory on a DAX filesystem (statx + MAP_SYNC)?\n"
	      "  /dev/daxX.Y  device DAX: size and alignment (sysfs), the ranges other\n"
	      "               processes hold (OFD/POSIX locks: in_use, held bytes, pids),\n"
	      "               maps and writes one byte of [0, align) under its own lock\n"
	      "  node:N       NUMA node N: memory, free memory, CPUs, memory-only?\n"
	      "  --list       every DAX-mounted filesystem, every device DAX and every\n"
	      "               memory-only NUMA node, then 'list: dir=N devdax=N node=N';\n"
	      "               with devices: only their lines; never maps nor writes one\n"
	      "  prints one line per object: 'NAME: kind=dir|devdax|chardev|node key=value ...'\n"
	      "  exit status: 0 yes (DAX directory, device DAX with room, memory-only node;\n"
	      "  --list done), 1 no (not DAX, not device DAX, node with CPUs or no memory),\n"
	      "  2 error (bad argument, no such directory/device/node, cannot open or\n"
	      "  create), 3 device DAX wholly in use (less than one\n"
	      "  alignment unit that no other process holds)\n",
	      f);
}

/* --list DEV...: the device lines alone, never mapped nor written; the
 * worst status of them */
static int list_devices(int n, char **devs)
{
	int rc = PROBE_YES;
	for (int i = 0; i < n; i++) {
		struct stat st;
		int r;
		if (stat(devs[i], &st) != 0) {
			fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", devs[i],
				strerror(errno));
			r = PROBE_ERROR;
		} else if (!S_ISCHR(st.st_mode)) {
			fprintf(stderr,
				"vmmalloc-daxprobe: %s: not a character device\n",
				devs[i]);
			r = PROBE_ERROR;
		} else {
			r = probe_chardev(devs[i], &st, 0);
		}
		if (r > rc)
			rc = r;
	}
	return rc;
}

int main(int argc, char *argv[])
{
	if (argc == 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--list"))
		return list_devices(argc - 2, argv + 2);
	if (argc != 2) {
		usage(stderr);
		return PROBE_ERROR;
	}
	if (!strcmp(argv[1], "--list"))
		return list_all();
	if (!strncmp(argv[1], "node:", 5))
		return probe_node(argv[1]);
	if (argv[1][0] == '-') {
		fprintf(stderr, "vmmalloc-daxprobe: unknown option '%s'\n",
			argv[1]);
		usage(stderr);
		return PROBE_ERROR;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", argv[1],
			strerror(errno));
		return PROBE_ERROR;
	}
	if (S_ISCHR(st.st_mode))
		return probe_chardev(argv[1], &st, 1);
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"vmmalloc-daxprobe: %s: not a directory or a character device\n",
			argv[1]);
		return PROBE_ERROR;
	}
	return probe_dir(argv[1], NULL);
}
