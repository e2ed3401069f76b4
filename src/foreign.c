/*
 * foreign.c -- what the library knows of glibc's own heap: blocks that did
 * not come from the pool (a dlopen(RTLD_DEEPBIND) library binds to libc's
 * malloc) are foreign, and are measured and freed by glibc.
 *
 * NOTES
 * - glibc does not export __libc_malloc_usable_size: its own
 *   malloc_usable_size (the next one after ours) is looked up once, at
 *   start-up (vmm_foreign_init, from the library's constructor, which runs
 *   before libc's own: no dlopen there), never on the first foreign block:
 *   the lookup takes the dynamic loader's lock, and a thread sizing a block
 *   must not wait for a thread that holds it (a library constructor waiting
 *   for that very thread), nor meet the loader's lists mid-change in the
 *   child of a fork.  Not during vmm_lib_init either: that may run inside
 *   ld.so, before libc is up.
 * - Only code that runs before the constructor (unit tests, which have
 *   none) looks it up on first use.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>

#include "vmm.h"

typedef size_t (*usable_fn)(void *);

static _Atomic(usable_fn) libc_usable;
static atomic_bool looked_up; /* found or not: never ask the loader again */

/*
 * The malloc_usable_size that comes after this library in the program's
 * search order: libc.so.6's.  Through dlsym(RTLD_NEXT), which runs nothing.
 * Not dlopen("libc.so.6", RTLD_NOLOAD): this library is initialised before
 * libc (-z initfirst), and dlopen would run libc's initialiser early, with
 * no environment (measured: the program's getenv() then failed).  Not
 * dlsym on libc's link map: a dependency's own search list is empty
 * (measured: a crash in do_lookup_x).
 */
static usable_fn lookup(void)
{
	usable_fn fn = (usable_fn)dlsym(RTLD_NEXT, "malloc_usable_size");
	/* never our own malloc_usable_size: that would recurse */
	if (fn == malloc_usable_size)
		fn = NULL;
	atomic_store_explicit(&libc_usable, fn, memory_order_release);
	atomic_store_explicit(&looked_up, true, memory_order_release);
	return fn;
}

void vmm_foreign_init(void)
{
	if (!atomic_load_explicit(&looked_up, memory_order_acquire))
		lookup();
}

size_t vmm_foreign_usable_size(void *ptr)
{
	usable_fn fn = atomic_load_explicit(&libc_usable, memory_order_acquire);
	if (fn == NULL) {
		if (atomic_load_explicit(&looked_up, memory_order_acquire))
			return 0;
		fn = lookup();
		if (fn == NULL)
			return 0;
	}
	return fn(ptr);
}
