/*
 * life.c -- the process's and each thread's life with the library:
 * initialise once (from the first allocation or the constructor, whichever
 * comes first), bind each thread to the pool arena (the per-thread state of
 * vmm.h), and at exit write the debug variant's summary, never tearing the
 * pool down.
 *
 * NOTES
 * - Init recursion: allocations that arrive on the initialising thread (the
 *   dynamic linker, jemalloc's start-up, libc) are served by bootstrap.c;
 *   other threads wait on the init lock.
 * - Initialisation allocates nothing and uses no stdio: secure_getenv,
 *   open, ftruncate, mmap, and write(2) for messages.
 * - There is no teardown: the pool is never unmapped, so calls made after
 *   our destructor (late destructors, stdio flushing at exit) keep working.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/statvfs.h>

#include "je.h"
#include "track.h"
#include "vmm.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool initialized;
VMM_TLS enum vmm_tsd_state vmm_tsd_state;

static __attribute__((noreturn)) void creation_failed(int err)
{
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "vmem pool creation failed: ");
	vmm_msg_str(&m, vmm_strerror(err));
	if (vmm_opts.pool_node >= 0) {
		struct vmm_node_mem mem;
		vmm_msg_format(
			&m, " (VMMALLOC_POOL_NODE=%d, VMMALLOC_POOL_SIZE=%zu",
			vmm_opts.pool_node, vmm_opts.pool_size);
		if (vmm_node_meminfo((unsigned)vmm_opts.pool_node, &mem) == 0)
			vmm_msg_format(&m, ", %llu bytes free on the node",
				       (unsigned long long)mem.free);
		vmm_msg_str(&m, ")");
		vmm_die(&m);
	}
	if (vmm_opts.pool_device) {
		vmm_msg_format(&m,
			       " (VMMALLOC_POOL_DIR=%s, device DAX of %llu "
			       "bytes, VMMALLOC_POOL_SIZE=%zu)",
			       vmm_opts.pool_dir,
			       (unsigned long long)vmm_opts.device_size,
			       vmm_opts.pool_size);
		if (err == EBUSY)
			vmm_msg_format(
				&m,
				": the device is in use: other "
				"processes hold every range of %llu "
				"bytes it has room for",
				(unsigned long long)(vmm_opts.pool_size /
						     vmm_opts.device_align *
						     vmm_opts.device_align));
		vmm_die(&m);
	}
	vmm_msg_str(&m, " (VMMALLOC_POOL_DIR=");
	vmm_msg_str(&m, vmm_opts.pool_dir);
	vmm_msg_str(&m, ", VMMALLOC_POOL_SIZE=");
	vmm_msg_u64(&m, vmm_opts.pool_size);
	/* say how much room there was, so the user can pick a size or a dir */
	struct statvfs sv;
	if (statvfs(vmm_opts.pool_dir, &sv) == 0) {
		vmm_msg_str(&m, ", ");
		vmm_msg_u64(&m, (uint64_t)sv.f_bavail * sv.f_frsize);
		vmm_msg_str(&m, " bytes free");
	}
	vmm_msg_str(&m, ")");
	vmm_die(&m);
}

/* ulimit -f below the pool size: ftruncate would raise SIGXFSZ */
static void check_file_limit(void)
{
	size_t limit;
	/* a device is not a file: it never grows */
	if (vmm_opts.pool_device ||
	    vmm_pool_size_allowed(vmm_opts.pool_size, &limit))
		return;
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "VMMALLOC_POOL_SIZE value (");
	vmm_msg_u64(&m, vmm_opts.pool_size);
	vmm_msg_str(&m, ") is larger than the file size limit (ulimit -f: ");
	vmm_msg_u64(&m, limit);
	vmm_msg_str(&m, " bytes); raise the limit or choose a smaller pool");
	vmm_die(&m);
}

