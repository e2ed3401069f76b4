/*
 * track.h -- the annotation contract between the allocator and dynamic
 * analysis tools (valgrind): small hooks that override.c, the only
 * allocation path, calls around the engine; no-ops without a backend.
 * Outside valgrind the contract costs one load of a global byte and one
 * never-taken branch, on slow paths only.
 *
 * The entry points keep the tool out of their fast paths: when a tool is
 * active, vmm_lib_init() leaves the fast-path flags off (the thread state
 * never becomes VMM_TSD_NOMINAL, vmm_pool.fast_size is 0) and jemalloc's
 * thread caches are off (engine_conf.c: malloc is jemalloc's own, and
 * serves inline only from them), so every call reaches override.c's slow
 * path, which calls the hooks.
 *
 * Contract (the allocation hooks are called only while VMM_TRACK_ON()):
 *   vmm_track_active()           detect the tool now (at initialisation).
 *   VMM_TRACK_ON()               true when a tool must see this call; the
 *                                global starts "unknown" (non-zero), so the
 *                                first call detects the tool and caches the
 *                                answer (RUNNING_ON_VALGRIND) for good.
 *   vmm_track_pad(align)         before an allocation: the bytes to add
 *                                in front of the block (red zone, kept a
 *                                multiple of align) and behind it.
 *   vmm_track_malloc_size(raw, front, size, zero)
 *                                after it: raw is the engine's (or the
 *                                bootstrap) block of front + size + back
 *                                bytes; returns the program's block,
 *                                raw + front, described to the tool (and
 *                                zeroed if asked), or NULL if it cannot be
 *                                registered (override.c frees raw).
 *   vmm_track_free_size(ptr)     before a free of a pool or bootstrap
 *                                block: the engine block to free now, or
 *                                NULL when the backend keeps it (quarantine)
 *                                or ptr is no live block (reported).
 *   vmm_track_resize(ptr, size, &old)
 *                                realloc: resized in place, or "move" with
 *                                the bytes to copy, or not a live block.
 *   vmm_track_usable_size(ptr)   malloc_usable_size of a pool or bootstrap
 *                                block; the program may now use it all.
 *   vmm_track_reclaim()          before the one retry of a refused
 *                                allocation: give back what is held.
 *   vmm_track_prefork(), vmm_track_postfork()
 *                                from fork.c, around its own work (parent
 *                                and child alike).
 *   vmm_track_engine_mapped(a,n)   [a, a+n) is the engine's own memory
 *   vmm_track_engine_unmapped(a,n) (its metadata) until it is unmapped:
 *                                race detectors must not check it.
 *   VMM_TRACK_MUTEX_INIT(m)      m is about to be initialised: in a fork
 *                                child's handlers, the race detectors see
 *                                the prepare handler's lock released first.
 *
 * What the backend does (track_valgrind.c): blocks malloc-like with their
 * requested size; calloc blocks defined, others undefined; realloc in place
 * (resize) or by move; malloc_usable_size widens the block; bootstrap
 * blocks; free pool regions no-access from the first allocation on; the
 * pool restored after a fork remaps it.  Under memcheck only: red zones
 * around each block and a quarantine of freed blocks (bounded by the pool,
 * drained before an allocation is refused).  Under helgrind, drd, massif
 * and dhat: block annotations only; under helgrind and drd also the
 * engine's own mappings, which they must not check.  Under callgrind,
 * cachegrind and the other tools: nothing (they measure the production
 * path).
 *
 * With no backend (valgrind headers missing, -DVMM_VALGRIND=OFF, or
 * VMM_TRACK_DISABLE defined) every hook is an empty inline function and
 * VMM_TRACK_ON() is 0, so the compiler removes the calls.
 */
#ifndef VMM_TRACK_H
#define VMM_TRACK_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* bytes an allocation gets around the program's block (vmm_track_pad) */
struct vmm_track_pad {
	size_t front, back;
};
/* what realloc must do with a tracked block (vmm_track_resize) */
enum vmm_track_resize {
	VMM_TRACK_RESIZED,  /* in place: the block has its new size */
	VMM_TRACK_MOVE,	    /* copy *old bytes into a new block */
	VMM_TRACK_NOT_LIVE, /* no live block (reported to the tool) */
};

#if defined(VMM_HAVE_VALGRIND) && !defined(VMM_TRACK_DISABLE)
#define VMM_TRACK_BACKEND 1

enum vmm_track_mode {
	VMM_TRACK_OFF = 0,	/* not under valgrind, or a measuring tool */
	VMM_TRACK_UNKNOWN = 1,	/* before the first call */
	VMM_TRACK_MEMCHECK = 2, /* annotations, red zones, quarantine */
	VMM_TRACK_BLOCKS = 3,	/* helgrind, drd, massif, dhat: annotations */
};

