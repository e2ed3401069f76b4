/*
 * soak.c -- many threads, many mixed operations on a nearly full pool:
 * malloc/calloc/realloc chains/free through a shared slot table (so most
 * frees happen on another thread than the malloc), every block's contents
 * checked when it is taken, and DRAM (RssAnon) and pool use (the pool
 * file's allocated blocks) sampled so that growth after warm-up shows.
 *
 *   soak THREADS OPS-PER-THREAD SECONDS [MAX-DRIFT-MIB]
 *
 * Stops early (and says so) when SECONDS run out.  Prints ops/s, the
 * ENOMEM count (expected near full) and the drift figures.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmmtest.h"

#define NSLOTS 16384
#define MAGIC 0x5eed5eedu

struct hdr {
	uint32_t magic;
	uint32_t size; /* whole block, header included */
	uint64_t tag;
};

static _Atomic(struct hdr *) slots[NSLOTS];
static atomic_bool stop;
static atomic_ulong done_ops[64];
static atomic_ulong enomem, reallocs, cross_frees;
static struct vt_range pool;
static unsigned long ops_per_thread;

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t pick_size(uint64_t *r)
{
	unsigned k = (unsigned)(next(r) % 100);
	if (k < 80)
		return sizeof(struct hdr) + 1 + next(r) % 496;
	if (k < 99)
		return 512 + next(r) % (16 << 10);
	return (16 << 10) + next(r) % (240 << 10);
}

static void fill(struct hdr *h, size_t from)
{
	memset((char *)h + from, (int)(h->tag & 0xff), h->size - from);
}

static void verify(const struct hdr *h, uint64_t *r)
{
	if (h->magic != MAGIC)
		FAIL("block %p: bad magic %#x", (void *)h, h->magic);
	CHECK_IN_POOL(pool, h, h->size);
	const unsigned char *p = (const unsigned char *)h;
	unsigned char v = (unsigned char)(h->tag & 0xff);
	size_t n = h->size;
	if (n <= 4096) {
		for (size_t i = sizeof(*h); i < n; i++)
			if (p[i] != v)
				FAIL("block %p+%zu = %#x, expected %#x",
				     (void *)h, i, p[i], v);
		return;
	}
	for (size_t i = 0; i < 256; i++)
		if (p[sizeof(*h) + i] != v || p[n - 1 - i] != v)
			FAIL("block %p (size %zu) corrupted near an end",
			     (void *)h, n);
	for (int k = 0; k < 8; k++) {
		size_t i = sizeof(*h) + next(r) % (n - sizeof(*h));
		if (p[i] != v)
			FAIL("block %p+%zu = %#x, expected %#x", (void *)h, i,
			     p[i], v);
	}
}

static struct hdr *new_block(size_t size, uint64_t tag, uint64_t *r)
{
	struct hdr *h = (next(r) & 7) == 0 ? calloc(1, size) : malloc(size);
	if (h == NULL) {
		CHECK_I(errno, ==, ENOMEM);
		atomic_fetch_add(&enomem, 1);
		return NULL;
	}
	CHECK_IN_POOL(pool, h, size);
	h->magic = MAGIC;
	h->size = (uint32_t)size;
	h->tag = tag;
	fill(h, sizeof(*h));
	return h;
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	uint64_t r = 0x9e3779b97f4a7c15ULL * (t + 1);
	uint64_t tag = (uint64_t)t << 48;
	for (unsigned long op = 0; op < ops_per_thread; op++) {
		if ((op & 1023) == 0) {
			atomic_store_explicit(&done_ops[t], op,
					      memory_order_relaxed);
			if (atomic_load_explicit(&stop, memory_order_relaxed))
				break;
		}
		unsigned s = (unsigned)(next(&r) % NSLOTS);
		struct hdr *h = atomic_exchange(&slots[s], NULL);
		if (h == NULL) {
			h = new_block(pick_size(&r), ++tag, &r);
		} else {
			verify(h, &r);
			if ((h->tag >> 48) != t)
				atomic_fetch_add(&cross_frees, 1);
			unsigned k = (unsigned)(next(&r) % 10);
			if (k < 5) {
				free(h);
				h = NULL;
			} else if (k < 8) {
				/* a realloc chain: grow (mostly) or shrink */
				size_t old = h->size;
				size_t want = (next(&r) & 3) != 0
						      ? old + old / 2 + 16
						      : pick_size(&r);
				if (want > (512 << 10))
					want = pick_size(&r);
				struct hdr *n = realloc(h, want);
				if (n == NULL) {
					CHECK_I(errno, ==, ENOMEM);
					atomic_fetch_add(&enomem, 1);
				} else {
					CHECK_IN_POOL(pool, n, want);
					if (n->magic != MAGIC)
						FAIL("realloc lost the header");
					n->size = (uint32_t)want;
					if (want > old)
						fill(n, old);
					h = n;
					atomic_fetch_add(&reallocs, 1);
				}
			} else {
				free(h);
				h = new_block(pick_size(&r), ++tag, &r);
			}
		}
		if (h != NULL) {
			struct hdr *expect = NULL;
			if (!atomic_compare_exchange_strong(&slots[s], &expect,
							    h))
				free(h);
		}
	}
	atomic_store(&done_ops[t], ops_per_thread);
	return NULL;
}

