/*
 * stats.c -- the debug variant's exit summary (VMMALLOC_LOG_STATS): the
 * pool, what the engine holds, calls per entry point and the fork mode,
 * followed by jemalloc's own statistics; "json" makes it one JSON object.
 *
 * NOTES
 * - Runs from life.c's destructor, after the program's atexit handlers;
 *   the pool stays mapped, so later calls keep working.
 * - No stdio and no pool allocation: our text goes through vmm_log_raw;
 *   jemalloc's malloc_stats_print formats into its own internal buffer
 *   (jemalloc metadata, in DRAM) and hands us strings through a callback.
 * - The call counters exist in both variants but are only touched in the
 *   debug one (vmm_call_enter), so release pays nothing.  Committed bytes
 *   and their peak are the engine's own count (vmm_engine_counts), kept
 *   once, under the hook lock.
 * - "peak" is the highest number of pool bytes committed (backed by file
 *   blocks) at once -- what a pool of that size must be able to back.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "je.h"
#include "libvmmalloc.h"
#include "vmm.h"

const char *const vmm_call_names[VMM_CALL_COUNT] = {
	[VMM_CALL_malloc] = "malloc",
	[VMM_CALL_calloc] = "calloc",
	[VMM_CALL_realloc] = "realloc",
	[VMM_CALL_free] = "free",
	[VMM_CALL_cfree] = "cfree",
	[VMM_CALL_posix_memalign] = "posix_memalign",
	[VMM_CALL_aligned_alloc] = "aligned_alloc",
	[VMM_CALL_memalign] = "memalign",
	[VMM_CALL_valloc] = "valloc",
	[VMM_CALL_pvalloc] = "pvalloc",
	[VMM_CALL_malloc_usable_size] = "malloc_usable_size",
};

/* calls per entry point (outermost calls only) */
static _Atomic uint64_t call_count[VMM_CALL_COUNT];

void vmm_stats_count_call(enum vmm_call call)
{
	atomic_fetch_add_explicit(&call_count[call], 1, memory_order_relaxed);
}

struct summary {
	size_t pool_size, usable, allocated, active, resident;
	int64_t committed, peak;
};

/* one mallctl value of the pool arena; 0 if unavailable */
static size_t arena_stat(const char *leaf)
{
	char name[96];
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "stats.arenas.");
	vmm_msg_u64(&m, vmm_engine_arena());
	vmm_msg_str(&m, ".");
	vmm_msg_str(&m, leaf);
	if (m.len >= sizeof(name))
		return 0;
	memcpy(name, m.buf, m.len);
	name[m.len] = '\0';
	size_t v = 0, len = sizeof(v);
	if (vmm_je_mallctl(name, &v, &len, NULL, 0) != 0)
		return 0;
	return v;
}

static void collect(struct summary *s)
{
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	vmm_je_mallctl("epoch", &epoch, &len, &epoch, sizeof(epoch));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	s->pool_size = vmm_pool.file_size;
	s->usable = vmm_pool.size;
	s->allocated =
		arena_stat("small.allocated") + arena_stat("large.allocated");
	s->active = arena_stat("pactive") * page;
	s->resident = arena_stat("resident");
	struct vmm_hook_counts c;
	vmm_engine_counts(&c);
	s->committed = (int64_t)c.committed;
	s->peak = (int64_t)c.committed_peak;
}

/* a line buffer that flushes into the log when full */
static void put(struct vmm_msg *m)
{
	vmm_log_raw(m->buf, m->len);
	m->len = 0;
}

static void field(struct vmm_msg *m, const char *name, uint64_t v)
{
	vmm_msg_str(m, name);
	vmm_msg_u64(m, v);
	vmm_msg_str(m, "\n");
	put(m);
}

static void je_write(void *opaque, const char *s)
{
	(void)opaque;
	vmm_log_raw(s, strlen(s));
}

/* what holds the pool: both formats print this word first */
static const char *backing_kind(void)
{
	if (vmm_pool.node >= 0)
		return "numa node";
	if (vmm_pool.devdax)
		return "device dax";
	/* a mode-2 child of a device pool: its copy in a memfd */
	return vmm_opts.pool_device ? "memfd" : "file";
}

static void print_text(const struct summary *s)
{
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "=== libvmmalloc statistics (pid ");
	vmm_msg_u64(&m, (uint64_t)getpid());
	vmm_msg_str(&m, ") ===\n");
	put(&m);
	field(&m, "pool size:        ", s->pool_size);
	field(&m, "usable:           ", s->usable);
	field(&m, "allocated:        ", s->allocated);
	field(&m, "active:           ", s->active);
	field(&m, "resident:         ", s->resident);
	field(&m, "committed:        ", (uint64_t)s->committed);
	field(&m, "peak committed:   ", (uint64_t)s->peak);
	vmm_msg_str(&m, "fork mode:        ");
	vmm_msg_u64(&m, (uint64_t)vmm_opts.fork_mode);
	vmm_msg_str(&m, vmm_pool.private_map ? " (pool remapped private)\n"
					     : " (pool shared)\n");
	vmm_msg_str(&m, "dax:              ");
	vmm_msg_str(&m, vmm_pool.dax == 1   ? "yes\n"
			: vmm_pool.dax == 0 ? "no\n"
					    : "unknown\n");
	put(&m);
	vmm_msg_str(&m, "backing:          ");
	const char *kind = backing_kind();
	if (vmm_pool.node >= 0)
		vmm_msg_format(&m, "%s %d\n", kind, vmm_pool.node);
	else if (vmm_pool.devdax)
		vmm_msg_format(&m, "%s %s\n", kind, vmm_opts.pool_dir);
	else if (vmm_opts.pool_device)
		vmm_msg_format(&m, "%s, the fork copy of device dax %s\n", kind,
			       vmm_opts.pool_dir);
	else
		vmm_msg_format(&m, "%s in %s\n", kind, vmm_opts.pool_dir);
	put(&m);
	vmm_msg_str(&m, "calls per entry point:\n");
	put(&m);
	for (size_t i = 0; i < VMM_CALL_COUNT; i++) {
		vmm_msg_str(&m, "  ");
		vmm_msg_str(&m, vmm_call_names[i]);
		for (size_t n = strlen(vmm_call_names[i]); n < 20; n++)
			vmm_msg_str(&m, " ");
		vmm_msg_u64(&m, atomic_load(&call_count[i]));
		vmm_msg_str(&m, "\n");
		put(&m);
	}
	vmm_msg_str(&m, "--- engine statistics (jemalloc) ---\n");
	put(&m);
	vmm_je_malloc_stats_print(je_write, NULL, NULL);
	vmm_msg_str(&m, "=== end of libvmmalloc statistics ===\n");
	put(&m);
}

