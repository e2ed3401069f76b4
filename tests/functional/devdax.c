/*
 * devdax.c -- a pool on a real device DAX (VMMALLOC_POOL_DIR=/dev/daxX.Y),
 * the steps of tests/functional/devdax.sh.  Every step but `fill` runs with
 * the library preloaded on the device (run-preloaded with
 * VMMALLOC_TEST_DEVICE, in the pmem guest).
 *
 *   fill DEV BYTE   (not preloaded) writes BYTE over the whole device, as
 *                   an earlier user of the device would have left it
 *   use OLD NEW     allocates a mix of sizes over half the pool: no byte
 *                   of any block may be OLD (what the device held before),
 *                   calloc's are all zero; then fills them all with NEW
 *   crash BYTE      fills half the pool with BYTE and dies of SIGKILL
 *   range           the pool mapping is the device at its alignment, of
 *                   VMMALLOC_POOL_SIZE rounded down to it, holds every
 *                   block, and the statistics name the backing
 *   lock            with no room for a second range (the pool is over half
 *                   the device), a second process on the same device is
 *                   refused with a message naming it, also after this one
 *                   closed every descriptor
 *   ranges          with room for three, a program this one runs (its
 *                   child, preloaded too) gets a range of its own
 *   offset          prints where on the device this process's pool is
 *   fork            with VMMALLOC_FORK unset (mode 2 on a device) the
 *                   child's pool is a memfd copy: its writes and
 *                   allocations leave the parent's blocks alone
 */
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vmmtest_child.h"

#define MiB ((size_t)1 << 20)

extern char **environ;

static uint64_t sysfs_number(const char *dev, const char *attr)
{
	struct stat st;
	CHECK(stat(dev, &st) == 0 && S_ISCHR(st.st_mode));
	char path[256];
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/%s",
		 major(st.st_rdev), minor(st.st_rdev), attr);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	unsigned long long v;
	CHECK(fscanf(f, "%lli", &v) == 1);
	fclose(f);
	return v;
}

static void fill(const char *dev, int byte)
{
	int fd = open(dev, O_RDWR);
	CHECK(fd >= 0);
	/* the whole device, as the library locks its ranges */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0)
		FAIL("%s is in use by another process", dev);
	size_t size = (size_t)sysfs_number(dev, "size");
	/* the device's get_unmapped_area aligns the mapping for us */
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	memset(m, byte, size); /* no page cache: the stores are the device */
	munmap(m, size);
	close(fd);
}

#define MAXB 200000
static char *blocks[MAXB];
static size_t sizes[MAXB];

/* sizes from 8 B to 4 MiB, small ones far more often */
static size_t next_size(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	unsigned r = (*seed >> 8) % 1000;
	if (r < 700)
		return 8 + r % 500;
	if (r < 950)
		return 1024 + (size_t)r * 40;
	if (r < 995)
		return 64 * 1024 + (size_t)r * 300;
	return 4 * MiB - (size_t)r;
}

/* allocates until `budget` bytes; every third block by calloc */
static size_t allocate(size_t budget, int old)
{
	unsigned seed = 42;
	size_t n = 0, total = 0;
	while (total < budget && n < MAXB) {
		size_t sz = next_size(&seed);
		char *p = n % 3 == 0 ? calloc(1, sz) : malloc(sz);
		if (p == NULL)
			break;
		__asm__ volatile("" : "+r"(p));
		size_t usable = malloc_usable_size(p);
		for (size_t i = 0; i < usable; i++) {
			if (old >= 0 && p[i] == (char)old)
				FAIL("block %zu (%zu bytes at %p) shows the "
				     "device's old byte %#x at offset %zu",
				     n, sz, (void *)p, old, i);
			if (n % 3 == 0 && i < sz && p[i] != 0)
				FAIL("calloc block %zu not zero at %zu", n, i);
		}
		blocks[n] = p;
		sizes[n] = usable;
		total += usable;
		n++;
	}
	CHECK_U(total, >=, budget / 2);
	return n;
}

static void use(int old, int new)
{
	size_t n = allocate(vt_pool_size() / 2, old);
	for (size_t i = 0; i < n; i++)
		memset(blocks[i], new, sizes[i]);
	printf("use: %zu blocks, none showed %#x\n", n, old);
}

static void crash(int byte)
{
	use(-1, byte);
	fflush(stdout);
	raise(SIGKILL);
}

static void range(void)
{
	const char *dev = getenv("VMMALLOC_POOL_DIR");
	CHECK(dev != NULL);
	struct vt_range r = vt_pool();
	uint64_t align = sysfs_number(dev, "align");
	CHECK_U(r.lo % align, ==, 0);
	CHECK_U(r.hi - r.lo, ==, vt_pool_size() / align * align);
	size_t n = allocate(vt_pool_size() / 4, -1);
	for (size_t i = 0; i < n; i++)
		if (!vt_in(r, blocks[i], sizes[i]))
			FAIL("block %p outside the pool", (void *)blocks[i]);
	printf("range: %#" PRIxPTR "-%#" PRIxPTR ", align %llu, %zu blocks\n",
	       r.lo, r.hi, (unsigned long long)align, n);
}

