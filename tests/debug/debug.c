/*
 * debug.c -- the debug variant (lib/vmem_debug): every VMMALLOC_LOG_LEVEL's
 * marker lines, the level-4 wording of each entry point (one line per
 * call), VMMALLOC_LOG_FILE with and without a trailing '-', a log file that
 * cannot be opened, long log names (up to PATH_MAX, deep directories: a
 * component is at most NAME_MAX), a name longer than PATH_MAX (a clear
 * error), a program that overwrites its environment strings and forks
 * (like setproctitle), VMMALLOC_LOG_STATS in text and JSON, an assertion with
 * a libunwind backtrace, a closed fd 2, errno, and the release build
 * ignoring every debug variable.
 *
 *   vmmtest-debug CASE RELEASE-LIB [PYTHON3]     (run through run-preloaded)
 *   vmmtest-debug worker ACTION                  (started by the driver)
 *
 * The driver starts itself as a worker with the case's variables, stderr
 * captured in a file of a private temporary directory (never the pool
 * directory, which must end empty), then checks the output.  Checks read
 * a line's level and its message words, never the "[file:line function]"
 * of its prefix (the code's own names), except the libc name that opens a
 * level-4 line.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmmtest.h"

/* ---- the worker: what each case makes the library do ---- */

static void *volatile sink;

static int worker(const char *action)
{
	if (strcmp(action, "malloc4321") == 0) {
		sink = malloc(4321);
		free(sink);
	} else if (strcmp(action, "calloc4321") == 0) {
		sink = calloc(1, 4321);
		free(sink);
	} else if (strcmp(action, "memalign4321") == 0) {
		sink = memalign(16, 4321); /* glibc: this is malloc's job */
		free(sink);
		sink = memalign(64, 5321);
		free(sink);
	} else if (strcmp(action, "all") == 0) {
		void *p = malloc(1111);
		p = realloc(p, 2222);
		free(p);
		p = calloc(3, 3333);
		/* glibc no longer links cfree: take the preloaded one */
		void (*cfree_fn)(void *) =
			(void (*)(void *))dlsym(RTLD_DEFAULT, "cfree");
		CHECK(cfree_fn != NULL);
		cfree_fn(p);
		CHECK(posix_memalign(&p, 64, 4444) == 0);
		free(p);
		p = aligned_alloc(128, 5555);
		free(p);
		p = memalign(256, 6666);
		free(p);
		p = valloc(7777);
		free(p);
		p = pvalloc(8888);
		CHECK(malloc_usable_size(p) >= 8888);
		free(p);
		void *volatile null = NULL; /* gcc folds realloc(NULL, n) */
		p = realloc(null, 9999);    /* realloc's line only */
		p = realloc(p, 0); /* frees: still realloc's line only */
		CHECK(p == NULL);
	} else if (strcmp(action, "fork") == 0) {
		sink = malloc(4321);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			free(malloc(1234));
			exit(0); /* the child's exit line too */
		}
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		free(sink);
	} else if (strcmp(action, "fork2") == 0) {
		/* two forks in a row: in mode 1 the second finds the pool
		 * already private, and must be logged all the same */
		for (int i = 0; i < 2; i++) {
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0)
				_exit(0);
			int st;
			CHECK(waitpid(pid, &st, 0) == pid);
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
	} else if (strcmp(action, "environ-fork") == 0) {
		/* what setproctitle does to the strings: the library must
		 * have copied its settings, the child reopens the log file */
		extern char **environ;
		for (char **e = environ; *e != NULL; e++)
			memset(*e, 0, strlen(*e));
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			free(malloc(1234));
			exit(0);
		}
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else if (strcmp(action, "stats") == 0) {
		sink = malloc(3 << 20); /* stays live: "allocated" sees it */
		memset(sink, 1, 3 << 20);
		for (int i = 0; i < 100; i++) {
			sink = malloc((size_t)i * 10); /* not elided */
			free(sink);
		}
	} else if (strcmp(action, "closed-stderr") == 0) {
		/* a program closes fd 2 and the number goes to its own file */
		const char *victim = getenv("VT_VICTIM");
		CHECK(victim != NULL);
		close(2);
		int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd != 2)
			_exit(3);
		sink = malloc(4321);
		free(sink);
	} else if (strcmp(action, "exhaust") == 0) {
		errno = 0;
		sink = malloc(vt_opaque((size_t)512 << 20)); /* pool: 64 MiB */
		if (sink != NULL || errno != ENOMEM)
			_exit(5);
	} else if (strcmp(action, "errno") == 0) {
		errno = 1234;
		sink = malloc(4321);
		int e1 = errno;
		free(sink);
		int e2 = errno;
		if (e1 != 1234 || e2 != 1234)
			_exit(4);
	} else {
		FAIL("unknown worker action %s", action);
	}
	return 0;
}

