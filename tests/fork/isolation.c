/*
 * isolation.c -- after fork, the child's writes are invisible to the parent
 * and the parent's to the child, for blocks from before the fork and for
 * blocks allocated after it.  Under the library it also checks how the
 * pool is mapped in both processes (/proc/<pid>/maps):
 * - mode 1: both map the same file MAP_PRIVATE;
 * - mode 2/3: the child maps a different, sparse file MAP_SHARED that holds
 *   only a copy of the parent's data (SEEK_DATA/SEEK_HOLE) plus blocks for
 *   what the parent committed without writing it, and the child's
 *   new allocations are backed by blocks of that file, not by RAM, while the
 *   parent's file does not grow.
 *
 *   isolation [--baseline]
 */
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "forktest.h"

#define VT_MIB ((size_t)1 << 20)
#define BIG (4 * VT_MIB)
#define CHILD_GROWTH (32 * VT_MIB)
#define UNTOUCHED (16 * VT_MIB)

static int to_child[2], to_parent[2];
static bool has_fiemap; /* the pool's filesystem answers FS_IOC_FIEMAP */

static void say(int fd)
{
	char c = 'x';
	CHECK(write(fd, &c, 1) == 1);
}

static void hear(int fd)
{
	char c;
	CHECK(read(fd, &c, 1) == 1);
}

