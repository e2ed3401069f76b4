/*
 * engine.c -- the private jemalloc: the pool arena, its extent hooks, the
 * whole-pool reservation, thread binding and jemalloc's thread destructor.
 * The only file that sees extent hooks.
 *
 * NOTES
 * - jemalloc's own metadata stays in DRAM (experimental.arenas_create_ext
 *   with metadata_use_hooks=false); the pool holds only user blocks.
 * - alloc is a bump pointer over the pool.  Extents from separate alloc
 *   calls never coalesce in jemalloc 5.3, so at start-up the whole pool is
 *   reserved through as few alloc calls as possible, then freed and purged:
 *   it ends retained and decommitted.  While that runs, commit/decommit only
 *   count (nothing is backed), so start-up is O(1) in the pool size.
 * - commit = fallocate, decommit = punch a hole: freed memory goes back to
 *   the filesystem and a full filesystem is ENOMEM, never SIGBUS.  pool.c
 *   backs whole 2 MiB granules ahead (one call instead of one per slab);
 *   both hooks run under eng.lock so that a commit that finds its pages
 *   backed cannot race a decommit punching the rest of the granule.
 *   purge_lazy/purge_forced are absent on purpose: MADV_FREE fails on shared
 *   file mappings and MADV_DONTNEED does not zero them.
 * - jemalloc's per-thread cleanup runs at pthread key 31, the last one of
 *   glibc's first key block, in every destructor round, and then marks the
 *   thread VMM_TSD_LATE (the cleanup itself is not deferred).  From then
 *   on jemalloc serves the thread from arena 0, outside the pool, whatever
 *   arena is asked for -- except through rallocx: a late thread's blocks
 *   are made by moving a small arena-0 seed into the pool arena
 *   (vmm_engine_late_alloc).
 * - Hooks preserve errno: they run inside free().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "je.h"
#include "track.h"
#include "vmm.h"

/* jemalloc 5.3's arena_config_t (experimental.arenas_create_ext) */
struct je_arena_config {
	extent_hooks_t *extent_hooks;
	bool metadata_use_hooks;
};

static struct {
	pthread_mutex_t lock; /* the bump pointer */
	size_t bump;	      /* offset of the first never-handed-out byte */
	bool reserving;	      /* start-up reservation: count, do not back */
	ptrdiff_t phantom;    /* bytes "committed" while reserving */
	unsigned arena;
	size_t mib_bind[2], mib_bind_len;
	size_t mib_purge[3], mib_purge_len;
	struct vmm_hook_counts counts; /* under lock */
} eng = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- extent hooks ---- */

/* under eng.lock: the one count of committed bytes (stats.c reads it) */
static void count_committed(ptrdiff_t delta)
{
	eng.counts.committed += (size_t)delta;
	if (eng.counts.committed > eng.counts.committed_peak)
		eng.counts.committed_peak = eng.counts.committed;
}

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size,
			size_t alignment, bool *zero, bool *commit,
			unsigned arena_ind)
{
	(void)h;
	(void)arena_ind;
	int saved = errno;
	void *ret = NULL;
	pthread_mutex_lock(&eng.lock);
	VMM_ASSERT(pthread_mutex_trylock(&eng.lock) == EBUSY);
	VMM_LOG(3, "new_addr %p size %zu alignment %zu commit %d", new_addr,
		size, alignment, (int)*commit);
	eng.counts.alloc_calls++;
	uintptr_t base = (uintptr_t)vmm_pool.base;
	uintptr_t start = VMM_ALIGN_UP(base + eng.bump, alignment);
	if (new_addr != NULL && (uintptr_t)new_addr != start)
		goto out;
	if (start < base || size > vmm_pool.size ||
	    start - base > vmm_pool.size - size) {
		VMM_LOG(1, "pool exhausted: %zu bytes asked, %zu left", size,
			vmm_pool.size - eng.bump);
		goto out;
	}
	if (*commit) {
		if (eng.reserving)
			eng.phantom += (ptrdiff_t)size;
		else if (vmm_pool_commit(&vmm_pool, (void *)start, size) != 0)
			goto out;
		else
			count_committed((ptrdiff_t)size);
	}
	eng.bump = start + size - base;
	eng.counts.alloc_ok++;
	eng.counts.reserved = eng.bump;
	*zero = true; /* never handed out before: the file reads zeros */
	ret = (void *)start;
out:
	pthread_mutex_unlock(&eng.lock);
	errno = saved;
	return ret;
}