/* ---- the driver ---- */

static char tmpdir[4096];
static char self[4096];

struct run {
	int status; /* from waitpid */
	char *err;  /* the worker's stderr */
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	CHECK(buf != NULL);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
			CHECK(buf != NULL);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static char *path_in_tmp(const char *name)
{
	static char paths[8][4096 + 512];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return p;
}

/* runs the worker with extra VAR=VALUE settings (NULL-terminated) */
static struct run run_worker(const char *action, const char *const *env)
{
	char *errpath = path_in_tmp("stderr");
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(120);
		execl(self, self, "worker", action, (char *)NULL);
		_exit(121);
	}
	struct run r;
	CHECK(waitpid(pid, &r.status, 0) == pid);
	r.err = slurp(errpath);
	CHECK(r.err != NULL);
	return r;
}

static void expect_exit0(const struct run *r)
{
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
		FAIL("worker status %#x, stderr:\n%s", r->status, r->err);
}

static void expect_abort(const struct run *r)
{
	if (!WIFSIGNALED(r->status) || WTERMSIG(r->status) != SIGABRT)
		FAIL("worker status %#x (expected SIGABRT), stderr:\n%s",
		     r->status, r->err);
}

#define CHECK_HAS(text, needle)                                                \
	do {                                                                   \
		if (strstr((text), (needle)) == NULL)                          \
			FAIL("no \"%s\" in:\n%s", (needle), (text));           \
	} while (0)
#define CHECK_HASNT(text, needle)                                              \
	do {                                                                   \
		if (strstr((text), (needle)) != NULL)                          \
			FAIL("unexpected \"%s\" in:\n%s", (needle), (text));   \
	} while (0)

/* needle occurs in line; a needle ending in a digit must not be followed
 * by one ("size 66" is not in "size 6688") */
static bool has_word(const char *line, const char *needle)
{
	size_t n = strlen(needle);
	bool number = n > 0 && needle[n - 1] >= '0' && needle[n - 1] <= '9';
	for (const char *p = strstr(line, needle); p != NULL;
	     p = strstr(p + 1, needle))
		if (!number || p[n] < '0' || p[n] > '9')
			return true;
	return false;
}

/* the lines of text containing needle; the first one in *first */
static int count_lines(const char *text, const char *needle, char *first,
		       size_t first_size)
{
	int n = 0;
	const char *line = text;
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char buf[4096];
		size_t l = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
		memcpy(buf, line, l);
		buf[l] = '\0';
		if (has_word(buf, needle)) {
			if (n == 0 && first != NULL)
				snprintf(first, first_size, "%s", buf);
			n++;
		}
		line += len + (end != NULL);
	}
	return n;
}

/*
 * Some line of text is a trace line of the given level whose message
 * contains words (a '\n' at the end of words matches the line's end).  The
 * "[file:line function]" part of the prefix is not read: file and function
 * names are the code's business, the message words are the log's promise.
 */
static bool has_line(const char *text, int level, const char *words)
{
	char head[32];
	size_t hlen = (size_t)snprintf(head, sizeof(head),
				       "<libvmmalloc>: <%d> [", level);
	size_t n = strlen(words);
	for (const char *line = text; *line != '\0';) {
		const char *end = strchrnul(line, '\n');
		const char *msg = strstr(line, "] ");
		if (strncmp(line, head, hlen) == 0 && msg != NULL &&
		    msg < end) {
			const char *limit = end + (*end == '\n');
			for (const char *p = msg + 2; p + n <= limit; p++)
				if (memcmp(p, words, n) == 0)
					return true;
		}
		line = *end != '\0' ? end + 1 : end;
	}
	return false;
}

#define CHECK_LINE(text, level, words)                                         \
	do {                                                                   \
		if (!has_line((text), (level), (words)))                       \
			FAIL("no level-%d line with \"%s\" in:\n%s", (level),  \
			     (words), (text));                                 \
	} while (0)

/*
 * A backtrace (assertion failures, fatal errors): frames with function
 * names, at least `inside` of them in the library, then one outside it
 * (whoever called into the library: the loader running the constructor,
 * or the program) -- so unwinding crossed the library's own frames.  Which
 * functions those are is the code's business.
 */
