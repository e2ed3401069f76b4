/*
 * vmm.h -- internal interfaces shared by the library's translation units.
 *
 * NOTES
 * - Everything here has hidden visibility (the whole library is compiled with
 *   -fvisibility=hidden); the only exported names are the 18 in
 *   libvmmalloc.map (the 11 of libvmmalloc(7) and jemalloc's 7
 *   non-standard names), all defined in override.c.
 * - Nothing here may call libc's malloc or stdio.
 */
#ifndef VMM_H
#define VMM_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMM_LIKELY(x) __builtin_expect(!!(x), 1)
#define VMM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VMM_TLS __thread __attribute__((tls_model("initial-exec")))
#define VMM_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uintptr_t)(a)-1))
#define VMM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define VMM_KiB ((size_t)1 << 10)
#define VMM_MiB ((size_t)1 << 20)
#define VMM_GiB ((size_t)1 << 30)

/* true in the debug variant (a second build of the same sources) */
#ifdef VMM_DEBUG
static const bool vmm_debug = true;
#else
static const bool vmm_debug = false;
#endif

/* ---- options.c: every VMMALLOC_* variable, parsed once ---- */
enum vmm_fork_mode {
	VMM_FORK_NONE = 0,    /* no support: parent and child share the heap */
	VMM_FORK_PRIVATE = 1, /* remap the pool copy-on-write before fork */
	VMM_FORK_COPY = 2,    /* the child gets a copy of the pool file */
	VMM_FORK_COPY_OR_PRIVATE = 3, /* try 2, fall back to 1 */
};

struct vmm_options {
	const char *pool_dir; /* NULL when the pool is on a NUMA node */
	int pool_node;	      /* VMMALLOC_POOL_NODE, or -1 */
	/* pool_dir names a device DAX (devdax.c): its size and alignment */
	bool pool_device;
	uint64_t device_size, device_align;
	size_t pool_size;
	enum vmm_fork_mode fork_mode;
	bool pool_prealloc; /* VMMALLOC_POOL_PREALLOC=1: back the pool at start */
	bool pool_lazy;	    /* VMMALLOC_POOL_LAZY=1: blocks on first write */
	/* debug variant only (the release build never reads them) */
	unsigned log_level;   /* VMMALLOC_LOG_LEVEL 0-4 */
	const char *log_file; /* VMMALLOC_LOG_FILE */
	unsigned log_stats;   /* VMMALLOC_LOG_STATS: 0 off, 1 text, 2 json */
};

extern struct vmm_options vmm_opts;

/* secure_getenv that also works before libc has set `environ` up */
const char *vmm_getenv(const char *name);
extern char **vmm_envp; /* the constructor's envp */

/* parses the environment into vmm_opts; on bad input prints and aborts */
void vmm_options_load(void);
/* parses "123", "16M", "1G"...; returns 0 or an error text */
const char *vmm_parse_size(const char *s, size_t *out);
/* parses a small decimal integer in [lo, hi]; returns false if invalid */
bool vmm_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);

/* ---- node.c: a pool on a NUMA node (VMMALLOC_POOL_NODE) ---- */
#define VMM_NODE_MAX 4096 /* node ids accepted: 0 to VMM_NODE_MAX - 1 */
#define VMM_NODE_MARGIN_MIN (16 * VMM_MiB)
#define VMM_NODE_MARGIN_MAX VMM_GiB
struct vmm_node_mem {
	uint64_t total, free, file; /* bytes: MemTotal, MemFree, file cache */
};
/* parses the text of nodeN/meminfo; false if a field is missing */
bool vmm_node_parse_meminfo(const char *text, size_t len, unsigned node,
			    struct vmm_node_mem *out);
/* reads /sys/devices/system/node/nodeN/meminfo; 0 or errno (ENOENT) */
int vmm_node_meminfo(unsigned node, struct vmm_node_mem *out);
/* the free memory a commit must leave on the node */
size_t vmm_node_margin(const struct vmm_node_mem *m);
/* whether len more bytes leave the node above its margin */
bool vmm_node_has_room(const struct vmm_node_mem *m, size_t len);
/* the commit guard: 0, or ENOMEM if the node is too short for len bytes */
int vmm_node_room(unsigned node, size_t len);
/* mbind(MPOL_BIND, {node}) of a mapping, raw system call; 0 or errno */
int vmm_node_bind(void *addr, size_t len, unsigned node);

/* ---- devdax.c: a pool on device DAX (VMMALLOC_POOL_DIR=/dev/daxX.Y) ---- */
struct vmm_devdax {
	uint64_t size, align; /* bytes; every mapping a multiple of align */
};
/* what sysfs says of character device rdev: 0, ENODEV if it is not device
 * DAX, or the errno of reading sysfs */