/* under eng.lock */
static void count(unsigned long *calls, unsigned long *ok, bool success,
		  ptrdiff_t delta)
{
	(*calls)++;
	if (success) {
		(*ok)++;
		count_committed(delta);
	}
}

void vmm_engine_counts(struct vmm_hook_counts *out)
{
	pthread_mutex_lock(&eng.lock);
	*out = eng.counts;
	pthread_mutex_unlock(&eng.lock);
}

/* commit (back with file blocks) or decommit (punch them out) a range */
static bool backing(void *addr, size_t size, size_t offset, size_t length,
		    bool commit)
{
	VMM_ASSERT(vmm_in_pool(addr) && offset + length <= size &&
		   size <= vmm_pool.size -
				   (size_t)((char *)addr - vmm_pool.base));
	VMM_LOG(3, "%s addr %p size %zu offset %zu length %zu",
		commit ? "commit" : "decommit", addr, size, offset, length);
	if (eng.reserving) { /* start-up: count, back nothing */
		eng.phantom += commit ? (ptrdiff_t)length : -(ptrdiff_t)length;
		return false;
	}
	int saved = errno;
	char *start = (char *)addr + offset;
	/* one at a time: pool.c backs and punches whole granules */
	pthread_mutex_lock(&eng.lock);
	int err = commit ? vmm_pool_commit(&vmm_pool, start, length)
			 : vmm_pool_decommit(&vmm_pool, start, length);
	if (commit)
		count(&eng.counts.commit_calls, &eng.counts.commit_ok, err == 0,
		      (ptrdiff_t)length);
	else
		count(&eng.counts.decommit_calls, &eng.counts.decommit_ok,
		      err == 0, -(ptrdiff_t)length);
	pthread_mutex_unlock(&eng.lock);
	if (err != 0 && commit)
		VMM_LOG(1, "cannot back %zu bytes at %p: %s", length,
			(void *)start, vmm_strerror(err));
	errno = saved;
	return err != 0;
}

static bool hook_commit(extent_hooks_t *h, void *addr, size_t size,
			size_t offset, size_t length, unsigned arena_ind)
{
	(void)h, (void)arena_ind;
	return backing(addr, size, offset, length, true);
}

static bool hook_decommit(extent_hooks_t *h, void *addr, size_t size,
			  size_t offset, size_t length, unsigned arena_ind)
{
	(void)h, (void)arena_ind;
	return backing(addr, size, offset, length, false);
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size,
		       size_t size_a, size_t size_b, bool committed,
		       unsigned arena_ind)
{
	(void)h, (void)addr, (void)size, (void)size_a, (void)size_b;
	(void)committed, (void)arena_ind;
	VMM_ASSERT(vmm_in_pool(addr) && size_a + size_b == size);
	VMM_LOG(3, "addr %p size %zu into %zu + %zu", addr, size, size_a,
		size_b);
	return false;
}

static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a,
		       void *addr_b, size_t size_b, bool committed,
		       unsigned arena_ind)
{
	(void)h, (void)addr_a, (void)size_a, (void)addr_b, (void)size_b;
	(void)committed, (void)arena_ind;
	VMM_ASSERT(vmm_in_pool(addr_a) && (char *)addr_a + size_a == addr_b);
	VMM_LOG(3, "%p (%zu) + %p (%zu)", addr_a, size_a, addr_b, size_b);
	return false;
}

static extent_hooks_t pool_hooks = {
	.alloc = hook_alloc,
	.dalloc = NULL, /* opt out: jemalloc retains ranges for reuse */
	.destroy = NULL,
	.commit = hook_commit,
	.decommit = hook_decommit,
	.purge_lazy = NULL,
	.purge_forced = NULL,
	.split = hook_split,
	.merge = hook_merge,
};

/* ---- jemalloc's thread destructor ---- */

