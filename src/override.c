/*
 * override.c -- the ONLY allocation path and the only file that defines
 * the malloc-family names: the 11 entry points of libvmmalloc(7), with
 * glibc's semantics, and jemalloc's 7 non-standard names, all served from
 * the pool arena.
 *
 * NOTES
 * - Fast path: malloc is the private jemalloc's own, whose slow path
 *   comes back here (vmm_je_malloc_miss); free checks that the pointer is
 *   a pool block; the others check that the thread's state is
 *   VMM_TSD_NOMINAL (bound to the pool arena, which implies the library is
 *   initialised, and no analysis tool).  Everything else -- first call,
 *   init recursion, a late thread, an analysis tool, retry after reclaim,
 *   ENOMEM -- is one slow path per kind of call: alloc_slow, realloc_slow,
 *   free_slow.
 * - Pointers are sorted once, by kind_of(): the pool, the bootstrap
 *   buffer, or foreign.  Foreign pointers came from glibc's own heap (for
 *   instance a dlopen(RTLD_DEEPBIND) library binds to libc's malloc) and
 *   are handed back to glibc, never to jemalloc.
 * - malloc's blocks are 8-aligned below 16 bytes (jemalloc's 8-byte class),
 *   16-aligned above: memalign, mallocx and rallocx hand a request to
 *   malloc/realloc only when every block they could return is aligned
 *   enough; nallocx answers for the same request mallocx serves (size 0 is
 *   served as 1).
 * - A thread past jemalloc's own cleanup (thread-specific destructors
 *   numbered after it, or re-armed into a later round) is still served from
 *   the pool, through engine.c's late path; glibc only ever sees foreign
 *   blocks.
 * - An allocation that fails is retried once (engine_alloc) after the
 *   tracking layer gave back what it holds, the thread cache was flushed
 *   and the arena purged; only then NULL with errno ENOMEM.  Nothing ever
 *   falls back to the system heap.
 * - Under an analysis tool the same path runs with track.h's hooks around
 *   the engine: padding before, description after an allocation; a hook
 *   before free that may keep the block; realloc in place or by move.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "libvmmalloc.h"

#include "je.h"
#include "track.h"
#include "vmm.h"

#define VMM_EXPORT __attribute__((visibility("default")))
#define MIN_ALIGN 16 /* glibc's malloc alignment; bootstrap blocks keep it */
/*
 * What every block of malloc() is aligned to: jemalloc's smallest class is
 * 8 bytes (8-aligned); its classes from 16 bytes up are multiples of 16
 * and 16-aligned.  A stronger alignment needs the aligned path.
 */
#define MALLOC_ALIGN 8

/* glibc's own heap, for foreign pointers */
extern void __libc_free(void *ptr);
extern void *__libc_realloc(void *ptr, size_t size);

/* the private jemalloc's rallocx (renamed like the others, see je.h) */
VMM_JE_API void *vmm_je_rallocx(void *ptr, size_t size, int flags);

/* ---- pointer classification: the one place that sorts pointers ---- */

enum kind { KIND_NULL, KIND_POOL, KIND_BOOT, KIND_FOREIGN };

static inline enum kind kind_of(const void *ptr)
{
	if (vmm_in_pool(ptr))
		return KIND_POOL;
	if (ptr == NULL)
		return KIND_NULL;
	return vmm_in_boot(ptr) ? KIND_BOOT : KIND_FOREIGN;
}

/* bytes a block of ours holds, without a tool's view of it */
static size_t raw_usable_size(const void *ptr, enum kind kind)
{
	switch (kind) {
	case KIND_POOL:
		return vmm_je_malloc_usable_size(ptr);
	case KIND_BOOT:
		return vmm_boot_usable_size(ptr);
	case KIND_FOREIGN:
		return vmm_foreign_usable_size((void *)(uintptr_t)ptr);
	case KIND_NULL:
		break;
	}
	return 0;
}

/* ---- the engine underneath, with the one retry ---- */

/* ptr: realloc of that pool block; otherwise an allocation */
static void *engine_try(enum vmm_enter state, void *ptr, size_t align,
			size_t size, bool zero)
{
	/* a thread past jemalloc's cleanup: the engine's late path */
	if (state == VMM_ENTER_LATE)
		return ptr != NULL ? vmm_engine_late_realloc(ptr, size)
				   : vmm_engine_late_alloc(size, align, zero);
	if (ptr != NULL)
		return vmm_je_realloc(ptr, size);
	if (align != 0)
		return vmm_je_aligned_alloc(align, size); /* never zeroed */
	/* malloc's slow path itself: vmm_je_malloc would come back here */
	return zero ? vmm_je_calloc(1, size) : vmm_je_malloc_default(size);
}

