/*
 * tcache_worst.c -- the most memory idle threads' caches can be made to
 * hold back, against the documented bound (docs/design-engine.md): each
 * thread's cache pins at most pool/32 of the pool.
 *
 * Each of N threads, one after the other, allocates, for every size class
 * a thread cache may hold (8 B to 64 KiB), as many blocks as jemalloc's
 * default cache has slots in that class's bin (2 x regions per slab within
 * [20, 200] for small classes, 20 for 16-64 KiB), each in its own slab
 * (the middle block of each run of a slab's region count; the rest it
 * frees).  It then frees just those blocks and parks: each block left in
 * its cache pins an otherwise empty slab (small) or its own extent (large).
 * The main thread then measures how much less of the pool it can get as
 * 64 KiB blocks than before; the loss must stay within N x (pool/32 + four
 * 64 KiB blocks of fragmentation).
 *
 *   tcache_worst NTHREADS
 */
#include "tcache.h"

#define SLABS 200 /* jemalloc's largest default slot count per bin */

/* jemalloc 5.3's small size classes with 4 KiB pages: size, regions/slab */
static const struct {
	unsigned size, nregs;
} small[] = {
	{8, 512},  {16, 256},  {32, 128}, {48, 256},  {64, 64},	  {80, 256},
	{96, 128}, {112, 256}, {128, 32}, {160, 128}, {192, 64},  {224, 128},
	{256, 16}, {320, 64},  {384, 32}, {448, 64},  {512, 8},	  {640, 32},
	{768, 16}, {896, 32},  {1024, 4}, {1280, 16}, {1536, 8},  {1792, 16},
	{2048, 2}, {2560, 8},  {3072, 4}, {3584, 8},  {4096, 1},  {5120, 4},
	{6144, 2}, {7168, 4},  {8192, 1}, {10240, 2}, {12288, 1}, {14336, 2},
};
/* cached in jemalloc's default cache (up to 32 KiB) and, from 1.6 GiB
 * pools, in the pool's (up to 64 KiB) */
static const unsigned large[] = {16384, 20480, 24576, 28672, 32768,
				 40960, 49152, 57344, 65536};

/* jemalloc 5.3's default slots per bin: 2 x nregs within [20, 200] */
static size_t slots(unsigned nregs)
{
	size_t n = 2 * (size_t)nregs;
	return n < 20 ? 20 : n > SLABS ? SLABS : n;
}

#define NSMALL (sizeof(small) / sizeof(small[0]))
#define NLARGE (sizeof(large) / sizeof(large[0]))

/* the blocks a parking thread frees last: one per slab, per class */
struct pins {
	void *small[NSMALL][SLABS];
	size_t nsmall[NSMALL];
	void *large[NLARGE][SLABS];
	size_t nlarge[NLARGE];
};

static void *blocks[SLABS * 512];

/* (jemalloc caches a thread's frees of its own blocks, not of others') */
static void prepare(struct pins *p)
{
	for (size_t c = 0; c < NSMALL; c++) {
		unsigned size = small[c].size, nregs = small[c].nregs;
		size_t want = slots(nregs) * nregs, n = 0;
		while (n < want && (blocks[n] = malloc(size)) != NULL)
			n++;
		/* keep the middle block of each run of nregs */
		p->nsmall[c] = 0;
		for (size_t i = 0; i < n; i++) {
			if (i % nregs == nregs / 2)
				p->small[c][p->nsmall[c]++] = blocks[i];
			else
				free(blocks[i]);
		}
	}
	for (size_t c = 0; c < NLARGE; c++) {
		p->nlarge[c] = 0;
		while (p->nlarge[c] < 20 &&
		       (p->large[c][p->nlarge[c]] = malloc(large[c])) != NULL)
			p->nlarge[c]++;
	}
}

static void pin_all(void *arg)
{
	struct pins *p = arg;
	prepare(p);
	for (size_t c = 0; c < NSMALL; c++)
		for (size_t i = 0; i < p->nsmall[c]; i++)
			free(p->small[c][i]);
	for (size_t c = 0; c < NLARGE; c++)
		for (size_t i = 0; i < p->nlarge[c]; i++)
			free(p->large[c][i]);
}

int main(int argc, char **argv)
{
	if (sysconf(_SC_PAGESIZE) != 4096)
		SKIP("the size-class table here is for 4 KiB pages");
	unsigned nthreads = argc > 1 ? (unsigned)atoi(argv[1]) : 8;
	CHECK(nthreads >= 1 && nthreads <= 64);
	struct vt_range pool = vt_pool();
	size_t size = pool.hi - pool.lo;
	size_t before = tc_reachable(pool);
	struct tc_idle t[64];
	static struct pins pins[64];
	for (unsigned i = 0; i < nthreads; i++) {
		tc_idle_start(&t[i], pin_all, &pins[i]);
	}
	size_t after = tc_reachable(pool);
	size_t lost = before > after ? before - after : 0;
	/*
	 * pool/32 of memory per thread; counted in 64 KiB blocks, each pinned
	 * slab can also split a free range and cost the block around it:
	 * up to 4 blocks per thread of fragmentation (3.5 measured at 14 MiB)
	 */
	size_t bound = nthreads * (size / 32 + 4 * TC_BLOCK);
	printf("%u idle threads, pool %.0f MiB: reachable as 64 KiB blocks "
	       "%.1f%% before, %.1f%% after; lost %zu KiB (bound %zu KiB)\n",
	       nthreads, (double)size / (1 << 20),
	       100.0 * (double)before / (double)size,
	       100.0 * (double)after / (double)size, lost >> 10, bound >> 10);
	for (unsigned i = 0; i < nthreads; i++)
		tc_idle_end(&t[i]);
	CHECK_U(lost, <=, bound);
	return 0;
}