/*
 * glibc runs thread-specific destructors in key order, round after round
 * (up to 4).  jemalloc's per-thread cleanup gets the highest key of the
 * first level, so that in each round every destructor numbered below it --
 * which may still allocate -- runs while the thread still has its cache and
 * its binding to the pool arena.  Keys from 32 up run after it in every
 * round, and so does any destructor that re-arms itself into a later
 * round: the thread is then "late".
 *
 * What jemalloc 5.3 does with a late thread (measured): its tsd is
 * "reincarnated" (reentrancy level 1, no tcache), and every allocation
 * through malloc, calloc, aligned_alloc *and* mallocx goes to arena 0 --
 * imalloc_body replaces even an explicit MALLOCX_ARENA by 0 when the
 * reentrancy level is set (90 of 90 blocks outside the pool, asking for the
 * pool arena).  rallocx takes no such detour: it moves a block into the
 * arena named in its flags.  So a late allocation takes a small seed block
 * from arena 0 and rallocx moves it into the pool arena; the seed is of
 * another size class than the result, so it is always moved (never resized
 * in place), and freed back to arena 0 on the way.  free() needs nothing:
 * jemalloc returns a block to the arena it came from, tcache or not.
 *
 * Deferring the cleanup itself cannot be done safely: glibc does not say
 * which round is the last, a thread must not exit with its tsd still on
 * jemalloc's list of live ones, and a thread whose jemalloc state is
 * created inside a destructor would exit without any cleanup.
 */
#define VMM_KEY_SLOT 31 /* the last key before glibc's second level */

static void (*je_tsd_dtor)(void *);

static void tsd_dtor(void *arg)
{
	je_tsd_dtor(arg);
	vmm_tsd_state = VMM_TSD_LATE; /* from now on, the late path */
}

int vmm_je_pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	if (dtor == NULL || je_tsd_dtor != NULL)
		return pthread_key_create(key, dtor);
	je_tsd_dtor = dtor;
	pthread_key_t spare[VMM_KEY_SLOT + 1];
	unsigned n = 0;
	int ret = pthread_key_create(key, tsd_dtor);
	while (ret == 0 && *key < VMM_KEY_SLOT && n < VMM_ARRAY_SIZE(spare)) {
		spare[n++] = *key;
		ret = pthread_key_create(key, tsd_dtor);
	}
	if (ret != 0 && n > 0) { /* keep the highest we got */
		*key = spare[--n];
		ret = 0;
	}
	while (n > 0)
		pthread_key_delete(spare[--n]);
	return ret;
}

VMM_JE_API void *vmm_je_rallocx(void *ptr, size_t size, int flags);

/* the flags that make jemalloc serve a late thread from the pool arena */
static int late_flags(size_t align, bool zero)
{
	int flags = (int)MALLOCX_ARENA(eng.arena) | MALLOCX_TCACHE_NONE;
	if (align > 1)
		flags |= MALLOCX_LG_ALIGN((unsigned)__builtin_ctzll(align));
	if (zero)
		flags |= MALLOCX_ZERO;
	return flags;
}

void *vmm_engine_late_alloc(size_t size, size_t align, bool zero)
{
	int flags = late_flags(align, zero);
	size_t usize = vmm_je_nallocx(size == 0 ? 1 : size, flags);
	if (usize == 0)
		return NULL; /* too large */
	/* a zeroed seed: rallocx copies the seed's bytes into the result */
	void *seed =
		vmm_je_mallocx(usize == 8 ? 16 : 8,
			       MALLOCX_TCACHE_NONE | (zero ? MALLOCX_ZERO : 0));
	if (seed == NULL)
		return NULL;
	void *p = vmm_je_rallocx(seed, size == 0 ? 1 : size, flags);
	if (p == NULL)
		vmm_je_dallocx(seed, MALLOCX_TCACHE_NONE);
	VMM_ASSERT(p == NULL || vmm_in_pool(p));
	return p;
}

void *vmm_engine_late_realloc(void *ptr, size_t size)
{
	VMM_ASSERT(vmm_in_pool(ptr));
	void *p = vmm_je_rallocx(ptr, size, late_flags(0, false));
	VMM_ASSERT(p == NULL || vmm_in_pool(p));
	return p;
}

/* ---- the arena ---- */

static bool create_arena(void)
{
	size_t len = sizeof(eng.arena);
	struct je_arena_config cfg = {&pool_hooks, false};
	if (vmm_je_mallctl("experimental.arenas_create_ext", &eng.arena, &len,
			   &cfg, sizeof(cfg)) == 0)
		return true;
	/* fallback: jemalloc's base metadata then lives in the pool */
	extent_hooks_t *hooks = &pool_hooks;
	len = sizeof(eng.arena);
	return vmm_je_mallctl("arenas.create", &eng.arena, &len, &hooks,
			      sizeof(hooks)) == 0;
}

