/*
 * options.c -- every VMMALLOC_* environment variable: one table, read once
 * with secure_getenv, parsed strictly.
 *
 * NOTES
 * - Runs during initialisation: no allocation, no stdio.
 * - May run before libc has set `environ`: see vmm_getenv.
 * - Bad values print the original library's message line (scripts grep for
 *   it) and abort; nothing has been created yet, so nothing is left behind.
 * - VMMALLOC_POOL_DIR and VMMALLOC_POOL_NODE exclude each other; the node
 *   is checked against sysfs here (exists, has memory), so a bad node is
 *   one line at start-up rather than failed commits later.
 * - VMMALLOC_POOL_DIR may name a device DAX (/dev/daxX.Y) instead of a
 *   directory: the pool is then a range of VMMALLOC_POOL_SIZE bytes of
 *   the device (pool.c).  Checked here (is it device DAX, is the size
 *   within it), and fork mode 1, which the kernel cannot do there, is
 *   refused here; an unset VMMALLOC_FORK means mode 2 on a device.
 * - Sizes accept plain bytes or a K, M, G or T suffix (powers of 1024);
 *   empty strings, signs, blanks, trailing garbage and overflow are errors
 *   (the original used atoll, so "16M" meant 16 bytes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "libvmmalloc.h"
#include "je.h"
#include "vmm.h"

struct vmm_options vmm_opts = {
	.fork_mode = VMM_FORK_PRIVATE,
	.pool_node = -1,
};

/* largest pool we accept: more than any x86-64/arm64 user address space */
#define VMM_MAX_POOL ((size_t)1 << 47)

const char *vmm_parse_size(const char *s, size_t *out)
{
	if (s == NULL || *s == '\0')
		return "empty value";
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return "not a number";
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "value too large";
		v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		p++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		p++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		p++;
		break;
	case 't':
	case 'T':
		shift = 40;
		p++;
		break;
	default:
		return "unexpected characters after the number";
	}
	/* accept "16M", "16MB" and "16MiB" alike */
	if (shift != 0 && (*p == 'i' || *p == 'I') &&
	    (p[1] == 'b' || p[1] == 'B'))
		p += 2;
	else if (shift != 0 && (*p == 'b' || *p == 'B'))
		p++;
	if (*p != '\0')
		return "unexpected characters after the number";
	if (shift != 0 && v > (UINT64_MAX >> shift))
		return "value too large";
	v <<= shift;
	if (v > VMM_MAX_POOL)
		return "value too large";
	*out = (size_t)v;
	return NULL;
}

bool vmm_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	if (s == NULL || *s == '\0')
		return false;
	unsigned v = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > hi)
			return false;
	}
	if (v < lo)
		return false;
	*out = v;
	return true;
}

static __attribute__((noreturn)) void
bad_value(const char *name, const char *value, const char *why)
{
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "incorrect ");
	vmm_msg_str(&m, name);
	vmm_msg_str(&m, " value (");
	vmm_msg_str(&m, value);
	vmm_msg_str(&m, ")");
	if (why != NULL) {
		vmm_msg_str(&m, ": ");
		vmm_msg_str(&m, why);
	}
	vmm_die(&m);
}

static __attribute__((noreturn)) void missing(const char *name)
{
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "environment variable ");
	vmm_msg_str(&m, name);
	vmm_msg_str(&m, " not specified");
	vmm_die(&m);
}

/*
 * VMMALLOC_POOL_NODE: a decimal node id and nothing else, naming a node
 * that exists and has memory (read from sysfs now: a node without memory
 * would fail every commit, later and less clearly).  It and
 * VMMALLOC_POOL_DIR exclude each other: parse_pool_dir, which runs next,
 * checks that only one is set.
 */
static void parse_pool_node(const char *name, const char *v)
{
	unsigned node;
	vmm_opts.pool_node = -1; /* whatever vmm_opts held before */
	if (v == NULL)
		return;
	if (!vmm_parse_uint(v, 0, VMM_NODE_MAX - 1, &node))
		bad_value(name, v, "expected a NUMA node number");
	struct vmm_node_mem mem;
	int err = vmm_node_meminfo(node, &mem);
	struct vmm_msg m = {.len = 0};
	if (err == ENOENT) {
		vmm_msg_format(&m,
			       "NUMA node %u does not exist (no "
			       "/sys/devices/system/node/node%u)",
			       node, node);
		bad_value(name, v, vmm_msg_cstr(&m));
	}
	if (err != 0) {
		vmm_msg_format(&m,
			       "cannot read the meminfo of NUMA node %u: %s",
			       node, vmm_strerror(err));
		bad_value(name, v, vmm_msg_cstr(&m));
	}
	if (mem.total == 0) {
		vmm_msg_format(&m, "NUMA node %u has no memory", node);
		bad_value(name, v, vmm_msg_cstr(&m));
	}
	vmm_opts.pool_node = (int)node;
}

