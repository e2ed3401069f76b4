/*
 * reclaim.c -- the crash driver: on a tmpfs of its own (mounted in a
 * private mount namespace, so it vanishes with the test), it runs a
 * preloaded victim (victim.c) or the mkstemp seam (seam.c) many times,
 * lets it die or kills it at a random moment, and after each death checks
 * that the filesystem's used space is back to its baseline and the pool
 * directory is empty.
 *
 *   reclaim KIND LIB VICTIM SEAM [ITERATIONS] [SECONDS]
 *
 * KIND: a row of kinds[] below (`reclaim --list` prints them); ITERATIONS
 *       and SECONDS default to the row's.
 * Exit 77 only when no tmpfs can be mounted.  Prints one summary line:
 * iterations, bytes left behind, time.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmmtest_child.h"

static char mnt[] = "/tmp/vmmcrash.XXXXXX";
static char dir[1024];
static const char *fs_path = mnt; /* the filesystem whose use is measured */
static const char *kind, *lib, *victim, *seam;
static unsigned long long rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long used_bytes(void)
{
	struct statvfs sv;
	CHECK(statvfs(fs_path, &sv) == 0);
	return (unsigned long long)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

/* names in the pool directory (removes them, so one leak is counted once) */
static unsigned leftover_names(unsigned long long *bytes)
{
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[sizeof(dir) + 256 + 2];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0)
			*bytes += (unsigned long long)st.st_blocks * 512;
		fprintf(stderr, "left behind: %s (%lld bytes allocated)\n",
			e->d_name, (long long)st.st_blocks * 512);
		unlink(path);
		n++;
	}
	closedir(d);
	return n;
}

static void unmount_tmpfs(void)
{
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

/*
 * On a shared filesystem (the guest's DAX mount) its own metadata moves by
 * a few KiB to a MiB or so (directory, journal and log blocks); a leaked
 * pool is over a hundred megabytes.
 */
static unsigned long long tolerance;

static void remove_test_dir(void)
{
	rmdir(dir);
}

/*
 * $VMMALLOC_TEST_DIR (the pmem guest's DAX mount) replaces the private
 * tmpfs: the reclamation is then measured on DAX.  Nothing else may write
 * to that filesystem meanwhile.
 */
static bool use_test_dir(void)
{
	const char *d = getenv("VMMALLOC_TEST_DIR");
	if (d == NULL || *d == '\0' || strlen(d) + 32 > sizeof(dir))
		return false;
	snprintf(dir, sizeof(dir), "%s/vmmcrash.XXXXXX", d);
	CHECK(mkdtemp(dir) != NULL);
	fs_path = dir;
	tolerance = 8 * 1024 * 1024; /* the victims fill ~128 MiB */
	atexit(remove_test_dir);
	printf("%s: measuring on %s\n", kind, d);
	return true;
}

static void mount_private_tmpfs(const char *size)
{
	vt_private_tmpfs(mnt, size, 0755);
	snprintf(dir, sizeof(dir), "%s/pool", mnt);
	CHECK(mkdir(dir, 0755) == 0);
	atexit(unmount_tmpfs); /* also when a check fails */
}

struct child {
	struct vt_child c;
	FILE *out; /* its stdout */
	FILE *in;  /* its stdin */
};

/* a preloaded victim or the seam, leading a process group of its own */
static struct child spawn(char *const argv[], const char *fork_mode)
{
	char pool_dir[sizeof(dir) + 32], pre[4200], fm[32];
	snprintf(pool_dir, sizeof(pool_dir), "VMMALLOC_POOL_DIR=%s", dir);
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lib);
	snprintf(fm, sizeof(fm), "VMMALLOC_FORK%s%s", fork_mode ? "=" : "",
		 fork_mode ? fork_mode : "");
	const char *env[] = {pool_dir,
			     "VMMALLOC_POOL_SIZE=128M",
			     "MALLOC_CONF",
			     "VMMALLOC_POOL_PREALLOC",
			     fm,
			     argv[0] == victim ? pre : NULL,
			     NULL};
	struct vt_spawn s = {.argv = argv,
			     .env = env,
			     .group = true,
			     .pipe_in = true,
			     .pipe_out = true};
	struct child c = {.c = vt_start(&s)};
	c.out = fdopen(c.c.out, "r");
	c.in = fdopen(c.c.in, "w");
	CHECK(c.out != NULL && c.in != NULL);
	c.c.out = c.c.in = -1; /* the FILEs close them */
	return c;
}