static void check_backtrace(const char *text, int inside)
{
	CHECK_HAS(text, "<libvmmalloc>: backtrace:\n");
	static const char frame[] = "<libvmmalloc>:   #";
	int named = 0, in_lib = 0, out_after = 0;
	for (const char *line = text; *line != '\0';) {
		const char *end = strchrnul(line, '\n');
		if (strncmp(line, frame, sizeof(frame) - 1) == 0) {
			/* #N 0xIP NAME+0xOFF (OBJECT) */
			char ip[32], name[256], obj[256] = "";
			unsigned num;
			int got =
				sscanf(line + sizeof(frame) - 1,
				       "%u %31s %255[^+ \n]+0x%*x (%255[^)\n])",
				       &num, ip, name, obj);
			if (got >= 3 && strcmp(name, "??") != 0)
				named++;
			if (strncmp(obj, "libvmmalloc.so", 14) == 0)
				in_lib++;
			else if (in_lib >= inside && obj[0] != '\0')
				out_after++;
		}
		line = *end != '\0' ? end + 1 : end;
	}
	if (named < inside + 1 || in_lib < inside || out_after == 0)
		FAIL("a backtrace with %d named frames, %d in the library, %d "
		     "outside after them (want %d, %d, 1):\n%s",
		     named, in_lib, out_after, inside + 1, inside, text);
}

/* exactly one line has needle, and it is the given level-4 line */
static void expect_one_line(const char *text, const char *needle,
			    const char *func, const char *words)
{
	char line[4096];
	int n = count_lines(text, needle, line, sizeof(line));
	if (n != 1)
		FAIL("%d lines with \"%s\" (expected 1):\n%s", n, needle, text);
	char want[256];
	snprintf(want, sizeof(want), " %s] %s", func, words);
	if (strncmp(line, "<libvmmalloc>: <4> [", 20) != 0)
		FAIL("line \"%s\" is not a level-4 line", line);
	const char *end = line + strlen(line) - strlen(want);
	if (end < line || strcmp(end, want) != 0)
		FAIL("line \"%s\" does not end in \"%s\"", line, want);
}

static const char *level(int l)
{
	static char v[32];
	snprintf(v, sizeof(v), "VMMALLOC_LOG_LEVEL=%d", l);
	return v;
}

static void case_levels(int l)
{
	const char *env[] = {level(l), NULL};
	struct run r = run_worker("malloc4321", env);
	expect_exit0(&r);
	if (l == 0) {
		if (r.err[0] != '\0')
			FAIL("level 0 wrote:\n%s", r.err);
		return;
	}
	/* level 1: start-up facts */
	CHECK_LINE(r.err, 1, "pid ");
	CHECK_LINE(r.err, 1, ": program: ");
	CHECK_LINE(r.err, 1, "libvmmalloc version 1.1\n");
	CHECK_LINE(r.err, 1, "build: debug variant, jemalloc 5.3");
	CHECK_LINE(r.err, 1, "pool directory "); /* DAX or not */
	/* level 2: basic operations */
	if (l >= 2) {
		CHECK_LINE(r.err, 2, "pool created: ");
		CHECK_LINE(r.err, 2, "ready: pool arena ");
		CHECK_LINE(r.err, 2, "exit: pid ");
	} else {
		CHECK_HASNT(r.err, "pool created: ");
		CHECK_HASNT(r.err, "<2>");
	}
	/* level 3: function-call tracing (the extent hooks: the one that
	 * takes pool space names the address it was asked for) */
	if (l >= 3) {
		CHECK_LINE(r.err, 3, "new_addr ");
	} else {
		CHECK_HASNT(r.err, "<3>");
	}
	/* level 4: one line per call */
	if (l >= 4)
		expect_one_line(r.err, "size 4321", "malloc", "size 4321");
	else
		CHECK_HASNT(r.err, "<4>");
}

static void case_level4(const char *action)
{
	const char *env[] = {level(4), NULL};
	struct run r = run_worker(action, env);
	expect_exit0(&r);
	if (strcmp(action, "calloc4321") == 0) {
		expect_one_line(r.err, "size 4321", "calloc",
				"nmemb 1, size 4321");
	} else if (strcmp(action, "memalign4321") == 0) {
		expect_one_line(r.err, "size 4321", "memalign",
				"boundary 16  size 4321");
		expect_one_line(r.err, "size 5321", "memalign",
				"boundary 64  size 5321");
	}
}

