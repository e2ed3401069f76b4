/*
 * pool.c -- the pool file: an unlinked file in the pool directory (or, for
 * VMMALLOC_POOL_NODE, a memfd bound to the node, or a device DAX named by
 * VMMALLOC_POOL_DIR), mapped MAP_SHARED at an aligned address, backed
 * range by range on demand.
 *
 * NOTES
 * - A device DAX pool (devdax.c reads the device) maps the device itself,
 *   at and in multiples of its alignment.  Its contents outlive every
 *   process, so "backed" means "zeroed by this process": commit zeroes
 *   pages the first time, and since a device has no hole to punch,
 *   decommit is refused (jemalloc then keeps the range committed and
 *   knows it is not zero).  A pool is one range of the device, locked
 *   (lock_range): a second process gets the next free range or, when
 *   none is left, a clear error.  The lock belongs to the open device,
 *   which the mapping holds as well, so it outlives the program closing
 *   our descriptor and goes with the process (exit, crash, exec).  The
 *   kernel refuses a private mapping of a device (fork mode 1), and fork
 *   copies go into a memfd.
 * - A node pool is the same machinery on a memfd: mbind on its mapping
 *   sets the shmem object's policy (node.c), so fallocate backs it from
 *   the node, MADV_REMOVE gives pages back to it, and the size stays a hard
 *   bound.  Its fork copies are memfds bound the same way, and each new
 *   mapping (private remap, the child's adopted copy) is bound again.
 * - O_TMPFILE first; mkstemp+unlink only where the filesystem refuses it,
 *   with every signal blocked in between so no name is ever left behind.
 * - The fd is close-on-exec: an exec'd child never pins the pool's space.
 * - The file is sparse: vmm_pool_commit backs ranges with fallocate, so a
 *   full filesystem becomes ENOMEM instead of SIGBUS on a page fault.  It
 *   backs whole granules (VMM_POOL_GRANULE) ahead of need, and decommit
 *   punches a granule's unused rest with the range, so the file holds at
 *   most the committed pages rounded out to granules.
 * - VMMALLOC_POOL_LAZY=1 (p->lazy) gives that up for speed where large
 *   blocks are barely touched: commit and fork copies allocate no blocks,
 *   the first write to a page does (on tmpfs that is RAM), and a full
 *   filesystem is SIGBUS on that write.  The bitmaps keep their meaning
 *   (committed; "backed" = may hold blocks), so decommit still punches and
 *   a copy still skips what was never committed; it reads only what the
 *   file holds (copy_held), as reading a hole would allocate it.
 * - Descriptors belong to the program: it may close ours (closefrom,
 *   close_range), dup2 its own file over the number, or reuse the number.
 *   So the descriptor lives at a high number, and is used only after
 *   fstat says it is still our file; once it is not, the number is never
 *   touched again.  Nothing needs it: decommit is MADV_REMOVE on the
 *   mapping, commit falls back to MADV_POPULATE_WRITE, and fork copies
 *   read the mapping.  Which pages are backed is kept in a bitmap (one bit
 *   a page, anonymous and lazily touched), so a copy never reads a hole.
 * - On a filesystem with a page cache (not tmpfs, a memfd or DAX) a fault
 *   fills the page cache one granule at a time (advise): reading around
 *   the faulting page zero-filled megabytes on a disk filesystem, and its
 *   large folios reached past what commit had backed.
 * - The mapping is never unmapped: late destructors, stdio buffers and the
 *   dynamic linker keep pointers into it until the process is gone.
 * - No allocation, no stdio: this runs while malloc is being initialised and
 *   while jemalloc's fork handlers hold all of its locks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "track.h"
#include "vmm.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

struct vmm_pool vmm_pool = {.fd = -1, .node = -1};

/*
 * Moves a new descriptor of ours high, out of the way of programs that
 * dup2 onto small numbers or expect open() to return 3: the highest free
 * number below min(RLIMIT_NOFILE, 1024) that F_DUPFD_CLOEXEC gives.
 */