bool vmm_lib_init(void)
{
	vmm_options_load();
	vmm_log_init();
	check_file_limit();
	VMM_LOG(3, "creating the pool");
	bool on_node = vmm_opts.pool_node >= 0;
	int err;
	if (on_node)
		err = vmm_pool_create_node(&vmm_pool,
					   (unsigned)vmm_opts.pool_node,
					   vmm_opts.pool_size);
	else if (vmm_opts.pool_device)
		err = vmm_pool_create_device(&vmm_pool, vmm_opts.pool_dir,
					     vmm_opts.pool_size,
					     (size_t)vmm_opts.device_align,
					     vmm_opts.device_size);
	else
		err = vmm_pool_create(&vmm_pool, vmm_opts.pool_dir,
				      vmm_opts.pool_size, 0);
	if (err != 0)
		creation_failed(err);
	if (on_node) {
		VMM_LOG(1,
			"pool backing: numa node %d (memfd, mbind "
			"MPOL_BIND)",
			vmm_opts.pool_node);
	} else if (vmm_opts.pool_device) {
		VMM_LOG(1,
			"pool backing: device dax %s (range at offset "
			"%llu of %llu bytes, alignment %llu; pages zeroed on "
			"first use)",
			vmm_opts.pool_dir,
			(unsigned long long)vmm_pool.dev_offset,
			(unsigned long long)vmm_opts.device_size,
			(unsigned long long)vmm_opts.device_align);
	} else {
		VMM_LOG(1, "pool backing: file in %s", vmm_opts.pool_dir);
		VMM_LOG(1, "pool directory %s is %s", vmm_opts.pool_dir,
			vmm_pool.dax == 1 ? "on DAX"
			: vmm_pool.dax == 0
				? "not on DAX"
				: "of unknown DAX state (no statx DAX attribute)");
	}
	VMM_LOG(2, "pool created: %zu bytes at %p (usable %zu), fd %d, in %s",
		vmm_pool.file_size, (void *)vmm_pool.base, vmm_pool.size,
		(int)vmm_pool.fd, on_node ? "a memfd" : vmm_opts.pool_dir);
	if (vmm_opts.pool_prealloc) {
		err = vmm_pool_commit(&vmm_pool, vmm_pool.base, vmm_pool.size);
		if (err != 0)
			creation_failed(err);
		vmm_pool.keep_backed = true;
	}
	vmm_pool.lazy = vmm_opts.pool_lazy;
	if (vmm_pool.lazy)
		VMM_LOG(1, "VMMALLOC_POOL_LAZY=1: blocks on first write, "
			   "SIGBUS if the filesystem is full");
	if (!vmm_engine_init(&vmm_pool))
		creation_failed(ENOMEM);
	vmm_fork_init();
	/* under valgrind every call goes through the tracking layer */
	vmm_pool.fast_size = vmm_track_active() ? 0 : vmm_pool.size;
	VMM_LOG(2, "ready: pool arena %u, fork mode %u", vmm_engine_arena(),
		(unsigned)vmm_opts.fork_mode);
	return true;
}

enum vmm_enter vmm_enter(void)
{
	switch (vmm_tsd_state) {
	case VMM_TSD_NOMINAL:
	case VMM_TSD_BOUND:
		return VMM_ENTER_READY;
	case VMM_TSD_LATE:
		return VMM_ENTER_LATE;
	case VMM_TSD_BINDING: /* a call from inside init or binding */
		return VMM_ENTER_BOOT;
	case VMM_TSD_NEW:
		break;
	}
	vmm_tsd_state = VMM_TSD_BINDING;
	if (!atomic_load_explicit(&initialized, memory_order_acquire)) {
		pthread_mutex_lock(&init_lock);
		if (!atomic_load_explicit(&initialized, memory_order_relaxed)) {
			vmm_lib_init();
			atomic_store_explicit(&initialized, true,
					      memory_order_release);
		}
		pthread_mutex_unlock(&init_lock);
	}
	if (!vmm_engine_bind_thread()) {
		vmm_tsd_state = VMM_TSD_NEW;
		return VMM_ENTER_BOOT;
	}
	/* under an analysis tool every call takes the slow path (track.h) */
	vmm_tsd_state =
		vmm_pool.fast_size != 0 ? VMM_TSD_NOMINAL : VMM_TSD_BOUND;
	return VMM_ENTER_READY;
}

/* so that a bad environment is reported even if nothing is allocated */
#ifndef VMM_NO_CONSTRUCTOR
static __attribute__((constructor)) void vmm_constructor(int argc, char **argv,
							 char **envp)
{
	(void)argc;
	(void)argv;
	vmm_envp = envp; /* `environ` may not be set yet (see vmm_getenv) */
	vmm_enter();
	/* the loader is usable here (vmm_lib_init may run inside ld.so) */
	vmm_foreign_init();
}
#endif

/* the debug variant's last words; the pool stays mapped for later calls */
static __attribute__((destructor)) void vmm_destructor(void)
{
	if (vmm_debug && vmm_pool.base != NULL)
		vmm_stats_at_exit();
}
