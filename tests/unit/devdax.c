/*
 * devdax.c -- the device DAX pool (VMMALLOC_POOL_DIR=/dev/daxX.Y) on a
 * stand-in: a regular file filled with a pattern, as a device holds what
 * its last user wrote.  A file maps and locks like the device, so this
 * proves on any machine what the pmem guest proves on a real /dev/daxX.Y
 * (its devdax.* tests): the mapping is aligned and rounded down to the
 * device's alignment, nothing is zeroed at start-up, commit zeroes what
 * it hands out the first time, decommit is refused (so jemalloc is never
 * told that a used range reads zero), each pool locks its own range of
 * the device (a second pool gets the next one, or EBUSY when none is
 * left; also after the program closed our descriptor) and the lock goes
 * with the pool,
 * fork copies go into a memfd, and a private remap is refused.
 * And vmm_devdax_info tells /dev/null from device DAX.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm.h"
#include "vmmtest.h"

#define FILL 0xa5

static bool all(const char *p, size_t len, int byte)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (char)byte)
			return false;
	return true;
}

/* whether another process can lock [0, len) of path now */
static bool free_for_others(const char *path, size_t len)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		struct flock fl = {.l_type = F_WRLCK,
				   .l_whence = SEEK_SET,
				   .l_start = 0,
				   .l_len = (off_t)len};
		_exit(fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	return WEXITSTATUS(st) == 0;
}

