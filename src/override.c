/*
 * override.c -- the ONLY file that defines the malloc-family names: the 11
 * entry points of libvmmalloc(7), with glibc's semantics, served from the
 * pool arena.
 *
 * NOTES
 * - Fast path: one TLS flag (the thread is bound to the pool arena, which
 *   implies the library is initialised), then the private jemalloc's plain
 *   entry point, which keeps its thread cache.  Everything else -- first
 *   call, init recursion, retry after reclaim, ENOMEM -- is in *_slow().
 * - Pointers are sorted by two compares: the pool, the bootstrap buffer, or
 *   foreign.  Foreign pointers came from glibc's own heap (for instance a
 *   dlopen(RTLD_DEEPBIND) library binds to libc's malloc) and are handed
 *   back to glibc, never to jemalloc.
 * - malloc's blocks are 8-aligned below 16 bytes (jemalloc's 8-byte class),
 *   16-aligned above: memalign, mallocx and rallocx hand a request to
 *   malloc/realloc only when every block they could return is aligned
 *   enough; nallocx answers for the same request mallocx serves (size 0 is
 *   served as 1).
 * - A thread past jemalloc's own cleanup (thread-specific destructors
 *   numbered after it, or re-armed into a later round) is still served from
 *   the pool, through engine.c's late path; glibc only ever sees foreign
 *   blocks.
 * - An allocation that fails is retried once after flushing the thread cache
 *   and purging the arena; only then NULL with errno ENOMEM.  Nothing ever
 *   falls back to the system heap.
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

enum op { OP_MALLOC, OP_CALLOC, OP_ALIGNED, OP_REALLOC };

/*
 * A thread past jemalloc's own cleanup (a destructor numbered after it, or
 * re-armed into a later round, see engine.c) is still served from the
 * pool arena, through the engine's late path.
 */
static void *late_call(enum op op, void *ptr, size_t a, size_t size)
{
	size_t n;
	switch (op) {
	case OP_MALLOC:
		return vmm_engine_late_alloc(size, 0, false);
	case OP_CALLOC:
		if (__builtin_mul_overflow(a, size, &n))
			return NULL;
		return vmm_engine_late_alloc(n, 0, true);
	case OP_ALIGNED:
		return vmm_engine_late_alloc(size, a, false);
	case OP_REALLOC:
		return vmm_engine_late_realloc(ptr, size);
	}
	return NULL;
}

static void *je_call(bool late, enum op op, void *ptr, size_t a,
		     size_t size)
{
	if (late)
		return late_call(op, ptr, a, size);
	switch (op) {
	case OP_MALLOC:
		return vmm_je_malloc(size);
	case OP_CALLOC:
		return vmm_je_calloc(a, size);
	case OP_ALIGNED:
		return vmm_je_aligned_alloc(a, size);
	case OP_REALLOC:
		return vmm_je_realloc(ptr, size);
	}
	return NULL;
}

static size_t usable_size_of(void *ptr);

/* moves a bootstrap block (or a block seen during init) to a new block */
static void *move_block(void *ptr, size_t old_size, void *new_ptr,
			size_t size)
{
	if (new_ptr != NULL)
		memcpy(new_ptr, ptr, old_size < size ? old_size : size);
	return new_ptr;
}

#ifdef VMM_TRACK_BACKEND
/* under an analysis tool every allocation goes through track_valgrind.c */
static void *track_call(enum op op, void *ptr, size_t a, size_t size)
{
	switch (op) {
	case OP_MALLOC:
		return vmm_track_malloc(size);
	case OP_CALLOC:
		return vmm_track_calloc(a, size);
	case OP_ALIGNED:
		return vmm_track_aligned(a, size);
	case OP_REALLOC:
		return vmm_track_realloc(ptr, size);
	}
	return NULL;
}
#endif

