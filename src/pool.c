/*
 * pool.c -- the pool file: an unlinked file in the pool directory, mapped
 * MAP_SHARED at an aligned address, backed range by range on demand.
 *
 * NOTES
 * - O_TMPFILE first; mkstemp+unlink only where the filesystem refuses it,
 *   with every signal blocked in between so no name is ever left behind.
 * - The fd is close-on-exec: an exec'd child never pins the pool's space.
 * - The file is sparse: vmm_pool_commit backs ranges with fallocate, so a
 *   full filesystem becomes ENOMEM instead of SIGBUS on a page fault.
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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>

#include "vmm.h"

struct vmm_pool vmm_pool = {.fd = -1};

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

static int open_tmpfile(const char *dir, unsigned flags)
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

/* whether the file is on DAX: the same statx test as vmmalloc-daxprobe */
static int is_dax(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0 ||
	    !(stx.stx_attributes_mask & STATX_ATTR_DAX))
		return -1;
	return (stx.stx_attributes & STATX_ATTR_DAX) != 0;
}

/* maps fd MAP_SHARED at an address aligned to `align` */
static char *map_aligned(int fd, size_t size, size_t align)
{
	size_t span = size + align;
	char *res = mmap(NULL, span, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	char *base = (char *)VMM_ALIGN_UP((uintptr_t)res, align);
	char *map = mmap(base, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0);
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

int vmm_pool_create(struct vmm_pool *p, const char *dir, size_t size,
		    unsigned flags)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int fd = open_tmpfile(dir, flags);
	if (fd < 0)
		return -fd;
	if (ftruncate(fd, (off_t)size) != 0) {
		int err = errno;
		close(fd);
		return err;
	}
	size_t psize = size & ~(page - 1);
	size_t align = size >= VMM_GiB ? VMM_GiB : 2 * VMM_MiB;
	char *base = map_aligned(fd, psize, align);
	if (base == NULL && align > 2 * VMM_MiB)
		base = map_aligned(fd, psize, 2 * VMM_MiB);
	if (base == NULL) {
		int err = errno;
		close(fd);
		return err;
	}
	p->fd = fd;
	p->dax = is_dax(fd);
	p->file_size = size;
	p->size = psize;
	p->private_map = false;
	p->can_fallocate = true;
	p->base = base;
	return 0;
}

int vmm_pool_commit(struct vmm_pool *p, void *addr, size_t len)
{
	if (p->private_map || !p->can_fallocate)
		return 0;
	off_t off = (off_t)((char *)addr - p->base);
	if (fallocate(p->fd, 0, off, (off_t)len) == 0)
		return 0;
	int err = errno;
	if (err == EOPNOTSUPP) {
		/* pages are then backed by the first write, as the original */
		p->can_fallocate = false;
		return 0;
	}
	return err;
}

int vmm_pool_decommit(struct vmm_pool *p, void *addr, size_t len)
{
	/*
	 * After a private remap a hole would zero pages another process has
	 * not copied yet: refuse, and jemalloc keeps the range committed.
	 */
	if (p->private_map || p->keep_backed)
		return EBUSY;
	off_t off = (off_t)((char *)addr - p->base);
	if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		      (off_t)len) == 0)
		return 0;
	return errno;
}

/*
 * MAP_NORESERVE: a writable private mapping of a large pool would
 * otherwise be charged in full against the overcommit limit, and fork
 * mode 1 failed with ENOMEM for a 64 GiB pool on a 24 GiB machine.
 */
int vmm_pool_remap_private(struct vmm_pool *p)
{
	if (p->private_map)
		return 0;
	void *m = mmap(p->base, p->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, p->fd, 0);
	if (m == MAP_FAILED)
		return errno;
	p->private_map = true;
	return 0;
}

