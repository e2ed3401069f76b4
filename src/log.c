/*
 * log.c -- where every message the library writes goes: error lines and
 * (in the debug variant) trace output, assertion failures and backtraces,
 * through write(2) only.  The text itself is built by format.c.
 *
 * NOTES
 * - Never allocates and never uses stdio: it runs inside malloc, during
 *   initialisation and while jemalloc's fork handlers hold every arena lock.
 *   Lines are built in a stack buffer (struct vmm_msg, format.c) and
 *   written with one write(2).
 * - errno is preserved across every call here.
 * - strerror() may allocate for unknown codes; strerrordesc_np() never does.
 * - Debug variant: output goes to a duplicate of fd 2 taken at start-up (a
 *   program that closes fd 2, as many do at exit, cannot make us write into
 *   whatever file later takes number 2), or to VMMALLOC_LOG_FILE.  Before
 *   each write the fd is checked to still be the file we opened (st_dev and
 *   st_ino), so a program that closes all descriptors and reuses the number
 *   never receives our lines.
 * - A VMMALLOC_LOG_FILE name ending in '-' gets the pid appended, and a
 *   forked child reopens it with its own pid (the original kept writing
 *   into the parent's file); without '-', parent and child share the file.
 * - The name is copied at start-up (vmm_opts.log_file points into the
 *   environment, which programs that set their process title overwrite)
 *   and never read from the environment again, by the fork child either.
 *   Names, pid included, may be up to PATH_MAX - 1 characters (built in
 *   PATH_MAX buffers, not in a 1 KiB message); a longer one is refused
 *   with the original's error line and ENAMETOOLONG's text.
 * - The release build never reaches any of this except the error lines
 *   (vmm_error/vmm_die on fd 2): every caller tests vmm_debug first.
 * - Backtraces use libunwind (local unwinding, no malloc on this path) and
 *   are compiled only into the debug variant, which alone links it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

#include "format.h"
#include "libvmmalloc.h"
#include "vmm.h"

#if defined(VMM_DEBUG) && defined(VMM_HAVE_LIBUNWIND)
#define UNW_LOCAL_ONLY
#include <libunwind.h>
static const bool have_unwind = true;
#else
static const bool have_unwind = false;
#endif

/* ---- errno text ---- */

const char *vmm_strerror(int err)
{
	const char *s = strerrordesc_np(err);
	return s != NULL ? s : "unknown error";
}

/* ---- output ---- */

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* an fd we opened, and the file it must still refer to */
struct out {
	int fd;
	dev_t dev;
	ino_t ino;
};

static struct out err_out = {.fd = -1}; /* dup of fd 2 (debug variant) */
static struct out log_out = {.fd = -1}; /* VMMALLOC_LOG_FILE */
static char log_name[PATH_MAX];		/* its value, copied at start-up */
static char log_path[PATH_MAX];		/* the file: log_name, maybe + pid */
static bool log_pid_suffix;

static bool out_set(struct out *o, int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		return false;
	o->fd = fd;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	return true;
}

static void out_write(const struct out *o, const char *buf, size_t len)
{
	struct stat st;
	if (o->fd < 0 || fstat(o->fd, &st) != 0 || st.st_dev != o->dev ||
	    st.st_ino != o->ino)
		return; /* closed, or the number now belongs to the program */
	write_all(o->fd, buf, len);
}

/* where trace lines go: the log file, else stderr's duplicate */
static const struct out *log_dest(void)
{
	return log_out.fd >= 0 ? &log_out : &err_out;
}

void vmm_log_raw(const char *s, size_t len)
{
	int saved = errno;
	out_write(log_dest(), s, len);
	errno = saved;
}