static __attribute__((noinline)) void *alloc_slow(enum op op, void *ptr,
						  size_t a, size_t size)
{
#ifdef VMM_TRACK_BACKEND
	if (VMM_TRACK_ON())
		return track_call(op, ptr, a, size);
#endif
	enum vmm_enter state = vmm_enter();
	if (state == VMM_ENTER_BOOT) {
		size_t n = size;
		if (op == OP_CALLOC && __builtin_mul_overflow(a, size, &n)) {
			errno = ENOMEM;
			return NULL;
		}
		void *p = vmm_boot_alloc(n, op == OP_ALIGNED ? a : MIN_ALIGN);
		if (op == OP_REALLOC)
			p = move_block(ptr, usable_size_of(ptr), p, size);
		return p;
	}
	if (op == OP_REALLOC && !vmm_in_pool(ptr)) {
		/* a bootstrap block moves into the pool */
		void *p = malloc(size);
		return move_block(ptr, vmm_boot_usable_size(ptr), p, size);
	}
	bool late = state == VMM_ENTER_LATE;
	void *p = je_call(late, op, ptr, a, size);
	if (p == NULL) {
		vmm_engine_reclaim();
		p = je_call(late, op, ptr, a, size);
	}
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

VMM_EXPORT void *malloc(size_t size)
{
	VMM_LOG_CALL(malloc, "size %zu", size);
	if (VMM_LIKELY(vmm_thread_ready)) {
		void *p = vmm_je_malloc(size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return alloc_slow(OP_MALLOC, NULL, 0, size);
}

VMM_EXPORT void *calloc(size_t number, size_t size)
{
	VMM_LOG_CALL(calloc, "nmemb %zu, size %zu", number, size);
	if (VMM_LIKELY(vmm_thread_ready)) {
		void *p = vmm_je_calloc(number, size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return alloc_slow(OP_CALLOC, NULL, number, size);
}

static __attribute__((noinline)) void free_other(void *ptr)
{
	VMM_TRACK_DIVERT_VOID(vmm_track_free(ptr));
	if (vmm_in_pool(ptr)) { /* the fast path was off: first call */
		vmm_je_free(ptr);
		return;
	}
	if (ptr == NULL || vmm_in_boot(ptr))
		return; /* bootstrap blocks are never reused */
	int saved = errno;
	__libc_free(ptr);
	errno = saved;
}

VMM_EXPORT void free(void *ptr)
{
	VMM_LOG_CALL(free, "ptr %p", ptr);
	if (VMM_LIKELY(vmm_in_pool_fast(ptr))) {
		vmm_je_free(ptr);
		return;
	}
	free_other(ptr);
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
	if (VMM_LIKELY(vmm_thread_ready && vmm_in_pool(ptr))) {
		void *p = vmm_je_realloc(ptr, size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	if (vmm_in_pool(ptr) || vmm_in_boot(ptr) || VMM_TRACK_ON())
		return alloc_slow(OP_REALLOC, ptr, 0, size);
	return __libc_realloc(ptr, size); /* foreign: stays glibc's */
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
	if (VMM_LIKELY(vmm_thread_ready)) {
		void *p = vmm_je_aligned_alloc(alignment, size);
		if (VMM_LIKELY(p != NULL))
			return p;
	}
	return alloc_slow(OP_ALIGNED, NULL, alignment, size);
}

VMM_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	VMM_LOG_CALL(posix_memalign, "alignment %zu  size %zu", alignment, size);
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

static size_t usable_size_of(void *ptr)
{
	if (vmm_in_pool(ptr))
		return vmm_je_malloc_usable_size(ptr);
	if (ptr == NULL)
		return 0;
	if (vmm_in_boot(ptr))
		return vmm_boot_usable_size(ptr);
	return vmm_foreign_usable_size(ptr);
}

VMM_EXPORT size_t malloc_usable_size(void *ptr)
{
	VMM_LOG_CALL(malloc_usable_size, "ptr %p", ptr);
	VMM_TRACK_DIVERT(vmm_track_usable_size(ptr));
	size_t n = usable_size_of(ptr);
	return n;
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
	if (VMM_LIKELY(vmm_thread_ready)) {
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
	if (VMM_LIKELY(vmm_thread_ready && vmm_in_pool(ptr))) {
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
	if (!vmm_thread_bound && vmm_enter() == VMM_ENTER_BOOT)
		return 0; /* a late thread may ask: the size classes stay */
	/* mallocx(0, flags) is served as mallocx(1, flags): so is this */
	return vmm_je_nallocx(size == 0 ? 1 : size, flags & JE_FLAGS_KEPT);
}