static void jfield(struct vmm_msg *m, const char *name, uint64_t v)
{
	vmm_msg_str(m, "\"");
	vmm_msg_str(m, name);
	vmm_msg_str(m, "\": ");
	vmm_msg_u64(m, v);
	vmm_msg_str(m, ",\n");
	put(m);
}

/* a JSON string (or null), escaped; flushed piecewise, so any length */
static void json_string(struct vmm_msg *m, const char *s)
{
	if (s == NULL) {
		vmm_msg_str(m, "null");
		return;
	}
	vmm_msg_str(m, "\"");
	for (; *s != '\0'; s++) {
		if (m->len > sizeof(m->buf) - 16)
			put(m);
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			m->buf[m->len++] = '\\';
			m->buf[m->len++] = (char)c;
		} else if (c < 0x20) {
			vmm_msg_str(m, "\\u00");
			m->buf[m->len++] = "0123456789abcdef"[c >> 4];
			m->buf[m->len++] = "0123456789abcdef"[c & 0xf];
		} else {
			m->buf[m->len++] = (char)c;
		}
	}
	vmm_msg_str(m, "\"");
}

static void print_json(const struct summary *s)
{
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "{\"libvmmalloc\": {\n\"version\": \"");
	vmm_msg_u64(&m, VMMALLOC_MAJOR_VERSION);
	vmm_msg_str(&m, ".");
	vmm_msg_u64(&m, VMMALLOC_MINOR_VERSION);
	vmm_msg_str(&m, "\",\n");
	put(&m);
	jfield(&m, "pid", (uint64_t)getpid());
	jfield(&m, "pool_size", s->pool_size);
	jfield(&m, "usable", s->usable);
	jfield(&m, "allocated", s->allocated);
	jfield(&m, "active", s->active);
	jfield(&m, "resident", s->resident);
	jfield(&m, "committed", (uint64_t)s->committed);
	jfield(&m, "peak_committed", (uint64_t)s->peak);
	jfield(&m, "fork_mode", (uint64_t)vmm_opts.fork_mode);
	vmm_msg_str(&m, "\"dax\": ");
	vmm_msg_str(&m, vmm_pool.dax == 1   ? "true"
			: vmm_pool.dax == 0 ? "false"
					    : "null");
	vmm_msg_str(&m, ",\n");
	put(&m);
	/* "backing": "file" or "device dax" (or "memfd", its fork copy)
	 * with "pool_dir" (the directory or the device), or "numa node" with
	 * "numa_node"; the other key is null */
	vmm_msg_str(&m, "\"backing\": \"");
	vmm_msg_str(&m, backing_kind());
	vmm_msg_str(&m, "\",\n\"numa_node\": ");
	if (vmm_pool.node >= 0)
		vmm_msg_u64(&m, (uint64_t)vmm_pool.node);
	else
		vmm_msg_str(&m, "null");
	vmm_msg_str(&m, ",\n\"pool_dir\": ");
	put(&m);
	json_string(&m, vmm_pool.node >= 0 ? NULL : vmm_opts.pool_dir);
	vmm_msg_str(&m, ",\n");
	put(&m);
	vmm_msg_str(&m, "\"fork_private\": ");
	vmm_msg_str(&m, vmm_pool.private_map ? "true" : "false");
	vmm_msg_str(&m, ",\n\"calls\": {");
	put(&m);
	for (size_t i = 0; i < VMM_CALL_COUNT; i++) {
		vmm_msg_str(&m, i == 0 ? "\"" : ", \"");
		vmm_msg_str(&m, vmm_call_names[i]);
		vmm_msg_str(&m, "\": ");
		vmm_msg_u64(&m, atomic_load(&call_count[i]));
		put(&m);
	}
	vmm_msg_str(&m, "},\n\"engine\": ");
	put(&m);
	vmm_je_malloc_stats_print(je_write, NULL, "J");
	vmm_msg_str(&m, "}}\n");
	put(&m);
}

/* from life.c's destructor, in the debug variant once the pool exists */
void vmm_stats_at_exit(void)
{
	if (VMM_LOG_ON(2)) {
		struct vmm_hook_counts c;
		vmm_engine_counts(&c);
		VMM_LOG(2, "exit: pid %d, %zu bytes of the pool committed",
			(int)getpid(), c.committed);
	}
	if (vmm_opts.log_stats == 0)
		return;
	struct summary s;
	collect(&s);
	if (vmm_opts.log_stats == 2)
		print_json(&s);
	else
		print_text(&s);
}