static bool all(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* the child: returns only on success */
static void child(unsigned char *old, size_t parent_backed,
		  unsigned long parent_ino)
{
	alarm(60);
	size_t clone_backed = 0;
	if (ft_mode == 2 || ft_mode == 3) {
		/* measured first, before the child allocates anything big */
		int fd = ft_fd_of_inode(ft_map_of(getpid(), old).inode);
		CHECK(fd >= 0);
		clone_backed = ft_backed(fd);
	}
	CHECK(all(old, BIG, 'P'));
	memset(old, 'C', BIG);
	unsigned char *fresh = malloc(BIG);
	CHECK(fresh != NULL);
	memset(fresh, 'c', BIG);
	say(to_parent[1]);
	hear(to_child[0]);
	/* the parent has now written 'Q'/'q' into its copies */
	CHECK(all(old, BIG, 'C'));
	CHECK(all(fresh, BIG, 'c'));

	if (ft_mode == 2 || ft_mode == 3) {
		struct vt_range pool = vt_pool();
		struct ft_map me = ft_map_of(getpid(), old);
		struct ft_map parent = ft_map_of(getppid(), old);
		CHECK(me.found && parent.found);
		if (me.inode == parent.inode)
			FAIL("mode %d: child and parent map the same file "
			     "(inode %lu, %s)",
			     ft_mode, me.inode, me.path);
		CHECK(me.shared);
		CHECK(strstr(me.path, "(deleted)") != NULL);
		CHECK_U(parent_ino, ==, parent.inode);
		int fd = ft_fd_of_inode(me.inode);
		if (fd < 0)
			FAIL("the child holds no fd of its pool file");
		CHECK(ft_fd_of_inode(parent_ino) < 0); /* adopt closed it */
		/* only the data was copied: as sparse as the parent's file */
		struct stat st;
		CHECK(fstat(fd, &st) == 0);
		printf("child's clone: %zu bytes backed of %zu (parent had "
		       "%zu)\n",
		       clone_backed, (size_t)st.st_size, parent_backed);
		CHECK_U(clone_backed, <=, parent_backed + 2 * VT_MIB);
		/* committed but unwritten ranges are reserved too, where the
		 * filesystem can tell them (FIEMAP: not tmpfs) */
		if (has_fiemap)
			CHECK_U(clone_backed + VT_MIB, >=, parent_backed);
		CHECK_U(clone_backed, >=, BIG);
		CHECK_U(clone_backed, <, (size_t)st.st_size / 2);
		size_t backed = ft_backed(fd);
		off_t hole = lseek(fd, 0, SEEK_HOLE);
		CHECK(hole >= 0);
		CHECK_I(hole, <, st.st_size);
		/* the child keeps allocating from its own file */
		unsigned char *more = malloc(CHILD_GROWTH);
		CHECK(more != NULL);
		CHECK_IN_POOL(pool, more, CHILD_GROWTH);
		memset(more, 'm', CHILD_GROWTH);
		struct ft_map mm = ft_map_of(getpid(), more);
		CHECK_U(mm.inode, ==, me.inode);
		size_t grown = ft_backed(fd);
		CHECK_U(grown, >=, backed + CHILD_GROWTH);
		free(more);
	} else if (ft_mode == 1) {
		struct ft_map me = ft_map_of(getpid(), old);
		struct ft_map parent = ft_map_of(getppid(), old);
		CHECK(me.found && parent.found);
		CHECK(!me.shared && !parent.shared);
		CHECK_U(me.inode, ==, parent.inode);
		unsigned char *more = malloc(CHILD_GROWTH);
		CHECK(more != NULL);
		CHECK_IN_POOL(vt_pool(), more, CHILD_GROWTH);
		memset(more, 'm', CHILD_GROWTH);
		free(more);
	}
	free(fresh);
	say(to_parent[1]);
	fflush(NULL);
	_exit(0);
}

/* the cells of fork.isolation.* (--list) */
FT_CELLS(FT_CELLS_STD, "node.mode1", "node.mode2", "node.mode3");

int main(int argc, char **argv)
{
	ft_setup(argc, argv);
	alarm(120);
	if (ft_mode == 0)
		FAIL("isolation is not valid for VMMALLOC_FORK=0");
	unsigned char *old = malloc(BIG);
	CHECK(old != NULL);
	memset(old, 'P', BIG);
	/* committed (the file has blocks for it) but never written */
	void *untouched = malloc(UNTOUCHED);
	CHECK(untouched != NULL);
	unsigned long ino = 0;
	int pool_fd = -1;
	size_t backed_before = 0;
	if (ft_preloaded()) {
		struct ft_map m = ft_map_of(getpid(), old);
		CHECK(m.found && m.shared);
		ino = m.inode;
		pool_fd = ft_fd_of_inode(ino);
		CHECK(pool_fd >= 0);
		backed_before = ft_backed(pool_fd);
		struct fiemap fm = {.fm_length = 4096};
		has_fiemap = ioctl(pool_fd, FS_IOC_FIEMAP, &fm) == 0;
		CHECK_U(backed_before, >=, BIG + UNTOUCHED);
	}
	CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0);
	int fds = ft_fd_count();
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		child(old, backed_before, ino);
	}
	close(to_child[0]);
	close(to_parent[1]);
	hear(to_parent[0]);
	/* the child has written 'C'/'c' into its copies */
	CHECK(all(old, BIG, 'P'));
	unsigned char *fresh = malloc(BIG);
	CHECK(fresh != NULL);
	memset(fresh, 'q', BIG);
	memset(old, 'Q', BIG);
	say(to_child[1]);
	hear(to_parent[0]);
	CHECK_EXIT(vt_wait_pid(pid, 60), 0);
	CHECK(all(old, BIG, 'Q'));
	CHECK(all(fresh, BIG, 'q'));
	CHECK_I(ft_fd_count(), ==, fds - 2); /* the clone's fd is closed */
	if (ft_preloaded()) {
		struct ft_map m = ft_map_of(getpid(), old);
		CHECK_U(m.inode, ==, ino);
		/* mode 1 stays private; 2 keeps its own shared file */
		CHECK(m.shared == (ft_mode == 2 || ft_mode == 3));
		/* the child's growth went to its own file, not to ours */
		CHECK_U(ft_backed(pool_fd), <,
			backed_before + BIG + 2 * VT_MIB);
	}
	free(fresh);
	free(old);
	free(untouched);
	printf("isolation ok (mode %d)\n", ft_mode);
	return 0;
}