static void wait_line(struct child *c, const char *prefix, char *line,
		      size_t size)
{
	if (fgets(line, (int)size, c->out) == NULL)
		FAIL("%s: no \"%s\" line from the child", kind, prefix);
	if (strncmp(line, prefix, strlen(prefix)) != 0)
		FAIL("%s: unexpected line from the child: %s", kind, line);
}

/* reaps every descendant left (we are their subreaper), closes the pipes */
static void reap_rest(struct child *c)
{
	int st;
	while (waitpid(-1, &st, 0) > 0 || errno == EINTR)
		;
	fclose(c->out);
	fclose(c->in);
}

/* waits for the child, then reaps the rest */
static struct vt_status reap(struct child *c)
{
	struct vt_status st = vt_wait(&c->c, 0);
	reap_rest(c);
	return st;
}

static void usleep_rnd(unsigned max_us)
{
	struct timespec ts = {0, 0};
	unsigned us = rnd(max_us + 1);
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

/* a full filesystem: NULL/ENOMEM, never SIGBUS; `other` fills it meanwhile */
static void full_fs(unsigned i, bool other)
{
	char seed[16], line[128];
	snprintf(seed, sizeof(seed), "%u", i);
	char *argv[] = {(char *)victim, "fullfs", seed, other ? "wait" : "go",
			NULL};
	struct child c = spawn(argv, NULL);
	char fill[96];
	snprintf(fill, sizeof(fill), "%s/filler", mnt);
	if (other) {
		wait_line(&c, "ready half", line, sizeof(line));
		/* another process fills the filesystem while ours runs */
		int fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0);
		static char buf[1 << 16];
		memset(buf, 0xee, sizeof(buf));
		while (write(fd, buf, sizeof(buf)) > 0)
			;
		CHECK_I(errno, ==, ENOSPC);
		close(fd);
		fputs("go\n", c.in);
		fflush(c.in);
	}
	if (fgets(line, sizeof(line), c.out) == NULL)
		line[0] = '\0';
	CHECK_EXIT(reap(&c), 0);
	unsigned long long got = 0;
	CHECK(sscanf(line, "got %llu bytes", &got) == 1);
	if (i == 0)
		printf("%s: %llu bytes allocated before ENOMEM\n", kind, got);
	/* the 128 MiB pool on 64 MiB: most of the space was usable */
	if (!other)
		CHECK_U(got, >=, 40ULL << 20);
	if (other)
		unlink(fill);
}

/* ---- the kinds: one iteration each; i counts from 0, seed is random ---- */
static unsigned long long base; /* the filesystem's use before the kills */

static void kill_loop(unsigned i, char *seed)
{
	(void)i;
	char *a[] = {(char *)victim, "loop", seed, NULL};
	struct child c = spawn(a, NULL);
	usleep_rnd(150000); /* a fill of 128 MiB takes ~50 ms */
	kill(-c.c.pid, SIGKILL);
	CHECK_SIGNAL(reap(&c), SIGKILL);
}

/*
 * The pool is created in the constructor, before main says "ready": time
 * that once, then kill at a random moment between exec and a little after.
 */
static void kill_create(unsigned i, char *seed)
{
	(void)i;
	static unsigned span_us;
	char line[128];
	char *a[] = {(char *)victim, "loop", seed, NULL};
	struct child c;
	if (span_us == 0) {
		double ts = now();
		c = spawn(a, NULL);
		wait_line(&c, "ready loop", line, sizeof(line));
		span_us = (unsigned)((now() - ts) * 1.2e6) + 1;
		kill(-c.c.pid, SIGKILL);
		reap(&c);
		printf("create: pool ready %u us after spawn\n",
		       span_us * 10 / 12);
	}
	c = spawn(a, NULL);
	usleep_rnd(span_us);
	kill(-c.c.pid, SIGKILL);
	CHECK_SIGNAL(reap(&c), SIGKILL);
}

/* abort() or a bad write at a random point of the fill */
static void die_by(unsigned i, char *seed)
{
	(void)i;
	char *a[] = {(char *)victim, (char *)kind, seed, NULL};
	struct child c = spawn(a, NULL);
	CHECK_SIGNAL(reap(&c), kind[0] == 'a' ? SIGABRT : SIGSEGV);
}

