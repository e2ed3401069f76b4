/*
 * bootstrap.c -- a small static arena for the allocations that arrive while
 * the pool itself is being created (same-thread recursion from the dynamic
 * linker, jemalloc's start-up, or libc).
 *
 * NOTES
 * - Blocks are never reused: free() of a bootstrap block is a no-op, and
 *   realloc() moves it into the pool.  Each block has a 16-byte header that
 *   holds its size for malloc_usable_size and realloc.
 * - Lock-free bump pointer; it is used by one thread at a time in practice
 *   (other threads wait on the init lock), but stays correct if not.
 */
#include <errno.h>
#include <stdatomic.h>

#include "vmm.h"

#define BOOT_SIZE (256 * VMM_KiB)
#define BOOT_HDR 16

static _Alignas(4096) char boot_buf[BOOT_SIZE];
static _Atomic size_t boot_used;

void *vmm_boot_alloc(size_t size, size_t align)
{
	if (align < BOOT_HDR)
		align = BOOT_HDR;
	if (size > BOOT_SIZE || align > BOOT_SIZE / 2) {
		errno = ENOMEM;
		return NULL;
	}
	size_t used = atomic_load_explicit(&boot_used, memory_order_relaxed);
	uintptr_t start, end;
	do {
		start = VMM_ALIGN_UP((uintptr_t)boot_buf + used + BOOT_HDR,
				     align);
		end = VMM_ALIGN_UP(start + (size == 0 ? 1 : size), BOOT_HDR);
		if (end > (uintptr_t)boot_buf + BOOT_SIZE) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!atomic_compare_exchange_weak(
		&boot_used, &used, (size_t)(end - (uintptr_t)boot_buf)));
	*(size_t *)(start - BOOT_HDR) = size;
	return (void *)start; /* static storage: already zeroed */
}

bool vmm_in_boot(const void *ptr)
{
	return (uintptr_t)ptr - (uintptr_t)boot_buf < BOOT_SIZE;
}

size_t vmm_boot_usable_size(const void *ptr)
{
	return *(const size_t *)((uintptr_t)ptr - BOOT_HDR);
}
