/*
 * track_valgrind.c -- the valgrind backend of track.h's hooks: while a
 * tool that must see the heap is running, override.c's one allocation path
 * calls them around the engine, and they describe each block to the tool
 * with client requests.  Detection, the registry of live blocks, the
 * quarantine and the shadow bits across fork live here; what a call means
 * (realloc(NULL), foreign pointers, the retry) is override.c's alone.
 *
 * NOTES
 * - Detection runs once, on the first call (vmm_track_mode starts UNKNOWN):
 *   RUNNING_ON_VALGRIND, then memcheck is recognised by a memcheck-only
 *   request (GET_VBITS answers 1), helgrind/drd/massif/dhat by their
 *   preload object.  Anything else (callgrind, cachegrind...) gets the
 *   production path untouched, so instruction counts measure it.
 * - Memcheck: each block is [front red zone][user bytes][back red zone]
 *   inside one engine block; the front zone (>= 16 bytes, or the alignment)
 *   also keeps every pointer jemalloc holds (slab and extent starts) off the
 *   user bytes, so leak checking is not fooled by the engine's metadata.
 *   Freed blocks wait in a quarantine before the engine may reuse them,
 *   bounded by the pool: an eighth of it, at most 16 MiB (a 14 MiB pool
 *   holds back 1.75 MiB; a block larger than the bound is freed at once).
 *   The quarantine only delays reuse, it must never cost an allocation:
 *   when the engine refuses one, the quarantine is drained, the engine
 *   reclaims, and the allocation is retried; only then NULL and ENOMEM.
 *   The engine never writes pool memory (its metadata is in DRAM, calloc's
 *   zeroing and realloc's copy are done here), so the pool's free regions
 *   can stay no-access from the first call on.
 * - The registry (block -> requested size, front zone) and the quarantine
 *   live in mmap'd memory and hold pointers inverted, so memcheck's leak
 *   scan never finds a block through them.  They are guarded by a spin lock
 *   that tools cannot see (so it orders nothing in the program's threads);
 *   it is taken only under memcheck.
 * - A fork that remaps the pool (mode 1 in both processes, mode 2 in the
 *   child) makes valgrind see a fresh, fully defined mapping: prepare saves
 *   the V bits of live blocks, parent and child put no-access, the blocks
 *   and their V bits back.  fork.c calls our prefork first and our
 *   postfork last, so they run around everything else.
 * - helgrind and drd: jemalloc's metadata (base blocks holding the arenas,
 *   bins, extent descriptors, the emap's radix tree, eset counters; arena
 *   0's extents holding thread caches) is synchronised with relaxed
 *   atomics and lock-free reads the tools cannot model: thousands of
 *   "races" per run of 4 threads x 2,000 malloc/free, all on those
 *   mappings.  jemalloc maps all of it itself (the pool reaches it only
 *   through the extent hooks), and its mmap/munmap are renamed to
 *   engine_conf.c's, which call vmm_track_engine_mapped/_unmapped: the
 *   range is made untracked (VALGRIND_HG_DISABLE_CHECKING; drd's
 *   START_SUPPRESSION, what DRD_IGNORE_VAR does for one variable) from its
 *   mapping to its unmapping.  Sound because no byte of those mappings is
 *   ever handed to the program (a late thread's arena-0 seed is moved into
 *   the pool before it is returned) and the program cannot reach them
 *   otherwise, while every block the program gets is in the pool or a
 *   bootstrap block, still checked: the negative controls
 *   valgrind.{helgrind,drd}.race-control.* prove a race on a malloc'd
 *   block is reported.  Lock-based
 *   happens-before between threads is untouched (the tools still see
 *   jemalloc's pthread mutexes), so no ordering is invented.
 * - helgrind and drd across fork: jemalloc's child handler (and the
 *   engine's, for its bump-pointer lock) re-initialises each mutex the
 *   prepare handlers locked, the standard reset, which the tools read as
 *   "reinitialisation" of a lock still held by the forking thread, then
 *   report at every later use and at exit.  jemalloc's pthread_mutex_init
 *   is renamed to engine_conf.c's, which calls vmm_track_mutex_init, as
 *   engine.c does: between our prepare handler and our child handler (so
 *   around fork.c's, forking_pid set), in the child only, the mutex is
 *   unlocked and destroyed for real -- by the only thread left, the one
 *   that locked it -- where the tools see it, then initialised as before.
 *   Only under helgrind and drd; the production path is unchanged.
 * - Nothing here calls libc's malloc or stdio.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libvmmalloc.h"

#include "je.h"
#include "track.h"
#include "vmm.h"

#ifdef VMM_TRACK_BACKEND /* otherwise this file compiles to nothing */

