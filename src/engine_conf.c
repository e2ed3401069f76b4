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
 * - jemalloc reads its configuration once, on its first call, which is
 *   vmm_engine_init, after vmm_options_load: the pool size is known then.
 *   Its question for "MALLOC_CONF" is answered with the thread-cache sizes
 *   chosen for that pool; the settings the pool relies on come last, in
 *   malloc_conf_2_conf_harder, so nothing can override them.
 * - Thread caches: a cache that stops being used (an idle thread) keeps
 *   what it holds until the thread exits, and in a fork child for good.
 *   The sizes are chosen so that one thread's cache can pin at most 1/32
 *   of the pool (worst case: every cached small block alone in its slab);
 *   the formula and the table's figures are in docs/design-engine.md, and
 *   habits.tcache.* check them.
 * - jemalloc's mmap and munmap are renamed to vmm_je_mmap/_munmap below:
 *   what it maps itself is its metadata, which helgrind and drd are told
 *   not to check (track.h; why it is sound: track_valgrind.c's NOTES).
 * - Runs inside jemalloc's initialisation: no allocation, no stdio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "format.h"
#include "je.h"
#include "track.h"
#include "vmm.h"

/*
 * Settings the pool relies on, applied after every other source.
 * lg_extent_max_active_fit: by default jemalloc will not split a free
 * (dirty) extent 64 times larger than the request; in a bounded pool the
 * freed memory of exited threads then coalesced into extents no small slab
 * could use, and a 64 MiB pool ran out after 150 rounds of thread churn
 * while holding 60 MiB of free memory.
 * dirty_decay_ms: purging a dirty page here is a hole punch (and, on a
 * disk mounted with discard, a synchronous discard), and using it again
 * is a fallocate plus a page-cache fault, where anonymous memory pays a
 * cheap MADV_DONTNEED.  jemalloc's 10 s purged memory a program was about
 * to reuse (a 400k-entry Python dict: 65 punches, 0.53 s of system time
 * on ext4; with 30 s: 3 punches, 0.19 s).  Freed space still goes back,
 * within 30 s of allocator activity instead of 10, and at once when the
 * pool runs out (the retry in override.c purges first).
 * narenas:1: a thread leaves its automatic arena for the pool arena at
 * once (engine.c), so arenas beyond arena 0 serve nothing, yet jemalloc's
 * mallctl tables give each a statistics container at start-up: with
 * jemalloc's 4 per CPU, 6 more page faults in every process (perf stat
 * of `true`, 300 runs).
 */
VMM_JE_API const char *vmm_je_malloc_conf_2_conf_harder =
	"oversize_threshold:0,background_thread:false,percpu_arena:disabled,"
	"retain:true,lg_extent_max_active_fit:63,dirty_decay_ms:30000,"
	"narenas:1";

/*
 * Thread-cache sizes by pool size.  worst_kib is the most one thread's
 * cache can pin with them: sum over the cached small classes of
 * slots x slab size, plus sum over the cached large classes (16-64 KiB)
 * of slots x (class + 4 KiB of cache-oblivious padding).  A level is used
 * from 32 x worst_kib on, so that the bound stays within pool/32; the one
 * before last is jemalloc's default.  Below ~1 GiB the slots go first to
 * the classes up to 1 KiB, where most allocations are: more slots there
 * cost less instructions than caching larger classes two at a time
 * (measured with bench-larson and bench-alloc-mixed:
 * docs/design-engine.md).  The last level, from 1.6 GiB, caches blocks up
 * to 64 KiB where jemalloc stops at 32 KiB: jemalloc gives each thread an
 * arena of its own, while here every thread shares the pool arena, and
 * each large block the cache does not hold is a trip to the arena's
 * locks (bench-mstress, two threads, 4 GiB pool: 2.9x stock jemalloc's
 * time with 32 KiB, 1.1x with 64 KiB).
 */
static const struct tcache_level {
	size_t worst_kib;
	const char *conf;
} levels[] = {
	{184, "tcache_max:128,tcache_nslots_small_min:2,"
	      "tcache_nslots_small_max:2"},
	{440, "tcache_max:512,tcache_nslots_small_min:2,"
	      "tcache_nslots_small_max:2"},
	{880, "tcache_max:512,tcache_nslots_small_min:4,"
	      "tcache_nslots_small_max:4"},
	{1136, "tcache_max:1024,tcache_nslots_small_min:4,"
	       "tcache_nslots_small_max:4"},
	{1704, "tcache_max:1024,tcache_nslots_small_min:6,"
	       "tcache_nslots_small_max:6"},
	{2272, "tcache_max:1024,tcache_nslots_small_min:8,"
	       "tcache_nslots_small_max:8"},
	{4544, "tcache_max:1024,tcache_nslots_small_min:16,"
	       "tcache_nslots_small_max:16"},
	{11776, "tcache_max:4096,tcache_nslots_small_min:16,"
		"tcache_nslots_small_max:32"},
	{14944, "tcache_max:32768,tcache_nslots_small_min:16,"
		"tcache_nslots_small_max:32,"
		"tcache_nslots_large:8"},
	{31184, "tcache_max:32768,tcache_nslots_small_min:20,"
		"tcache_nslots_small_max:100,"
		"tcache_nslots_large:8"},
	{47856, "tcache_max:32768,tcache_nslots_small_min:20,"
		"tcache_nslots_small_max:200,"
		"tcache_nslots_large:20"},
	{52336, "tcache_max:65536,tcache_nslots_small_min:20,"
		"tcache_nslots_small_max:200,"
		"tcache_nslots_large:20"},
};

/* the richest level whose worst case fits in pool/32 (the first if none) */
static const struct tcache_level *tcache_level(size_t pool_size)
{
	const struct tcache_level *l = &levels[0];
	for (size_t i = 1; i < VMM_ARRAY_SIZE(levels); i++)
		if (levels[i].worst_kib * VMM_KiB <= pool_size / 32)
			l = &levels[i];
	return l;
}

/*
 * Bin shards.  One pool arena serves every thread, and with one slab per
 * small size class all threads' caches fill from the same slabs: two
 * threads' blocks share cache lines and every write of one stalls the
 * other (cache-scratch: 3x in about half of the runs; the test is
 * habits.threads.own_lines).  jemalloc's bin_shards gives a class several
 * slabs, each with its own lock, in the one arena.  A thread takes its
 * shard when jemalloc first binds it to its automatic arena, arena 0
 * (narenas:1), from that arena's counter, and then leaves it at once for
 * the pool arena (engine.c): shards go round-robin in the order threads
 * start allocating.
 * - Which classes: up to 256 bytes, where neighbours share lines (every
 *   class below 64 bytes, and 80, 96, 112, 160, 192 and 224 straddle
 *   them), and where threads meet on the bin locks most (bench-larson,
 *   16-400 bytes: 1.11e8 ops/s unsharded, 1.65e8 with 2 shards, stock
 *   jemalloc 1.72e8).  Every shard is a bin in every arena, initialised at
 *   start-up: all 36 small classes with 8 shards cost 0.77 ms of start-up
 *   and 29 page faults (perf stat of `true`), these 13 about a third of
 *   that.
 * - How many: one per CPU the process may run on, at least 2 (the
 *   affinity read at start-up may widen later), at most 8, and fewer in a
 *   small pool: each shard beyond the first can hold back one partly used
 *   slab of each of these classes, 39 pages in all (156 KiB with 4 KiB
 *   pages), and all of them together at most pool/16 (14 MiB: 6 shards).
 *   Threads beyond the shards share them round-robin.
 * - Why not more: every fork takes, releases and re-initialises every
 *   bin's lock, so each page of bins is a copy-on-write fault in the
 *   parent and in the child.  With 4 per CPU (8 shards on 2 CPUs, 254 bins
 *   in the two arenas) a mode-1 fork took 10 more faults on each side,
 *   2.87 -> 3.22 ms (bench-fork-latency); with 2 shards 1 and 0, and
 *   bench-larson and cache-scratch close to 8 (docs/design-engine.md).
 */
#define SHARD_MAX_SIZE 256
#define SHARD_WORST_PAGES 39
#define SHARDS_MIN 2
#define SHARDS_MAX 8

static size_t bin_shards(size_t pool_size)
{
	size_t cpus = 0;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = (size_t)CPU_COUNT(&set);
	if (cpus == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cpus = n > 0 ? (size_t)n : 1;
	}
	size_t worst = SHARD_WORST_PAGES * (size_t)sysconf(_SC_PAGESIZE);
	size_t n = 1 + pool_size / 16 / worst;
	size_t cap = cpus;
	if (cap < SHARDS_MIN)
		cap = SHARDS_MIN;
	if (cap > SHARDS_MAX)
		cap = SHARDS_MAX;
	return n < cap ? n : cap;
}

/* jemalloc asks for MALLOC_CONF only: it gets the pool's own settings */
char *vmm_je_secure_getenv(const char *name)
{
	static char conf[256]; /* asked once, in vmm_engine_init */
	if (strcmp(name, "MALLOC_CONF") != 0)
		return NULL;
	const struct tcache_level *l = tcache_level(vmm_opts.pool_size);
	size_t shards = bin_shards(vmm_opts.pool_size);
	VMM_LOG(2,
		"engine thread cache: %s (one idle thread pins at most "
		"%zu KiB of %zu); %zu bin shards",
		l->conf, l->worst_kib, vmm_opts.pool_size >> 10, shards);
	/* under an analysis tool no thread cache: malloc's inline path, which
	 * serves only from it, must never bypass the tool (override.c) */
	vmm_snprintf(conf, sizeof(conf), "%s,bin_shards:1-%u:%zu%s", l->conf,
		     SHARD_MAX_SIZE, shards,
		     vmm_track_active() ? ",tcache:false" : "");
	return conf;
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

/*
 * jemalloc's own mappings: the archive's mmap and munmap references are
 * renamed to these (cmake/jemalloc.cmake).  Everything jemalloc maps itself
 * is its metadata -- the pool comes through the extent hooks (engine.c) --
 * so the race detectors are told not to check it (track.h); before the
 * unmapping, so that a later mapping of the range by anyone else is checked.
 */
void *vmm_je_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
void *vmm_je_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	void *p = mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && VMM_TRACK_ON())
		vmm_track_engine_mapped(p, len);
	return p;
}

int vmm_je_munmap(void *addr, size_t len);
int vmm_je_munmap(void *addr, size_t len)
{
	if (VMM_TRACK_ON())
		vmm_track_engine_unmapped(addr, len);
	return munmap(addr, len);
}

/* jemalloc's mutexes, re-initialised by its fork child handler: track.h */
int vmm_je_pthread_mutex_init(pthread_mutex_t *restrict m,
			      const pthread_mutexattr_t *restrict attr);
int vmm_je_pthread_mutex_init(pthread_mutex_t *restrict m,
			      const pthread_mutexattr_t *restrict attr)
{
	if (VMM_TRACK_ON())
		vmm_track_engine_mutex(m);
	VMM_TRACK_MUTEX_INIT(m);
	return pthread_mutex_init(m, attr);
}
