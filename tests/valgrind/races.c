/*
 * races.c -- what helgrind and drd must and must not report on the pool.
 *
 *   races churn THREADS ROUNDS   correct: each thread mallocs and frees
 *                                ROUNDS blocks of mixed sizes, some freed by
 *                                a neighbour through a locked hand-off.
 *                                0 errors expected.
 *   races forkexec THREADS FORKS  correct in every fork mode, 0 included:
 *                                while THREADS churn (2,000 rounds), the
 *                                main thread forks FORKS children that exec
 *                                true at once.  0 errors expected.
 *   races forkwrite              correct in every fork mode: a thread
 *                                keeps writing a block it allocated while
 *                                the main thread forks a child that exits
 *                                at once, then writes it once more after
 *                                the fork (it learns of it through a
 *                                pipe, which orders nothing for the
 *                                tools).  0 errors expected: whatever the
 *                                library reads of the pool while forking
 *                                must not be reported against that write.
 *   races race SIZE              incorrect on purpose: two threads write
 *                                the same word of a malloc'd block of SIZE
 *                                bytes with no lock (in racing_writer);
 *                                the tools must report it, whatever the
 *                                library tells them about its own
 *                                metadata.
 */
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "vmmtest_child.h"

#define MAX_THREADS 64

static int rounds;
static int nthreads;

/* one slot per thread: a block handed to the next thread to free */
static struct {
	pthread_mutex_t lock;
	void *block;
} hand[MAX_THREADS];

static void *churn(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id * 2654435761u + 1;
	for (int r = 0; r < rounds; r++) {
		seed = seed * 1103515245u + 12345u;
		/* 8 B .. 64 KiB: small bins, large extents, several slabs */
		size_t size = (size_t)8 << ((seed >> 16) % 14);
		unsigned char *p = malloc(size);
		CHECK(p != NULL);
		p[0] = (unsigned char)r;
		p[size - 1] = (unsigned char)id;
		if (r % 4 == 0) {
			/* give it to the next thread; free what we were given */
			pthread_mutex_lock(&hand[(id + 1) % nthreads].lock);
			void *old = hand[(id + 1) % nthreads].block;
			hand[(id + 1) % nthreads].block = p;
			pthread_mutex_unlock(&hand[(id + 1) % nthreads].lock);
			free(old);
			pthread_mutex_lock(&hand[id].lock);
			old = hand[id].block;
			hand[id].block = NULL;
			pthread_mutex_unlock(&hand[id].lock);
			free(old);
		} else {
			free(p);
		}
	}
	return NULL;
}

static int run_churn(int forks)
{
	pthread_t t[MAX_THREADS];
	for (int i = 0; i < nthreads; i++)
		pthread_mutex_init(&hand[i].lock, NULL);
	for (int i = 0; i < nthreads; i++)
		CHECK(pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i) ==
		      0);
	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			execlp("true", "true", (char *)NULL);
			_exit(127);
		}
		vt_wait_ok(pid);
	}
	for (int i = 0; i < nthreads; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (int i = 0; i < nthreads; i++)
		free(hand[i].block);
	return 0;
}

static int fork_pipe[2];

static void *fork_writer(void *arg)
{
	volatile unsigned char *block = arg;
	char byte;
	for (unsigned i = 0; read(fork_pipe[0], &byte, 1) != 1; i++) {
		block[i % 4096] = (unsigned char)i;
		sched_yield();
	}
	block[0] = 1; /* after the fork, with nothing ordering it */
	block[4095] = 2;
	return NULL;
}

static int run_forkwrite(void)
{
	CHECK(pipe2(fork_pipe, O_NONBLOCK) == 0);
	pthread_t t;
	unsigned char *block = malloc(4096);
	CHECK(block != NULL);
	memset(block, 0, 4096);
	CHECK(pthread_create(&t, NULL, fork_writer, block) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(0);
	vt_wait_ok(pid);
	CHECK(write(fork_pipe[1], "f", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(block[0] == 1 && block[4095] == 2);
	free(block);
	return 0;
}

/* the racing function the reports must name */
static __attribute__((noinline)) void *racing_writer(void *arg)
{
	volatile long *word = arg;
	for (long i = 0; i < 100; i++)
		*word = *word + i;
	return NULL;
}

static int run_race(size_t size)
{
	long *word = malloc(size);
	CHECK(word != NULL);
	memset(word, 0, size);
	pthread_t a, b;
	CHECK(pthread_create(&a, NULL, racing_writer, word + 3) == 0);
	CHECK(pthread_create(&b, NULL, racing_writer, word + 3) == 0);
	CHECK(pthread_join(a, NULL) == 0);
	CHECK(pthread_join(b, NULL) == 0);
	free(word);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "churn") == 0) {
		nthreads = atoi(argv[2]);
		rounds = atoi(argv[3]);
		CHECK(nthreads >= 1 && nthreads <= MAX_THREADS && rounds >= 1);
		return run_churn(0);
	}
	if (argc == 4 && strcmp(argv[1], "forkexec") == 0) {
		nthreads = atoi(argv[2]);
		rounds = 2000;
		CHECK(nthreads >= 1 && nthreads <= MAX_THREADS);
		return run_churn(atoi(argv[3]));
	}
	if (argc == 2 && strcmp(argv[1], "forkwrite") == 0)
		return run_forkwrite();
	if (argc == 3 && strcmp(argv[1], "race") == 0) {
		size_t size = (size_t)atol(argv[2]);
		CHECK(size >= 32);
		return run_race(size);
	}
	FAIL("usage: races churn THREADS ROUNDS | races forkexec THREADS "
	     "FORKS | races forkwrite | races race SIZE");
}
