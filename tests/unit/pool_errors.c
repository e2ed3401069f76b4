/*
 * pool_errors.c -- pool.c when the system says no: an address-space limit
 * (ulimit -v) too small for the aligned mapping, or only large enough
 * without the 1 GiB alignment; a file-size limit below the clone; a clone
 * directory that does not exist; a mkstemp name that would not fit; a
 * descriptor limit whose top number is taken; adopting a clone that is no
 * file.  Each failure must be reported as its errno, leak no descriptor,
 * and leave the pool as it was.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>

#include "vmm.h"
#include "vmmtest.h"

static char dir[4096];

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int n = 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* the process's mapped bytes now (VmSize) */
static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != NULL);
	char line[256];
	size_t kb = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	CHECK_U(kb, >, 0);
	return kb * 1024;
}

static void limit_as(rlim_t bytes)
{
	struct rlimit rl = {.rlim_cur = bytes, .rlim_max = RLIM_INFINITY};
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
}

static void address_space(void)
{
	struct vmm_pool p = {.fd = -1};
	int fds = open_fds();

	/* room for nothing like a 256 MiB pool: ENOMEM, the file closed */
	limit_as(vm_size() + 64 * VMM_MiB);
	CHECK_I(vmm_pool_create(&p, dir, 256 * VMM_MiB, 0), ==, ENOMEM);
	limit_as(RLIM_INFINITY);
	CHECK_I(open_fds(), ==, fds);

	/*
	 * 1 GiB pools are mapped 1 GiB aligned (a 2 GiB reservation); with
	 * room for 1 GiB + 64 MiB only, 2 MiB alignment must do
	 */
	limit_as(vm_size() + VMM_GiB + 64 * VMM_MiB);
	int err = vmm_pool_create(&p, dir, VMM_GiB, 0);
	limit_as(RLIM_INFINITY);
	CHECK_I(err, ==, 0);
	char *base = p.base;
	__asm__ volatile("" : "+r"(base));
	CHECK_U((uintptr_t)base % (2 * VMM_MiB), ==, 0);
	CHECK_U(p.size, ==, VMM_GiB);
	base[0] = 1;
	base[VMM_GiB - 1] = 2; /* the whole size is mapped */
	CHECK(base[0] == 1 && base[VMM_GiB - 1] == 2);
	vmm_pool_destroy(&p);
	CHECK_I(open_fds(), ==, fds);
}

static void names_and_limits(void)
{
	struct vmm_pool p = {.fd = -1};
	int fds = open_fds();

	/* the mkstemp fallback's name would not fit in PATH_MAX */
	char longdir[PATH_MAX];
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 8] = '\0';
	CHECK_I(vmm_pool_create(&p, longdir, 16 * VMM_MiB,
				VMM_POOL_FORCE_MKSTEMP),
		==, ENAMETOOLONG);
	CHECK_I(open_fds(), ==, fds);

	CHECK_I(vmm_pool_create(&p, dir, 16 * VMM_MiB, 0), ==, 0);
	memset(p.base, 0x5a, 4096);
	CHECK_I(vmm_pool_commit(&p, p.base, 4096), ==, 0);

	/* clones: into no directory, and past the file-size limit */
	CHECK_I(vmm_pool_clone(&p, "/nonexistent-vmmalloc-dir"), ==, -ENOENT);
	struct rlimit old, rl;
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	rl = old;
	rl.rlim_cur = 8 * VMM_MiB;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	signal(SIGXFSZ, SIG_IGN); /* a write past it would otherwise kill us */
	CHECK_I(vmm_pool_clone(&p, dir), ==, -EFBIG);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_I(open_fds(), ==, fds + 1); /* the pool's own descriptor */

	/* adopting what is no file: refused, the pool mapping untouched */
	CHECK_I(vmm_pool_adopt(&p, -1), ==, EBADF);
	CHECK(p.base[0] == 0x5a && p.base[4095] == 0x5a);
	p.base[4096] = 1;
	vmm_pool_destroy(&p);
	CHECK_I(open_fds(), ==, fds);
}

/* with the top of RLIMIT_NOFILE taken, the descriptor still goes high */
static void descriptor_limit(void)
{
	struct rlimit old, rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	rl = old;
	rl.rlim_cur = 64;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	CHECK(dup2(STDIN_FILENO, 63) == 63);
	struct vmm_pool p = {.fd = -1};
	CHECK_I(vmm_pool_create(&p, dir, 16 * VMM_MiB, 0), ==, 0);
	int fd = p.fd;
	CHECK_I(fd, >=, 32);
	CHECK_I(fd, <, 63);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	vmm_pool_destroy(&p);
	close(63);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
}

int main(void)
{
	const char *base = getenv("VMMALLOC_TEST_DIR");
	snprintf(dir, sizeof(dir), "%s/vmmunit.XXXXXX", base ? base : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	address_space();
	names_and_limits();
	descriptor_limit();
	CHECK(rmdir(dir) == 0); /* every pool file was unlinked */
	return 0;
}