/* runs argv with the same environment (posix_spawn: no fork handlers);
 * what it wrote to stderr (which 2) or stdout (1) lands in out */
static struct vt_status run(char *const argv[], int which, char *out,
			    size_t outlen)
{
	struct vt_spawn s = {.argv = argv};
	if (which == 2) {
		s.err = out;
		s.errlen = outlen;
	} else {
		s.out = out;
		s.outlen = outlen;
	}
	return vt_run(&s, 0);
}

static void expect_refused(const char *dev, const char *when)
{
	char err[4096];
	char *argv[] = {"/bin/true", NULL};
	struct vt_status st = run(argv, 2, err, sizeof(err));
	if (vt_exited(st, 0))
		FAIL("%s: a second process on %s started", when, dev);
	if (strstr(err, dev) == NULL || strstr(err, "in use") == NULL)
		FAIL("%s: the refusal does not name %s as in use: %s", when,
		     dev, err);
	printf("%s: refused: %s", when, err);
}

static void lock(void)
{
	const char *dev = getenv("VMMALLOC_POOL_DIR");
	CHECK(dev != NULL);
	char *keep = malloc(1000);
	CHECK(keep != NULL);
	expect_refused(dev, "while the pool runs");
	/* a program that closes every descriptor but stdio keeps its pool */
	fflush(stdout);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	expect_refused(dev, "after closing every descriptor");
	memset(keep, 1, 1000);
	free(keep);
}

/* the device offset of this process's pool mapping, from /proc/self/maps */
static unsigned long long dev_offset(void)
{
	const char *dev = getenv("VMMALLOC_POOL_DIR");
	CHECK(dev != NULL);
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	char line[4096];
	unsigned long long off = ~0ULL;
	size_t dlen = strlen(dev);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *path = strchr(line, '/');
		if (path == NULL || strncmp(path, dev, dlen) != 0 ||
		    path[dlen] != '\n')
			continue;
		CHECK(sscanf(line, "%*x-%*x %*s %llx", &off) == 1);
		break;
	}
	fclose(f);
	if (off == ~0ULL)
		FAIL("no mapping of %s", dev);
	return off;
}

static void ranges(void)
{
	unsigned long long mine = dev_offset();
	uint64_t align = sysfs_number(getenv("VMMALLOC_POOL_DIR"), "align");
	size_t size = vt_pool_size() / align * align;
	char self[4096], out[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	char *argv[] = {self, "offset", NULL};
	CHECK_EXIT(run(argv, 1, out, sizeof(out)), 0);
	CHECK(out[0] != '\0');
	unsigned long long theirs = strtoull(out, NULL, 0);
	printf("ranges: this process at %#llx, its child at %#llx\n", mine,
	       theirs);
	if (theirs < mine + size && mine < theirs + size)
		FAIL("the two pools overlap on the device");
}

static void forked(void)
{
	if (getenv("VMMALLOC_FORK") != NULL)
		SKIP("the fork step wants VMMALLOC_FORK unset");
	size_t n = allocate(MiB * 8, -1);
	for (size_t i = 0; i < n; i++)
		memset(blocks[i], 0x11, sizes[i]);
	struct vt_range before = vt_pool();
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* the child's pool: a memfd at the same address */
		struct vt_range r;
		if (!vt_node_pool_range(&r) || r.lo != before.lo)
			FAIL("child: the pool is not a memfd copy at %#" PRIxPTR,
			     before.lo);
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < sizes[i]; j++)
				if (blocks[i][j] != 0x11)
					FAIL("child: block %zu not copied", i);
			memset(blocks[i], 0x22, sizes[i]);
		}
		for (int i = 0; i < 1000; i++) {
			char *p = malloc(4096);
			CHECK(p != NULL);
			memset(p, 0x33, 4096);
		}
		_exit(0);
	}
	vt_wait_ok(pid);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sizes[i]; j++)
			if (blocks[i][j] != 0x11)
				FAIL("parent: block %zu changed by the child",
				     i);
	struct vt_range after = vt_pool();
	CHECK_P(after.lo, ==, before.lo);
	printf("fork: %zu blocks kept apart\n", n);
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "fill") == 0)
		fill(argv[2], (int)strtol(argv[3], NULL, 0));
	else if (argc >= 4 && strcmp(argv[1], "use") == 0)
		use((int)strtol(argv[2], NULL, 0),
		    (int)strtol(argv[3], NULL, 0));
	else if (argc >= 3 && strcmp(argv[1], "crash") == 0)
		crash((int)strtol(argv[2], NULL, 0));
	else if (argc >= 2 && strcmp(argv[1], "range") == 0)
		range();
	else if (argc >= 2 && strcmp(argv[1], "lock") == 0)
		lock();
	else if (argc >= 2 && strcmp(argv[1], "fork") == 0)
		forked();
	else if (argc >= 2 && strcmp(argv[1], "ranges") == 0)
		ranges();
	else if (argc >= 2 && strcmp(argv[1], "offset") == 0)
		printf("%#llx\n", dev_offset());
	else
		FAIL("usage: %s fill DEV BYTE | use OLD NEW | crash BYTE | "
		     "range | lock | ranges | offset | fork",
		     argv[0]);
	return 0;
}