/* a byte, so that the check is one load and one compare */
extern unsigned char vmm_track_mode;

#define VMM_TRACK_ON()                                                         \
	__builtin_expect(__atomic_load_n(&vmm_track_mode, __ATOMIC_RELAXED) != \
				 VMM_TRACK_OFF,                                \
			 0)
/* detects the tool (once) and says whether calls must be diverted */
bool vmm_track_active(void);

/*
 * The library reads pool memory it does not hand out (fork mode 2 copies
 * the backed pages, free or not, while other threads run): the tools must
 * not report those reads as the program's errors or races.
 */
#include <valgrind/valgrind.h>
#define VMM_TRACK_QUIET_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#define VMM_TRACK_QUIET_END() VALGRIND_ENABLE_ERROR_REPORTING
/*
 * Quiet is not enough for race detectors: they record the reads and report
 * them against another thread's later write.  True under helgrind and drd,
 * which do not see reads made through the kernel (pool.c's fork copy).
 */
bool vmm_track_hide_reads(void);

/*
 * jemalloc's own mappings (cmake/jemalloc.cmake renames its mmap and munmap
 * to engine_conf.c's): under helgrind and drd, the range is not checked
 * from the mapping to the unmapping; under other tools, nothing.
 */
void vmm_track_engine_mapped(void *addr, size_t len);
void vmm_track_engine_unmapped(void *addr, size_t len);
/*
 * m is the pthread mutex inside one of jemalloc's malloc_mutex_t, whose
 * other fields (contention counters, the spin loop's "locked" hint) are
 * read and written without the lock: under helgrind and drd, not checked.
 * The engine's metadata mappings are unchecked already; this covers the
 * mutexes among jemalloc's static variables.
 */
void vmm_track_engine_mutex(pthread_mutex_t *m);
/*
 * jemalloc's pthread_mutex_init (renamed too) and the engine's lock: in a
 * fork child they re-initialise the mutexes the prepare handlers locked,
 * which helgrind and drd would go on counting as held (and report at every
 * later use).
 */
void vmm_track_mutex_init(pthread_mutex_t *m);
#define VMM_TRACK_MUTEX_INIT(m)                                                \
	do {                                                                   \
		if (VMM_TRACK_ON())                                            \
			vmm_track_mutex_init(m);                               \
	} while (0)

/* the allocation hooks (see the contract above) */
struct vmm_track_pad vmm_track_pad(size_t align);
void *vmm_track_malloc_size(void *raw, size_t front, size_t size, bool zero);
void *vmm_track_free_size(void *ptr);
enum vmm_track_resize vmm_track_resize(void *ptr, size_t size, size_t *old);
size_t vmm_track_usable_size(void *ptr);
void vmm_track_reclaim(void);
void vmm_track_prefork(void);
void vmm_track_postfork(void);

#else /* no backend */

static inline bool vmm_track_active(void)
{
	return false;
}
static inline bool vmm_track_hide_reads(void)
{
	return false;
}
static inline void vmm_track_engine_mapped(void *addr, size_t len)
{
	(void)addr, (void)len;
}
static inline void vmm_track_engine_unmapped(void *addr, size_t len)
{
	(void)addr, (void)len;
}
static inline void vmm_track_engine_mutex(pthread_mutex_t *m)
{
	(void)m;
}
#define VMM_TRACK_MUTEX_INIT(m)                                                \
	do {                                                                   \
		(void)(m);                                                     \
	} while (0)
#define VMM_TRACK_ON() 0
static inline struct vmm_track_pad vmm_track_pad(size_t align)
{
	(void)align;
	return (struct vmm_track_pad){0, 0};
}
static inline void *vmm_track_malloc_size(void *raw, size_t front, size_t size,
					  bool zero)
{
	(void)front, (void)size, (void)zero;
	return raw;
}
static inline void *vmm_track_free_size(void *ptr)
{
	return ptr;
}
static inline enum vmm_track_resize vmm_track_resize(void *ptr, size_t size,
						     size_t *old)
{
	(void)ptr, (void)size, (void)old;
	return VMM_TRACK_MOVE;
}
static inline size_t vmm_track_usable_size(void *ptr)
{
	(void)ptr;
	return 0;
}
static inline void vmm_track_reclaim(void)
{
}
static inline void vmm_track_prefork(void)
{
}
static inline void vmm_track_postfork(void)
{
}
#define VMM_TRACK_QUIET_BEGIN()                                                \
	do {                                                                   \
	} while (0)
#define VMM_TRACK_QUIET_END()                                                  \
	do {                                                                   \
	} while (0)

#endif

#endif /* VMM_TRACK_H */
