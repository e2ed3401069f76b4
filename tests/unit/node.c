/*
 * node.c -- a pool on a NUMA node (VMMALLOC_POOL_NODE), checked on the
 * machine rather than trusted: node meminfo parsing and the commit guard's
 * arithmetic; mbind on the pool's mapping sets the memfd's own policy (a
 * second, never-bound mapping of it reads bind:0 too); commit (fallocate)
 * backs pages on the node and decommit gives them back; a commit the node
 * cannot back is refused with ENOMEM before anything is allocated; a fork
 * copy is a memfd bound to the node before any page is written.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm.h"
#include "vmmtest.h"

static size_t page;

static const char canned[] = "Node 3 MemTotal:       67108864 kB\n"
			     "Node 3 MemFree:        10485760 kB\n"
			     "Node 3 MemUsed:        56623104 kB\n"
			     "Node 3 Active(file):     1048576 kB\n"
			     "Node 3 Inactive(file):   1048576 kB\n"
			     "Node 3 FilePages:        2097152 kB\n";

static void parsing(void)
{
	struct vmm_node_mem m;
	CHECK(vmm_node_parse_meminfo(canned, sizeof(canned) - 1, 3, &m));
	CHECK_U(m.total, ==, (uint64_t)64 << 30);
	CHECK_U(m.free, ==, (uint64_t)10 << 30);
	CHECK_U(m.file, ==, (uint64_t)2 << 30);
	/* another node's text, or a field missing: no reading */
	CHECK(!vmm_node_parse_meminfo(canned, sizeof(canned) - 1, 0, &m));
	CHECK(!vmm_node_parse_meminfo(canned, 40, 3, &m));
	/* "FilePages" must not be read as the start of another key */
	CHECK(!vmm_node_parse_meminfo("Node 3 MemTotal: x kB\n", 22, 3, &m));
}

static void room(void)
{
	/* 64 GiB node: margin 1 GiB (capped), avail = 10 + 2/2 GiB */
	struct vmm_node_mem m = {(uint64_t)64 << 30, (uint64_t)10 << 30,
				 (uint64_t)2 << 30};
	CHECK_U(vmm_node_margin(&m), ==, VMM_GiB);
	CHECK(vmm_node_has_room(&m, 10 * VMM_GiB));
	CHECK(!vmm_node_has_room(&m, 10 * VMM_GiB + 1));
	/* 512 MiB node: margin 16 MiB (the floor) */
	struct vmm_node_mem s = {512 * VMM_MiB, 100 * VMM_MiB, 0};
	CHECK_U(vmm_node_margin(&s), ==, 16 * VMM_MiB);
	CHECK(vmm_node_has_room(&s, 84 * VMM_MiB));
	CHECK(!vmm_node_has_room(&s, 85 * VMM_MiB));
	/* 8 GiB node: 1/64 = 128 MiB */
	struct vmm_node_mem t = {8 * VMM_GiB, VMM_GiB, 0};
	CHECK_U(vmm_node_margin(&t), ==, 128 * VMM_MiB);
}

/* numa_maps policy of the mapping at addr ("bind:0", "default"...) */
static void policy_of(const void *addr, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/numa_maps", "r");
	CHECK(f != NULL);
	char line[4096];
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t a;
		char pol[64];
		if (sscanf(line, "%" SCNxPTR " %63s", &a, pol) == 2 &&
		    a == (uintptr_t)addr) {
			snprintf(out, size, "%s", pol);
			break;
		}
	}
	fclose(f);
}

/* pages of [addr, addr+len) present and on node 0; -1 if one is not */
static long on_node0(const char *addr, size_t len)
{
	long n = 0;
	for (size_t off = 0; off < len; off += page) {
		void *pg = (void *)(addr + off);
		int st = -1;
		CHECK_I(syscall(SYS_move_pages, 0, 1UL, &pg, NULL, &st, 0), ==,
			0);
		if (st == -ENOENT)
			continue;
		if (st != 0)
			return -1;
		n++;
	}
	return n;
}

static long long blocks(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (long long)st.st_blocks * 512;
}