int main(void)
{
	/* not device DAX: a character device of another subsystem */
	struct stat st;
	struct vmm_devdax info;
	CHECK(stat("/dev/null", &st) == 0);
	CHECK_I(vmm_devdax_info(st.st_rdev, &info), ==, ENODEV);

	const char *base = getenv("VMMALLOC_TEST_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmmunit-devdax.XXXXXX",
		 base ? base : "/tmp");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	size_t dev_size = 64 * VMM_MiB, align = 2 * VMM_MiB;
	char *fill = malloc(dev_size);
	CHECK(fill != NULL);
	memset(fill, FILL, dev_size);
	CHECK(pwrite(fd, fill, dev_size, 0) == (ssize_t)dev_size);
	close(fd);

	/* a size that is not a multiple of the alignment is rounded down */
	struct vmm_pool p = {.fd = -1, .node = -1};
	CHECK_I(vmm_pool_create_device(&p, path, dev_size - VMM_MiB, align,
				       dev_size),
		==, 0);
	CHECK(p.devdax);
	CHECK_U(p.size, ==, dev_size - align);
	CHECK_U((uintptr_t)p.base % align, ==, 0);
	CHECK(fcntl(p.fd, F_GETFD) & FD_CLOEXEC);
	CHECK_I(p.fd, >, 100);
	/* start-up touched nothing: O(1), the old contents are all there */
	CHECK(all(p.base, p.size, FILL));

	/* commit zeroes the granule around the range, and nothing else */
	size_t off = 8 * VMM_MiB + 4096, len = 64 * 1024;
	CHECK_I(vmm_pool_commit(&p, p.base + off, len), ==, 0);
	size_t g0 = off / VMM_POOL_GRANULE * VMM_POOL_GRANULE;
	CHECK(all(p.base + g0, VMM_POOL_GRANULE, 0));
	CHECK(all(p.base, g0, FILL));
	CHECK(all(p.base + g0 + VMM_POOL_GRANULE, VMM_MiB, FILL));
	CHECK_U(vmm_pool_backed_bytes(&p), ==, VMM_POOL_GRANULE);

	/* used, then decommitted: refused, the data stays (not zero), and a
	 * new commit of the range does not zero it again */
	memset(p.base + off, 0x5a, len);
	CHECK_I(vmm_pool_decommit(&p, p.base + off, len), ==, EBUSY);
	CHECK(all(p.base + off, len, 0x5a));
	CHECK_I(vmm_pool_commit(&p, p.base + off, len), ==, 0);
	CHECK(all(p.base + off, len, 0x5a));

	/* a range reaching from a granule in use into a fresh one zeroes
	 * only the fresh one (a commit made the pool's blocks read zero) */
	size_t g1 = g0 + VMM_POOL_GRANULE;
	CHECK_I(vmm_pool_commit(&p, p.base + g1 - 8192, 16384), ==, 0);
	CHECK(all(p.base + off, len, 0x5a));
	CHECK(all(p.base + g1, VMM_POOL_GRANULE, 0));
	CHECK(all(p.base + g1 + VMM_POOL_GRANULE, VMM_MiB, FILL));

	/* the whole pool at once (VMMALLOC_POOL_PREALLOC): all zero */
	CHECK_I(vmm_pool_commit(&p, p.base, p.size), ==, 0);
	CHECK(all(p.base, off, 0));
	CHECK(all(p.base + off + len, p.size - off - len, 0));

	/* mode 1 cannot be done on a device */
	CHECK_I(vmm_pool_remap_private(&p), ==, ENODEV);

	/* no room for a second range: refused, also once the program closed
	 * our descriptor (closefrom: the mapping keeps the lock) */
	struct vmm_pool q = {.fd = -1, .node = -1};
	CHECK_I(vmm_pool_create_device(&q, path, 16 * VMM_MiB, align, dev_size),
		==, EBUSY);
	CHECK(!free_for_others(path, 4096));
	int held = p.fd;
	close(held);
	CHECK(!free_for_others(path, 4096));

	/* mode 2's copy: a memfd with the data, which the pool adopts */
	memset(p.base + off, 0x3c, len);
	int copy = vmm_pool_clone(&p, "/nonexistent");
	CHECK_I(copy, >=, 0);
	char link[256] = "";
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", copy);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0);
	CHECK(strncmp(link, "/memfd:vmmalloc", 15) == 0);
	char buf[64 * 1024];
	CHECK(pread(copy, buf, len, (off_t)off) == (ssize_t)len);
	CHECK(all(buf, len, 0x3c));
	char *old_base = p.base;
	CHECK_I(vmm_pool_adopt(&p, copy), ==, 0);
	CHECK(p.base == old_base);
	CHECK(!p.devdax);
	CHECK(all(p.base + off, len, 0x3c));
	/* the device is no longer mapped: the lock went with the mapping */
	CHECK(free_for_others(path, dev_size));
	/* a memfd pool punches holes again */
	CHECK_I(vmm_pool_decommit(&p, p.base + off, len), ==, 0);
	vmm_pool_destroy(&p);

	/* free again: a new pool takes all of it */
	CHECK_I(vmm_pool_create_device(&q, path, dev_size, align, dev_size), ==,
		0);
	CHECK_U(q.size, ==, dev_size);
	CHECK_U(q.dev_offset, ==, 0);
	vmm_pool_destroy(&q);

	/* pools smaller than the device take its ranges in turn, and the
	 * range is what is mapped: the device's bytes at that offset */
	struct vmm_pool r[4];
	size_t rsize = 20 * VMM_MiB;
	for (int i = 0; i < 3; i++) {
		r[i] = (struct vmm_pool){.fd = -1, .node = -1};
		CHECK_I(vmm_pool_create_device(&r[i], path, rsize, align,
					       dev_size),
			==, 0);
		CHECK_U(r[i].dev_offset, ==, (size_t)i * rsize);
		CHECK_I(vmm_pool_commit(&r[i], r[i].base, VMM_MiB), ==, 0);
		memset(r[i].base, 'A' + i, VMM_MiB);
	}
	r[3] = (struct vmm_pool){.fd = -1, .node = -1};
	CHECK_I(vmm_pool_create_device(&r[3], path, rsize, align, dev_size), ==,
		EBUSY);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	for (int i = 0; i < 3; i++) {
		char c;
		CHECK(pread(fd, &c, 1, (off_t)((size_t)i * rsize)) == 1);
		CHECK_I(c, ==, 'A' + i);
	}
	close(fd);
	vmm_pool_destroy(&r[1]); /* a freed range is taken again */
	CHECK_I(vmm_pool_create_device(&r[3], path, rsize, align, dev_size), ==,
		0);
	CHECK_U(r[3].dev_offset, ==, rsize);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			vmm_pool_destroy(&r[i]);
	CHECK(unlink(path) == 0);
	free(fill);
	return 0;
}