static int move_high(int fd)
{
	struct rlimit rl;
	int cap = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)cap)
		cap = (int)rl.rlim_cur;
	for (int min = cap - 1, tries = 0; min > fd && tries < 8;
	     min -= 16, tries++) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, min);
		if (high >= 0) {
			close(fd);
			return high;
		}
	}
	return fd;
}

/* records what fd is, so that own_fd() can tell it from another file */
static void adopt_fd(struct vmm_pool *p, int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0) {
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	atomic_store_explicit(&p->fd, fd, memory_order_relaxed);
}

/*
 * The pool's descriptor while it still names the pool file; -1 once the
 * program has closed it or put another file under its number, from then
 * on for good.
 */
static int own_fd(struct vmm_pool *p)
{
	int fd = atomic_load_explicit(&p->fd, memory_order_relaxed);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_ino == p->ino && st.st_dev == p->dev)
		return fd;
	atomic_store_explicit(&p->fd, -1, memory_order_relaxed);
	return -1;
}

/* ---- which pages are backed: one bit a page ---- */

static bool map_backed(struct vmm_pool *p)
{
	size_t words = (p->size / p->page + 63) / 64;
	size_t bytes = words * sizeof(uint64_t);
	/* both bitmaps in one mapping: backed, then committed */
	void *m = mmap(NULL, 2 * bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	p->backed = m;
	p->committed = (_Atomic uint64_t *)((char *)m + bytes);
	p->backed_bytes = bytes;
	return true;
}

/* sets or clears the bits of pages [first, end) in map */
static void mark(_Atomic uint64_t *map, size_t first, size_t end, bool set)
{
	for (size_t i = first; i < end;) {
		size_t w = i / 64, bit = i % 64;
		size_t n = end - i < 64 - bit ? end - i : 64 - bit;
		uint64_t bits = n == 64 ? ~(uint64_t)0
					: (((uint64_t)1 << n) - 1) << bit;
		/* other threads may change the other bits of a shared word */
		if (set)
			atomic_fetch_or_explicit(&map[w], bits,
						 memory_order_relaxed);
		else
			atomic_fetch_and_explicit(&map[w], ~bits,
						  memory_order_relaxed);
		i += n;
	}
}

/* the first page in [i, end) whose bit in map is `set`; end if none */
static size_t find_page(_Atomic uint64_t *map, size_t i, size_t end, bool set)
{
	while (i < end) {
		uint64_t w = atomic_load_explicit(&map[i / 64],
						  memory_order_relaxed);
		w = (set ? w : ~w) >> (i % 64);
		if (w != 0) {
			i += (size_t)__builtin_ctzll(w);
			return i < end ? i : end;
		}
		i = (i / 64 + 1) * 64;
	}
	return end;
}

/* the next run of backed pages at or after page *pos: [*pos, *end) */
static bool next_backed(const struct vmm_pool *p, size_t *pos, size_t *end)
{
	size_t pages = p->size / p->page;
	size_t i = find_page(p->backed, *pos, pages, true);
	if (i >= pages)
		return false;
	*pos = i;
	*end = find_page(p->backed, i, pages, false);
	return true;
}

size_t vmm_pool_backed_bytes(const struct vmm_pool *p)
{
	size_t total = 0, pos = 0, end;
	while (next_backed(p, &pos, &end)) {
		total += (end - pos) * p->page;
		pos = end;
	}
	return total;
}

static int open_mkstemp(const char *dir)
{
	static const char tmpl[] = "/.vmmalloc.XXXXXX";
	char path[PATH_MAX];
	size_t len = strlen(dir);
	if (len + sizeof(tmpl) > sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len);
	memcpy(path + len, tmpl, sizeof(tmpl));

	/* no signal may land between creating and unlinking the name */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	mode_t omask = umask(077);
	int fd = mkostemp(path, O_CLOEXEC);
	int err = errno;
	umask(omask);
	if (fd >= 0 && unlink(path) != 0) {
		err = errno;
		close(fd);
		fd = -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return fd >= 0 ? fd : -err;
}

static int open_tmpfile_low(const char *dir, unsigned flags)
{
	if (flags & VMM_POOL_FORCE_MKSTEMP)
		return open_mkstemp(dir);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	int err = errno;
	/* only "not supported here" falls back; real errors stop */
	if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL)
		return -err;
	fd = open_mkstemp(dir);
	/*
	 * The directory exists (O_TMPFILE said so), so ENOENT from the
	 * fallback means "no files can be made here" (/proc, /sys): report
	 * the first error, which says so.
	 */
	return fd == -ENOENT ? -err : fd;
}

static int open_tmpfile(const char *dir, unsigned flags)
{
	int fd = open_tmpfile_low(dir, flags);
	return fd >= 0 ? move_high(fd) : fd;
}

/* a file of `size` bytes would pass RLIMIT_FSIZE (else: SIGXFSZ) */
bool vmm_pool_size_allowed(size_t size, size_t *limit)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (rlim_t)size)
		return true;
	*limit = (size_t)rl.rlim_cur;
	return false;
}

