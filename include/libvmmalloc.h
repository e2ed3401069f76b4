/*
 * libvmmalloc.h -- the public interface of libvmmalloc, the general purpose
 * volatile memory allocation library.
 *
 * Every dynamic allocation of a program that loads libvmmalloc (LD_PRELOAD or
 * -lvmmalloc) is served from a pool built on a memory-mapped, unlinked file
 * in $VMMALLOC_POOL_DIR of $VMMALLOC_POOL_SIZE bytes.  See libvmmalloc(7).
 */
#ifndef LIBVMMALLOC_H
#define LIBVMMALLOC_H 1

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMMALLOC_MAJOR_VERSION 1
#define VMMALLOC_MINOR_VERSION 1

/* The smallest pool size accepted in VMMALLOC_POOL_SIZE (14 MiB). */
#define VMMALLOC_MIN_POOL ((size_t)(14 << 20))

#if defined(__GNUC__) && !defined(VMMALLOC_NO_ATTRIBUTES)
#define VMMALLOC_THROW_ __attribute__((__nothrow__))
#define VMMALLOC_MALLOC_ __attribute__((__malloc__, __warn_unused_result__))
#define VMMALLOC_SIZE_(i) __attribute__((__alloc_size__(i)))
#define VMMALLOC_SIZE2_(i, j) __attribute__((__alloc_size__(i, j)))
#define VMMALLOC_ALIGN_(i) __attribute__((__alloc_align__(i)))
#else
#define VMMALLOC_THROW_
#define VMMALLOC_MALLOC_
#define VMMALLOC_SIZE_(i)
#define VMMALLOC_SIZE2_(i, j)
#define VMMALLOC_ALIGN_(i)
#endif

#if defined(__cplusplus) && __cplusplus >= 201103L
#undef VMMALLOC_THROW_
#define VMMALLOC_THROW_ noexcept(true)
#endif

void *malloc(size_t size) VMMALLOC_THROW_ VMMALLOC_MALLOC_ VMMALLOC_SIZE_(1);
void free(void *ptr) VMMALLOC_THROW_;
void *calloc(size_t number, size_t size) VMMALLOC_THROW_ VMMALLOC_MALLOC_
	VMMALLOC_SIZE2_(1, 2);
void *realloc(void *ptr, size_t size) VMMALLOC_THROW_
	__attribute__((__warn_unused_result__)) VMMALLOC_SIZE_(2);
int posix_memalign(void **memptr, size_t alignment, size_t size) VMMALLOC_THROW_
	__attribute__((__nonnull__(1)));
void *aligned_alloc(size_t alignment,
		    size_t size) VMMALLOC_THROW_ VMMALLOC_MALLOC_
	VMMALLOC_ALIGN_(1) VMMALLOC_SIZE_(2);
void *memalign(size_t alignment, size_t size) VMMALLOC_THROW_ VMMALLOC_MALLOC_
	VMMALLOC_ALIGN_(1) VMMALLOC_SIZE_(2);
void *valloc(size_t size) VMMALLOC_THROW_ VMMALLOC_MALLOC_ VMMALLOC_SIZE_(1);
void *pvalloc(size_t size) VMMALLOC_THROW_ VMMALLOC_MALLOC_;
size_t malloc_usable_size(void *ptr) VMMALLOC_THROW_;
void cfree(void *ptr) VMMALLOC_THROW_;

#ifdef __cplusplus
}
#endif

#endif /* LIBVMMALLOC_H */
