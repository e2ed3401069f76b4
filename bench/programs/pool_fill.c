/* pool_fill.c: usable fraction of a pool. Allocates 64-byte blocks until
 * malloc returns NULL and reports count*64 / VMMALLOC_POOL_SIZE. Only
 * meaningful under vmmalloc: without VMMALLOC_POOL_SIZE it refuses (exit 2),
 * and it stops (exit 3) if it ever passes twice the pool size.
 */
#include "bench.h"

static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	case 'T':
	case 't':
		v <<= 40;
		end++;
		break;
	default:
		break;
	}
	return *end == '\0' ? v : 0;
}

int main(int argc, char **argv)
{
	(void)bench_parse(argc, argv, 1);
	const char *env = getenv("VMMALLOC_POOL_SIZE");
	unsigned long long pool = env ? parse_size(env) : 0, count = 0;

	if (pool == 0) {
		fprintf(stderr, "pool_fill: needs VMMALLOC_POOL_SIZE\n");
		return 2;
	}
	void *last[64] = {0};
	void *p;
	double t0 = bench_now();
	while ((p = malloc(64)) != NULL) {
		last[count % 64] = p;
		if (++count * 64 > 2 * pool) {
			fprintf(stderr, "pool_fill: no limit reached\n");
			return 3;
		}
	}
	double t = bench_now() - t0;
	/* Give a little back so stdio and the memory note can allocate. */
	for (int i = 0; i < 64; i++)
		free(last[i]);
	fprintf(stderr, "# fill blocks=%llu seconds=%.3f\n", count, t);
	printf("fraction %.6f\n", (double)count * 64.0 / (double)pool);
	bench_mem_note();
	return 0;
}