static void case_level4_all(void)
{
	const char *env[] = {level(4), NULL};
	struct run r = run_worker("all", env);
	expect_exit0(&r);
	char line[4096];
	expect_one_line(r.err, "size 1111", "malloc", "size 1111");
	CHECK_I(count_lines(r.err, "size 2222", line, sizeof(line)), ==, 1);
	CHECK_HAS(line, " realloc] ptr 0x");
	CHECK_HAS(line, ", size 2222");
	expect_one_line(r.err, "size 3333", "calloc", "nmemb 3, size 3333");
	expect_one_line(r.err, "size 4444", "posix_memalign",
			"alignment 64  size 4444");
	expect_one_line(r.err, "size 5555", "aligned_alloc",
			"alignment 128  size 5555");
	expect_one_line(r.err, "size 6666", "memalign",
			"boundary 256  size 6666");
	expect_one_line(r.err, "size 7777", "valloc", "size 7777");
	expect_one_line(r.err, "size 8888", "pvalloc", "size 8888");
	expect_one_line(r.err, "size 9999", "realloc", "ptr (nil), size 9999");
	CHECK_I(count_lines(r.err, ", size 0", line, sizeof(line)), ==, 1);
	CHECK_HAS(line, " realloc] ptr 0x");
	CHECK_I(count_lines(r.err, " cfree] ptr 0x", NULL, 0), ==, 1);
	CHECK_I(count_lines(r.err, " malloc_usable_size] ptr 0x", NULL, 0), >=,
		1);
	/* free: the explicit calls (realloc(p, 0) and cfree log only once) */
	CHECK_I(count_lines(r.err, " free] ptr 0x", NULL, 0), >=, 6);
}

static void case_logfile(bool pid_suffix)
{
	char var[4200];
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s",
		 path_in_tmp(pid_suffix ? "trace-" : "trace.log"));
	const char *env[] = {level(4), var, NULL};
	struct run r = run_worker("malloc4321", env);
	expect_exit0(&r);
	if (r.err[0] != '\0')
		FAIL("stderr should stay empty with a log file:\n%s", r.err);
	char *log;
	if (pid_suffix) {
		/* exactly one file trace-<digits> */
		DIR *d = opendir(tmpdir);
		CHECK(d != NULL);
		struct dirent *e;
		char found[512] = "";
		int n = 0;
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "trace-", 6) != 0)
				continue;
			CHECK(strspn(e->d_name + 6, "0123456789") ==
			      strlen(e->d_name + 6));
			CHECK(strlen(e->d_name) > 6);
			snprintf(found, sizeof(found), "%s", e->d_name);
			n++;
		}
		closedir(d);
		CHECK_I(n, ==, 1);
		log = slurp(path_in_tmp(found));
		/* the pid in the name is the worker's: "pid N:" in the log */
		char pidline[64];
		snprintf(pidline, sizeof(pidline),
			 "] pid %.20s: program:", found + 6);
		CHECK(log != NULL);
		CHECK_HAS(log, pidline);
	} else {
		log = slurp(path_in_tmp("trace.log"));
		CHECK(log != NULL);
	}
	expect_one_line(log, "size 4321", "malloc", "size 4321");
	CHECK_HAS(log, "] libvmmalloc version 1.1\n");
}

static void case_logfile_bad(void)
{
	char var[4200];
	const char *bad = path_in_tmp("no-such-dir/trace.log");
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s", bad);
	const char *env[] = {level(1), var, NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	char want[4400];
	snprintf(want, sizeof(want),
		 "Error (libvmmalloc): VMMALLOC_LOG_FILE=%s: No such file or "
		 "directory\n",
		 bad);
	CHECK_HAS(r.err, want);
}

static void case_fork_log(void)
{
	char var[4200];
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s",
		 path_in_tmp("fork-"));
	const char *env[] = {level(2), var, NULL};
	struct run r = run_worker("fork", env);
	expect_exit0(&r);
	/* two files: the parent's and the child's, each with its own pid */
	DIR *d = opendir(tmpdir);
	CHECK(d != NULL);
	struct dirent *e;
	int n = 0, parents = 0, children = 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "fork-", 5) != 0)
			continue;
		n++;
		char *log = slurp(path_in_tmp(e->d_name));
		CHECK(log != NULL);
		char mine[64];
		if (strstr(log, "] fork: prepare") != NULL) {
			parents++;
			CHECK_HAS(log, "] fork: parent ");
			CHECK_HAS(log, "] pool created: ");
			snprintf(mine, sizeof(mine),
				 "] pid %.20s: program:", e->d_name + 5);
			CHECK_HAS(log, mine);
		} else {
			children++;
			snprintf(mine, sizeof(mine), "] fork: child %.20s of ",
				 e->d_name + 5);
			CHECK_HAS(log, mine);
			CHECK_HASNT(log, "pool created");
		}
		CHECK_HAS(log, "] exit: pid ");
		free(log);
	}
	closedir(d);
	CHECK_I(n, ==, 2);
	CHECK_I(parents, ==, 1);
	CHECK_I(children, ==, 1);
}

