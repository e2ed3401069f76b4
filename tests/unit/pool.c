/*
 * pool.c -- the pool file: O_TMPFILE and the mkstemp fallback leave no name,
 * the mapping is aligned, commit backs exactly the committed range and
 * decommit gives it back (re-commit reads zeros).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm.h"
#include "vmmtest.h"

static char dir[4096];

static int entries(void)
{
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 &&
		     strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static long long blocks(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (long long)st.st_blocks * 512;
}

static void check_pool(unsigned flags, size_t size, size_t align)
{
	struct vmm_pool p = {.fd = -1};
	CHECK_I(vmm_pool_create(&p, dir, size, flags), ==, 0);
	CHECK_I(entries(), ==, 0); /* unlinked from the start */
	CHECK_U((uintptr_t)p.base % align, ==, 0);
	CHECK_U(p.size, ==, size);
	struct stat st;
	CHECK(fstat(p.fd, &st) == 0);
	CHECK_U(st.st_mode & 0777, ==, 0600);
	CHECK_U((uintmax_t)st.st_size, ==, size);
	CHECK_U(st.st_nlink, ==, 0);
	CHECK(fcntl(p.fd, F_GETFD) & FD_CLOEXEC);
	CHECK_I(p.fd, >, 100);	      /* out of the way of dup2(x, 3) */
	CHECK_I(blocks(p.fd), ==, 0); /* sparse: nothing backed yet */

	/* 2 MiB-aligned: on DAX a write faults in a whole aligned 2 MiB page */
	size_t off = 4 * VMM_MiB, len = 2 * VMM_MiB;
	CHECK_I(vmm_pool_commit(&p, p.base + off, len), ==, 0);
	CHECK_U(vmm_pool_backed_bytes(&p), ==, len);
	CHECK_I(blocks(p.fd), >=, (long long)len);
	CHECK_I(blocks(p.fd), <=, (long long)len + 64 * 1024);
	memset(p.base + off, 0x5a, len);
	CHECK_I(blocks(p.fd), <=, (long long)len + 64 * 1024);
	CHECK_I(vmm_pool_decommit(&p, p.base + off, len), ==, 0);
	CHECK_I(blocks(p.fd), ==, 0);
	CHECK_U(vmm_pool_backed_bytes(&p), ==, 0);
	CHECK_I(vmm_pool_commit(&p, p.base + off, len), ==, 0);
	for (size_t i = 0; i < len; i += 512)
		if (p.base[off + i] != 0)
			FAIL("byte %zu reads %d after decommit+commit", off + i,
			     p.base[off + i]);
	vmm_pool_destroy(&p);
	CHECK_I(entries(), ==, 0);
}

int main(void)
{
	const char *base = getenv("VMMALLOC_TEST_DIR");
	snprintf(dir, sizeof(dir), "%s/vmmunit.XXXXXX", base ? base : "/tmp");
	CHECK(mkdtemp(dir) != NULL);

	check_pool(0, 64 * VMM_MiB, 2 * VMM_MiB);
	check_pool(VMM_POOL_FORCE_MKSTEMP, 64 * VMM_MiB, 2 * VMM_MiB);
	check_pool(0, VMM_GiB, VMM_GiB);

	/* a size that is not a page multiple: the file keeps it */
	struct vmm_pool p = {.fd = -1};
	CHECK_I(vmm_pool_create(&p, dir, 16 * VMM_MiB + 100, 0), ==, 0);
	CHECK_U(p.size, ==, 16 * VMM_MiB);
	CHECK_U(p.file_size, ==, 16 * VMM_MiB + 100);
	vmm_pool_destroy(&p);

	/* errors come back as errno values, and leave nothing behind */
	CHECK_I(vmm_pool_create(&p, "/nonexistent/dir", 16 * VMM_MiB, 0), ==,
		ENOENT);
	CHECK_I(vmm_pool_create(&p, "/nonexistent/dir", 16 * VMM_MiB,
				VMM_POOL_FORCE_MKSTEMP),
		==, ENOENT);
	CHECK_I(vmm_pool_create(&p, "/etc/passwd", 16 * VMM_MiB, 0), ==,
		ENOTDIR);
	CHECK_I(entries(), ==, 0);
	CHECK(rmdir(dir) == 0);
	return 0;
}
