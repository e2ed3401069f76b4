/*
 * malloc_conf.c -- MALLOC_CONF belongs to the system's jemalloc, never to
 * the library's private copy: whatever it says, the library prints nothing
 * (no "<jemalloc>: Invalid conf pair", no statistics at exit, no abort on
 * abort_conf) and calloc returns zeroed memory (junk:true would fill freed
 * blocks with 0x5a and new ones with 0xa5).
 *
 *   malloc_conf CONF        runs itself as `--child` with MALLOC_CONF=CONF
 *                           and checks its exit status and its stderr
 *   malloc_conf --etc CONF  the same with /etc/malloc.conf -> CONF instead
 *                           (an overlay on /etc in a private mount
 *                           namespace; skips unless that can be made)
 *   malloc_conf --child     allocates, frees and callocs back many sizes
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vmmtest.h"

#define NB 48

static const size_t sizes[] = {
	1,     8,     13,    16,     24,     40,      64,      100,
	128,   200,   256,   500,    512,    1000,    1024,    2000,
	3000,  4096,  5000,  8192,   10000,  14336,   16384,   20000,
	32768, 40000, 65536, 100000, 262144, 1 << 20, 3 << 20,
};

static void check_zero(const unsigned char *p, size_t size)
{
	for (size_t k = 0; k < size; k++)
		if (p[k] != 0)
			FAIL("calloc(1, %zu) byte %zu is %#x, not 0", size, k,
			     p[k]);
}

/* freed (junked) memory comes back through calloc: it must read zeros */
static int child(void)
{
	struct vt_range pool = vt_pool();
	static unsigned char *b[NB];
	/* fresh memory first: blocks no one has used before */
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned char *p = calloc(1, sizes[s]);
		CHECK(p != NULL);
		check_zero(p, sizes[s]);
	}
	for (unsigned round = 0; round < 3; round++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t size = sizes[s];
			unsigned n = size > 65536 ? 4 : NB;
			for (unsigned i = 0; i < n; i++) {
				b[i] = malloc(size);
				CHECK(b[i] != NULL);
				CHECK_IN_POOL(pool, b[i], size);
				memset(b[i], 0x77, size);
			}
			for (unsigned i = 0; i < n; i++)
				free(b[i]);
			for (unsigned i = 0; i < n; i++) {
				b[i] = calloc(1, size);
				CHECK(b[i] != NULL);
				CHECK_IN_POOL(pool, b[i], size);
				check_zero(b[i], size);
				/* dirty it again for the next round */
				memset(b[i], 0x77, size);
			}
			for (unsigned i = 0; i < n; i++)
				free(b[i]);
		}
	}
	printf("child: calloc returned zeroed memory of %zu sizes\n",
	       sizeof(sizes) / sizeof(sizes[0]));
	return 0;
}

static char tmp[4096];

/* /etc/malloc.conf -> conf, seen by this process and its children only */
static void fake_etc(const char *conf)
{
	if (unshare(CLONE_NEWNS) != 0)
		SKIP("cannot create a mount namespace: %s", strerror(errno));
	CHECK(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmp, sizeof(tmp), "%s/vmmetc.XXXXXX", base);
	CHECK(mkdtemp(tmp) != NULL);
	char upper[4200], work[4200], opts[9000];
	snprintf(upper, sizeof(upper), "%s/upper", tmp);
	snprintf(work, sizeof(work), "%s/work", tmp);
	CHECK(mkdir(upper, 0755) == 0 && mkdir(work, 0755) == 0);
	snprintf(opts, sizeof(opts), "lowerdir=/etc,upperdir=%s,workdir=%s",
		 upper, work);
	if (mount("overlay", "/etc", "overlay", 0, opts) != 0) {
		int err = errno;
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		CHECK(system(cmd) == 0);
		SKIP("cannot mount an overlay on /etc: %s", strerror(err));
	}
	unlink("/etc/malloc.conf");
	CHECK(symlink(conf, "/etc/malloc.conf") == 0);
}

static void drop_etc(void)
{
	CHECK(umount("/etc") == 0);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	CHECK(system(cmd) == 0);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--child") == 0)
		return child();
	bool etc = argc == 3 && strcmp(argv[1], "--etc") == 0;
	if (etc) {
		fake_etc(argv[2]);
		argv++;
	} else if (argc != 2) {
		FAIL("usage: malloc_conf [--etc] CONF | --child");
	}
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		if (etc)
			unsetenv("MALLOC_CONF");
		else
			setenv("MALLOC_CONF", argv[1], 1);
		execl("/proc/self/exe", argv[0], "--child", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char err[8192];
	size_t len = 0;
	ssize_t n;
	char scratch[4096];
	size_t total = 0;
	for (;;) { /* keep what fits, drain the rest: never block the child */
		bool room = len < sizeof(err) - 1;
		n = read(pfd[0], room ? err + len : scratch,
			 room ? sizeof(err) - 1 - len : sizeof(scratch));
		if (n <= 0)
			break;
		if (room)
			len += (size_t)n;
		total += (size_t)n;
	}
	err[len] = '\0';
	close(pfd[0]);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (etc)
		drop_etc();
	if (len > 0)
		fprintf(stderr, "child's stderr:\n%s\n", err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("%s%s: the child %s %d",
		     etc ? "/etc/malloc.conf -> " : "MALLOC_CONF=", argv[1],
		     WIFEXITED(status) ? "exited with" : "died of signal",
		     WIFEXITED(status) ? WEXITSTATUS(status)
				       : WTERMSIG(status));
	CHECK_U(total, ==, 0);
	printf("%s%s: nothing printed, calloc zeroed\n",
	       etc ? "/etc/malloc.conf -> " : "MALLOC_CONF=", argv[1]);
	return 0;
}