/* whether the file is on DAX: the same statx test as vmmalloc-daxprobe */
static int is_dax(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0 ||
	    !(stx.stx_attributes_mask & STATX_ATTR_DAX))
		return -1;
	return (stx.stx_attributes & STATX_ATTR_DAX) != 0;
}

/* whether fd is on tmpfs (a memfd is too) */
static bool is_shmem(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/* maps fd from offset off MAP_SHARED at an address aligned to `align` */
static char *map_aligned(int fd, off_t off, size_t size, size_t align)
{
	size_t span = size + align;
	char *res = mmap(NULL, span, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	char *base = (char *)VMM_ALIGN_UP((uintptr_t)res, align);
	char *map = mmap(base, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, off);
	if (map == MAP_FAILED) {
		int err = errno;
		munmap(res, span);
		errno = err;
		return NULL;
	}
	if (base > res)
		munmap(res, (size_t)(base - res));
	size_t tail = (size_t)(res + span - (base + size));
	if (tail > 0)
		munmap(base + size, tail);
	return base;
}

/*
 * Maps a pool of `size` bytes of fd from offset off, for file, node and
 * device pools alike: at a 1 GiB boundary for pools of 1 GiB or more,
 * else -- or when the address space has no such room -- at 2 MiB; never
 * below `unit`, the alignment the file demands (a device DAX's, else a
 * page).
 */
static char *map_pool(int fd, off_t off, size_t size, size_t unit)
{
	size_t want = size >= VMM_GiB ? VMM_GiB : 2 * VMM_MiB;
	char *base = map_aligned(fd, off, size, want > unit ? want : unit);
	if (base == NULL && want > 2 * VMM_MiB && unit < want)
		base = map_aligned(fd, off, size,
				   unit > 2 * VMM_MiB ? unit : 2 * VMM_MiB);
	return base;
}

/* the pages [*first, *end) of a byte range of the pool */
static void page_range(const struct vmm_pool *p, const void *addr, size_t len,
		       size_t *first, size_t *end)
{
	*first = (size_t)((const char *)addr - p->base) / p->page;
	*end = *first + (len + p->page - 1) / p->page;
}

/* the whole granules [*gfirst, *gend) around pages [first, end), within
 * the pool (its last granule may be short) */
static void granule_range(const struct vmm_pool *p, size_t first, size_t end,
			  size_t *gfirst, size_t *gend)
{
	size_t gp = VMM_POOL_GRANULE / p->page, pages = p->size / p->page;
	*gfirst = first / gp * gp;
	*gend = (end + gp - 1) / gp * gp;
	if (*gend > pages)
		*gend = pages;
}

/*
 * How a fault fills the page cache, on a filesystem that has one.  By
 * default the kernel reads a file mapping around each faulting page
 * (read_ahead_kb: 128 KiB by default, 8 MiB on some virtual disks), and
 * for the pool's unwritten blocks that zero-fills page cache no one asked
 * for: `python3 -c pass` touches 280 pool pages and got 2,048 pages of
 * cache on ext4.  Worse, since Linux 6.16 ext4 reads into large folios,
 * and a write to a folio needs blocks for all of its pages: a folio that
 * reached past what commit had backed (into the granule where the
 * filesystem ran out) made a full filesystem SIGBUS on a write to a
 * backed page (functional.fullfs.ext4).
 * So the whole mapping is MADV_RANDOM (no reading around) and
 * MADV_HUGEPAGE: a fault then reads the one aligned 2 MiB window around
 * it, which is a granule -- the unit commit backs -- into one folio (or
 * 512 pages where the filesystem has no large folios).  A granule that
 * commit could back only in part (vmm_pool_commit's fallback) faults page
 * by page (MADV_NOHUGEPAGE), on this mapping and on a mode-2 child's
 * copy (a private remap's writes go to anonymous copies instead).
 * Measured on ext4 (interleaved runs, median): `python3 -c pass`
 * +7.1-12.4 -> +2.2-2.5 ms over no preload, `ls` unchanged (+4.2), and
 * 100 MiB of fresh pool written end to end 98.5 -> 16.6 ms.
 * tmpfs, memfds and DAX read nothing around, and on tmpfs a huge=advise
 * mount would let khugepaged refill the holes decommit punched: none of
 * this applies there.  Advice belongs to a mapping: each new one gets it.
 */
static void small_folios(const struct vmm_pool *p, size_t first, size_t end)
{
	(void)madvise(p->base + first * p->page, (end - first) * p->page,
		      MADV_NOHUGEPAGE);
}

/*
 * partial: look for granules backed in part, in a mode-2 child's copy.
 * Only there: a new pool has nothing backed, and a private remap's writes
 * go to copies in anonymous memory; the scan reads the whole bitmap, one
 * bit a pool page, and start-up must not grow with the pool size
 * (functional.startsize).
 */
static void advise(const struct vmm_pool *p, bool partial)
{
	if (!p->page_cache)
		return;
	(void)madvise(p->base, p->size, MADV_RANDOM);
	(void)madvise(p->base, p->size, MADV_HUGEPAGE);
	if (!partial)
		return;
	size_t pages = p->size / p->page;
	for (size_t i = 0;
	     (i = find_page(p->backed, i, pages, true)) < pages;) {
		size_t g, gend;
		granule_range(p, i, i + 1, &g, &gend);
		if (find_page(p->backed, g, gend, false) < gend)
			small_folios(p, g, gend);
		i = gend;
	}
}

/* a memfd for a node pool or its fork copy: no name in any directory */
static int open_memfd(void)
{
	int fd = memfd_create("vmmalloc", MFD_CLOEXEC);
	return fd >= 0 ? move_high(fd) : -errno;
}

/* sizes fd, maps it at an aligned address and makes it the pool; on a
 * node pool binds the mapping (and so the memfd) to the node first */
static int create_on(struct vmm_pool *p, int fd, size_t size, int node)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (ftruncate(fd, (off_t)size) != 0) {
		int err = errno;
		close(fd);
		return err;
	}
	size_t psize = size & ~(page - 1);
	char *base = map_pool(fd, 0, psize, page);
	if (base == NULL) {
		int err = errno;
		close(fd);
		return err;
	}
	if (node >= 0) {
		int err = vmm_node_bind(base, psize, (unsigned)node);
		if (err != 0) {
			munmap(base, psize);
			close(fd);
			return err;
		}
	}
	p->page = page;
	p->size = psize;
	if (!map_backed(p)) {
		int err = errno;
		munmap(base, psize);
		close(fd);
		return err;
	}
	adopt_fd(p, fd);
	p->node = node;
	p->memfd_copies = node >= 0;
	p->dax = node >= 0 ? 0 : is_dax(fd);
	p->page_cache = node < 0 && p->dax != 1 && !is_shmem(fd);
	p->file_size = size;
	p->private_map = false;
	p->can_fallocate = true;
	p->base = base;
	advise(p, false);
	return 0;
}

int vmm_pool_create(struct vmm_pool *p, const char *dir, size_t size,
		    unsigned flags)
{
	size_t limit;
	if (!vmm_pool_size_allowed(size, &limit))
		return EFBIG;
	int fd = open_tmpfile(dir, flags);
	if (fd < 0)
		return -fd;
	return create_on(p, fd, size, -1);
}

int vmm_pool_create_node(struct vmm_pool *p, unsigned node, size_t size)
{
	size_t limit;
	if (!vmm_pool_size_allowed(size, &limit))
		return EFBIG;
	int fd = open_memfd();
	if (fd < 0)
		return -fd;
	return create_on(p, fd, size, (int)node);
}

/*
 * Takes the first range of the device that no other process holds: the
 * device is cut into ranges of the pool's size, each a lock of its own, so
 * that several processes (a program and the programs it runs) can have
 * pools on one device, never sharing a byte.  The lock is an open file
 * description lock (F_OFD_SETLK) on the range: the mapping holds the
 * description, so it lasts until the process has neither descriptor nor
 * mapping, and it conflicts within one process too.
 */
static int lock_range(int fd, size_t psize, uint64_t dev_size, off_t *off)
{
	for (uint64_t at = 0; at + psize <= dev_size; at += psize) {
		struct flock fl = {.l_type = F_WRLCK,
				   .l_whence = SEEK_SET,
				   .l_start = (off_t)at,
				   .l_len = (off_t)psize};
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
			*off = (off_t)at;
			return 0;
		}
		if (errno != EAGAIN && errno != EACCES)
			return errno;
	}
	return EBUSY;
}

