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
 *   library assumes too.  The lock test is the library's own: flock(LOCK_EX|
 *   LOCK_NB), held only while the probe maps one alignment unit and flips one
 *   byte back and forth, then released.  A device this user cannot open is
 *   looked up in /proc/locks instead (the holder's pid comes from there too).
 *   A locked device is never mapped: its bytes belong to the holder.
 * - Node: /sys/devices/system/node/nodeN: "meminfo" (MemTotal, MemFree in
 *   kB) and "cpulist" (empty: memory-only).  A node onlined from a device DAX
 *   by dax_kmem names it: the dax device whose target_node is N, driver kmem.
 * - --list never maps nor writes a device: sysfs, flock and /proc/locks only.
 *   It does create (and unlink) a probe file in each DAX mount it can write.
 * - Exit status: 0 yes (DAX directory; device DAX that maps and is free;
 *   memory-only node with memory; --list done), 1 no (directory not on DAX,
 *   character device that is not device DAX or has no size or does not map,
 *   node with CPUs or without memory), 2 error (bad argument, no such
 *   directory/device/node, cannot create a file or open the device),
 *   3 device DAX locked by another process.
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
#include <sys/file.h>
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

enum { PROBE_YES = 0, PROBE_NO = 1, PROBE_ERROR = 2, PROBE_LOCKED = 3 };
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

/* ---- sysfs: small text attributes ---- */

/* the first line of a file, without its newline; 0 or an errno */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return errno;
	int err = 0;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0'; /* an empty attribute (cpulist of a CPU-less node) */
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

/* dax_opt: the mount's dax option for --list, or NULL */
static int probe_dir(const char *dir, const char *dax_opt)
{
	struct statfs sfs;
	if (statfs(dir, &sfs) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", dir, strerror(errno));
		return PROBE_ERROR;
	}
	const char *fs = fs_name((long)sfs.f_type);
	uint64_t avail = (uint64_t)sfs.f_bavail * (uint64_t)sfs.f_bsize;
	int fd = open_probe_file(dir);
	if (fd < 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: cannot create a probe file: %s\n",
			dir, strerror(errno));
		if (dax_opt != NULL) /* still listed: the mount table says dax */
			printf("%s: kind=dir dax=unknown statx=unknown map_sync=unknown fs=%s"
			       " free=%" PRIu64 " dax_opt=%s\n", dir, fs, avail, dax_opt);
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
	printf("%s: kind=dir dax=%s statx=%s map_sync=%s fs=%s free=%" PRIu64, dir,
	       dax ? "yes" : "no", tri_name(sx), tri_name(ms), fs, avail);
	if (dax_opt != NULL)
		printf(" dax_opt=%s", dax_opt);
	putchar('\n');
	return dax ? PROBE_YES : PROBE_NO;
}

/* ---- device DAX ---- */

struct devdax {
	char sys[PATH_MAX];	/* /sys/dev/char/MAJ:MIN or /sys/bus/dax/devices/daxX.Y */
	uint64_t size, align;
	char driver[64];	/* device_dax, kmem, or "" (unbound) */
	char target_node[16];	/* "" when the kernel has no such attribute */
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
 * Who holds a flock on the inode (st_dev, st_ino), from /proc/locks:
 * TRI_YES with *pid set, TRI_NO, or TRI_UNKNOWN when the table is unreadable.
 * Lines: "1: FLOCK  ADVISORY  WRITE 1234 00:05:567 0 EOF" (blocked waiters
 * have "->" after the number and hold nothing).
 */
static enum tri proc_locks_holder(const struct stat *st, long *pid)
{
	FILE *f = fopen("/proc/locks", "re");
	if (f == NULL)
		return TRI_UNKNOWN;
	enum tri found = TRI_NO;
	char line[256];
	while (found != TRI_YES && fgets(line, sizeof(line), f) != NULL) {
		char type[16], arrow[4];
		long p;
		unsigned mj, mn;
		unsigned long long ino;
		if (sscanf(line, "%*d: %3s", arrow) == 1 && strcmp(arrow, "->") == 0)
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &p, &mj, &mn,
			   &ino) != 5)
			continue;
		if (strcmp(type, "FLOCK") == 0 && mj == major(st->st_dev) &&
		    mn == minor(st->st_dev) && ino == (unsigned long long)st->st_ino) {
			found = TRI_YES;
			*pid = p;
		}
	}
	(void)fclose(f);
	return found;
}

