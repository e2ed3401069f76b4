/*
 * foreign.c -- what the library knows of glibc's own heap: blocks that did
 * not come from the pool (a dlopen(RTLD_DEEPBIND) library binds to libc's
 * malloc) are foreign, and are measured and freed by glibc.
 *
 * NOTES
 * - glibc does not export __libc_malloc_usable_size: its own
 *   malloc_usable_size is looked up in libc.so.6 itself, once, on the first
 *   foreign block (never during initialisation).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>

#include "vmm.h"

size_t vmm_foreign_usable_size(void *ptr)
{
	static size_t (*libc_usable)(void *);
	if (libc_usable == NULL) {
		void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
		if (libc != NULL) {
			libc_usable = (size_t(*)(void *))dlsym(
				libc, "malloc_usable_size");
			dlclose(libc);
		}
		/* never our own malloc_usable_size: that would recurse */
		if (libc_usable == NULL || libc_usable == malloc_usable_size)
			return 0;
	}
	return libc_usable(ptr);
}