/* every fork has its prepare and parent lines, the later ones too */
static void case_fork_twice(void)
{
	const char *env[] = {level(2), "VMMALLOC_FORK=1", NULL};
	struct run r = run_worker("fork2", env);
	expect_exit0(&r);
	CHECK_I(count_lines(r.err, "fork: prepare", NULL, 0), ==, 2);
	CHECK_I(count_lines(r.err, "fork: parent", NULL, 0), ==, 2);
}

/*
 * Makes directories under tmpdir (components of 200 characters) and
 * returns a file name in the deepest one, ending in '-', exactly `total`
 * characters long; directories are created only up to `mkdir_below`
 * characters of the name (so a name may run through missing ones).
 */
static const char *deep_name(size_t total, size_t mkdir_below)
{
	static char name[8192];
	CHECK(total < sizeof(name));
	size_t len = (size_t)snprintf(name, sizeof(name), "%s", tmpdir);
	while (total - len > 1 + 200 + 1 + 20) {
		name[len++] = '/';
		memset(name + len, 'd', 200);
		len += 200;
		name[len] = '\0';
		if (len < mkdir_below)
			CHECK(mkdir(name, 0700) == 0);
	}
	name[len++] = '/';
	memset(name + len, 'l', total - len - 1);
	name[total - 1] = '-';
	name[total] = '\0';
	CHECK(strlen(name) == total);
	return name;
}

/* the regular files under tmpdir, except the worker's stderr */
static char files[8][8192];
static int nfiles;

static int note_file(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F && strcmp(path, path_in_tmp("stderr")) != 0) {
		if (nfiles < 8)
			snprintf(files[nfiles], sizeof(files[0]), "%s", path);
		nfiles++;
	}
	return 0;
}

static int list_files(void)
{
	nfiles = 0;
	CHECK(nftw(tmpdir, note_file, 16, FTW_PHYS) == 0);
	return nfiles;
}

/* a 1,500-character name ending in '-': exactly the file <name><pid> */
static void case_logfile_long(void)
{
	const char *name = deep_name(1500, 1500);
	static char var[8192];
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s", name);
	const char *env[] = {level(4), var, NULL};
	struct run r = run_worker("malloc4321", env);
	expect_exit0(&r);
	if (r.err[0] != '\0')
		FAIL("stderr should stay empty with a log file:\n%s", r.err);
	int n = list_files();
	for (int i = 0; i < n && i < 8; i++)
		fprintf(stderr, "file %d: %zu characters: ...%s\n", i,
			strlen(files[i]), files[i] + strlen(files[i]) - 40);
	CHECK_I(n, ==, 1);
	size_t len = strlen(name);
	CHECK(strncmp(files[0], name, len) == 0);
	const char *pid = files[0] + len;
	CHECK(pid[0] != '\0' && strspn(pid, "0123456789") == strlen(pid));
	char *log = slurp(files[0]);
	CHECK(log != NULL);
	char pidline[64];
	snprintf(pidline, sizeof(pidline), "] pid %.20s: program:", pid);
	CHECK_HAS(log, pidline);
	expect_one_line(log, "size 4321", "malloc", "size 4321");
}

/* longer than PATH_MAX: a clear error line and abort, no file anywhere
 * (the directories exist for the first 1,400 characters) */
