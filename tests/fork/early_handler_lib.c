/* early_handler_lib.c -- a library that registers, from its constructor,
 * a fork handler that allocates (many libraries do: loggers, RNGs...). */
#include <pthread.h>
#include <stdlib.h>

void early_handler_linked(void);

static void prepare(void)
{
	void *volatile p = malloc(100);
	free(p);
}

__attribute__((constructor)) static void early_init(void)
{
	pthread_atfork(prepare, NULL, NULL);
}

void early_handler_linked(void)
{
}