int vmm_pool_create_device(struct vmm_pool *p, const char *path, size_t size,
			   size_t align, uint64_t dev_size)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	fd = move_high(fd);
	size_t psize = size / align * align;
	off_t off = 0;
	int err = psize > 0 ? lock_range(fd, psize, dev_size, &off) : EINVAL;
	if (err != 0) {
		close(fd);
		return err;
	}
	char *base = map_pool(fd, off, psize, align);
	if (base == NULL) {
		err = errno;
		close(fd);
		return err;
	}
	p->dev_offset = (uint64_t)off;
	p->page = (size_t)sysconf(_SC_PAGESIZE);
	p->size = psize;
	if (!map_backed(p)) {
		err = errno;
		munmap(base, psize);
		close(fd);
		return err;
	}
	adopt_fd(p, fd);
	p->node = -1;
	p->dax = 1;
	p->devdax = true;
	p->memfd_copies = true;
	p->file_size = psize;
	p->private_map = false;
	p->can_fallocate = false;
	p->base = base;
	return 0;
}

void vmm_pool_destroy(struct vmm_pool *p)
{
	munmap(p->base, p->size);
	munmap((void *)p->backed, 2 * p->backed_bytes);
	int fd = own_fd(p);
	if (fd >= 0)
		close(fd);
	p->fd = -1;
}