int vmm_devdax_info(dev_t rdev, struct vmm_devdax *out);

/* ---- format.c builds messages, log.c writes them (write(2) only) ---- */
struct vmm_msg {
	char buf[1024];
	size_t len;
};
void vmm_msg_str(struct vmm_msg *m, const char *s);
void vmm_msg_u64(struct vmm_msg *m, uint64_t v);
void vmm_msg_hex(struct vmm_msg *m, uintptr_t v);
/* appends printf-style text: %s %c %d %i %u %x %p %% with l, ll and z */
__attribute__((format(printf, 2, 3))) void vmm_msg_format(struct vmm_msg *m,
							  const char *fmt, ...);
void vmm_msg_vformat(struct vmm_msg *m, const char *fmt, va_list ap);
/* the text as a C string, terminated in place (the buffer keeps a byte
 * free for it) */
const char *vmm_msg_cstr(struct vmm_msg *m);
/* "Error (libvmmalloc): <text>\n" on stderr, then abort() */
__attribute__((noreturn)) void vmm_die(struct vmm_msg *m);
/* the same line without terminating */
void vmm_error(struct vmm_msg *m);
/* strerror without allocating */
const char *vmm_strerror(int err);

/*
 * Debug-variant logging and assertions.  Every macro below tests vmm_debug
 * first, so in the release build it folds away (no call, no load) while its
 * arguments stay type-checked.  Levels (VMMALLOC_LOG_LEVEL): 1 errors with
 * details and start-up facts, 2 basic operations, 3 function-call tracing,
 * 4 one line per allocation call.  A format starting with '!' appends
 * ": <strerror(errno)>".
 */
#define VMM_LOG_ON(level)                                                      \
	(vmm_debug && VMM_UNLIKELY(vmm_opts.log_level >= (unsigned)(level)))
#define VMM_LOG(level, ...)                                                    \
	do {                                                                   \
		if (VMM_LOG_ON(level))                                         \
			vmm_log_at((unsigned)(level), __FILE__, __LINE__,      \
				   __func__, __VA_ARGS__);                     \
	} while (0)