static void pool_on_node0(void)
{
	struct vmm_node_mem mem;
	CHECK_I(vmm_node_meminfo(0, &mem), ==, 0);
	CHECK_U(mem.total, >, 0);
	CHECK_I(vmm_node_meminfo(VMM_NODE_MAX - 1, &mem), ==, ENOENT);

	size_t size = 64 * VMM_MiB;
	struct vmm_pool p = {.fd = -1};
	CHECK_I(vmm_pool_create_node(&p, 0, size), ==, 0);
	CHECK_I(p.node, ==, 0);
	char link[64], target[256], pol[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", (int)p.fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	CHECK(n > 0);
	target[n] = '\0';
	CHECK_STR(target, "/memfd:vmmalloc (deleted)");
	CHECK(fcntl(p.fd, F_GETFD) & FD_CLOEXEC);
	CHECK_I(blocks(p.fd), ==, 0);
	policy_of(p.base, pol, sizeof(pol));
	CHECK_STR(pol, "bind:0");

	/* the policy is the memfd's: a second mapping, never bound, has it */
	char *other = mmap(NULL, size, PROT_READ, MAP_SHARED, p.fd, 0);
	CHECK(other != MAP_FAILED);
	policy_of(other, pol, sizeof(pol));
	CHECK_STR(pol, "bind:0");

	/* commit = fallocate: pages allocated (on the node), not yet mapped;
	 * reading maps them: all on node 0.  decommit gives them back */
	size_t off = 4 * VMM_MiB, len = 2 * VMM_MiB;
	CHECK_I(vmm_pool_commit(&p, p.base + off, len), ==, 0);
	CHECK_I(blocks(p.fd), >=, (long long)len);
	volatile char sink = 0;
	for (size_t i = 0; i < len; i += page)
		sink = (char)(sink + p.base[off + i]);
	CHECK_I(on_node0(p.base + off, len), ==, (long)(len / page));
	CHECK_I(vmm_pool_decommit(&p, p.base + off, len), ==, 0);
	CHECK_I(blocks(p.fd), ==, 0);
	CHECK_I(on_node0(p.base + off, len), ==, 0);

	/* a fork copy: a memfd, bound before the parent writes its pages */
	CHECK_I(vmm_pool_commit(&p, p.base, len), ==, 0);
	memset(p.base, 0x5a, len);
	int c = vmm_pool_clone(&p, NULL);
	CHECK_I(c, >=, 0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", c);
	n = readlink(link, target, sizeof(target) - 1);
	CHECK(n > 0);
	target[n] = '\0';
	CHECK_STR(target, "/memfd:vmmalloc (deleted)");
	char *copy = mmap(NULL, size, PROT_READ, MAP_SHARED, c, 0);
	CHECK(copy != MAP_FAILED);
	policy_of(copy, pol, sizeof(pol));
	CHECK_STR(pol, "bind:0");
	for (size_t i = 0; i < len; i += page) /* map every page */
		CHECK_U((unsigned char)copy[i], ==, 0x5a);
	CHECK_I(on_node0(copy, len), ==, (long)(len / page));
	munmap(copy, size);
	close(c);
	munmap(other, size);
	vmm_pool_destroy(&p);
}

/*
 * The guard: a commit larger than the node can back fails with ENOMEM and
 * allocates nothing (without the guard, fallocate under MPOL_BIND would
 * run the node out of memory and call the OOM killer).  Checked with the
 * guard's own reading first, so a broken reading cannot start the
 * fallocate on a shared machine.
 */
static void guard(void)
{
	struct vmm_node_mem mem;
	CHECK_I(vmm_node_meminfo(0, &mem), ==, 0);
	size_t too_much = (size_t)mem.total + VMM_GiB;
	CHECK_I(vmm_node_room(0, too_much), ==, ENOMEM);
	CHECK_I(vmm_node_room(0, 2 * VMM_MiB), ==, 0);
	size_t size = VMM_ALIGN_UP(too_much + 4 * VMM_MiB, 2 * VMM_MiB);
	struct vmm_pool p = {.fd = -1};
	CHECK_I(vmm_pool_create_node(&p, 0, size), ==, 0);
	CHECK_I(vmm_pool_commit(&p, p.base, too_much), ==, ENOMEM);
	CHECK_I(blocks(p.fd), ==, 0);
	CHECK_U(vmm_pool_backed_bytes(&p), ==, 0);
	/* a commit that fits still works */
	CHECK_I(vmm_pool_commit(&p, p.base, 2 * VMM_MiB), ==, 0);
	CHECK_I(blocks(p.fd), >=, (long long)(2 * VMM_MiB));
	vmm_pool_destroy(&p);
}

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	parsing();
	room();
	if (access("/sys/devices/system/node/node0/meminfo", R_OK) != 0)
		SKIP("no /sys/devices/system/node/node0/meminfo");
	if (syscall(SYS_move_pages, 0, 0UL, NULL, NULL, NULL, 0) != 0 &&
	    errno == ENOSYS)
		SKIP("move_pages(2) is not available (kernel without NUMA)");
	pool_on_node0();
	guard();
	printf("node: parsing, guard arithmetic, binding, commit, decommit, "
	       "clone and the guard on node 0\n");
	return 0;
}