/* a character device in VMMALLOC_POOL_DIR must be device DAX */
static void check_device(const char *name, const char *path)
{
	vmm_opts.pool_device = false;
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return; /* a directory, or pool creation says what is wrong */
	struct vmm_devdax dev;
	int err = vmm_devdax_info(st.st_rdev, &dev);
	if (err != 0) {
		struct vmm_msg m = {.len = 0};
		vmm_msg_format(&m,
			       "%s=%s is a character device but not device "
			       "DAX (",
			       name, path);
		if (err == ENODEV)
			vmm_msg_format(&m,
				       "/sys/dev/char/%u:%u/subsystem is "
				       "not the dax bus)",
				       major(st.st_rdev), minor(st.st_rdev));
		else
			vmm_msg_format(&m,
				       "its sysfs attributes cannot be "
				       "read: %s)",
				       vmm_strerror(err));
		vmm_die(&m);
	}
	vmm_opts.pool_device = true;
	vmm_opts.device_size = dev.size;
	vmm_opts.device_align = dev.align;
}

/*
 * The directory is captured once, as an absolute path: the program may
 * overwrite its environment strings (process titles) and change directory,
 * and fork mode 2 makes every child's pool file in it.
 */
static void parse_pool_dir(const char *name, const char *v)
{
	static char dir[PATH_MAX];
	if (vmm_opts.pool_node >= 0) {
		if (v == NULL)
			return; /* the pool is on the node */
		struct vmm_msg m = {.len = 0};
		vmm_msg_str(&m, "VMMALLOC_POOL_DIR and VMMALLOC_POOL_NODE are "
				"both set: unset one (a pool is in a directory "
				"or on a NUMA node)");
		vmm_die(&m);
	}
	if (v == NULL || *v == '\0') {
		/* the original's line first: scripts grep for it */
		struct vmm_msg m = {.len = 0};
		vmm_msg_str(&m, "environment variable ");
		vmm_msg_str(&m, name);
		vmm_msg_str(&m, " not specified (or set VMMALLOC_POOL_NODE "
				"for a pool on a NUMA node)");
		vmm_die(&m);
	}
	size_t len = 0, vlen = strlen(v);
	if (v[0] != '/') {
		if (getcwd(dir, sizeof(dir)) == NULL)
			bad_value(name, v,
				  "relative, and the working directory "
				  "cannot be read");
		len = strlen(dir);
		if (len > 1)
			dir[len++] = '/';
		else
			len = 1; /* cwd "/" */
	}
	if (len + vlen >= sizeof(dir)) {
		/* the wording pool creation has always used for this */
		struct vmm_msg m = {.len = 0};
		vmm_msg_str(&m, "vmem pool creation failed: ");
		vmm_msg_str(&m, vmm_strerror(ENAMETOOLONG));
		vmm_msg_str(&m, " (");
		vmm_msg_str(&m, name);
		vmm_msg_str(&m, "=");
		vmm_msg_str(&m, v);
		vmm_die(&m);
	}
	memcpy(dir + len, v, vlen + 1);
	vmm_opts.pool_dir = dir;
	check_device(name, dir);
}

static void parse_pool_size(const char *name, const char *v)
{
	if (v == NULL)
		missing(name);
	size_t size;
	const char *why = vmm_parse_size(v, &size);
	if (why != NULL)
		bad_value(name, v, why);
	if (vmm_opts.pool_device && size > vmm_opts.device_size) {
		struct vmm_msg m = {.len = 0};
		vmm_msg_format(&m,
			       "%s value (%zu) is larger than the device "
			       "DAX %s (%llu bytes)",
			       name, size, vmm_opts.pool_dir,
			       (unsigned long long)vmm_opts.device_size);
		vmm_die(&m);
	}
	if (vmm_opts.pool_device && size >= VMMALLOC_MIN_POOL &&
	    size / vmm_opts.device_align * vmm_opts.device_align <
		    VMMALLOC_MIN_POOL) {
		struct vmm_msg m = {.len = 0};
		vmm_msg_format(&m,
			       "%s value (%zu) rounded down to the "
			       "alignment of the device DAX %s (%llu) is "
			       "less than minimum (%llu)",
			       name, size, vmm_opts.pool_dir,
			       (unsigned long long)vmm_opts.device_align,
			       (unsigned long long)VMMALLOC_MIN_POOL);
		vmm_die(&m);
	}
	if (size < VMMALLOC_MIN_POOL) {
		struct vmm_msg m = {.len = 0};
		vmm_msg_str(&m, name);
		vmm_msg_str(&m, " value is less than minimum (");
		vmm_msg_u64(&m, size);
		vmm_msg_str(&m, " < ");
		vmm_msg_u64(&m, VMMALLOC_MIN_POOL);
		vmm_msg_str(&m, ")");
		vmm_die(&m);
	}
	vmm_opts.pool_size = size;
}

