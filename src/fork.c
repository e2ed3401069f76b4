/*
 * fork.c -- VMMALLOC_FORK and the whole fork sequence: the only file that
 * registers fork handlers (one pthread_atfork call), which call every
 * module's prefork/postfork hook in the fixed order written below.
 * jemalloc's own handlers are captured (the archive's pthread_atfork is
 * renamed to vmm_je_pthread_atfork) and called from ours.
 *
 * NOTES
 * - The order, in one place (fork_prepare, fork_parent, fork_child):
 *     prepare: tracking layer (its lock, the V bits of live blocks),
 *              jemalloc (every arena lock held, heap quiescent), the
 *              engine's bump-pointer lock, the mode's work on the pool,
 *              then the log's line (it sees the pool remapped or copied);
 *     parent:  log, drop the copy's descriptor, engine lock, jemalloc,
 *              tracking layer (restores the shadow after a remap);
 *     child:   coverage counters (gcov build only), log (its own file),
 *              adopt the copy, engine lock, jemalloc, tracking layer.
 *   It is the same whether jemalloc initialised from an early malloc or
 *   from our constructor, and whichever module initialised first.
 * - Nothing here may allocate: jemalloc's locks are held, and a malloc
 *   would deadlock on them (with tcache:false it always does).  The error
 *   path too: vmm_die formats on the stack, writes with write(2), aborts.
 * - glibc runs prepare handlers in reverse order of registration, so a
 *   handler registered before the library initialised runs after ours and
 *   must not allocate; handlers registered later (the usual case: our
 *   constructor runs before main) may.
 * - Mode 1 remaps the pool MAP_PRIVATE once, permanently: from then on both
 *   processes copy on write and the file is never punched again.
 * - Mode 2 copies the pool's data into a new unlinked file which only the
 *   child maps; on failure it prints the original's line and aborts, mode 3
 *   falls back to mode 1 for that fork.  The copy is read from the mapping
 *   while the program's other threads run: allocation is stopped (the
 *   engine's locks are held), their writes to blocks are not, so a block
 *   written during the copy can reach the child half old, half new.
 * - The copy is made in the pool directory as resolved at start-up
 *   (options.c): the program may have changed directory or overwritten its
 *   environment since.  A node pool's copy is a memfd bound to the node
 *   (pool.c): there is no directory.  So is a device DAX pool's: the
 *   child's heap is then memory, not the device; mode 1 is refused there
 *   at start-up (options.c) and mode 3 has no fallback.
 * - On a node pool, mode 1's copy-on-write pages come from the node too
 *   (the private mapping is bound again); they are page faults, not
 *   commits, so the node guard does not see them.
 * - Mode 1 without the pool's descriptor (the program closed it) cannot map
 *   the file privately: that fork gives the child a copy instead.
 * - posix_spawn, system and popen run no fork handlers: they cost nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "je.h"
#include "track.h"
#include "vmm.h"

static struct {
	void (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
} je_fork;

static int clone_fd = -1; /* the child's copy, between prepare and child */

int vmm_je_pthread_atfork(void (*prepare)(void), void (*parent)(void),
			  void (*child)(void))
{
	je_fork.prepare = prepare;
	je_fork.parent = parent;
	je_fork.child = child;
	return 0;
}

static __attribute__((noreturn)) void fork_failed(const char *what, int err)
{
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, what);
	vmm_msg_str(&m, ": ");
	vmm_msg_str(&m, vmm_strerror(err));
	vmm_die(&m);
}

/* the child's copy of the pool (mode 2's way); -errno if none */
static int clone_pool(void)
{
	return vmm_pool_clone(&vmm_pool, vmm_opts.pool_dir);
}

/*
 * Mode 1.  Once the program has taken the pool's descriptor away there is
 * no file to map privately: the child then gets a copy, as in mode 2, and
 * the two heaps are just as separate.
 */
static void private_remap(void)
{
	int err = vmm_pool_remap_private(&vmm_pool);
	if (err == EBADF) {
		int fd = clone_pool();
		if (fd >= 0) {
			clone_fd = fd;
			return;
		}
		err = -fd;
	}
	if (err != 0)
		fork_failed("pool remapping failed", err);
}

/* the mode's work on the pool, with every lock held */
static void pool_prepare(void)
{
	clone_fd = -1;
	/* once private, every later fork is an ordinary copy-on-write fork */
	if (vmm_pool.private_map)
		return;
	switch (vmm_opts.fork_mode) {
	case VMM_FORK_NONE:
		break;
	case VMM_FORK_PRIVATE:
		private_remap();
		break;
	case VMM_FORK_COPY:
	case VMM_FORK_COPY_OR_PRIVATE: {
		int fd = clone_pool();
		if (fd >= 0) {
			clone_fd = fd;
		} else if (vmm_opts.fork_mode == VMM_FORK_COPY ||
			   vmm_pool.devdax) {
			/* a device has no private fallback (mode 3 = 2) */
			/* the original's wording, which scripts grep for */
			fork_failed("pool cloning failed", -fd);
		} else {
			private_remap();
		}
		break;
	}
	}
}

static void fork_prepare(void)
{
	vmm_track_prefork();
	if (je_fork.prepare != NULL)
		je_fork.prepare();
	vmm_engine_fork_lock();
	pool_prepare();
	vmm_log_prefork();
}

static void fork_parent(void)
{
	vmm_log_postfork_parent();
	if (clone_fd >= 0) {
		close(clone_fd);
		clone_fd = -1;
	}
	vmm_engine_fork_unlock(false);
	if (je_fork.parent != NULL)
		je_fork.parent();
	vmm_track_postfork();
}

static void fork_child(void)
{
#ifdef VMM_COVERAGE
	vmm_cov_postfork_child(); /* before anything counts a line */
#endif
	vmm_log_postfork_child();
	if (clone_fd >= 0) {
		int err = vmm_pool_adopt(&vmm_pool, clone_fd);
		if (err != 0)
			fork_failed("pool cloning failed", err);
		clone_fd = -1;
	}
	vmm_engine_fork_unlock(true);
	if (je_fork.child != NULL)
		je_fork.child();
	vmm_track_postfork();
}

void vmm_fork_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
