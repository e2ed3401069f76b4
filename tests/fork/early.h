/* early.h -- what early.c's constructor did before main (see early.c) */
#ifndef FT_EARLY_H
#define FT_EARLY_H 1
#include <stdbool.h>
#include <stddef.h>

struct ft_early {
	bool env_seen;	  /* VMMALLOC_POOL_DIR was visible */
	bool pool_before; /* a pool was mapped before its malloc */
	unsigned char *p; /* 5000 bytes of 0x5a */
	size_t size;
};
extern struct ft_early ft_early;
#endif
