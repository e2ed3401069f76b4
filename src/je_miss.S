/*
 * je_miss.S -- where the private jemalloc's malloc goes when its thread
 * cache cannot serve (cmake/jemalloc.cmake links this into jemalloc's own
 * object and points malloc's slow-path jump here, see cmake/je_patch.c).
 *
 * vmm_je_malloc_miss is override.c's: it binds a new thread, diverts
 * calls an analysis tool must see, and retries after reclaim before it
 * returns NULL.  The weak definition below is jemalloc's slow path itself,
 * for programs linked without override.c (the unit tests).
 */
	.text
	.globl	vmm_je_malloc_missed
	.hidden	vmm_je_malloc_missed
	.type	vmm_je_malloc_missed, @function
vmm_je_malloc_missed:
	jmp	vmm_je_malloc_miss
	.size	vmm_je_malloc_missed, . - vmm_je_malloc_missed

	.weak	vmm_je_malloc_miss
	.hidden	vmm_je_malloc_miss
	.type	vmm_je_malloc_miss, @function
vmm_je_malloc_miss:
	jmp	vmm_je_malloc_default
	.size	vmm_je_malloc_miss, . - vmm_je_malloc_miss

	.section .note.GNU-stack, "", @progbits