static const char *access_name(const char *dev)
{
	int r = access(dev, R_OK) == 0, w = access(dev, W_OK) == 0;
	return r && w ? "rw" : r ? "ro" : w ? "wo" : "none";
}

/*
 * name: what to print; dev: the character device or NULL (kmem, no node);
 * map: 1 to map one unit and write to it (the single-device probe), 0 (--list).
 */
static int probe_devdax(const char *name, const char *dev, const struct stat *st,
			struct devdax *d, int map)
{
	devdax_read(d);
	enum tri locked = TRI_UNKNOWN, mapped = TRI_UNKNOWN;
	long holder = 0;
	int fd = -1, open_err = 0;
	const char *acc = "none";
	if (dev != NULL) {
		acc = access_name(dev);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			open_err = errno; /* a pool needs read-write */
			if (errno == EACCES) /* read-only is enough to test the lock */
				fd = open(dev, O_RDONLY | O_CLOEXEC);
		}
	}
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			locked = TRI_NO;
		} else if (errno == EWOULDBLOCK) {
			locked = TRI_YES;
			(void)proc_locks_holder(st, &holder);
		}
	} else if (dev != NULL) {
		locked = proc_locks_holder(st, &holder);
	}
	if (map && locked == TRI_NO && open_err == 0 && d->size > 0) {
		/* one alignment unit (the whole device if smaller), under our lock */
		size_t len = (size_t)(d->align <= d->size ? d->align : d->size);
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			mapped = TRI_NO;
			fprintf(stderr, "vmmalloc-daxprobe: %s: mmap of %zu bytes: %s\n", name,
				len, strerror(errno));
		} else {
			volatile char *c = p;
			char old = c[0];
			c[0] = (char)~old;
			mapped = c[0] == (char)~old ? TRI_YES : TRI_NO;
			c[0] = old;
			(void)munmap(p, len);
		}
	}
	if (fd >= 0)
		(void)close(fd); /* drops the lock */

	int dax = dev != NULL && d->size > 0 && mapped != TRI_NO;
	printf("%s: kind=devdax dax=%s devdax=yes", name, dax ? "yes" : "no");
	if (map)
		printf(" map_shared=%s", tri_name(mapped));
	printf(" size=%" PRIu64 " align=%" PRIu64 " locked=%s", d->size, d->align,
	       tri_name(locked));
	if (locked == TRI_YES && holder > 0)
		printf(" holder=%ld", holder);
	printf(" access=%s driver=%s", acc, d->driver[0] ? d->driver : "none");
	if (d->target_node[0] != '\0')
		printf(" target_node=%s", d->target_node);
	if (dev == NULL)
		printf(" chardev=none");
	putchar('\n');

	if (locked == TRI_YES) {
		if (holder > 0)
			fprintf(stderr, "vmmalloc-daxprobe: %s: locked by another process (pid %ld)\n",
				name, holder);
		else
			fprintf(stderr, "vmmalloc-daxprobe: %s: locked by another process\n", name);
		return PROBE_LOCKED;
	}
	if (open_err != 0) {
		if (map) /* --list: access=none says it */
			fprintf(stderr, "vmmalloc-daxprobe: %s: open read-write: %s\n", name,
				strerror(open_err));
		return PROBE_ERROR;
	}
	if (dev == NULL)
		return PROBE_NO; /* onlined as system RAM: see its node */
	if (d->size == 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: device DAX of size 0 (not configured)\n",
			name);
		return PROBE_NO;
	}
	return dax ? PROBE_YES : PROBE_NO;
}

static int probe_chardev(const char *dev, const struct stat *st)
{
	char subsys[64];
	chardev_subsystem(st->st_rdev, subsys, sizeof(subsys));
	if (strcmp(subsys, "dax") == 0) {
		struct devdax d = { .size = 0 };
		(void)snprintf(d.sys, sizeof(d.sys), "/sys/dev/char/%u:%u",
			       major(st->st_rdev), minor(st->st_rdev));
		return probe_devdax(dev, dev, st, &d, 1);
	}
	printf("%s: kind=chardev dax=no devdax=no rdev=%u:%u subsystem=%s\n", dev,
	       major(st->st_rdev), minor(st->st_rdev), subsys[0] ? subsys : "unknown");
	fprintf(stderr, "vmmalloc-daxprobe: %s: a character device but not device DAX"
		" (subsystem %s, not dax)\n", dev, subsys[0] ? subsys : "unknown");
	return PROBE_NO;
}