/* engine_try, and once more after reclaim; NULL only then */
static void *engine_retry(enum vmm_enter state, void *ptr, size_t align,
			  size_t size, bool zero)
{
	void *p = engine_try(state, ptr, align, size, zero);
	if (p == NULL) {
		vmm_track_reclaim(); /* nothing held without a tool */
		vmm_engine_reclaim();
		p = engine_try(state, ptr, align, size, zero);
	}
	return p;
}

/*
 * An engine block of size bytes (align 0 or a power of two; zero, for
 * calloc, only with align 0), or a bootstrap block during init; NULL only
 * after the retry.
 */
static void *engine_alloc(enum vmm_enter state, size_t align, size_t size,
			  bool zero)
{
	if (state == VMM_ENTER_BOOT) /* static storage: already zeroed */
		return vmm_boot_alloc(size,
				      align > MIN_ALIGN ? align : MIN_ALIGN);
	return engine_retry(state, NULL, align, size, zero);
}

/* ---- the slow paths: every call that is not the fast path ---- */

/* align: 0 or a power of two; zero: calloc */
static void *alloc_tracked(enum vmm_enter state, size_t align, size_t size,
			   bool zero)
{
	struct vmm_track_pad pad = vmm_track_pad(align);
	size_t n;
	if (__builtin_add_overflow(size, pad.front + pad.back, &n))
		return NULL;
	/* the hook zeroes: the engine never writes what the tool guards */
	void *raw = engine_alloc(state, align, n, false);
	if (raw == NULL)
		return NULL;
	void *p = vmm_track_malloc_size(raw, pad.front, size, zero);
	if (p == NULL && vmm_in_pool(raw))
		vmm_je_free(raw);
	return p;
}

