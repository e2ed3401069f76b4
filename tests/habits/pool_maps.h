/*
 * pool_maps.h -- what /proc/self/maps says of the pool mapping, for the
 * habits tests that must tell a shared mapping (modes 0 and 2) from a
 * private one (mode 1), and one pool file from another, after the program
 * has destroyed its environment (so vt_pool() cannot be used).
 */
#ifndef POOL_MAPS_H
#define POOL_MAPS_H 1

#include "vmmtest_child.h"

struct pool_map {
	uintptr_t lo, hi;
	bool shared;
	unsigned long inode;
	char path[4096];
};

/* the mapping that contains addr; false if none */
static inline bool pool_map_of(const void *addr, struct pool_map *m)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		uintptr_t lo, hi;
		char perms[8];
		unsigned long inode;
		int off = 0;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %lu %n",
			   &lo, &hi, perms, &inode, &off) < 4)
			continue;
		if ((uintptr_t)addr < lo || (uintptr_t)addr >= hi)
			continue;
		m->lo = lo;
		m->hi = hi;
		m->shared = perms[3] == 's';
		m->inode = inode;
		snprintf(m->path, sizeof(m->path), "%s", line + off);
		m->path[strcspn(m->path, "\n")] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

/* the mapping's file lies directly in dir (an absolute path) */
static inline bool pool_map_in_dir(const struct pool_map *m, const char *dir)
{
	size_t len = strlen(dir);
	return strncmp(m->path, dir, len) == 0 && m->path[len] == '/';
}

#endif
