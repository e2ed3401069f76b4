/*
 * vmmtest_child.h -- the one child runner of the tests: start a child (a
 * function in a fork, or a program by posix_spawn with environment
 * changes), capture its stdout/stderr through pipes, wait with a deadline
 * (SIGKILL on expiry), and decode how it ended into a struct that a
 * failure message can print.
 *
 *   struct vt_spawn s = {.argv = argv, .env = (const char *[]){
 *           "VMMALLOC_FORK=2", "MALLOC_CONF", NULL}, .err = buf,
 *           .errlen = sizeof(buf)};
 *   struct vt_status st = vt_run(&s, 30);
 *   CHECK_EXIT(st, 0);
 *
 * A program is started with posix_spawn, so no fork handler runs in the
 * parent (a device DAX pool refuses VMMALLOC_FORK=1); a function runs in a
 * fork() child, so the fork handlers are part of the scenario.  To talk to
 * a child while it runs (lines on its stdin and stdout), start it with
 * vt_start and .pipe_in/.pipe_out, use child.in/child.out, then vt_wait.
 *
 * Also here, for the programs that give their children a filesystem of
 * their own: vt_private_tmpfs, a tmpfs in a private mount namespace.
 */
#ifndef VMMTEST_CHILD_H
#define VMMTEST_CHILD_H 1

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <time.h>

#include "vmmtest.h"

extern char **environ;

struct vt_spawn {
	char *const *argv;    /* run this program (PATH searched)... */
	int (*fn)(void *arg); /* ...or this function in a fork: exit(fn) */
	void *arg;
	const char *const
		*env; /* NULL-ended: "NAME=value" sets, "NAME" unsets */
	bool group;   /* the child leads a process group of its own;
				 * a timeout then kills the whole group */
	bool pipe_in, pipe_out; /* child.in / child.out: the caller talks */
	char *out, *err;       /* capture stdout / stderr here (NUL-ended)... */
	size_t outlen, errlen; /* ...at most len - 1 bytes, the rest dropped */
};

struct vt_child {
	pid_t pid;
	int in, out; /* pipe ends for the caller, or -1 */
	int cap[2];  /* captured stdout, stderr being read, or -1 */
	char *buf[2];
	size_t len[2], room[2];
	bool group;
};

enum vt_how { VT_EXITED, VT_SIGNALED, VT_TIMEOUT };

struct vt_status {
	enum vt_how how;
	int code;	 /* the exit code, or the signal's number */
	int raw;	 /* the wait status; -1 after a timeout */
	double seconds;	 /* how long vt_wait waited */
	const char *err; /* the captured stderr, or NULL */
};

static inline double vt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* environ with the changes of `env` applied: a new array of the old
 * strings (what the child gets; leaked, the tests are short-lived) */
static inline char **vt_env_with(const char *const *env)
{
	size_t n = 0, m = 0;
	while (environ[n] != NULL)
		n++;
	while (env != NULL && env[m] != NULL)
		m++;
	char **e = malloc((n + m + 1) * sizeof(*e));
	CHECK(e != NULL);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool drop = false;
		for (size_t j = 0; j < m && !drop; j++) {
			size_t len = strcspn(env[j], "=");
			drop = strncmp(environ[i], env[j], len) == 0 &&
			       environ[i][len] == '=';
		}
		if (!drop)
			e[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		if (strchr(env[j], '=') != NULL)
			e[k++] = (char *)env[j];
	e[k] = NULL;
	return e;
}

static inline void vt_pipe(int fds[2])
{
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
}

/* starts the child; its stdio not piped is the caller's */
static inline struct vt_child vt_start(const struct vt_spawn *s)
{
	struct vt_child c = {.pid = -1,
			     .in = -1,
			     .out = -1,
			     .cap = {-1, -1},
			     .group = s->group};
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	if (s->pipe_in)
		vt_pipe(in);
	if (s->pipe_out || s->out != NULL)
		vt_pipe(out);
	if (s->err != NULL)
		vt_pipe(err);
	fflush(NULL); /* nothing buffered is written twice */
	if (s->fn != NULL) {
		c.pid = fork();
		CHECK(c.pid >= 0);
		if (c.pid == 0) {
			if (s->group)
				setpgid(0, 0);
			if ((in[0] >= 0 && dup2(in[0], 0) < 0) ||
			    (out[1] >= 0 && dup2(out[1], 1) < 0) ||
			    (err[1] >= 0 && dup2(err[1], 2) < 0))
				_exit(127);
			for (const char *const *e = s->env; e && *e; e++) {
				const char *eq = strchr(*e, '=');
				if (eq == NULL) {
					unsetenv(*e);
				} else {
					char name[256];
					snprintf(name, sizeof(name), "%.*s",
						 (int)(eq - *e), *e);
					setenv(name, eq + 1, 1);
				}
			}
			exit(s->fn(s->arg));
		}
	} else {
		CHECK(s->argv != NULL && s->argv[0] != NULL);
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t at;
		CHECK(posix_spawn_file_actions_init(&fa) == 0);
		CHECK(posix_spawnattr_init(&at) == 0);
		if (in[0] >= 0)
			posix_spawn_file_actions_adddup2(&fa, in[0], 0);
		if (out[1] >= 0)
			posix_spawn_file_actions_adddup2(&fa, out[1], 1);
		if (err[1] >= 0)
			posix_spawn_file_actions_adddup2(&fa, err[1], 2);
		if (s->group) {
			posix_spawnattr_setpgroup(&at, 0);
			posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
		}
		char **envp = s->env != NULL ? vt_env_with(s->env) : environ;
		int e = posix_spawnp(&c.pid, s->argv[0], &fa, &at, s->argv,
				     envp);
		if (e != 0)
			FAIL("posix_spawn %s: %s", s->argv[0], strerror(e));
		if (envp != environ)
			free(envp);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&at);
	}
	if (s->group)
		setpgid(c.pid, c.pid); /* both sides: no race with a kill */
	int *ends[] = {&in[0], &out[1], &err[1]};
	for (size_t i = 0; i < 3; i++)
		if (*ends[i] >= 0)
			close(*ends[i]);
	c.in = in[1];
	if (s->out != NULL) {
		c.cap[0] = out[0];
		c.buf[0] = s->out;
		c.room[0] = s->outlen;
		s->out[0] = '\0';
	} else {
		c.out = out[0];
	}
	if (s->err != NULL) {
		c.cap[1] = err[0];
		c.buf[1] = s->err;
		c.room[1] = s->errlen;
		s->err[0] = '\0';
	}
	return c;
}

