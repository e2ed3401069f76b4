/*
 * je.h -- the private jemalloc's entry points, renamed at build time
 * (objcopy --redefine-syms, see cmake/jemalloc.cmake) so that they never
 * clash with the malloc-family names this library defines.
 *
 * NOTES
 * - The archive's pthread_atfork, pthread_key_create, secure_getenv,
 *   readlink, mmap, munmap and pthread_mutex_init references are renamed
 *   too (and exp, log and round, which je_math.c defines so that the
 *   library needs no libm): fork.c and engine.c define the first two to capture jemalloc's
 *   fork handlers and its thread destructor; engine_conf.c answers the
 *   next two, so that neither MALLOC_CONF nor /etc/malloc.conf reaches the
 *   private engine, and wraps the last three to describe jemalloc's
 *   metadata mappings and its fork-time lock resets to helgrind and drd
 *   (track.h).
 */
#ifndef VMM_JE_H
#define VMM_JE_H 1

#include <pthread.h>
#include <stddef.h>

#define VMM_JE_API __attribute__((visibility("hidden")))

VMM_JE_API void *vmm_je_malloc(size_t size);
/* malloc's slow path (jemalloc's je_malloc_default), taken when the thread
 * cache cannot serve: malloc goes on to vmm_je_malloc_miss (src/je_miss.S) */
VMM_JE_API void *vmm_je_malloc_default(size_t size);
VMM_JE_API void *vmm_je_malloc_miss(size_t size);
VMM_JE_API void vmm_je_free(void *ptr);
VMM_JE_API void *vmm_je_calloc(size_t n, size_t size);
VMM_JE_API void *vmm_je_realloc(void *ptr, size_t size);
VMM_JE_API int vmm_je_posix_memalign(void **memptr, size_t align, size_t size);
VMM_JE_API void *vmm_je_aligned_alloc(size_t align, size_t size);
VMM_JE_API size_t vmm_je_malloc_usable_size(const void *ptr);
VMM_JE_API void *vmm_je_mallocx(size_t size, int flags);
VMM_JE_API void vmm_je_dallocx(void *ptr, int flags);
VMM_JE_API size_t vmm_je_nallocx(size_t size, int flags);
VMM_JE_API int vmm_je_mallctl(const char *name, void *oldp, size_t *oldlenp,
			      void *newp, size_t newlen);
VMM_JE_API int vmm_je_mallctlnametomib(const char *name, size_t *mibp,
				       size_t *miblenp);
VMM_JE_API int vmm_je_mallctlbymib(const size_t *mib, size_t miblen, void *oldp,
				   size_t *oldlenp, void *newp, size_t newlen);
VMM_JE_API void vmm_je_malloc_stats_print(void (*write_cb)(void *,
							   const char *),
					  void *cbopaque, const char *opts);
extern VMM_JE_API void (*vmm_je_malloc_message)(void *cbopaque, const char *s);

/* defined by us, called by the archive */
VMM_JE_API int vmm_je_pthread_atfork(void (*prepare)(void),
				     void (*parent)(void), void (*child)(void));
VMM_JE_API int vmm_je_pthread_key_create(pthread_key_t *key,
					 void (*destructor)(void *));
/* jemalloc's questions about its configuration (engine_conf.c) */
VMM_JE_API char *vmm_je_secure_getenv(const char *name);
/* its heap profiler's libm calls, answered without libm (je_math.c) */
VMM_JE_API double vmm_je_exp(double x);
VMM_JE_API double vmm_je_log(double x);
VMM_JE_API double vmm_je_round(double x);

#endif /* VMM_JE_H */