static int pool_fd = -1;

static void find_pool_fd(void)
{
	CHECK_I(vt_pool_fds(&pool_fd, 1), ==, 1);
}

static long long pool_used(void)
{
	struct stat st;
	CHECK(fstat(pool_fd, &st) == 0);
	return (long long)st.st_blocks * 512;
}

static long long rss_anon(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != NULL);
	char line[256];
	long long kb = -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		FAIL("usage: soak THREADS OPS-PER-THREAD SECONDS [DRIFT-MIB]");
	unsigned nthreads = (unsigned)atoi(argv[1]);
	ops_per_thread = strtoul(argv[2], NULL, 10);
	double budget = atof(argv[3]);
	long long max_drift = (argc > 4 ? atoll(argv[4]) : 16) << 20;
	CHECK(nthreads > 0 && nthreads <= 64);
	pool = vt_pool();
	find_pool_fd();
	size_t pool_size = pool.hi - pool.lo;

	/* ballast: fill the pool, then give back room for the working set */
	static void *ballast[8192];
	unsigned nb = 0;
	while (nb < 8192 && (ballast[nb] = malloc(1 << 20)) != NULL)
		memset(ballast[nb++], 0xba, 1 << 20);
	CHECK_U(nb, >, 16);
	unsigned keep = nb > 96 ? nb - 96 : nb / 2;
	while (nb > keep)
		free(ballast[--nb]);
	printf("soak: pool %zu MiB, ballast %u MiB, %u threads x %lu ops\n",
	       pool_size >> 20, nb, nthreads, ops_per_thread);

	pthread_t th[64];
	double t0 = now();
	for (unsigned t = 0; t < nthreads; t++)
		CHECK(pthread_create(&th[t], NULL, worker,
				     (void *)(uintptr_t)t) == 0);
	/* sample: warm-up ends at 25% of the work (or of the time) */
	long long rss_warm = -1, pool_warm = -1, rss_max = 0, pool_max = 0;
	long long rss_end = 0, pool_end = 0;
	unsigned long total = 0, goal = ops_per_thread * nthreads;
	bool timed_out = false;
	for (;;) {
		usleep(200000);
		total = 0;
		for (unsigned t = 0; t < nthreads; t++)
			total += atomic_load(&done_ops[t]);
		double el = now() - t0;
		long long ra = rss_anon(), pu = pool_used();
		bool warm = total * 4 >= goal || el * 4 >= budget;
		if (warm && rss_warm < 0) {
			rss_warm = ra;
			pool_warm = pu;
		}
		if (rss_warm >= 0) {
			rss_max = ra > rss_max ? ra : rss_max;
			pool_max = pu > pool_max ? pu : pool_max;
		}
		rss_end = ra;
		pool_end = pu;
		if (total >= goal)
			break;
		if (el > budget) {
			timed_out = true;
			atomic_store(&stop, true);
			break;
		}
	}
	for (unsigned t = 0; t < nthreads; t++)
		CHECK(pthread_join(th[t], NULL) == 0);
	double el = now() - t0;
	total = 0;
	for (unsigned t = 0; t < nthreads; t++)
		total += atomic_load(&done_ops[t]);
	/* everything left is checked and freed */
	uint64_t r = 42;
	unsigned long live = 0;
	for (unsigned s = 0; s < NSLOTS; s++) {
		struct hdr *h = atomic_exchange(&slots[s], NULL);
		if (h != NULL) {
			verify(h, &r);
			free(h);
			live++;
		}
	}
	while (nb > 0)
		free(ballast[--nb]);
	printf("soak: %lu ops in %.1f s = %.0f ops/s%s; %lu reallocs, "
	       "%lu cross-thread frees, %lu ENOMEM, %lu blocks live at end\n",
	       total, el, (double)total / el,
	       timed_out ? " (stopped by the time limit)" : "",
	       atomic_load(&reallocs), atomic_load(&cross_frees),
	       atomic_load(&enomem), live);
	printf("soak: RssAnon warm %lld KiB, max %lld KiB, end %lld KiB, "
	       "drift %+lld KiB\n",
	       rss_warm >> 10, rss_max >> 10, rss_end >> 10,
	       (rss_max - rss_warm) >> 10);
	printf("soak: pool use warm %lld KiB, max %lld KiB, end %lld KiB, "
	       "drift %+lld KiB\n",
	       pool_warm >> 10, pool_max >> 10, pool_end >> 10,
	       (pool_max - pool_warm) >> 10);
	CHECK(rss_warm >= 0);
	CHECK_I(rss_max - rss_warm, <=, max_drift);
	CHECK_I(pool_max - pool_warm, <=, (long long)pool_size / 8);
	CHECK_U(total, >=, goal / 10); /* it did real work */
	return 0;
}
