/*
 * early.c -- a shared library the "order-early" program depends on: its
 * constructor runs before the preloaded library's constructor and calls
 * malloc, so the library initialises (and registers its fork handlers)
 * from inside that malloc rather than from its own constructor.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "early.h"

struct ft_early ft_early;

/* does /proc/self/maps mention the pool dir?  read(2) only, no malloc */
static bool pool_mapped_raw(void)
{
	const char *dir = getenv("VMMALLOC_POOL_DIR");
	if (dir == NULL)
		return false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	const char *name = strrchr(dir, '/');
	return strstr(buf, name != NULL ? name : dir) != NULL;
}

__attribute__((constructor)) static void early_malloc(void)
{
	ft_early.env_seen = getenv("VMMALLOC_POOL_DIR") != NULL;
	ft_early.pool_before = pool_mapped_raw();
	ft_early.p = malloc(5000);
	ft_early.size = 5000;
	if (ft_early.p != NULL)
		memset(ft_early.p, 0x5a, ft_early.size);
}