/*
 * The largest size class whose extent (class + one page of cache-oblivious
 * padding) fits in `room` bytes; 0 if none.  Large classes come four per
 * doubling: the class below c is c - 2^(floor(log2(c - 1)) - 2).
 */
static size_t largest_fit(size_t room, size_t page)
{
	if (room < 5 * page)
		return 0;
	size_t usize = vmm_je_nallocx(room - page, 0);
	while (usize != 0 && usize > room - page) {
		unsigned lg = 63u - (unsigned)__builtin_clzll(usize - 1);
		size_t delta = (size_t)1 << (lg >= 2 ? lg - 2 : 0);
		if (usize <= delta + 4 * page)
			return 0;
		usize = vmm_je_nallocx(usize - delta, 0);
	}
	return usize;
}

/*
 * Hands the whole pool to the arena through a few large extents, then
 * frees and purges them so they end retained and decommitted.
 */
static bool reserve_pool(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int flags = MALLOCX_ARENA(eng.arena) | MALLOCX_TCACHE_NONE;
	void *held[64];
	size_t nheld = 0;

	eng.reserving = true;
	while (nheld < VMM_ARRAY_SIZE(held)) {
		size_t room = vmm_pool.size - eng.bump;
		size_t usize = largest_fit(room, page);
		if (usize == 0)
			break;
		void *p = vmm_je_mallocx(usize, flags);
		if (p == NULL)
			break;
		held[nheld++] = p;
	}
	for (size_t i = 0; i < nheld; i++)
		vmm_je_dallocx(held[i], flags);
	int ret = vmm_je_mallctlbymib(eng.mib_purge, eng.mib_purge_len, NULL,
				      NULL, NULL, 0);
	eng.reserving = false;
	if (ret != 0 || eng.phantom != 0) {
		/*
		 * Something stayed "committed" without being backed: back
		 * the whole pool rather than risk SIGBUS on a full disk.
		 */
		if (vmm_pool_commit(&vmm_pool, vmm_pool.base, vmm_pool.size))
			return false;
		eng.phantom = 0;
	}
	return nheld > 0;
}

static bool lookup_mibs(void)
{
	char name[64];
	eng.mib_bind_len = VMM_ARRAY_SIZE(eng.mib_bind);
	if (vmm_je_mallctlnametomib("thread.arena", eng.mib_bind,
				    &eng.mib_bind_len) != 0)
		return false;
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "arena.");
	vmm_msg_u64(&m, eng.arena);
	vmm_msg_str(&m, ".purge");
	memcpy(name, m.buf, m.len);
	name[m.len] = '\0';
	eng.mib_purge_len = VMM_ARRAY_SIZE(eng.mib_purge);
	return vmm_je_mallctlnametomib(name, eng.mib_purge,
				       &eng.mib_purge_len) == 0;
}

bool vmm_engine_init(struct vmm_pool *p)
{
	(void)p;
	if (!create_arena() || !lookup_mibs())
		return false;
	return reserve_pool();
}

unsigned vmm_engine_arena(void)
{
	return eng.arena;
}

bool vmm_engine_bind_thread(void)
{
	return vmm_je_mallctlbymib(eng.mib_bind, eng.mib_bind_len, NULL, NULL,
				   &eng.arena, sizeof(eng.arena)) == 0;
}

/* fork.c holds the bump pointer's lock across fork (after jemalloc's) */
void vmm_engine_fork_lock(void)
{
	pthread_mutex_lock(&eng.lock);
}

void vmm_engine_fork_unlock(bool child)
{
	if (child) /* helgrind, drd: the held lock ends first (track.h) */
		VMM_TRACK_MUTEX_INIT(&eng.lock);
	if (child)
		pthread_mutex_init(&eng.lock, NULL);
	else
		pthread_mutex_unlock(&eng.lock);
}

void vmm_engine_reclaim(void)
{
	int saved = errno;
	vmm_je_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	vmm_je_mallctlbymib(eng.mib_purge, eng.mib_purge_len, NULL, NULL, NULL,
			    0);
	errno = saved;
}
