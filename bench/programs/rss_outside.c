/* rss_outside.c: DRAM held outside the pool. Reads RssAnon, builds 1 GiB
 * (x SCALE) of live blocks of 16 B..4 KiB, writes every byte, reads RssAnon
 * again. Under vmmalloc the heap is a shared file mapping, so the anonymous
 * delta is what the allocator keeps in DRAM (metadata); under the others it is
 * the whole heap. Figure: MiB of RssAnon growth per GiB live.
 */
#include "bench.h"

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	size_t live =
		(size_t)bench_scaled(1024.0 * 1024 * 1024, a.scale, 1 << 20);
	size_t cap = live / 1024 + 1024, n = 0, bytes = 0;
	uint64_t seed = 7;
	void **blk = bench_xmalloc(cap * sizeof(*blk));
	long before = bench_status_kib("RssAnon");

	while (bytes < live && n < cap) {
		size_t sz = bench_range(&seed, 16, 4096);
		blk[n] = bench_xmalloc(sz);
		memset(blk[n], 1, sz);
		bytes += sz;
		n++;
	}
	long after = bench_status_kib("RssAnon");
	double gib = (double)bytes / (1024.0 * 1024 * 1024);
	bench_figure("anon-MiB/GiB", (double)(after - before) / 1024.0 / gib);
	for (size_t i = 0; i < n; i++)
		free(blk[i]);
	free(blk);
	return 0;
}