static void parse_fork(const char *name, const char *v)
{
	unsigned mode;
	if (v == NULL) {
		/* mode 1 cannot work on a device: its copy is the default */
		if (vmm_opts.pool_device)
			vmm_opts.fork_mode = VMM_FORK_COPY;
		return;
	}
	if (!vmm_parse_uint(v, 0, 3, &mode))
		bad_value(name, v, NULL);
	if (vmm_opts.pool_device && mode == VMM_FORK_PRIVATE) {
		struct vmm_msg m = {.len = 0};
		vmm_msg_format(&m,
			       "%s=1 cannot work on the device DAX %s: the "
			       "kernel refuses a private (copy-on-write) "
			       "mapping of a device; use 2 (the child gets "
			       "a copy in memory, the default there) or 0",
			       name, vmm_opts.pool_dir);
		vmm_die(&m);
	}
	vmm_opts.fork_mode = (enum vmm_fork_mode)mode;
}

/* a variable of 0 or 1: *on is left as it is when unset */
static void parse_flag(const char *name, const char *v, bool *on)
{
	unsigned u;
	if (v == NULL)
		return;
	if (!vmm_parse_uint(v, 0, 1, &u))
		bad_value(name, v, "expected 0 or 1");
	*on = u != 0;
}

static void parse_prealloc(const char *name, const char *v)
{
	parse_flag(name, v, &vmm_opts.pool_prealloc);
}

/* after VMMALLOC_POOL_PREALLOC (the table's order): the two exclude each
 * other, one backing the whole pool at start, the other nothing ahead */
static void parse_lazy(const char *name, const char *v)
{
	parse_flag(name, v, &vmm_opts.pool_lazy);
	if (vmm_opts.pool_lazy && vmm_opts.pool_prealloc) {
		struct vmm_msg m = {.len = 0};
		vmm_msg_format(&m,
			       "%s=1 and VMMALLOC_POOL_PREALLOC=1 exclude each "
			       "other: one reserves nothing ahead of a write, "
			       "the other the whole pool at start; unset one",
			       name);
		vmm_die(&m);
	}
}

static void parse_log_level(const char *name, const char *v)
{
	unsigned level;
	if (v == NULL)
		return;
	if (!vmm_parse_uint(v, 0, 4, &level))
		bad_value(name, v, "expected 0 to 4");
	vmm_opts.log_level = level;
}

static void parse_log_file(const char *name, const char *v)
{
	(void)name;
	if (v != NULL && *v != '\0')
		vmm_opts.log_file = v;
}

static void parse_log_stats(const char *name, const char *v)
{
	if (v == NULL || (v[0] == '0' && v[1] == '\0'))
		return;
	if (v[0] == '1' && v[1] == '\0')
		vmm_opts.log_stats = 1;
	else if (v[0] == 'j' && v[1] == 's' && v[2] == 'o' && v[3] == 'n' &&
		 v[4] == '\0')
		vmm_opts.log_stats = 2;
	else
		bad_value(name, v, "expected 0, 1 or json");
}

static const struct option {
	const char *name;
	void (*parse)(const char *name, const char *value);
	bool debug_only;
} options[] = {
	/* the node first: parse_pool_dir checks that only one is set */
	{"VMMALLOC_POOL_NODE", parse_pool_node, false},
	{"VMMALLOC_POOL_DIR", parse_pool_dir, false},
	{"VMMALLOC_POOL_SIZE", parse_pool_size, false},
	{"VMMALLOC_FORK", parse_fork, false},
	{"VMMALLOC_POOL_PREALLOC", parse_prealloc, false},
	{"VMMALLOC_POOL_LAZY", parse_lazy, false},
	{"VMMALLOC_LOG_LEVEL", parse_log_level, true},
	{"VMMALLOC_LOG_FILE", parse_log_file, true},
	{"VMMALLOC_LOG_STATS", parse_log_stats, true},
};

/* the environment as the constructor received it (see vmm_getenv) */
char **vmm_envp;

/*
 * secure_getenv, also before libc has set `environ` up: an allocation from
 * a program's .preinit_array, or our constructor running first, comes too
 * early for it.  The constructor's envp then serves, or /proc/self/environ
 * read into a static buffer.  A setuid/setgid process (AT_SECURE) gets
 * nothing, exactly as from secure_getenv.
 */
const char *vmm_getenv(const char *name)
{
	if (environ != NULL)
		return secure_getenv(name);
	if (getauxval(AT_SECURE) != 0)
		return NULL;
	static char buf[64 * 1024];
	static size_t len;
	char **envp = vmm_envp;
	size_t nlen = strlen(name);
	if (envp != NULL) {
		for (; *envp != NULL; envp++)
			if (strncmp(*envp, name, nlen) == 0 &&
			    (*envp)[nlen] == '=')
				return *envp + nlen + 1;
		return NULL;
	}
	if (len == 0) {
		int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		ssize_t n;
		while (len < sizeof(buf) - 1 &&
		       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		close(fd);
		buf[len] = '\0';
	}
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, name, nlen) == 0 && buf[i + nlen] == '=')
			return buf + i + nlen + 1;
	return NULL;
}

void vmm_options_load(void)
{
	for (size_t i = 0; i < VMM_ARRAY_SIZE(options); i++) {
		if (options[i].debug_only && !vmm_debug)
			continue;
		options[i].parse(options[i].name, vmm_getenv(options[i].name));
	}
}