/* backs [addr, addr+len): fallocate through our descriptor, or faulting
 * the pages in through the mapping once the descriptor is gone; nothing
 * when lazy (the first write allocates the block) */
static int back(struct vmm_pool *p, void *addr, size_t len)
{
	if (!p->can_fallocate || p->lazy)
		return 0;
	/* a node short of memory: ENOMEM now, not the OOM killer later */
	if (p->node >= 0) {
		int err = vmm_node_room((unsigned)p->node, len);
		if (err != 0)
			return err;
	}
	int fd = own_fd(p);
	if (fd >= 0) {
		off_t off = (off_t)((char *)addr - p->base);
		if (fallocate(fd, 0, off, (off_t)len) == 0)
			return 0;
		int err = errno;
		if (err != EOPNOTSUPP)
			return err;
		/* pages are then backed by the first write, as the original */
		p->can_fallocate = false;
		return 0;
	}
	if (madvise(addr, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	/* EFAULT: a page could not be backed (it would have been SIGBUS) */
	return errno == EFAULT ? ENOSPC : errno;
}

/*
 * A device is always backed, but holds what its last user wrote: zeroes
 * the pages of [first, end) that this process has not zeroed yet.  Only
 * those: the others may hold live blocks (a range can reach from a
 * granule in use into a fresh one).
 */
static void zero_fresh(struct vmm_pool *p, size_t first, size_t end)
{
	VMM_TRACK_QUIET_BEGIN();
	for (size_t i = first;
	     (i = find_page(p->backed, i, end, false)) < end;) {
		size_t j = find_page(p->backed, i, end, true);
		memset(p->base + i * p->page, 0, (j - i) * p->page);
		i = j;
	}
	VMM_TRACK_QUIET_END();
}

/*
 * The engine commits slab by slab (4 KiB to a few pages at a time); one
 * fallocate each was 51,000 calls for a 400k-entry Python dict.  So
 * commit backs the whole aligned granule(s) around the range, once: later
 * commits inside it find their pages backed and make no call.  Only the
 * committed bits say what the engine uses; decommit gives back the range
 * and whatever of its granules is then left unused (backed ahead, never
 * committed), so the file holds at most the committed pages rounded out
 * to granules.  Callers serialise commit and decommit (engine.c's lock):
 * a commit that finds its pages backed must not race a decommit that is
 * about to punch them.
 */
int vmm_pool_commit(struct vmm_pool *p, void *addr, size_t len)
{
	if (p->private_map)
		return 0;
	size_t first, end;
	page_range(p, addr, len, &first, &end);
	if (find_page(p->backed, first, end, false) < end) {
		size_t gfirst, gend;
		granule_range(p, first, end, &gfirst, &gend);
		int err = ENOSPC;
		if (p->devdax) {
			zero_fresh(p, gfirst, gend);
			err = 0;
		} else if (gend - gfirst > end - first) {
			/* ahead; exact if it fails */
			err = back(p, p->base + gfirst * p->page,
				   (gend - gfirst) * p->page);
		}
		if (err == 0) {
			mark(p->backed, gfirst, gend, true);
		} else {
			err = back(p, addr, len);
			if (err != 0)
				return err;
			mark(p->backed, first, end, true);
			if (p->page_cache) /* a granule backed in part */
				small_folios(p, gfirst, gend);
		}
	}
	mark(p->committed, first, end, true);
	return 0;
}

int vmm_pool_decommit(struct vmm_pool *p, void *addr, size_t len)
{
	/*
	 * After a private remap a hole would zero pages another process has
	 * not copied yet: refuse, and jemalloc keeps the range committed.
	 */
	if (p->private_map || p->keep_backed || p->devdax)
		return EBUSY;
	size_t first, end;
	page_range(p, addr, len, &first, &end);
	/* widen over the unused rest of the first and last granule */
	size_t lo = first, hi = end, gfirst, gend;
	granule_range(p, first, end, &gfirst, &gend);
	if (find_page(p->committed, gfirst, first, true) == first)
		lo = find_page(p->backed, gfirst, first, true);
	if (find_page(p->committed, end, gend, true) == gend) {
		/* the last backed page of [end, gend), if any */
		size_t i = end, last = end;
		while ((i = find_page(p->backed, i, gend, true)) < gend) {
			last = find_page(p->backed, i, gend, false);
			i = last;
		}
		hi = last;
	}
	/* the file's blocks go back, reached through the mapping: no fd */
	if (madvise(p->base + lo * p->page, (hi - lo) * p->page, MADV_REMOVE) !=
	    0)
		return errno;
	mark(p->committed, first, end, false);
	mark(p->backed, lo, hi, false);
	return 0;
}

/*
 * MAP_NORESERVE: a writable private mapping of a large pool would
 * otherwise be charged in full against the overcommit limit, and fork
 * mode 1 failed with ENOMEM for a 64 GiB pool on a 24 GiB machine.
 * EBADF: the program took our descriptor; fork.c gives the child a copy.
 */
int vmm_pool_remap_private(struct vmm_pool *p)
{
	if (p->private_map)
		return 0;
	if (p->devdax)
		return ENODEV; /* refused by the kernel, and at start-up */
	int fd = own_fd(p);
	if (fd < 0)
		return EBADF;
	void *m = mmap(p->base, p->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	p->private_map = true;
	advise(p, false);
	/* a new mapping has no policy: its copy-on-write pages must stay on
	 * the node too (the pool's own pages are bound already) */
	if (p->node >= 0)
		return vmm_node_bind(p->base, p->size, (unsigned)p->node);
	return 0;
}

/* fallocates [off, off+len) of fd; 0, or the errno of a real failure */
static int reserve(int fd, off_t off, off_t len)
{
	if (len <= 0 || fallocate(fd, 0, off, len) == 0 || errno == EOPNOTSUPP)
		return 0;
	return errno;
}

static bool page_is_zero(const char *page, size_t len)
{
	const uint64_t *w = (const uint64_t *)(const void *)page;
	for (size_t i = 0; i < len / sizeof(*w); i++)
		if (w[i] != 0)
			return false;
	return true;
}

static int write_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);
		if (n <= 0)
			return n < 0 ? errno : ENOSPC;
		buf += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Copies pages [first, end) from src, which holds page first at its start,
 * into fd at the pages' own offsets, skipping runs of more than COPY_GAP
 * pages that read as zeros (the clone reads zeros there already, and
 * writing them would only turn reserved blocks into written ones).
 * Shorter gaps are written with the data around them: a live heap is
 * full of them (the zero tail of a block, a page of padding before a large
 * one), and with 100 MiB live, one write per run was 1,650 writes a fork
 * where 19 now do: on ext4 41 -> 28 ms a fork, on tmpfs no slower.
 */
#define COPY_GAP 16

static int copy_from(const char *src, size_t page, int fd, size_t first,
		     size_t end)
{
	size_t start = first, last = first; /* [start, last): to be written */
	for (size_t i = first; i < end; i++) {
		if (page_is_zero(src + (i - first) * page, page))
			continue;
		/* joins the run: a short gap, 8 MiB a write at most */
		if (last > start && i - last <= COPY_GAP &&
		    i + 1 - start <= 2048) {
			last = i + 1;
			continue;
		}
		if (last > start) {
			int err = write_all(fd, src + (start - first) * page,
					    (last - start) * page,
					    (off_t)(start * page));
			if (err != 0)
				return err;
		}
		start = i;
		last = i + 1;
	}
	if (last == start)
		return 0;
	return write_all(fd, src + (start - first) * page,
			 (last - start) * page, (off_t)(start * page));
}

/* the bounce buffer of a copy the race detectors must not see */
#define BOUNCE_SIZE ((size_t)2 << 20)

/*
 * Copies the backed pages of [first, end) from the mapping.  With a bounce
 * buffer (only under helgrind and drd), the pages are first read through
 * the kernel, process_vm_readv of our own memory, which the tools do not
 * count as this thread's loads: the copy races by design with the
 * program's threads writing their blocks (docs/fork.md), and a read the
 * tools recorded here would be reported against the next such write, even
 * one made long after the fork.  Where the kernel refuses (a seccomp
 * filter), the rest is read from the mapping as without tools.
 */
static int copy_run(const struct vmm_pool *p, int fd, size_t first, size_t end,
		    char *bounce)
{
	size_t per = BOUNCE_SIZE / p->page;
	for (; bounce != NULL && first < end; first += per) {
		size_t n = end - first < per ? end - first : per;
		struct iovec to = {bounce, n * p->page};
		struct iovec from = {p->base + first * p->page, n * p->page};
		if (process_vm_readv(getpid(), &to, 1, &from, 1, 0) !=
		    (ssize_t)(n * p->page))
			break;
		int err = copy_from(bounce, p->page, fd, first, first + n);
		if (err != 0)
			return err;
	}
	if (first >= end)
		return 0;
	return copy_from(p->base + first * p->page, p->page, fd, first, end);
}

/*
 * Binds the whole of memfd fd to a node through a mapping made for that
 * alone: the policy belongs to the shmem object and outlives the mapping,
 * so the copy's pages -- allocated by the parent's fallocate and pwrite
 * below, under the parent's own policy otherwise -- come from the node.
 */
static int bind_fd(int fd, size_t size, unsigned node)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	int err = vmm_node_bind(m, size, node);
	munmap(m, size);
	return err;
}

/*
 * Copies the backed pages of [first, end) that the pool file holds.  A
 * lazy pool's committed pages get blocks only when written, and reading a
 * hole through the mapping gives it one -- on tmpfs a page of RAM for each
 * page committed and never written, and SIGBUS in the parent when the
 * filesystem is full -- so its copy reads only the file's data ranges
 * (SEEK_DATA, SEEK_HOLE).  Every other pool is backed where committed, and
 * so is a lazy one whose descriptor the program took: all is read.
 */
static int copy_held(struct vmm_pool *p, int fd, size_t first, size_t end,
		     char *bounce)
{
	int pfd = p->lazy ? own_fd(p) : -1;
	off_t at = (off_t)(first * p->page), stop = (off_t)(end * p->page);
	while (pfd >= 0 && at < stop) {
		off_t data = lseek(pfd, at, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0; /* no data from here to the end of the file */
		if (data < 0)
			break; /* cannot tell: read the rest */
		if (data >= stop)
			return 0;
		off_t hole = lseek(pfd, data, SEEK_HOLE);
		if (hole < 0 || hole > stop)
			hole = stop;
		size_t from = (size_t)data / p->page;
		size_t to = ((size_t)hole + p->page - 1) / p->page;
		int err = copy_run(p, fd, from, to, bounce);
		if (err != 0)
			return err;
		at = (off_t)(to * p->page);
	}
	if (at >= stop)
		return 0;
	return copy_run(p, fd, (size_t)at / p->page, end, bounce);
}

int vmm_pool_clone(struct vmm_pool *p, const char *dir)
{
	size_t limit;
	if (!vmm_pool_size_allowed(p->file_size, &limit))
		return -EFBIG;
	int fd = p->memfd_copies ? open_memfd() : open_tmpfile(dir, 0);
	if (fd < 0)
		return fd;
	int err = 0;
	if (ftruncate(fd, (off_t)p->file_size) != 0) {
		err = errno;
		goto fail;
	}
	/* a node pool's copy: its pages on the node before any is written,
	 * and refused (mode 3: private instead) if the node has no room */
	if (p->node >= 0) {
		err = bind_fd(fd, p->file_size, (unsigned)p->node);
		if (err == 0)
			err = vmm_node_room((unsigned)p->node,
					    vmm_pool_backed_bytes(p));
		if (err != 0)
			goto fail;
	}
	/*
	 * Every backed range gets blocks first (what is committed in the
	 * parent is committed in the child, so a full filesystem fails here,
	 * not later with SIGBUS), then its data is copied from the mapping.
	 */
	char *bounce = NULL;
	if (vmm_track_hide_reads()) {
		bounce = mmap(NULL, BOUNCE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (bounce == MAP_FAILED)
			bounce = NULL;
	}
	size_t pos = 0, end;
	VMM_TRACK_QUIET_BEGIN();
	while (next_backed(p, &pos, &end)) {
		err = p->lazy ? 0
			      : reserve(fd, (off_t)(pos * p->page),
					(off_t)((end - pos) * p->page));
		if (err == 0)
			err = copy_held(p, fd, pos, end, bounce);
		if (err != 0)
			break;
		pos = end;
	}
	VMM_TRACK_QUIET_END();
	if (bounce != NULL)
		munmap(bounce, BOUNCE_SIZE);
	if (err != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -err;
}

int vmm_pool_adopt(struct vmm_pool *p, int fd)
{
	void *m = mmap(p->base, p->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	advise(p, true);
	if (p->node >= 0) {
		int err = vmm_node_bind(p->base, p->size, (unsigned)p->node);
		if (err != 0)
			return err;
	}
	int old = own_fd(p);
	if (old >= 0)
		close(old); /* only ever our own file */
	adopt_fd(p, fd);
	p->private_map = false;
	if (p->devdax) { /* the child's pool is now the memfd copy */
		p->devdax = false;
		p->dax = 0;
		p->can_fallocate = true;
	}
	return 0;
}