static __attribute__((noinline)) void *alloc_slow(size_t align, size_t number,
						  size_t size, bool zero)
{
	size_t n = size;
	if (zero && __builtin_mul_overflow(number, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	enum vmm_enter state = vmm_enter();
	void *p = VMM_TRACK_ON() ? alloc_tracked(state, align, n, zero)
				 : engine_alloc(state, align, n, zero);
	if (p == NULL)
		errno = ENOMEM;
	return p;
}

static void free_slow(void *ptr);

/* ptr is a pool or bootstrap block, size > 0 */
static void *realloc_tracked(void *ptr, size_t size)
{
	size_t old = 0;
	switch (vmm_track_resize(ptr, size, &old)) {
	case VMM_TRACK_RESIZED:
		return ptr;
	case VMM_TRACK_NOT_LIVE:
		errno = EINVAL;
		return NULL;
	case VMM_TRACK_MOVE:
		break;
	}
	/* by move, so that stale pointers to the old block are caught */
	void *p = alloc_slow(0, 1, size, false);
	if (p != NULL) {
		memcpy(p, ptr, old < size ? old : size);
		free_slow(ptr);
	}
	return p;
}

/* ptr is not NULL and size not 0 (realloc() sorted those out) */
static __attribute__((noinline)) void *realloc_slow(void *ptr, size_t size)
{
	enum kind kind = kind_of(ptr);
	if (kind == KIND_FOREIGN) /* stays glibc's */
		return __libc_realloc(ptr, size);
	if (VMM_TRACK_ON())
		return realloc_tracked(ptr, size);
	enum vmm_enter state = vmm_enter();
	void *p;
	if (kind == KIND_POOL && state != VMM_ENTER_BOOT) {
		p = engine_retry(state, ptr, 0, size, false);
	} else {
		/* a bootstrap block (or any block during init) moves; the
		 * old one is never reused */
		size_t old = raw_usable_size(ptr, kind);
		p = alloc_slow(0, 1, size, false);
		if (p != NULL)
			memcpy(p, ptr, old < size ? old : size);
	}
	if (p == NULL)
		errno = ENOMEM;
	return p;
}

static __attribute__((noinline)) void free_slow(void *ptr)
{
	switch (kind_of(ptr)) {
	case KIND_NULL:
		return;
	case KIND_FOREIGN: {
		int saved = errno;
		__libc_free(ptr);
		errno = saved;
		return;
	}
	case KIND_POOL:
	case KIND_BOOT: /* bootstrap blocks are never reused */
		break;
	}
	void *raw = VMM_TRACK_ON() ? vmm_track_free_size(ptr) : ptr;
	if (raw != NULL && vmm_in_pool(raw))
		vmm_je_free(raw); /* the fast path was off: first call */
}

static size_t usable_size_of(void *ptr)
{
	enum kind kind = kind_of(ptr);
	if (VMM_TRACK_ON() && (kind == KIND_POOL || kind == KIND_BOOT))
		return vmm_track_usable_size(ptr);
	return raw_usable_size(ptr, kind);
}

/* ---- the entry points ---- */

/*
 * malloc is jemalloc's own: its inline path hands out a block of the
 * thread cache, and only a block of the pool can be there (caches fill
 * here, and free passes only pool blocks on).  Everything else reaches
 * this function through src/je_miss.S: a thread not bound yet (its cache
 * is empty), an analysis tool (engine_conf.c turns the caches off), a
 * late thread, and the retry before NULL.
 */
void *vmm_je_malloc_miss(size_t size)
{
	if (VMM_LIKELY(vmm_tsd_state == VMM_TSD_NOMINAL)) {
		void *p = vmm_je_malloc_default(size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return alloc_slow(0, 1, size, false);
}

VMM_EXPORT void *malloc(size_t size)
{
	VMM_LOG_CALL(malloc, "size %zu", size);
	return vmm_je_malloc(size);
}

VMM_EXPORT void *calloc(size_t number, size_t size)
{
	VMM_LOG_CALL(calloc, "nmemb %zu, size %zu", number, size);
	if (VMM_LIKELY(vmm_tsd_state == VMM_TSD_NOMINAL)) {
		void *p = vmm_je_calloc(number, size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return alloc_slow(0, number, size, true);
}

VMM_EXPORT void free(void *ptr)
{
	VMM_LOG_CALL(free, "ptr %p", ptr);
	if (VMM_LIKELY(vmm_in_pool_fast(ptr))) {
		vmm_je_free(ptr);
		return;
	}
	free_slow(ptr);
}

VMM_EXPORT void cfree(void *ptr)
{
	VMM_LOG_CALL(cfree, "ptr %p", ptr);
	free(ptr);
}

VMM_EXPORT void *realloc(void *ptr, size_t size)
{
	VMM_LOG_CALL(realloc, "ptr %p, size %zu", ptr, size);
	if (ptr == NULL)
		return malloc(size);
	if (size == 0) {
		/* glibc: realloc(p, 0) frees p and returns NULL */
		free(ptr);
		return NULL;
	}
	if (VMM_LIKELY(vmm_tsd_state == VMM_TSD_NOMINAL && vmm_in_pool(ptr))) {
		void *p = vmm_je_realloc(ptr, size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return realloc_slow(ptr, size);
}

static bool is_pow2(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* alignment is a power of two here */
static void *aligned(size_t alignment, size_t size)
{
	/* malloc's block is aligned enough: 8 always, 16 from 16 bytes up */
	if (alignment <= MALLOC_ALIGN ||
	    (alignment <= MIN_ALIGN && size >= alignment))
		return malloc(size);
	if (VMM_LIKELY(vmm_tsd_state == VMM_TSD_NOMINAL)) {
		void *p = vmm_je_aligned_alloc(alignment, size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return alloc_slow(alignment, 1, size, false);
}

VMM_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	VMM_LOG_CALL(posix_memalign, "alignment %zu  size %zu", alignment,
		     size);
	if (!is_pow2(alignment) || alignment % sizeof(void *) != 0)
		return EINVAL;
	int saved = errno;
	void *p = aligned(alignment, size);
	errno = saved;
	if (p == NULL)
		return ENOMEM;
	*memptr = p;
	return 0;
}

VMM_EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
	VMM_LOG_CALL(aligned_alloc, "alignment %zu  size %zu", alignment, size);
	if (!is_pow2(alignment)) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(alignment, size);
}

VMM_EXPORT void *memalign(size_t alignment, size_t size)
{
	VMM_LOG_CALL(memalign, "boundary %zu  size %zu", alignment, size);
	/*
	 * glibc: alignments up to malloc's own are malloc's, others round up
	 * to 2^n.  Ours is 8, not glibc's 16: memalign(16, 8) must not get an
	 * 8-byte class block.
	 */
	if (alignment > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (alignment <= MALLOC_ALIGN)
		return malloc(size);
	if (!is_pow2(alignment))
		alignment = (size_t)1 << (64 - __builtin_clzll(alignment));
	return aligned(alignment, size);
}

static size_t page_size(void)
{
	static size_t page;
	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

VMM_EXPORT void *valloc(size_t size)
{
	VMM_LOG_CALL(valloc, "size %zu", size);
	return aligned(page_size(), size);
}

VMM_EXPORT void *pvalloc(size_t size)
{
	VMM_LOG_CALL(pvalloc, "size %zu", size);
	size_t page = page_size();
	size_t rounded = (size + page - 1) & ~(page - 1);
	if (rounded < size) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned(page, rounded == 0 ? page : rounded);
}

VMM_EXPORT size_t malloc_usable_size(void *ptr)
{
	VMM_LOG_CALL(malloc_usable_size, "ptr %p", ptr);
	return usable_size_of(ptr);
}

/*
 * jemalloc's non-standard API, for programs linked against jemalloc (as
 * Debian's redis-server is) that hand our blocks to it: preloaded, these
 * bind here and serve the pool, where libjemalloc.so.2 would crash on a
 * block it does not know.  Only the alignment (MALLOCX_LG_ALIGN, the low
 * six bits) and MALLOCX_ZERO are honoured; arena and tcache bits name
 * another jemalloc's objects and are ignored.  mallctl and
 * malloc_stats_print are not exported: a program could move allocations
 * out of the pool through them.
 */
#define JE_FLAG_LG_ALIGN 0x3f
#define JE_FLAG_ZERO 0x40

void *mallocx(size_t size, int flags);
void *rallocx(void *ptr, size_t size, int flags);
size_t xallocx(void *ptr, size_t size, size_t extra, int flags);
size_t sallocx(const void *ptr, int flags);
void dallocx(void *ptr, int flags);
void sdallocx(void *ptr, size_t size, int flags);
size_t nallocx(size_t size, int flags);

static size_t je_flag_align(int flags)
{
	unsigned lg = (unsigned)flags & JE_FLAG_LG_ALIGN;
	return lg == 0 ? 0 : (size_t)1 << lg;
}

/* the flags our entry points pass on to the private jemalloc */
#define JE_FLAGS_KEPT (JE_FLAG_LG_ALIGN | JE_FLAG_ZERO)

VMM_EXPORT void *mallocx(size_t size, int flags)
{
	size_t align = je_flag_align(flags);
	bool zero = (flags & JE_FLAG_ZERO) != 0;
	if (align <= MALLOC_ALIGN)
		return zero ? calloc(1, size) : malloc(size);
	if (VMM_LIKELY(vmm_tsd_state == VMM_TSD_NOMINAL)) {
		/* size 0 is undefined for jemalloc: one byte, as nallocx says */
		void *p = vmm_je_mallocx(size == 0 ? 1 : size,
					 flags & JE_FLAGS_KEPT);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	void *p = aligned(align, size);
	if (p != NULL && zero) /* jemalloc zeroes the whole usable size */
		memset(p, 0, VMM_TRACK_ON() ? size : usable_size_of(p));
	return p;
}

VMM_EXPORT void *rallocx(void *ptr, size_t size, int flags)
{
	if (size == 0)
		size = 1; /* rallocx never frees */
	if (je_flag_align(flags) <= MALLOC_ALIGN && !(flags & JE_FLAG_ZERO))
		return realloc(ptr, size);
	if (VMM_LIKELY(vmm_tsd_state == VMM_TSD_NOMINAL && vmm_in_pool(ptr))) {
		/* keeps the alignment when it resizes in place, too */
		void *p = vmm_je_rallocx(ptr, size, flags & JE_FLAGS_KEPT);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	size_t old = malloc_usable_size(ptr);
	void *p = mallocx(size, flags);
	if (p != NULL) {
		memcpy(p, ptr, old < size ? old : size);
		free(ptr);
	}
	return p;
}

VMM_EXPORT size_t xallocx(void *ptr, size_t size, size_t extra, int flags)
{
	(void)size, (void)extra, (void)flags;
	return malloc_usable_size(ptr); /* never resized in place */
}

VMM_EXPORT size_t sallocx(const void *ptr, int flags)
{
	(void)flags;
	return malloc_usable_size((void *)(uintptr_t)ptr);
}

VMM_EXPORT void dallocx(void *ptr, int flags)
{
	(void)flags;
	free(ptr);
}

VMM_EXPORT void sdallocx(void *ptr, size_t size, int flags)
{
	(void)size, (void)flags;
	free(ptr);
}

VMM_EXPORT size_t nallocx(size_t size, int flags)
{
	if (!vmm_tsd_bound() && vmm_enter() == VMM_ENTER_BOOT)
		return 0; /* a late thread may ask: the size classes stay */
	/* mallocx(0, flags) is served as mallocx(1, flags): so is this */
	return vmm_je_nallocx(size == 0 ? 1 : size, flags & JE_FLAGS_KEPT);
}