#define VMM_ASSERT(expr)                                                       \
	do {                                                                   \
		if (vmm_debug && VMM_UNLIKELY(!(expr)))                        \
			vmm_assert_fail(#expr, __FILE__, __LINE__, __func__);  \
	} while (0)

/* opens the log (file or a private dup of fd 2); after vmm_options_load */
void vmm_log_init(void);
__attribute__((format(printf, 5, 6))) void
vmm_log_at(unsigned level, const char *file, int line, const char *func,
	   const char *fmt, ...);
__attribute__((noreturn)) void
vmm_assert_fail(const char *expr, const char *file, int line, const char *func);
/* writes raw text to the log (stats.c); no prefix, no newline added */
void vmm_log_raw(const char *s, size_t len);
/* fork.c's sequence: the log's lines, and a child's own log file */
void vmm_log_prefork(void);
void vmm_log_postfork_parent(void);
void vmm_log_postfork_child(void);

/* the entry points, for level-4 lines and per-call counters */
enum vmm_call {
	VMM_CALL_malloc,
	VMM_CALL_calloc,
	VMM_CALL_realloc,
	VMM_CALL_free,
	VMM_CALL_cfree,
	VMM_CALL_posix_memalign,
	VMM_CALL_aligned_alloc,
	VMM_CALL_memalign,
	VMM_CALL_valloc,
	VMM_CALL_pvalloc,
	VMM_CALL_malloc_usable_size,
	VMM_CALL_COUNT
};

/*
 * VMM_LOG_CALL(name, fmt, args...) opens an entry point: in the debug
 * variant it counts the call and writes its level-4 line, unless the call
 * is nested in another entry point (memalign -> malloc, realloc -> free),
 * so one program call is one line and one count.  In the release build the
 * scope flag is a constant false and everything folds away.
 */
extern VMM_TLS bool vmm_in_call;
__attribute__((format(printf, 4, 5))) bool vmm_call_enter(enum vmm_call call,
							  const char *file,
							  int line,
							  const char *fmt, ...);
static inline void vmm_call_leave(const bool *outer)
{
	if (vmm_debug && *outer)
		vmm_in_call = false;
}
#define VMM_LOG_CALL(name, ...)                                                \
	__attribute__((cleanup(vmm_call_leave), unused))                       \
	const bool vmm_call_outer_ =                                           \
		vmm_debug && vmm_call_enter(VMM_CALL_##name, __FILE__,         \
					    __LINE__, __VA_ARGS__)

/* ---- stats.c: the exit summary (debug variant) ---- */
extern const char *const vmm_call_names[VMM_CALL_COUNT];
/* one more outermost call of this entry point (vmm_call_enter) */
void vmm_stats_count_call(enum vmm_call call);
/* the exit line and VMMALLOC_LOG_STATS's summary (life.c's destructor) */
void vmm_stats_at_exit(void);

/* ---- pool.c: the file, its mapping, its backing ---- */
struct vmm_pool {
	char *base;  /* 2 MiB (or 1 GiB) aligned */
	size_t size; /* bytes usable by the engine (page multiple) */
	size_t file_size;
	size_t page;
	/* ours while it names the pool file, -1 for good once the program
	 * closed it or put another file under the number (see pool.c) */
	_Atomic int fd;
	dev_t dev; /* the pool file's identity, for that check */
	ino_t ino;
	/* one bit a page: backed by the file (blocks allocated) */
	_Atomic uint64_t *backed;
	/* one bit a page: committed by the engine (a subset of backed:
	 * commit backs whole granules ahead, see pool.c) */
	_Atomic uint64_t *committed;
	size_t backed_bytes; /* of each bitmap */
	bool private_map;    /* remapped MAP_PRIVATE for fork mode 1 */
	bool can_fallocate;
	bool keep_backed; /* VMMALLOC_POOL_PREALLOC: never punch holes */
	/* VMMALLOC_POOL_LAZY: commit and fork copies reserve no blocks; a
	 * page gets one when first written (SIGBUS if the filesystem is full) */
	bool lazy;
	/* the range free()'s fast path accepts: size, or 0 under a tool */
	size_t fast_size;
	/* the pool file is on DAX (statx STATX_ATTR_DAX): -1 unknown, 0, 1 */
	int dax;
	/* a file whose faults go through a page cache: not tmpfs, not DAX */
	bool page_cache;
	/* -1: a file in the pool directory; else a memfd bound to this node */
	int node;
	/* the pool is a range of a device DAX, locked for this process: never
	 * a hole to punch (decommit refused), commit zeroes first (pool.c) */
	bool devdax;
	uint64_t dev_offset; /* where on the device the pool's range starts */
	/* fork copies go into a memfd: a node's or a device's pool, and
	 * every copy of one (no directory to make a file in) */
	bool memfd_copies;
};

/* hidden in the declaration too, so that free()'s range check loads base
 * and fast_size directly rather than through the GOT */
extern struct vmm_pool vmm_pool __attribute__((visibility("hidden")));

/* commit backs whole aligned granules of this size (pool.c) */
#define VMM_POOL_GRANULE (2 * VMM_MiB)

#define VMM_POOL_FORCE_MKSTEMP 0x1 /* test seam: pretend O_TMPFILE fails */

/* creates the pool; returns 0 or an errno value (EFBIG: RLIMIT_FSIZE) */
int vmm_pool_create(struct vmm_pool *p, const char *dir, size_t size,
		    unsigned flags);
/* creates a pool on a memfd whose pages all come from NUMA node `node` */
int vmm_pool_create_node(struct vmm_pool *p, unsigned node, size_t size);
/* creates a pool of size bytes (rounded down to align) on the first range
 * of the device DAX at path (of dev_size bytes) that no other process has
 * locked; EBUSY if every range is taken */
int vmm_pool_create_device(struct vmm_pool *p, const char *path, size_t size,
			   size_t align, uint64_t dev_size);
/* unmaps and closes a pool (tests only: the library never does) */
void vmm_pool_destroy(struct vmm_pool *p);
/* false, with the limit, if RLIMIT_FSIZE forbids a file of size bytes */
bool vmm_pool_size_allowed(size_t size, size_t *limit);
/* bytes of the pool backed by the file (the bitmap's count) */
size_t vmm_pool_backed_bytes(const struct vmm_pool *p);
/* backs [addr, addr+len) with file blocks; 0 or errno (ENOSPC...) */
int vmm_pool_commit(struct vmm_pool *p, void *addr, size_t len);
/* gives the blocks of [addr, addr+len) back; reads as zeros afterwards */
int vmm_pool_decommit(struct vmm_pool *p, void *addr, size_t len);
/* fork mode 1: remap the whole pool MAP_PRIVATE in place; EBADF if the
 * program took the pool's descriptor */
int vmm_pool_remap_private(struct vmm_pool *p);
/* fork mode 2: copy the pool's backed pages into a new unlinked file in
 * dir (read from the mapping, no descriptor needed); fd or -errno.  A
 * node pool's copy is a memfd bound to the same node (dir unused) */
int vmm_pool_clone(struct vmm_pool *p, const char *dir);
/* fork mode 2, in the child: map the clone in place and adopt it */
int vmm_pool_adopt(struct vmm_pool *p, int fd);

static inline bool vmm_in_pool(const void *ptr)
{
	return (uintptr_t)ptr - (uintptr_t)vmm_pool.base < vmm_pool.size;
}

/* vmm_in_pool() for free()'s fast path: false for every pointer while an
 * analysis tool must see the calls */
static inline bool vmm_in_pool_fast(const void *ptr)
{
	return (uintptr_t)ptr - (uintptr_t)vmm_pool.base < vmm_pool.fast_size;
}

/* ---- foreign.c ---- */
/* glibc's malloc_usable_size, for foreign blocks (from glibc's heap) */
size_t vmm_foreign_usable_size(void *ptr);
/* looks glibc's up, through the dynamic loader: once, from the constructor
 * (where the loader is usable), so that sizing never needs the loader */
void vmm_foreign_init(void);

/* ---- bootstrap.c: allocations made while the pool is being created ---- */
void *vmm_boot_alloc(size_t size, size_t align);
bool vmm_in_boot(const void *ptr);
size_t vmm_boot_usable_size(const void *ptr);

/* ---- life.c: the library's life and each thread's ---- */
/*
 * One state per thread (zero-initialised TLS: NEW), changed only where
 * named:
 *   NEW -> BINDING         vmm_enter: initialising the library or binding
 *                          the thread (its allocations are bootstrap blocks)
 *   BINDING -> NOMINAL     bound to the pool arena, fast paths taken
 *   BINDING -> BOUND       bound, but an analysis tool must see every call
 *   BINDING -> NEW         binding failed: try again at the next call
 *   NOMINAL/BOUND -> LATE  engine.c: jemalloc's per-thread cleanup ran
 *                          (late in thread exit); served by the late path
 */
enum vmm_tsd_state {
	VMM_TSD_NEW = 0,
	VMM_TSD_BINDING,
	VMM_TSD_BOUND,
	VMM_TSD_NOMINAL,
	VMM_TSD_LATE,
};
extern VMM_TLS enum vmm_tsd_state vmm_tsd_state;
static inline bool vmm_tsd_bound(void)
{
	return vmm_tsd_state == VMM_TSD_NOMINAL ||
	       vmm_tsd_state == VMM_TSD_BOUND;
}
enum vmm_enter { VMM_ENTER_READY, VMM_ENTER_BOOT, VMM_ENTER_LATE };
/* initialise the library if needed and bind the calling thread */
enum vmm_enter vmm_enter(void);
bool vmm_lib_init(void);

/* ---- engine.c: the private jemalloc ---- */
/* a late thread's allocations, from the pool arena all the same: size may
 * be 0, align 0 or a power of two; realloc's ptr is a pool block */
void *vmm_engine_late_alloc(size_t size, size_t align, bool zero);
void *vmm_engine_late_realloc(void *ptr, size_t size);

/* set up the engine on an existing pool; false on failure */
bool vmm_engine_init(struct vmm_pool *p);
/* flush this thread's cache and purge the pool arena before a retry */
void vmm_engine_reclaim(void);
/* bind the calling thread to the pool arena */
bool vmm_engine_bind_thread(void);
unsigned vmm_engine_arena(void);
/* fork.c: hold the engine's own lock across fork; the child re-inits it */
void vmm_engine_fork_lock(void);
void vmm_engine_fork_unlock(bool child);

/* what the extent hooks were asked and did: for tests and statistics */
struct vmm_hook_counts {
	unsigned long alloc_calls, alloc_ok;
	unsigned long commit_calls, commit_ok;
	unsigned long decommit_calls, decommit_ok;
	size_t committed;      /* bytes backed by the file through the hooks */
	size_t committed_peak; /* the most committed at once */
	size_t reserved;       /* bytes of the pool handed to the arena */
};
/* a consistent copy, taken under the hook lock */
void vmm_engine_counts(struct vmm_hook_counts *out);

/* ---- fork.c: the one registration of fork handlers ---- */
void vmm_fork_init(void);

/* ---- coverage.c: a gcov build only (scripts/coverage) ---- */
#ifdef VMM_COVERAGE
/* a forked child's counters start from zero (fork.c calls it first) */
void vmm_cov_postfork_child(void);
#endif

#endif /* VMM_H */
