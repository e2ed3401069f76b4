/* deepbind_lib.c -- a library that, opened with RTLD_DEEPBIND, binds to
 * libc's own malloc: its blocks are foreign to the pool. */
#include <stdlib.h>
#include <string.h>

char *deep_strdup(const char *s);
void deep_free(void *p);
char *deep_strdup(const char *s)
{
	char *p = malloc(strlen(s) + 1);
	if (p != NULL)
		strcpy(p, s);
	return p;
}
void deep_free(void *p)
{
	free(p);
}