/* an error: on stderr, and also in the log file when there is one */
static void emit_error(const char *buf, size_t len)
{
	if (!vmm_debug) {
		write_all(STDERR_FILENO, buf, len);
		return;
	}
	if (err_out.fd >= 0)
		out_write(&err_out, buf, len);
	else
		write_all(STDERR_FILENO, buf, len); /* before vmm_log_init */
	if (log_out.fd >= 0)
		out_write(&log_out, buf, len);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

static void line_prefix(struct vmm_msg *m, unsigned level, const char *file,
			int line, const char *func)
{
	vmm_msg_format(m, "<libvmmalloc>: <%u> [%s:%d %s] ", level,
		       base_name(file), line, func);
}

static void format_line(struct vmm_msg *m, unsigned level, const char *file,
			int line, const char *func, int err, const char *fmt,
			va_list ap)
{
	line_prefix(m, level, file, line, func);
	bool with_errno = fmt[0] == '!';
	vmm_msg_vformat(m, with_errno ? fmt + 1 : fmt, ap);
	if (with_errno) {
		vmm_msg_str(m, ": ");
		vmm_msg_str(m, vmm_strerror(err));
	}
	/* the newline always fits: msg_* stop one byte short of the end */
	m->buf[m->len++] = '\n';
}

void vmm_log_at(unsigned level, const char *file, int line, const char *func,
		const char *fmt, ...)
{
	int saved = errno;
	struct vmm_msg m = {.len = 0};
	va_list ap;
	va_start(ap, fmt);
	format_line(&m, level, file, line, func, saved, fmt, ap);
	va_end(ap);
	out_write(log_dest(), m.buf, m.len);
	errno = saved;
}

/* ---- entry points: level 4 (stats.c counts the calls) ---- */

VMM_TLS bool vmm_in_call;

bool vmm_call_enter(enum vmm_call call, const char *file, int line,
		    const char *fmt, ...)
{
	if (vmm_in_call)
		return false; /* nested: the outer entry point logged it */
	vmm_in_call = true;
	vmm_stats_count_call(call);
	if (VMM_UNLIKELY(vmm_opts.log_level >= 4)) {
		int saved = errno;
		struct vmm_msg m = {.len = 0};
		va_list ap;
		va_start(ap, fmt);
		/* named by the call's libc name, whatever C function the entry
		 * point is written in (tests/debug match these names) */
		format_line(&m, 4, file, line, vmm_call_names[call], saved, fmt,
			    ap);
		va_end(ap);
		out_write(log_dest(), m.buf, m.len);
		errno = saved;
	}
	return true;
}

/* ---- backtraces, assertions, fatal errors ---- */

static void backtrace_print(void)
{
#if defined(VMM_DEBUG) && defined(VMM_HAVE_LIBUNWIND)
	unw_context_t ctx;
	unw_cursor_t cur;
	if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0)
		return;
	struct vmm_msg m = {.len = 0};
	vmm_msg_str(&m, "<libvmmalloc>: backtrace:\n");
	emit_error(m.buf, m.len);
	for (unsigned i = 0; i < 64 && unw_step(&cur) > 0; i++) {
		unw_word_t ip = 0, off = 0;
		char name[256];
		unw_get_reg(&cur, UNW_REG_IP, &ip);
		if (unw_get_proc_name(&cur, name, sizeof(name), &off) != 0)
			strcpy(name, "??");
		m.len = 0;
		vmm_msg_format(&m, "<libvmmalloc>:   #%u 0x%zx %s+0x%zx", i,
			       (size_t)ip, name, (size_t)off);
		Dl_info info;
		if (dladdr((void *)ip, &info) != 0 && info.dli_fname != NULL)
			vmm_msg_format(&m, " (%s)", base_name(info.dli_fname));
		m.buf[m.len++] = '\n';
		emit_error(m.buf, m.len);
	}
#else
	static const char none[] =
		"<libvmmalloc>: backtrace: unavailable (built without "
		"libunwind)\n";
	emit_error(none, sizeof(none) - 1);
#endif
}

void vmm_assert_fail(const char *expr, const char *file, int line,
		     const char *func)
{
	struct vmm_msg m = {.len = 0};
	line_prefix(&m, 1, file, line, func);
	vmm_msg_str(&m, "assertion failure: ");
	vmm_msg_str(&m, expr);
	m.buf[m.len++] = '\n';
	emit_error(m.buf, m.len);
	backtrace_print();
	abort();
}

void vmm_error(struct vmm_msg *m)
{
	int saved = errno;
	static const char prefix[] = "Error (libvmmalloc): ";
	struct vmm_msg line = {.len = 0};
	vmm_msg_str(&line, prefix);
	m->buf[m->len] = '\0';
	vmm_msg_str(&line, m->buf);
	line.buf[line.len++] = '\n';
	emit_error(line.buf, line.len);
	errno = saved;
}

void vmm_die(struct vmm_msg *m)
{
	vmm_error(m);
	if (vmm_debug)
		backtrace_print();
	abort(); /* a gcov build's abort writes the counters (coverage.c) */
}

/* ---- start-up (debug variant) ---- */

static int open_log(void)
{
	return open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
}

/*
 * Builds log_path from the copied name: a trailing '-' gets the pid.
 * false (errno ENAMETOOLONG, log_path unchanged) if it would not fit.
 */
static bool make_log_path(void)
{
	char pid[24];
	size_t plen = 0;
	if (log_pid_suffix)
		plen = vmm_snprintf(pid, sizeof(pid), "%d", (int)getpid());
	size_t len = strlen(log_name);
	if (len + plen >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return false;
	}
	memcpy(log_path, log_name, len);
	memcpy(log_path + len, pid, plen);
	log_path[len + plen] = '\0';
	return true;
}

