/*
 * mtstress.c -- a correct multithreaded program: N threads allocate, fill,
 * check and free blocks of mixed sizes, and hand half of them to the next
 * thread through a mutex-protected mailbox (so blocks are freed by another
 * thread than the one that allocated them).  Bounded: argv[1] threads,
 * argv[2] rounds.  Under a tool it must report 0 errors and 0 leaks.
 */
#include <pthread.h>
#include <stdint.h>

#include "vmmtest.h"

#define SLOTS 64

static int nthreads = 8;
static int rounds = 200;

static struct mailbox {
	pthread_mutex_t lock;
	void *blocks[SLOTS];
	size_t sizes[SLOTS];
	int count;
} boxes[64];

static size_t size_for(unsigned x)
{
	static const size_t sizes[] = {1,   8,	  24,	48,    100,
				       256, 1000, 4096, 10000, 70000};
	return sizes[x % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void stamp(unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v + i);
}

static void verify(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(v + i))
			FAIL("block %p corrupted at %zu", (const void *)p, i);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id * 2654435761u;
	struct mailbox *next = &boxes[(id + 1) % nthreads];
	struct mailbox *mine = &boxes[id];
	for (int r = 0; r < rounds; r++) {
		void *local[16];
		size_t lsize[16];
		for (int i = 0; i < 16; i++) {
			seed = seed * 1103515245u + 12345u;
			lsize[i] = size_for(seed >> 16);
			switch (i % 4) {
			case 0:
				local[i] = malloc(lsize[i]);
				break;
			case 1:
				local[i] = calloc(1, lsize[i]);
				break;
			case 2:
				local[i] = realloc(malloc(8), lsize[i]);
				break;
			default:
				CHECK(posix_memalign(&local[i], 64, lsize[i]) ==
				      0);
			}
			CHECK(local[i] != NULL);
			stamp(local[i], lsize[i], (unsigned char)id);
		}
		for (int i = 0; i < 16; i++) {
			verify(local[i], lsize[i], (unsigned char)id);
			if (i % 2 == 0) {
				free(local[i]);
				continue;
			}
			pthread_mutex_lock(&next->lock);
			if (next->count < SLOTS) {
				next->blocks[next->count] = local[i];
				next->sizes[next->count++] = lsize[i];
				local[i] = NULL;
			}
			pthread_mutex_unlock(&next->lock);
			free(local[i]);
		}
		/* blocks another thread allocated: check them, free them */
		pthread_mutex_lock(&mine->lock);
		int prev = (id + nthreads - 1) % nthreads;
		for (int i = 0; i < mine->count; i++) {
			verify(mine->blocks[i], mine->sizes[i],
			       (unsigned char)prev);
			free(mine->blocks[i]);
		}
		mine->count = 0;
		pthread_mutex_unlock(&mine->lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (argc > 2)
		rounds = atoi(argv[2]);
	CHECK(nthreads > 0 && nthreads <= 64);
	pthread_t t[64];
	for (int i = 0; i < nthreads; i++)
		pthread_mutex_init(&boxes[i].lock, NULL);
	for (int i = 0; i < nthreads; i++)
		CHECK(pthread_create(&t[i], NULL, worker,
				     (void *)(intptr_t)i) == 0);
	for (int i = 0; i < nthreads; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (int i = 0; i < nthreads; i++) {
		for (int j = 0; j < boxes[i].count; j++)
			free(boxes[i].blocks[j]);
		pthread_mutex_destroy(&boxes[i].lock);
	}
	return 0;
}
