/*
 * coverage.c -- only in a gcov build (-DVMM_COVERAGE=ON, scripts/coverage):
 * the ways out of a process that skip libgcov's exit-time dump write the
 * counters first, so the figure counts what forked children, aborting and
 * exec'ing processes ran.  The release and debug builds never compile it.
 *
 * NOTES
 * - The library exports _exit, _Exit, abort and the exec family here (the
 *   coverage build's version script adds them, see CMakeLists.txt): the
 *   program's calls reach us first, we dump, then do the real thing.
 *   glibc's own internal calls (exit() ending in _exit, posix_spawn's
 *   child) bind inside libc and never come here; they need no dump.
 * - Counts are exact, not merely "the line ran": a forked child starts
 *   from zero (our first fork child handler resets the counters it
 *   inherited, which the parent will write itself), and every dump is
 *   followed by a reset, so a failed exec, or a vfork child (which shares
 *   the parent's counters), never writes the same count twice.
 * - The dump allocates (libgcov opens the files with stdio), so the child
 *   of a VMMALLOC_FORK=0 fork, which shares the heap with its parent and
 *   may only exec or _exit without allocating, writes nothing (its counts
 *   are lost; fork.exec.mode0 failed with "invalid stdio handle" when it
 *   did).  A process that ends while one of its threads holds the heap's
 *   locks (fork.c's prepare handler, a signal handler interrupting malloc)
 *   would hang in the dump, so a 5-second alarm ends it the way it meant
 *   to end; its counts are then lost too (docs/harness.md).
 * - The real abort and exec functions come from dlsym(RTLD_NEXT), looked up
 *   by a constructor (vmm_lib_init may run inside ld.so, before the loader
 *   can answer); _exit is the exit_group system call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm.h"

#define COV_EXPORT __attribute__((visibility("default")))
/* a dump takes well under a second, even under valgrind */
#define HUNG_SECONDS 5

/* libgcov (linked into the library by --coverage) */
void __gcov_dump(void);
void __gcov_reset(void);
void __gcov_reset_int(void);	  /* what __gcov_reset does, without the lock */
extern pthread_mutex_t __gcov_mx; /* libgcov's lock */

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef void (*abort_fn)(void);

static struct {
	execve_fn execve;
	execvpe_fn execvpe;
	fexecve_fn fexecve;
	abort_fn abort;
} real;

static atomic_bool dying; /* a second way out while dumping: no dump */
static bool shared_heap;  /* the child of a mode-0 fork: no allocation */
static volatile int exit_status;

static void lookup(void)
{
	if (real.abort != NULL)
		return;
	real.execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
	real.execvpe = (execvpe_fn)dlsym(RTLD_NEXT, "execvpe");
	real.fexecve = (fexecve_fn)dlsym(RTLD_NEXT, "fexecve");
	real.abort = (abort_fn)dlsym(RTLD_NEXT, "abort");
}

static __attribute__((noreturn)) void exit_group(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

static void hung_exit(int sig)
{
	(void)sig;
	exit_group(exit_status);
}

static void hung_abort(int sig)
{
	(void)sig;
	signal(SIGABRT, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGABRT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGABRT);
	exit_group(127);
}

/*
 * Writes the counters and starts them from zero; with an alarm whose
 * handler ends the process (hung_exit or hung_abort) if the dump hangs.
 * false if another thread is already on its way out through here.
 */
static bool dump_guarded(void (*hung)(int))
{
	if (shared_heap || atomic_exchange(&dying, true))
		return false;
	int saved = errno;
	struct sigaction sa = {.sa_handler = hung}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	sigset_t alrm, mask;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alrm, &mask);
	unsigned left = alarm(HUNG_SECONDS);
	__gcov_dump();
	__gcov_reset();
	alarm(left);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	sigaction(SIGALRM, &old, NULL);
	errno = saved;
	atomic_store(&dying, false);
	return true;
}

COV_EXPORT void _exit(int status)
{
	exit_status = status;
	dump_guarded(hung_exit);
	exit_group(status);
}

COV_EXPORT void _Exit(int status)
{
	_exit(status);
}

COV_EXPORT void abort(void)
{
	/* abort() from the alarm's handler or a nested abort: no dump */
	if (!atomic_load(&dying))
		dump_guarded(hung_abort);
	lookup();
	if (real.abort != NULL)
		real.abort();
	hung_abort(SIGABRT);
	exit_group(127); /* not reached */
}

/* ---- the exec family: dump (and reset) first, in case it succeeds ---- */

COV_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	lookup();
	dump_guarded(hung_exit);
	return real.execve(path, argv, envp);
}

COV_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

COV_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	lookup();
	dump_guarded(hung_exit);
	return real.execvpe(file, argv, envp);
}

COV_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

COV_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	lookup();
	dump_guarded(hung_exit);
	return real.fexecve(fd, argv, envp);
}

/* counts the arguments after arg, up to and including the NULL */
static size_t count_args(va_list ap)
{
	size_t n = 1;
	while (va_arg(ap, char *) != NULL)
		n++;
	return n + 1;
}

static void fill_args(char **args, const char *arg, va_list ap)
{
	size_t i = 0;
	args[i++] = (char *)arg;
	while ((args[i++] = va_arg(ap, char *)) != NULL)
		;
}

/*
 * char *NAME[] holding arg and the variadic arguments up to their NULL, in
 * the caller's frame (a VLA); ap is left started for a caller that reads
 * one more (execle's envp) and must va_end it
 */
#define VARIADIC_ARGS(name, arg, ap)                                           \
	va_start(ap, arg);                                                     \
	size_t name##_n = count_args(ap);                                      \
	va_end(ap);                                                            \
	char *name[name##_n];                                                  \
	va_start(ap, arg);                                                     \
	fill_args(name, arg, ap)

COV_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	VARIADIC_ARGS(args, arg, ap);
	va_end(ap);
	return execve(path, args, environ);
}

COV_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	VARIADIC_ARGS(args, arg, ap);
	va_end(ap);
	return execvpe(file, args, environ);
}

COV_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	VARIADIC_ARGS(args, arg, ap);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, args, envp);
}

/*
 * A forked child starts from zero: what it inherited is the parent's to
 * write.  The lock is made anew first, as libgcov's own __gcov_fork does: a
 * thread of the parent may have held it at the fork.
 */
void vmm_cov_postfork_child(void)
{
	pthread_mutex_init(&__gcov_mx, NULL);
	__gcov_reset_int();
	shared_heap = vmm_opts.fork_mode == VMM_FORK_NONE;
}

static __attribute__((constructor)) void cov_constructor(void)
{
	lookup();
}