static void case_logfile_toolong(void)
{
	const char *name = deep_name(PATH_MAX + 100, 1400);
	static char var[8192];
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s", name);
	const char *env[] = {level(1), var, NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	CHECK_HAS(r.err, "Error (libvmmalloc): VMMALLOC_LOG_FILE=");
	CHECK_HAS(r.err, ": File name too long\n");
	int n = list_files();
	for (int i = 0; i < n && i < 8; i++)
		fprintf(stderr, "file %d: %zu characters: ...%s\n", i,
			strlen(files[i]), files[i] + strlen(files[i]) - 40);
	CHECK_I(n, ==, 0);
}

/* the program zeroes its environment strings, then forks: the parent and
 * the child still log into <name><pid>, each its own, and nothing else
 * appears (the worker runs in tmpdir, where a name "" + pid would land) */
static void case_logfile_environ(void)
{
	static char var[8192];
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s", path_in_tmp("env-"));
	const char *env[] = {level(2), var, NULL};
	CHECK(chdir(tmpdir) == 0);
	struct run r = run_worker("environ-fork", env);
	expect_exit0(&r);
	int n = list_files();
	for (int i = 0; i < n && i < 8; i++)
		fprintf(stderr, "file %d: %s\n", i, files[i]);
	CHECK_I(n, ==, 2);
	int parents = 0, children = 0;
	size_t plen = strlen(path_in_tmp("env-"));
	for (int i = 0; i < 2; i++) {
		CHECK(strncmp(files[i], path_in_tmp("env-"), plen) == 0);
		const char *pid = files[i] + plen;
		CHECK(pid[0] != '\0' &&
		      strspn(pid, "0123456789") == strlen(pid));
		char *log = slurp(files[i]);
		CHECK(log != NULL);
		char mine[64];
		if (strstr(log, "] fork: prepare") != NULL) {
			parents++;
			snprintf(mine, sizeof(mine), "] fork: parent %.20s ",
				 pid);
		} else {
			children++;
			snprintf(mine, sizeof(mine), "] fork: child %.20s of ",
				 pid);
		}
		CHECK_HAS(log, mine);
		free(log);
	}
	CHECK_I(parents, ==, 1);
	CHECK_I(children, ==, 1);
}

static void case_stats_text(void)
{
	const char *env[] = {"VMMALLOC_LOG_STATS=1", NULL};
	struct run r = run_worker("stats", env);
	expect_exit0(&r);
	CHECK_HAS(r.err, "=== libvmmalloc statistics (pid ");
	CHECK_HAS(r.err, "\npool size:        67108864\n");
	CHECK_HAS(r.err, "\nusable:           ");
	CHECK_HAS(r.err, "\nallocated:        ");
	CHECK_HAS(r.err, "\nactive:           ");
	CHECK_HAS(r.err, "\npeak committed:   ");
	CHECK_HAS(r.err, "\nfork mode:        1 (pool shared)\n");
	CHECK_HAS(r.err, "\ncalls per entry point:\n");
	CHECK_HAS(r.err, "\n  calloc              ");
	CHECK_HAS(r.err, "\n  malloc_usable_size  ");
	CHECK_HAS(r.err, "Begin jemalloc statistics");
	CHECK_HAS(r.err, "=== end of libvmmalloc statistics ===\n");
	/* the worker's own 101 mallocs at least; 3 MiB still allocated */
	char line[4096];
	CHECK(count_lines(r.err, "  malloc              ", line,
			  sizeof(line)) == 1);
	CHECK_U(strtoull(line + 22, NULL, 10), >=, 101);
	CHECK(count_lines(r.err, "allocated:        ", line, sizeof(line)) ==
	      1);
	CHECK_U(strtoull(line + 18, NULL, 10), >=, 3u << 20);
}

static void case_stats_json(const char *python)
{
	if (python == NULL || python[0] == '\0' || access(python, X_OK) != 0)
		SKIP("python3 is needed to parse the JSON (apt-get install "
		     "python3)");
	char var[4200];
	const char *path = path_in_tmp("stats.json");
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s", path);
	/* a program's MALLOC_CONF is for its own jemalloc, never the pool's */
	const char *env[] = {"VMMALLOC_LOG_STATS=json", var,
			     "MALLOC_CONF=lg_extent_max_active_fit:6,"
			     "dirty_decay_ms:0,retain:false",
			     NULL};
	struct run r = run_worker("stats", env);
	expect_exit0(&r);
	/* parse it with a real JSON parser, outside the library; the engine
	 * runs with the settings the pool relies on (engine_conf.c) -- the
	 * behaviour they guard (functional.churn: freed memory of exited
	 * threads stays usable) only shows before decay purges it, so a slow
	 * machine could hide a lost setting there, never here */
	static const char prog[] =
		"import json, sys\n"
		"d = json.load(open(sys.argv[1]))\n"
		"assert list(d) == ['libvmmalloc'], list(d)\n"
		"v = d['libvmmalloc']\n"
		"assert v['version'] == '1.1'\n"
		"assert v['pool_size'] == 64 << 20, v['pool_size']\n"
		"assert 0 < v['usable'] <= v['pool_size']\n"
		"assert v['allocated'] >= 3 << 20, v['allocated']\n"
		"assert v['active'] >= v['allocated']\n"
		"assert v['peak_committed'] >= v['committed']\n"
		"assert v['peak_committed'] >= 3 << 20\n"
		"assert v['fork_mode'] == 1 and v['fork_private'] is False\n"
		"assert v['calls']['malloc'] >= 101, v['calls']\n"
		"assert len(v['calls']) == 11\n"
		"assert 'jemalloc' in v['engine'], list(v['engine'])\n"
		"assert 'stats' in v['engine']['jemalloc']\n"
		"o = v['engine']['jemalloc']['opt']\n"
		"want = {'retain': True, 'oversize_threshold': 0,\n"
		"        'background_thread': False, 'percpu_arena': 'disabled',\n"
		"        'lg_extent_max_active_fit': 63, 'dirty_decay_ms': 30000}\n"
		"got = {k: o.get(k) for k in want}\n"
		"assert got == want, got\n";
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		unsetenv("LD_PRELOAD");
		execl(python, python, "-c", prog, path, (char *)NULL);
		_exit(127);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *log = slurp(path);
		FAIL("the JSON did not parse or check (status %#x):\n%.4000s",
		     st, log != NULL ? log : "(no file)");
	}
}