static void exit_thread(unsigned i, char *seed)
{
	(void)i;
	char *a[] = {(char *)victim, "thread", seed, NULL};
	struct child c = spawn(a, NULL);
	CHECK_EXIT(reap(&c), 42);
}

static void kill_forking(unsigned i, char *seed)
{
	(void)i;
	char line[128];
	char *a[] = {(char *)victim, "fork", seed, NULL};
	struct child c = spawn(a, "2");
	wait_line(&c, "ready fork", line, sizeof(line));
	/* one 58 MiB copy takes tens of ms: land inside one */
	usleep_rnd(100000);
	kill(-c.c.pid, SIGKILL);
	CHECK_SIGNAL(reap(&c), SIGKILL);
}

static void exec_other(unsigned i, char *seed)
{
	(void)i;
	char line[128];
	char *a[] = {(char *)victim, "exec", seed, NULL};
	struct child c = spawn(a, NULL);
	wait_line(&c, "ready ", line, sizeof(line));
	pid_t sleeper = (pid_t)atoi(line + 6);
	CHECK_EXIT(vt_wait(&c.c, 0), 0);
	/* the exec'd program still runs and pins nothing */
	CHECK(kill(sleeper, 0) == 0);
	unsigned long long u = used_bytes();
	for (int t = 0; t < 100 && u != base; t++) {
		usleep(10000);
		u = used_bytes();
	}
	if (u != base)
		FAIL("exec: %llu bytes pinned while the exec'd program runs",
		     u - base);
	CHECK(kill(sleeper, 0) == 0);
	kill(-c.c.pid, SIGKILL);
	reap_rest(&c);
}

static void kill_mkstemp(unsigned i, char *seed)
{
	(void)seed;
	char line[128];
	char *a[] = {(char *)seam, "once", dir, NULL};
	struct child c = spawn(a, NULL);
	if (i % 2 == 0) {
		/* a random moment, creation included */
		usleep_rnd(4000);
	} else {
		wait_line(&c, "ready", line, sizeof(line));
	}
	kill(-c.c.pid, SIGKILL);
	struct vt_status st = reap(&c);
	CHECK(st.how == VT_SIGNALED);
}

/* SIGKILL into a create loop: measures the window between mkostemp and
 * unlink (no bytes, maybe a name) */
static void kill_mkstemp_loop(unsigned i, char *seed)
{
	(void)i, (void)seed;
	char line[128];
	char *a[] = {(char *)seam, "loop", dir, NULL};
	struct child c = spawn(a, NULL);
	wait_line(&c, "ready", line, sizeof(line));
	usleep_rnd(20000);
	kill(c.c.pid, SIGKILL);
	CHECK_SIGNAL(reap(&c), SIGKILL);
}

/* blockable signals land anywhere in a create loop */
static void signal_mkstemp_loop(unsigned i, char *seed)
{
	(void)i, (void)seed;
	static const int sigs[] = {SIGTERM, SIGINT,  SIGHUP,
				   SIGQUIT, SIGALRM, SIGUSR1};
	char line[128];
	char *a[] = {(char *)seam, "loop", dir, NULL};
	struct child c = spawn(a, NULL);
	wait_line(&c, "ready", line, sizeof(line));
	usleep_rnd(20000);
	int sig = sigs[rnd((unsigned)(sizeof(sigs) / sizeof(sigs[0])))];
	kill(c.c.pid, sig);
	CHECK_SIGNAL(reap(&c), sig);
}

static void fill_fs(unsigned i, char *seed)
{
	(void)seed;
	full_fs(i, strcmp(kind, "fullfs-other") == 0);
}

/*
 * One row per kind: its iterations and time budget (the ctest TIMEOUT is
 * the budget + 30 s; the budgets leave room for a loaded machine: ~5x the
 * idle time).  --list prints them for cmake/VmmTest.cmake.
 */
