/*
 * node.c -- VMMALLOC_POOL_NODE: a pool on one NUMA node (how CXL memory and
 * persistent memory used as system RAM reach Linux: memory-only nodes).
 * Reads the node's sysfs facts, binds a mapping to the node, and guards
 * the commit path against a node that is short of memory.
 *
 * NOTES
 * - No libnuma (its constructor allocates, and the library needs only
 *   libc): mbind is the raw system call.
 * - MPOL_BIND on a MAP_SHARED mapping of a memfd sets the policy of the
 *   shmem object itself (its shared policy), not only of the mapping: every
 *   later allocation of its pages -- fallocate in the commit path, a fault,
 *   a pwrite into a fork copy -- comes from the node, through whichever
 *   mapping or descriptor reaches it.  Without MPOL_MF_MOVE/STRICT the call
 *   walks no page tables: O(1) in the pool size.
 * - The guard (vmm_node_room) is best effort.  Under MPOL_BIND a node that
 *   cannot supply a page invokes the OOM killer (constrained to the
 *   policy), which may kill this process or another; it does not fail the
 *   fallocate with ENOMEM.  So before backing a range the guard reads the
 *   node's meminfo and refuses (ENOMEM) when the node's free memory plus
 *   half its file cache would drop below a margin.  It cannot see what
 *   other processes take between the check and the fallocate, nor pages
 *   first written after a fork-mode-1 remap (copy-on-write, no commit).
 * - No allocation, no stdio: runs during initialisation and in the extent
 *   hooks under the engine's lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm.h"

#ifndef MPOL_BIND
#define MPOL_BIND 2
#endif

/* the value of "<key> <digits> kB" in a node meminfo text, in bytes */
static bool field_kb(const char *text, size_t len, const char *key,
		     uint64_t *out)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i + klen <= len; i++) {
		if ((i > 0 && text[i - 1] != '\n') ||
		    memcmp(text + i, key, klen) != 0)
			continue;
		/* lines read "Node 0 MemFree:   123 kB"; key includes ':' */
		size_t j = i + klen;
		while (j < len && text[j] == ' ')
			j++;
		if (j >= len || text[j] < '0' || text[j] > '9')
			return false;
		uint64_t v = 0;
		for (; j < len && text[j] >= '0' && text[j] <= '9'; j++)
			v = v * 10 + (uint64_t)(text[j] - '0');
		*out = v * 1024;
		return true;
	}
	return false;
}

bool vmm_node_parse_meminfo(const char *text, size_t len, unsigned node,
			    struct vmm_node_mem *out)
{
	/* every line starts "Node <N> " */
	struct vmm_msg key;
	static const char *const keys[] = {"MemTotal:", "MemFree:",
					   "Active(file):", "Inactive(file):"};
	uint64_t v[4];
	for (size_t k = 0; k < VMM_ARRAY_SIZE(keys); k++) {
		key.len = 0;
		vmm_msg_format(&key, "Node %u %s", node, keys[k]);
		if (!field_kb(text, len, vmm_msg_cstr(&key), &v[k]))
			return false;
	}
	out->total = v[0];
	out->free = v[1];
	out->file = v[2] + v[3];
	return true;
}

int vmm_node_meminfo(unsigned node, struct vmm_node_mem *out)
{
	struct vmm_msg path = {.len = 0};
	vmm_msg_format(&path, "/sys/devices/system/node/node%u/meminfo", node);
	int fd = open(vmm_msg_cstr(&path), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	/* the whole file is ~1.5 KiB; sysfs hands it over in one read */
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	int err = errno;
	close(fd);
	if (len == 0)
		return err != 0 ? err : EIO;
	return vmm_node_parse_meminfo(buf, len, node, out) ? 0 : EIO;
}

/* the free memory a commit must leave on the node: 1/64 of it, clamped */
size_t vmm_node_margin(const struct vmm_node_mem *m)
{
	uint64_t margin = m->total / 64;
	if (margin < VMM_NODE_MARGIN_MIN)
		margin = VMM_NODE_MARGIN_MIN;
	if (margin > VMM_NODE_MARGIN_MAX)
		margin = VMM_NODE_MARGIN_MAX;
	return (size_t)margin;
}

bool vmm_node_has_room(const struct vmm_node_mem *m, size_t len)
{
	/* half the file cache: clean page cache is reclaimable, some is not */
	uint64_t avail = m->free + m->file / 2;
	uint64_t need = (uint64_t)len + vmm_node_margin(m);
	return avail >= need;
}

int vmm_node_room(unsigned node, size_t len)
{
	struct vmm_node_mem m;
	/* no meminfo (sysfs unmounted in a container): no guard, say so */
	if (vmm_node_meminfo(node, &m) != 0) {
		VMM_LOG(2, "node %u: meminfo unreadable, commit unguarded",
			node);
		return 0;
	}
	if (vmm_node_has_room(&m, len))
		return 0;
	VMM_LOG(2,
		"node %u: refusing to back %zu bytes (%llu free, %llu in "
		"file cache, margin %zu)",
		node, len, (unsigned long long)m.free,
		(unsigned long long)m.file, vmm_node_margin(&m));
	return ENOMEM;
}

int vmm_node_bind(void *addr, size_t len, unsigned node)
{
	unsigned long mask[VMM_NODE_MAX / (8 * sizeof(unsigned long))];
	memset(mask, 0, sizeof(mask));
	mask[node / (8 * sizeof(unsigned long))] |=
		1UL << (node % (8 * sizeof(unsigned long)));
	/* maxnode counts bits; the kernel reads maxnode - 1 of them */
	if (syscall(SYS_mbind, addr, len, MPOL_BIND, mask,
		    (unsigned long)VMM_NODE_MAX + 1, 0UL) != 0)
		return errno;
	return 0;
}
