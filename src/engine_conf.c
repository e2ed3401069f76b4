/*
 * engine_conf.c -- the private jemalloc's settings, and the only answers it
 * gets to the questions it asks its environment.
 *
 * NOTES
 * - MALLOC_CONF and /etc/malloc.conf belong to the system's jemalloc.  The
 *   archive's secure_getenv and readlink references are renamed to the
 *   functions below (cmake/jemalloc.cmake): nothing a user sets for the
 *   system allocator reaches the pool's engine (it made the library print
 *   "<jemalloc>: Invalid conf pair", dump statistics at exit, abort on
 *   abort_conf, and with junk:true return non-zero memory from calloc).
 *   No VMMALLOC_ tuning variable replaces them: docs/design-engine.md.
 * - The settings the pool relies on come last, in
 *   malloc_conf_2_conf_harder, so nothing can override them.
 * - Runs inside jemalloc's initialisation: no allocation, no stdio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "je.h"
#include "vmm.h"

/*
 * Settings the pool relies on, applied after every other source.
 * lg_extent_max_active_fit: by default jemalloc will not split a free
 * (dirty) extent 64 times larger than the request; in a bounded pool the
 * freed memory of exited threads then coalesced into extents no small slab
 * could use, and a 64 MiB pool ran out after 150 rounds of thread churn
 * while holding 60 MiB of free memory.
 */
VMM_JE_API const char *vmm_je_malloc_conf_2_conf_harder =
	"oversize_threshold:0,background_thread:false,percpu_arena:disabled,"
	"retain:true,lg_extent_max_active_fit:63";

/* jemalloc asks for MALLOC_CONF only: the user's is not for us */
char *vmm_je_secure_getenv(const char *name)
{
	(void)name;
	return NULL;
}

/* jemalloc's only readlink is of /etc/malloc.conf: there is none for us */
ssize_t vmm_je_readlink(const char *restrict path, char *restrict buf,
			size_t len);
ssize_t vmm_je_readlink(const char *restrict path, char *restrict buf,
			size_t len)
{
	(void)path, (void)buf, (void)len;
	errno = ENOENT;
	return -1;
}