/* copies [off, off+len) from in to out without allocating */
static int copy_range(int in, int out, off_t off, off_t len)
{
	static char buf[256 * 1024]; /* only used under the fork lock */
	off_t in_off = off, out_off = off;
	bool use_cfr = true;
	while (len > 0) {
		if (use_cfr) {
			ssize_t n = copy_file_range(in, &in_off, out, &out_off,
						    (size_t)len, 0);
			if (n > 0) {
				len -= n;
				continue;
			}
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == EOPNOTSUPP || errno == ENOSYS)) {
				use_cfr = false;
				continue;
			}
			if (n == 0)
				return EIO;
			return errno;
		}
		size_t chunk = (size_t)len < sizeof(buf) ? (size_t)len
							 : sizeof(buf);
		ssize_t r = pread(in, buf, chunk, in_off);
		if (r <= 0)
			return r < 0 ? errno : EIO;
		ssize_t w = pwrite(out, buf, (size_t)r, out_off);
		if (w != r)
			return w < 0 ? errno : ENOSPC;
		in_off += r;
		out_off += r;
		len -= r;
	}
	return 0;
}

/* fallocates [off, off+len) of fd; 0, or the errno of a real failure */
static int reserve(int fd, off_t off, off_t len)
{
	if (len <= 0 || fallocate(fd, 0, off, len) == 0 || errno == EOPNOTSUPP)
		return 0;
	return errno;
}

/*
 * Reserves in `out` every range that holds blocks in the pool's file,
 * unwritten ones included: jemalloc counts them as committed, and SEEK_DATA
 * reports them as holes, so without this the child could take SIGBUS on a
 * full filesystem where the parent gets ENOMEM.  Needs FIEMAP (ext4, xfs,
 * btrfs); tmpfs has none, and neither SEEK_DATA nor mincore() (6.x) shows
 * its fallocated-but-unwritten pages: there only the data is reserved.
 */
static int reserve_allocated(const struct vmm_pool *p, int out)
{
	static struct {
		struct fiemap fm;
		struct fiemap_extent ext[128];
	} f; /* only used under the fork lock */
	off_t pos = 0, end = (off_t)p->file_size;
	while (pos < end) {
		memset(&f.fm, 0, sizeof(f.fm));
		f.fm.fm_start = (__u64)pos;
		f.fm.fm_length = (__u64)(end - pos);
		f.fm.fm_extent_count = VMM_ARRAY_SIZE(f.ext);
		if (ioctl(p->fd, FS_IOC_FIEMAP, &f.fm) != 0)
			return 0; /* no FIEMAP here: data only, see above */
		if (f.fm.fm_mapped_extents == 0)
			return 0;
		off_t before = pos;
		for (unsigned i = 0; i < f.fm.fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &f.ext[i];
			off_t lo = (off_t)e->fe_logical;
			off_t hi = lo + (off_t)e->fe_length;
			if (lo < pos)
				lo = pos;
			if (hi > end)
				hi = end;
			int err = reserve(out, lo, hi - lo);
			if (err != 0)
				return err;
			if (hi > pos)
				pos = hi;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				return 0;
		}
		if (pos == before)
			return 0; /* no progress: do not loop */
	}
	return 0;
}

int vmm_pool_clone(const struct vmm_pool *p, const char *dir)
{
	int fd = open_tmpfile(dir, 0);
	if (fd < 0)
		return fd;
	int err = 0;
	if (ftruncate(fd, (off_t)p->file_size) != 0) {
		err = errno;
		goto fail;
	}
	/* what is committed gets blocks, so a full filesystem fails here */
	if (p->can_fallocate) {
		err = reserve_allocated(p, fd);
		if (err != 0)
			goto fail;
	}
	off_t end = (off_t)p->file_size;
	off_t data = 0;
	for (;;) {
		data = lseek(p->fd, data, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* no more data */
			err = errno;
			goto fail;
		}
		off_t hole = lseek(p->fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = end;
		/* reserve first, so a full filesystem fails here, not later */
		err = reserve(fd, data, hole - data);
		if (err == 0)
			err = copy_range(p->fd, fd, data, hole - data);
		if (err != 0)
			goto fail;
		data = hole;
		if (data >= end)
			break;
	}
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
	close(p->fd);
	p->fd = fd;
	p->private_map = false;
	return 0;
}