#include <valgrind/drd.h>
#include <valgrind/helgrind.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#define RZ_FRONT 16		      /* and the minimum alignment */
#define RZ_BACK 32		      /* a 4-byte overrun lands in here */
#define QUARANTINE_MAX (16 * VMM_MiB) /* freed blocks held back, at most */
#define QUARANTINE_SHARE 8u	      /* and at most 1/8 of the pool */
#define QUARANTINE_SLOTS 65536u

unsigned char vmm_track_mode = VMM_TRACK_UNKNOWN;

/* which race detector runs, if any: set once, with vmm_track_mode */
static enum { RACE_NONE, RACE_HELGRIND, RACE_DRD } race_tool;

static atomic_flag lock = ATOMIC_FLAG_INIT;
static atomic_bool pool_marked;

static void lock_take(void)
{
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		sched_yield();
}

static void lock_drop(void)
{
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

/* ---- tool detection ---- */

static unsigned char detect(void)
{
	if (!RUNNING_ON_VALGRIND)
		return VMM_TRACK_OFF;
	/* a memcheck-only request: other tools answer the default, 0 */
	uint64_t probe = 0, vbits = 0;
	if (VALGRIND_GET_VBITS(&probe, &vbits, sizeof(probe)) == 1)
		return VMM_TRACK_MEMCHECK;
	static const char *const tools[] = {"vgpreload_helgrind",
					    "vgpreload_drd", "vgpreload_massif",
					    "vgpreload_dhat"};
	const char *pre = vmm_getenv("LD_PRELOAD");
	for (size_t i = 0; pre != NULL && i < VMM_ARRAY_SIZE(tools); i++) {
		if (strstr(pre, tools[i]) == NULL)
			continue;
		race_tool = i == 0   ? RACE_HELGRIND
			    : i == 1 ? RACE_DRD
				     : RACE_NONE;
		return VMM_TRACK_BLOCKS;
	}
	return VMM_TRACK_OFF; /* callgrind, cachegrind...: production path */
}

static unsigned char mode(void)
{
	unsigned char m = __atomic_load_n(&vmm_track_mode, __ATOMIC_RELAXED);
	if (m == VMM_TRACK_UNKNOWN) {
		m = detect();
		__atomic_store_n(&vmm_track_mode, m, __ATOMIC_RELAXED);
	}
	return m;
}

bool vmm_track_active(void)
{
	return mode() != VMM_TRACK_OFF;
}

/* ---- the engine's own memory and locks, for the race detectors ---- */

bool vmm_track_hide_reads(void)
{
	return mode() == VMM_TRACK_BLOCKS && race_tool != RACE_NONE;
}

/* the process that is forking, from our prepare to our parent/child */
static pid_t forking_pid;

static void race_untrack(void *addr, size_t len)
{
	if (race_tool == RACE_HELGRIND)
		VALGRIND_HG_DISABLE_CHECKING(addr, len);
	else if (race_tool == RACE_DRD) /* DRD_IGNORE_VAR, for a range */
		VALGRIND_DO_CLIENT_REQUEST_STMT(
			VG_USERREQ__DRD_START_SUPPRESSION, addr, len, 0, 0, 0);
}

void vmm_track_engine_mapped(void *addr, size_t len)
{
	if (mode() == VMM_TRACK_BLOCKS)
		race_untrack(addr, len);
}

void vmm_track_engine_unmapped(void *addr, size_t len)
{
	if (mode() != VMM_TRACK_BLOCKS)
		return;
	if (race_tool == RACE_HELGRIND)
		VALGRIND_HG_ENABLE_CHECKING(addr, len);
	else if (race_tool == RACE_DRD) /* DRD_STOP_IGNORING_VAR */
		VALGRIND_DO_CLIENT_REQUEST_STMT(
			VG_USERREQ__DRD_FINISH_SUPPRESSION, addr, len, 0, 0, 0);
}

/*
 * jemalloc 5.3's malloc_mutex_t, as built by Debian (statistics on, no
 * debug): mutex_prof_data_t (64 bytes of counters that contenders update
 * with relaxed atomics), the pthread mutex, then the one-byte "locked"
 * hint its spin loop reads without the lock.  Seen in a drd report: a
 * thread spinning on tsd_nominal_tsds_lock (jemalloc's .bss) read the hint
 * at the mutex's offset 104 while the forking thread's parent handler
 * cleared it.
 */
#define JE_MUTEX_PROF_BYTES 64

void vmm_track_engine_mutex(pthread_mutex_t *m)
{
	if (mode() == VMM_TRACK_BLOCKS)
		race_untrack((char *)m - JE_MUTEX_PROF_BYTES,
			     JE_MUTEX_PROF_BYTES + sizeof(*m) + 1);
}

void vmm_track_mutex_init(pthread_mutex_t *m)
{
	if (mode() != VMM_TRACK_BLOCKS || race_tool == RACE_NONE)
		return;
	pid_t forking = forking_pid;
	if (forking == 0 || forking == getpid())
		return; /* not in a fork child's handlers */
	/*
	 * jemalloc's child handler re-initialises a mutex its prepare handler
	 * locked, which the tool still counts as held: it is released (by
	 * the thread that locked it, the only one in the child) and destroyed
	 * where the tool sees it, then initialised afresh by the caller.
	 */
	(void)pthread_mutex_trylock(m); /* so that it is held either way */
	pthread_mutex_unlock(m);
	pthread_mutex_destroy(m);
}

/* ---- the registry: live blocks under memcheck ---- */

struct slot {
	uintptr_t key; /* ~ptr; 0 = empty */
	size_t size;   /* requested (or widened) size */
	size_t front;  /* bytes between the engine's block and ptr */
};

static struct {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t used;
} reg;

static size_t slot_of(uintptr_t key, size_t cap)
{
	return (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static struct slot *map_slots(size_t cap)
{
	void *m = mmap(NULL, cap * sizeof(struct slot), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

static bool reg_grow(void)
{
	size_t cap = reg.cap == 0 ? 65536 : reg.cap * 2;
	struct slot *s = map_slots(cap);
	if (s == NULL)
		return false;
	for (size_t i = 0; i < reg.cap; i++) {
		if (reg.slots[i].key == 0)
			continue;
		size_t j = slot_of(reg.slots[i].key, cap);
		while (s[j].key != 0)
			j = (j + 1) & (cap - 1);
		s[j] = reg.slots[i];
	}
	if (reg.slots != NULL)
		munmap(reg.slots, reg.cap * sizeof(struct slot));
	reg.slots = s;
	reg.cap = cap;
	return true;
}

static struct slot *reg_find(const void *ptr)
{
	if (reg.cap == 0)
		return NULL;
	uintptr_t key = ~(uintptr_t)ptr;
	for (size_t j = slot_of(key, reg.cap);; j = (j + 1) & (reg.cap - 1)) {
		if (reg.slots[j].key == key)
			return &reg.slots[j];
		if (reg.slots[j].key == 0)
			return NULL;
	}
}

static bool reg_insert(const void *ptr, size_t size, size_t front)
{
	if ((reg.used + 1) * 2 > reg.cap && !reg_grow())
		return false;
	uintptr_t key = ~(uintptr_t)ptr;
	size_t j = slot_of(key, reg.cap);
	while (reg.slots[j].key != 0)
		j = (j + 1) & (reg.cap - 1);
	reg.slots[j] = (struct slot){key, size, front};
	reg.used++;
	return true;
}

/* linear probing with backward-shift deletion: no tombstones */
static void reg_remove(struct slot *s)
{
	size_t mask = reg.cap - 1;
	size_t i = (size_t)(s - reg.slots);
	for (size_t j = (i + 1) & mask; reg.slots[j].key != 0;
	     j = (j + 1) & mask) {
		size_t home = slot_of(reg.slots[j].key, reg.cap);
		/* may j's entry move to the hole at i? */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			reg.slots[i] = reg.slots[j];
			i = j;
		}
	}
	reg.slots[i].key = 0;
	reg.used--;
}

/* ---- the quarantine: freed blocks the engine may not reuse yet ---- */

static struct {
	struct qent {
		uintptr_t key; /* ~engine block */
		size_t size;
	} * ring;
	size_t head, count, bytes;
} quar;

/* the byte bound: a fraction of the pool, so a small pool stays usable */
static size_t quarantine_bound(void)
{
	size_t share = vmm_pool.size / QUARANTINE_SHARE;
	return share < QUARANTINE_MAX ? share : QUARANTINE_MAX;
}

/* called with the lock held: the oldest entry goes back to the engine */
static void quarantine_pop(void)
{
	struct qent *e = &quar.ring[quar.head];
	vmm_je_free((void *)~e->key);
	quar.bytes -= e->size;
	*e = (struct qent){0, 0};
	quar.head = (quar.head + 1) % QUARANTINE_SLOTS;
	quar.count--;
}

/* gives every quarantined block back to the engine */
static void quarantine_drain(void)
{
	lock_take();
	while (quar.count != 0)
		quarantine_pop();
	lock_drop();
}

/* called with the lock held; frees what falls out */
static void quarantine(void *raw, size_t size)
{
	if (quar.ring == NULL) {
		void *m = mmap(NULL, QUARANTINE_SLOTS * sizeof(*quar.ring),
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);
		if (m != MAP_FAILED)
			quar.ring = m;
	}
	size_t bound = quarantine_bound();
	if (quar.ring == NULL || size > bound) {
		vmm_je_free(raw);
		return;
	}
	while (quar.count == QUARANTINE_SLOTS || quar.bytes + size > bound)
		quarantine_pop();
	size_t tail = (quar.head + quar.count) % QUARANTINE_SLOTS;
	quar.ring[tail] = (struct qent){~(uintptr_t)raw, size};
	quar.count++;
	quar.bytes += size;
}

/* ---- fork: put the pool's shadow back after a remap ---- */

static struct {
	unsigned char *vbits; /* live blocks' V bits, in registry order */
	size_t len;
} saved;

/* fork.c calls these around its own prepare/parent/child work */
void vmm_track_prefork(void)
{
	if (mode() == VMM_TRACK_OFF)
		return;
	lock_take();
	forking_pid = getpid();
	if (mode() != VMM_TRACK_MEMCHECK || reg.cap == 0)
		return;
	size_t total = 0;
	for (size_t i = 0; i < reg.cap; i++)
		if (reg.slots[i].key != 0 &&
		    vmm_in_pool((void *)~reg.slots[i].key))
			total += reg.slots[i].size;
	saved.len = total == 0 ? 1 : total;
	void *m = mmap(NULL, saved.len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	saved.vbits = m == MAP_FAILED ? NULL : m;
	unsigned char *v = saved.vbits;
	for (size_t i = 0; v != NULL && i < reg.cap; i++) {
		struct slot *s = &reg.slots[i];
		void *p = (void *)~s->key;
		if (s->key == 0 || !vmm_in_pool(p) || s->size == 0)
			continue;
		(void)VALGRIND_GET_VBITS(p, v, s->size);
		v += s->size;
	}
}

void vmm_track_postfork(void)
{
	if (mode() == VMM_TRACK_OFF)
		return;
	if (saved.vbits != NULL) {
		VALGRIND_MAKE_MEM_NOACCESS(vmm_pool.base, vmm_pool.size);
		unsigned char *v = saved.vbits;
		for (size_t i = 0; i < reg.cap; i++) {
			struct slot *s = &reg.slots[i];
			void *p = (void *)~s->key;
			if (s->key == 0 || !vmm_in_pool(p) || s->size == 0)
				continue;
			VALGRIND_MAKE_MEM_UNDEFINED(p, s->size);
			(void)VALGRIND_SET_VBITS(p, v, s->size);
			v += s->size;
		}
		munmap(saved.vbits, saved.len);
		saved.vbits = NULL;
	}
	forking_pid = 0;
	lock_drop();
}

/* ---- the allocation hooks (override.c calls them) ---- */

/*
 * The pool becomes no-access before its first block is handed out; a
 * bootstrap block asked for before the pool exists leaves that for later.
 */
static void mark_pool(void)
{
	if (atomic_load_explicit(&pool_marked, memory_order_acquire) ||
	    vmm_pool.base == NULL)
		return;
	lock_take();
	if (!atomic_load_explicit(&pool_marked, memory_order_relaxed)) {
		VALGRIND_MAKE_MEM_NOACCESS(vmm_pool.base, vmm_pool.size);
		/* written by a forking thread, read in its child only */
		race_untrack(&forking_pid, sizeof(forking_pid));
		atomic_store_explicit(&pool_marked, true, memory_order_release);
	}
	lock_drop();
}

struct vmm_track_pad vmm_track_pad(size_t align)
{
	mark_pool();
	if (mode() != VMM_TRACK_MEMCHECK)
		return (struct vmm_track_pad){0, 0};
	/* the front zone keeps the block aligned: align is a power of two */
	return (struct vmm_track_pad){align > RZ_FRONT ? align : RZ_FRONT,
				      RZ_BACK};
}

void *vmm_track_malloc_size(void *raw, size_t front, size_t size, bool zero)
{
	char *p = (char *)raw + front;
	if (mode() != VMM_TRACK_MEMCHECK) {
		VALGRIND_MALLOCLIKE_BLOCK(p, size, 0, zero);
		if (zero)
			memset(p, 0, size);
		return p;
	}
	VALGRIND_MAKE_MEM_NOACCESS(raw, front + size + RZ_BACK);
	VALGRIND_MALLOCLIKE_BLOCK(p, size, RZ_FRONT, zero);
	if (zero)
		memset(p, 0, size);
	lock_take();
	bool ok = reg_insert(p, size, front);
	lock_drop();
	if (!ok) {
		VALGRIND_FREELIKE_BLOCK(p, RZ_FRONT);
		return NULL;
	}
	return p;
}

void *vmm_track_free_size(void *ptr)
{
	if (mode() != VMM_TRACK_MEMCHECK) {
		VALGRIND_FREELIKE_BLOCK(ptr, 0);
		return ptr;
	}
	lock_take();
	struct slot *s = reg_find(ptr);
	if (s == NULL) {
		lock_drop();
		/* not a live block: memcheck reports the invalid free */
		VALGRIND_FREELIKE_BLOCK(ptr, 0);
		return NULL;
	}
	size_t front = s->front;
	reg_remove(s);
	VALGRIND_FREELIKE_BLOCK(ptr, RZ_FRONT);
	char *raw = (char *)ptr - front;
	if (vmm_in_pool(raw)) /* bootstrap blocks are never reused */
		quarantine(raw, vmm_je_malloc_usable_size(raw));
	lock_drop();
	return NULL; /* the quarantine gives it back later */
}

/* the usable bytes of a block that is not tracked (the tools but memcheck) */
static size_t raw_usable(const void *raw)
{
	return vmm_in_pool(raw) ? vmm_je_malloc_usable_size(raw)
				: vmm_boot_usable_size(raw);
}

enum vmm_track_resize vmm_track_resize(void *ptr, size_t size, size_t *old)
{
	if (mode() != VMM_TRACK_MEMCHECK) {
		*old = raw_usable(ptr); /* all of it may be the program's */
		return VMM_TRACK_MOVE;
	}
	lock_take();
	struct slot *s = reg_find(ptr);
	if (s == NULL) {
		lock_drop();
		VALGRIND_FREELIKE_BLOCK(ptr, 0); /* reported as invalid */
		return VMM_TRACK_NOT_LIVE;
	}
	*old = s->size;
	size_t was = s->size, front = s->front;
	char *raw = (char *)ptr - front;
	size_t need;
	if (vmm_in_pool(raw) &&
	    !__builtin_add_overflow(size, front + RZ_BACK, &need) &&
	    need <= vmm_je_malloc_usable_size(raw)) {
		/* in place: the engine block has room, red zone included */
		s->size = size;
		lock_drop();
		VALGRIND_RESIZEINPLACE_BLOCK(ptr, was, size, RZ_FRONT);
		return VMM_TRACK_RESIZED;
	}
	lock_drop();
	return VMM_TRACK_MOVE;
}

size_t vmm_track_usable_size(void *ptr)
{
	if (mode() != VMM_TRACK_MEMCHECK)
		return raw_usable(ptr);
	lock_take();
	struct slot *s = reg_find(ptr);
	if (s == NULL) {
		lock_drop();
		return 0;
	}
	char *raw = (char *)ptr - s->front;
	size_t old = s->size, usable = old;
	if (vmm_in_pool(raw))
		usable = vmm_je_malloc_usable_size(raw) - s->front - RZ_BACK;
	if (usable > old)
		s->size = usable;
	lock_drop();
	/* the program may now use all of it: widen the block */
	if (usable > old)
		VALGRIND_RESIZEINPLACE_BLOCK(ptr, old, usable, RZ_FRONT);
	return usable;
}

/* before the retry of a refused allocation: the quarantine goes back */
void vmm_track_reclaim(void)
{
	if (mode() == VMM_TRACK_MEMCHECK)
		quarantine_drain();
}

#endif /* VMM_TRACK_BACKEND */