static const struct kind {
	const char *name;
	void (*once)(unsigned i, char *seed);
	unsigned iters, secs;
} kinds[] = {
	{"sigkill", kill_loop, 100, 150},
	{"abort", die_by, 100, 150},
	{"segv", die_by, 100, 150},
	{"thread", exit_thread, 100, 90},
	{"create", kill_create, 100, 90},
	{"fork", kill_forking, 100, 200},
	{"exec", exec_other, 100, 200},
	{"mkstemp", kill_mkstemp, 100, 90},
	{"mkstemp-signal", signal_mkstemp_loop, 100, 90},
	{"mkstemp-race", kill_mkstemp_loop, 100, 90},
	{"fullfs", fill_fs, 10, 90},
	{"fullfs-other", fill_fs, 10, 90},
};

int main(int argc, char **argv)
{
	size_t nkinds = sizeof(kinds) / sizeof(kinds[0]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t k = 0; k < nkinds; k++)
			printf("%s TIMEOUT=%u\n", kinds[k].name,
			       kinds[k].secs + 30);
		return 0;
	}
	if (argc < 5)
		FAIL("usage: reclaim KIND LIB VICTIM SEAM [ITER] [SECONDS] | "
		     "--list");
	kind = argv[1];
	lib = argv[2];
	victim = argv[3];
	seam = argv[4];
	const struct kind *k = NULL;
	for (size_t j = 0; j < nkinds && k == NULL; j++)
		if (strcmp(kinds[j].name, kind) == 0)
			k = &kinds[j];
	if (k == NULL)
		FAIL("unknown kind %s", kind);
	unsigned iters = argc > 5 ? (unsigned)atoi(argv[5]) : k->iters;
	double settle = getenv("VMMALLOC_CRASH_SETTLE") != NULL
				? atof(getenv("VMMALLOC_CRASH_SETTLE"))
				: 2;
	/* the pmem guest (TCG, ~10x slower) and CI's second build run fewer
	 * (a cap: the kinds that run 10 stay at 10) */
	if (getenv("VMMALLOC_CRASH_ITERATIONS") != NULL) {
		unsigned cap =
			(unsigned)atoi(getenv("VMMALLOC_CRASH_ITERATIONS"));
		if (cap > 0 && cap < iters)
			iters = cap;
	}
	double budget = argc > 6 ? atof(argv[6]) : k->secs;
	rng = (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
	if (geteuid() != 0)
		SKIP("needs root to mount a tmpfs");
	bool fullfs = strncmp(kind, "fullfs", 6) == 0;
	if (fullfs || !use_test_dir())
		mount_private_tmpfs(fullfs ? "64M" : "320M");
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore); /* the victims inherit it */
	base = used_bytes();
	unsigned long long left_bytes = 0;
	unsigned left_names = 0, slow = 0, done = 0;
	double t0 = now();
	char seed[16];

	for (unsigned i = 0; i < iters; i++) {
		if (now() - t0 > budget)
			FAIL("%s: only %u of %u iterations in %.0f s", kind, i,
			     iters, budget);
		snprintf(seed, sizeof(seed), "%u", rnd(1u << 30));
		k->once(i, seed);
		/* the space comes back as soon as the last reference goes
		 * (within `settle` seconds: freeing a DAX file's blocks under
		 * the pmem guest's TCG takes longer) */
		unsigned long long u = used_bytes();
		double tw = now();
		while (u > base + tolerance && now() - tw < settle) {
			usleep(1000);
			u = used_bytes();
		}
		if (now() - tw > 0.01)
			slow++;
		unsigned long long name_bytes = 0;
		unsigned names = leftover_names(&name_bytes);
		if (names > 0)
			left_names += names;
		u = used_bytes();
		if (u > base + tolerance) {
			fprintf(stderr, "%s: iteration %u left %llu bytes\n",
				kind, i, u - base);
			left_bytes += u - base;
			base = u;
		}
		done++;
	}
	double t = now() - t0;
	unmount_tmpfs();
	printf("%s: %u iterations in %.1f s, %llu bytes and %u names left "
	       "behind, %u slow reclaims\n",
	       kind, done, t, left_bytes, left_names, slow);
	CHECK_U(left_bytes, ==, 0);
	/*
	 * A SIGKILL (unblockable) between mkostemp and unlink can leave an
	 * empty name in the mkstemp fallback; every other kind leaves none.
	 */
	if (strncmp(kind, "mkstemp", 7) != 0 ||
	    strcmp(kind, "mkstemp-signal") == 0)
		CHECK_U(left_names, ==, 0);
	return 0;
}