static void case_assert(void)
{
	const char *env[] = {"VMMALLOC_DEBUG_SELFTEST=assert", NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	CHECK_LINE(r.err, 1,
		   "assertion failure: "
		   "strcmp(what, \"assert\") != 0\n");
	if (strstr(r.err, "backtrace: unavailable") != NULL)
		SKIP("the debug variant was built without libunwind "
		     "(apt-get install libunwind-dev)");
	/* frames with function names, through the library's init: the
	 * assertion, the self-test, the log's and the library's start-up */
	check_backtrace(r.err, 4);
}

static void case_closed_stderr(void)
{
	char var[4200];
	const char *victim = path_in_tmp("victim");
	snprintf(var, sizeof(var), "VT_VICTIM=%s", victim);
	const char *env[] = {level(4), var, NULL};
	struct run r = run_worker("closed-stderr", env);
	expect_exit0(&r);
	/* the lines reached the original stderr through our duplicate */
	expect_one_line(r.err, "size 4321", "malloc", "size 4321");
	char *v = slurp(victim);
	CHECK(v != NULL);
	if (v[0] != '\0')
		FAIL("the program's file got our output:\n%s", v);
}

static void case_errno(void)
{
	const char *env[] = {level(4), NULL};
	struct run r = run_worker("errno", env);
	expect_exit0(&r);
	expect_one_line(r.err, "size 4321", "malloc", "size 4321");
}

static void case_level1_error(void)
{
	const char *env[] = {level(1), NULL};
	struct run r = run_worker("exhaust", env);
	expect_exit0(&r);
	CHECK_LINE(r.err, 1, "pool exhausted: ");
	CHECK_HASNT(r.err, "<2>");
}

static void case_fatal_backtrace(void)
{
	char var[4200];
	snprintf(var, sizeof(var), "VMMALLOC_POOL_DIR=%s",
		 path_in_tmp("no-such-dir"));
	const char *env[] = {var, NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	CHECK_HAS(r.err, "Error (libvmmalloc): vmem pool creation failed: No "
			 "such file or directory");
	if (strstr(r.err, "backtrace: unavailable") != NULL)
		SKIP("the debug variant was built without libunwind "
		     "(apt-get install libunwind-dev)");
	/* vmm_die, whoever called it, the library's start-up */
	check_backtrace(r.err, 3);
}

static void case_bad_level(void)
{
	const char *env[] = {"VMMALLOC_LOG_LEVEL=5", NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	CHECK_HAS(r.err, "Error (libvmmalloc): incorrect VMMALLOC_LOG_LEVEL "
			 "value (5): expected 0 to 4\n");
}

static void case_bad_stats(void)
{
	const char *env[] = {"VMMALLOC_LOG_STATS=2", NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	CHECK_HAS(r.err, "Error (libvmmalloc): incorrect VMMALLOC_LOG_STATS "
			 "value (2): expected 0, 1 or json\n");
}

/* a fatal error after the log file is open goes to stderr and the file */
static void case_error_logfile(void)
{
	char var[4200], dir[4200];
	const char *log = path_in_tmp("error.log");
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s", log);
	snprintf(dir, sizeof(dir), "VMMALLOC_POOL_DIR=%s",
		 path_in_tmp("no-such-dir"));
	const char *env[] = {level(1), var, dir, NULL};
	struct run r = run_worker("malloc4321", env);
	expect_abort(&r);
	static const char want[] = "Error (libvmmalloc): vmem pool creation "
				   "failed: No such file or directory";
	CHECK_HAS(r.err, want);
	char *text = slurp(log);
	CHECK(text != NULL);
	CHECK_HAS(text, want);
	CHECK_HAS(text, "<libvmmalloc>: <1>"); /* the trace went there too */
	free(text);
}

static void case_release(const char *release_lib)
{
	char preload[4200], var[4200];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", release_lib);
	snprintf(var, sizeof(var), "VMMALLOC_LOG_FILE=%s",
		 path_in_tmp("release-"));
	const char *env[] = {preload,
			     level(4),
			     var,
			     "VMMALLOC_LOG_STATS=json",
			     "VMMALLOC_DEBUG_SELFTEST=assert",
			     NULL};
	struct run r = run_worker("all", env);
	expect_exit0(&r);
	if (r.err[0] != '\0')
		FAIL("the release build wrote:\n%s", r.err);
	/* invalid values are not even parsed */
	const char *env2[] = {preload, "VMMALLOC_LOG_LEVEL=99",
			      "VMMALLOC_LOG_STATS=maybe", NULL};
	r = run_worker("malloc4321", env2);
	expect_exit0(&r);
	if (r.err[0] != '\0')
		FAIL("the release build wrote:\n%s", r.err);
	DIR *d = opendir(tmpdir);
	CHECK(d != NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "release-", 8) == 0)
			FAIL("the release build created %s", e->d_name);
	closedir(d);
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "worker") == 0)
		return worker(argv[2]);
	if (argc < 3)
		FAIL("usage: vmmtest-debug CASE RELEASE-LIB [PYTHON3]");
	const char *c = argv[1];
	if (getenv("LD_PRELOAD") == NULL)
		SKIP("run through run-preloaded with the debug library");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/vmmdebug.XXXXXX",
		 base != NULL && base[0] != '\0' ? base : "/tmp");
	CHECK(mkdtemp(tmpdir) != NULL);
	atexit(cleanup);
	/* the cases set exactly the variables they test */
	unsetenv("VMMALLOC_LOG_LEVEL");
	unsetenv("VMMALLOC_LOG_FILE");
	unsetenv("VMMALLOC_LOG_STATS");
	unsetenv("VMMALLOC_DEBUG_SELFTEST");

	if (strncmp(c, "level", 5) == 0 && c[5] >= '0' && c[5] <= '4' &&
	    c[6] == '\0')
		case_levels(c[5] - '0');
	else if (strcmp(c, "level4_calloc") == 0)
		case_level4("calloc4321");
	else if (strcmp(c, "level4_memalign") == 0)
		case_level4("memalign4321");
	else if (strcmp(c, "level4_all") == 0)
		case_level4_all();
	else if (strcmp(c, "logfile") == 0)
		case_logfile(false);
	else if (strcmp(c, "logfile_pid") == 0)
		case_logfile(true);
	else if (strcmp(c, "logfile_bad") == 0)
		case_logfile_bad();
	else if (strcmp(c, "fork_log") == 0)
		case_fork_log();
	else if (strcmp(c, "fork_twice") == 0)
		case_fork_twice();
	else if (strcmp(c, "logfile_long") == 0)
		case_logfile_long();
	else if (strcmp(c, "logfile_toolong") == 0)
		case_logfile_toolong();
	else if (strcmp(c, "logfile_environ") == 0)
		case_logfile_environ();
	else if (strcmp(c, "stats_text") == 0)
		case_stats_text();
	else if (strcmp(c, "stats_json") == 0)
		case_stats_json(argc > 3 ? argv[3] : NULL);
	else if (strcmp(c, "assert") == 0)
		case_assert();
	else if (strcmp(c, "closed_stderr") == 0)
		case_closed_stderr();
	else if (strcmp(c, "errno") == 0)
		case_errno();
	else if (strcmp(c, "level1_error") == 0)
		case_level1_error();
	else if (strcmp(c, "fatal_backtrace") == 0)
		case_fatal_backtrace();
	else if (strcmp(c, "bad_level") == 0)
		case_bad_level();
	else if (strcmp(c, "release") == 0)
		case_release(argv[2]);
	else if (strcmp(c, "bad_stats") == 0)
		case_bad_stats();
	else if (strcmp(c, "error_logfile") == 0)
		case_error_logfile();
	else
		FAIL("unknown case %s", c);
	return 0;
}