/*
 * The original's line, Error (libvmmalloc): VMMALLOC_LOG_FILE=name: text,
 * built here because a name may be longer than a message; then abort.
 */
static __attribute__((noreturn)) void log_file_failed(const char *name, int err)
{
	static const char head[] = "Error (libvmmalloc): VMMALLOC_LOG_FILE=";
	char line[sizeof(head) + PATH_MAX + 128];
	size_t len = sizeof(head) - 1, nlen = strlen(name);
	memcpy(line, head, len);
	if (nlen >= PATH_MAX) {
		memcpy(line + len, name, PATH_MAX - 1);
		len += PATH_MAX - 1;
		memcpy(line + len, "...", 3);
		len += 3;
	} else {
		memcpy(line + len, name, nlen);
		len += nlen;
	}
	const char *text = vmm_strerror(err);
	size_t tlen = strlen(text);
	if (tlen > sizeof(line) - len - 3)
		tlen = sizeof(line) - len - 3;
	line[len++] = ':';
	line[len++] = ' ';
	memcpy(line + len, text, tlen);
	len += tlen;
	line[len++] = '\n';
	emit_error(line, len);
	abort();
}

/* fork.c calls these three in its fixed order (debug variant only) */
void vmm_log_prefork(void)
{
	/* runs after fork.c's work: the pool is already remapped/cloned */
	VMM_LOG(2, "fork: prepare (VMMALLOC_FORK=%u)",
		(unsigned)vmm_opts.fork_mode);
}

void vmm_log_postfork_parent(void)
{
	VMM_LOG(2, "fork: parent %d continues", (int)getpid());
}

void vmm_log_postfork_child(void)
{
	if (log_pid_suffix && log_out.fd >= 0) {
		/* the child gets its own file: better than the original */
		int old = log_out.fd;
		int fd = make_log_path() ? open_log() : -1;
		if (fd >= 0 && out_set(&log_out, fd)) {
			close(old);
		} else {
			if (fd >= 0)
				close(fd);
			VMM_LOG(1,
				"!cannot open %s%d, child keeps the "
				"parent's log file",
				log_name, (int)getpid());
		}
	}
	VMM_LOG(2, "fork: child %d of %d", (int)getpid(), (int)getppid());
}

/* a test-only way into the assertion path; read in the debug variant only */
static __attribute__((noinline)) void vmm_selftest_assert(const char *what)
{
	VMM_ASSERT(strcmp(what, "assert") != 0);
}

void vmm_log_init(void)
{
	if (!vmm_debug)
		return;
	int saved = errno;
	/* a private duplicate of fd 2, out of the way of low fd numbers */
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 100);
	if (fd < 0)
		fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd >= 0 && !out_set(&err_out, fd))
		close(fd);

	/* read once, while the environment is still the program's own */
	const char *name = vmm_opts.log_file;
	if (name != NULL) {
		size_t len = strlen(name);
		if (len >= sizeof(log_name))
			log_file_failed(name, ENAMETOOLONG);
		memcpy(log_name, name, len + 1);
		log_pid_suffix = len > 0 && name[len - 1] == '-';
		if (!make_log_path())
			log_file_failed(log_name, errno);
		fd = open_log();
		if (fd < 0 || !out_set(&log_out, fd))
			log_file_failed(log_path, errno);
	}

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	VMM_LOG(1, "pid %d: program: %s", (int)getpid(), exe);
	VMM_LOG(1, "libvmmalloc version %d.%d", VMMALLOC_MAJOR_VERSION,
		VMMALLOC_MINOR_VERSION);
	VMM_LOG(1,
		"build: debug variant, jemalloc %s (private copy), "
		"compiler %s, backtraces %s",
		JEMALLOC_VERSION, __VERSION__,
		have_unwind ? "libunwind" : "unavailable");
	VMM_LOG(1,
		"settings: VMMALLOC_POOL_DIR=%s VMMALLOC_POOL_SIZE=%zu "
		"VMMALLOC_FORK=%u VMMALLOC_LOG_LEVEL=%u "
		"VMMALLOC_LOG_FILE=%s VMMALLOC_LOG_STATS=%u "
		"VMMALLOC_POOL_NODE=%d",
		vmm_opts.pool_dir != NULL ? vmm_opts.pool_dir : "(unset)",
		vmm_opts.pool_size, (unsigned)vmm_opts.fork_mode,
		vmm_opts.log_level, log_name[0] != '\0' ? log_path : "(stderr)",
		vmm_opts.log_stats, vmm_opts.pool_node);

	const char *selftest = vmm_getenv("VMMALLOC_DEBUG_SELFTEST");
	if (selftest != NULL)
		vmm_selftest_assert(selftest);
	errno = saved;
}