/* ---- NUMA nodes ---- */

struct node {
	int exists;
	uint64_t total, free;	/* bytes */
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
		(void)snprintf(path, sizeof(path), DAX_BUS_DIR "/%s/driver", e->d_name);
		link_base(path, drv, sizeof(drv));
		(void)snprintf(path, sizeof(path), DAX_BUS_DIR "/%s/target_node", e->d_name);
		if (strcmp(drv, "kmem") != 0 || read_line(path, val, sizeof(val)) != 0)
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
	       " mem_free=%" PRIu64 " cpus=%s", n, memory_only(nd) ? "yes" : "no",
	       nd->total, nd->free, nd->cpus[0] ? nd->cpus : "none");
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
		fprintf(stderr, "vmmalloc-daxprobe: %s: incorrect node (node:N, N a NUMA node"
			" number, e.g. node:1)\n", arg);
		return PROBE_ERROR;
	}
	struct node nd;
	node_read(n, &nd);
	if (!nd.exists) {
		fprintf(stderr, "vmmalloc-daxprobe: node:%u: NUMA node %u does not exist"
			" (no " NODE_DIR "/node%u)\n", n, n, n);
		return PROBE_ERROR;
	}
	print_node(n, &nd);
	if (nd.total == 0) {
		fprintf(stderr, "vmmalloc-daxprobe: node:%u: no memory\n", n);
		return PROBE_NO;
	}
	if (!memory_only(&nd)) {
		fprintf(stderr, "vmmalloc-daxprobe: node:%u: has CPUs (%s): an ordinary node,"
			" not memory-only\n", n, nd.cpus);
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
	if (strncmp(o, "dax=always", 10) == 0 && (o[10] == ',' || o[10] == '\0'))
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
		fprintf(stderr, "vmmalloc-daxprobe: /proc/self/mounts: %s\n", strerror(errno));
		return PROBE_ERROR;
	}
	struct mntent *m;
	while ((m = getmntent(mt)) != NULL) {
		const char *opt = dax_option(m);
		if (opt == NULL)
			continue;
		(void)probe_dir(m->mnt_dir, opt); /* prints a line whatever it finds */
		ndirs++;
	}
	(void)endmntent(mt);

	DIR *dir = opendir(DAX_BUS_DIR);
	struct dirent *e;
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		struct devdax d = { .size = 0 };
		(void)snprintf(d.sys, sizeof(d.sys), DAX_BUS_DIR "/%s", e->d_name);
		char dev[PATH_MAX];
		(void)snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		struct stat st = { .st_mode = 0 };
		int has_dev = stat(dev, &st) == 0 && S_ISCHR(st.st_mode);
		(void)probe_devdax(has_dev ? dev : e->d_name, has_dev ? dev : NULL, &st, &d, 0);
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
	      "       vmmalloc-daxprobe --list\n"
	      "  DIR          is the directory on a DAX filesystem (statx + MAP_SYNC)?\n"
	      "  /dev/daxX.Y  device DAX: size and alignment (sysfs), locked by another\n"
	      "               process (flock), maps and writes one alignment unit\n"
	      "  node:N       NUMA node N: memory, free memory, CPUs, memory-only?\n"
	      "  --list       every DAX-mounted filesystem, every device DAX and every\n"
	      "               memory-only NUMA node, then 'list: dir=N devdax=N node=N'\n"
	      "  prints one line per object: 'NAME: kind=dir|devdax|chardev|node key=value ...'\n"
	      "  exit status: 0 yes (DAX directory, free device DAX, memory-only node;\n"
	      "  --list done), 1 no (not DAX, not device DAX, node with CPUs or no memory),\n"
	      "  2 error (bad argument, no such directory/device/node, cannot open or\n"
	      "  create), 3 device DAX locked by another process\n", f);
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
	if (!strcmp(argv[1], "--list"))
		return list_all();
	if (!strncmp(argv[1], "node:", 5))
		return probe_node(argv[1]);
	if (argv[1][0] == '-') {
		fprintf(stderr, "vmmalloc-daxprobe: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return PROBE_ERROR;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: %s\n", argv[1], strerror(errno));
		return PROBE_ERROR;
	}
	if (S_ISCHR(st.st_mode))
		return probe_chardev(argv[1], &st);
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vmmalloc-daxprobe: %s: not a directory or a character device\n",
			argv[1]);
		return PROBE_ERROR;
	}
	return probe_dir(argv[1], NULL);
}