/* reads what a captured pipe holds now; false at its end */
static inline bool vt_drain(struct vt_child *c, int i)
{
	char scratch[4096];
	size_t room =
		c->room[i] > c->len[i] + 1 ? c->room[i] - c->len[i] - 1 : 0;
	char *to = room > 0 ? c->buf[i] + c->len[i] : scratch;
	ssize_t n = read(c->cap[i], to, room > 0 ? room : sizeof(scratch));
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		close(c->cap[i]);
		c->cap[i] = -1;
		return false;
	}
	if (room > 0) {
		c->len[i] += (size_t)n;
		c->buf[i][c->len[i]] = '\0';
	}
	return true;
}

/*
 * Waits for the child at most `seconds` (<= 0: no limit) while reading what
 * it writes to the captured pipes; on expiry kills it (its group with
 * .group) with SIGKILL and reaps it.  Closes the caller's pipe ends.
 */
static inline struct vt_status vt_wait(struct vt_child *c, double seconds)
{
	struct vt_status st = {.how = VT_TIMEOUT, .raw = -1};
	double t0 = vt_now(), end = t0 + seconds;
	bool done = false;
	if (seconds <= 0 && c->cap[0] < 0 && c->cap[1] < 0) {
		/* nothing to read, no deadline: block */
		int ws;
		pid_t r;
		while ((r = waitpid(c->pid, &ws, 0)) < 0 && errno == EINTR)
			;
		if (r != c->pid)
			FAIL("waitpid(%d): %s", (int)c->pid, strerror(errno));
		st.raw = ws;
		done = true;
	}
	while (!done) {
		int ws;
		pid_t r = waitpid(c->pid, &ws, WNOHANG);
		if (r < 0 && errno != EINTR)
			FAIL("waitpid(%d): %s", (int)c->pid, strerror(errno));
		if (r == c->pid) {
			st.raw = ws;
			done = true;
			break;
		}
		if (seconds > 0 && vt_now() > end) {
			kill(c->group ? -c->pid : c->pid, SIGKILL);
			while (waitpid(c->pid, &ws, 0) < 0 && errno == EINTR)
				;
			break;
		}
		struct pollfd p[2];
		nfds_t n = 0;
		for (int i = 0; i < 2; i++)
			if (c->cap[i] >= 0)
				p[n++] = (struct pollfd){c->cap[i], POLLIN, 0};
		if (n == 0) {
			struct timespec ts = {0, 2 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(p, n, 10) > 0)
			for (nfds_t k = 0; k < n; k++)
				if (p[k].revents != 0)
					vt_drain(c,
						 p[k].fd == c->cap[0] ? 0 : 1);
	}
	/* what is left in the pipes; a grandchild holding one open must not
	 * make us wait, so only what is there now */
	for (int i = 0; i < 2; i++) {
		while (c->cap[i] >= 0) {
			struct pollfd p = {c->cap[i], POLLIN, 0};
			if (poll(&p, 1, 0) <= 0 || !vt_drain(c, i))
				break;
		}
		if (c->cap[i] >= 0)
			close(c->cap[i]);
		c->cap[i] = -1;
	}
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	c->in = c->out = -1;
	st.seconds = vt_now() - t0;
	st.err = c->buf[1];
	if (done && WIFEXITED(st.raw)) {
		st.how = VT_EXITED;
		st.code = WEXITSTATUS(st.raw);
	} else if (done) {
		st.how = VT_SIGNALED;
		st.code = WTERMSIG(st.raw);
	}
	return st;
}

/* vt_wait for a child the scenario forked itself (fork is under test) */
static inline struct vt_status vt_wait_pid(pid_t pid, double seconds)
{
	struct vt_child c = {.pid = pid, .in = -1, .out = -1, .cap = {-1, -1}};
	return vt_wait(&c, seconds);
}

/* vt_start + vt_wait */
static inline struct vt_status vt_run(const struct vt_spawn *s, double seconds)
{
	struct vt_child c = vt_start(s);
	return vt_wait(&c, seconds);
}

/* fn(arg) in a fork child, waited for at most `seconds` */
static inline struct vt_status vt_run_fn(int (*fn)(void *), void *arg,
					 double seconds)
{
	struct vt_spawn s = {.fn = fn, .arg = arg};
	return vt_run(&s, seconds);
}

static inline bool vt_exited(struct vt_status st, int code)
{
	return st.how == VT_EXITED && st.code == code;
}

static inline bool vt_signaled(struct vt_status st, int sig)
{
	return st.how == VT_SIGNALED && st.code == sig;
}

/* "exit 3", "signal 6 (Aborted)", "timeout after 30.0 s" */
static inline const char *vt_status_text(struct vt_status st, char *buf,
					 size_t len)
{
	if (st.how == VT_EXITED)
		snprintf(buf, len, "exit %d", st.code);
	else if (st.how == VT_SIGNALED)
		snprintf(buf, len, "signal %d (%s)", st.code,
			 strsignal(st.code));
	else
		snprintf(buf, len, "timeout after %.1f s (killed)", st.seconds);
	return buf;
}

/* fails unless the child ended as expected; names how it did end, and
 * what it wrote to stderr when that was captured */
#define VT_CHECK_END_(st, ok, want, ...)                                       \
	do {                                                                   \
		struct vt_status s_ = (st);                                    \
		if (!(ok)) {                                                   \
			char b_[96];                                           \
			VT_FAIL_("%s: %s, expected " want "%s%s", #st,         \
				 vt_status_text(s_, b_, sizeof(b_)),           \
				 __VA_ARGS__,                                  \
				 s_.err != NULL && *s_.err ? "; stderr:\n"     \
							   : "",               \
				 s_.err != NULL ? s_.err : "");                \
		}                                                              \
	} while (0)
#define CHECK_EXIT(st, code)                                                   \
	VT_CHECK_END_(st, vt_exited(s_, (code)), "exit %d", (int)(code))
#define CHECK_SIGNAL(st, sig)                                                  \
	VT_CHECK_END_(st, vt_signaled(s_, (sig)), "signal %d", (int)(sig))

/* waits (no deadline) for a child the test forked itself and fails the
 * test unless it exited with 0 */
#define vt_wait_ok(pid) CHECK_EXIT(vt_wait_pid((pid), 0), 0)

/*
 * Mounts a tmpfs of `size` (a mount option value: "48m") with root mode
 * `mode` on a new directory made from the mkdtemp template `dir` (which
 * then holds its name), in a mount namespace of this process with all
 * mounts private, so it vanishes with the process.  Skips (77) where that
 * is not allowed: not root, no namespace, no tmpfs.  The caller unmounts
 * it (umount2 MNT_DETACH, rmdir) if it must be gone sooner.
 */
static inline void vt_private_tmpfs(char *dir, const char *size, mode_t mode)
{
	if (geteuid() != 0)
		SKIP("mounting a tmpfs needs root");
	if (unshare(CLONE_NEWNS) != 0)
		SKIP("cannot create a mount namespace: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		SKIP("cannot make mounts private: %s", strerror(errno));
	CHECK(mkdtemp(dir) != NULL);
	char opts[64];
	snprintf(opts, sizeof(opts), "size=%s,mode=%04o", size, (unsigned)mode);
	if (mount("tmpfs", dir, "tmpfs", 0, opts) != 0) {
		int err = errno;
		rmdir(dir);
		SKIP("cannot mount a tmpfs: %s", strerror(err));
	}
}

#endif /* VMMTEST_CHILD_H */
