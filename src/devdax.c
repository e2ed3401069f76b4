/*
 * devdax.c -- a pool on device DAX: VMMALLOC_POOL_DIR naming a character
 * device of the kernel's dax bus (/dev/daxX.Y: an ndctl devdax namespace,
 * or a CXL region).  Tells such a device from any other file and reads
 * what sysfs says of it: its size and its alignment.
 *
 * NOTES
 * - The device's sysfs directory is /sys/dev/char/MAJ:MIN: "subsystem"
 *   links to .../bus/dax, "size" is the device's bytes and "align" the
 *   unit of every mapping of it (4 KiB, 2 MiB or 1 GiB): the kernel
 *   refuses a mapping whose start or length is not a multiple.  A kernel
 *   without "align" (before 5.10) maps at 2 MiB, the default of ndctl.
 * - The rest lives with the other pool kinds in pool.c: the exclusive
 *   lock, the mapping, and zeroing what earlier users left on the device.
 * - No allocation, no stdio: runs while the options are read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vmm.h"

/* /sys/dev/char/MAJ:MIN/<attr> of rdev */
static void attr_path(struct vmm_msg *m, dev_t rdev, const char *attr)
{
	m->len = 0;
	vmm_msg_format(m, "/sys/dev/char/%u:%u/%s", major(rdev), minor(rdev),
		       attr);
}

/* a decimal (or 0x hex) number, the whole content of a sysfs attribute */
static int read_number(dev_t rdev, const char *attr, uint64_t *out)
{
	struct vmm_msg path;
	attr_path(&path, rdev, attr);
	int fd = open(vmm_msg_cstr(&path), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? err : EIO;
	buf[n] = '\0';
	unsigned base = 10;
	const char *p = buf;
	if (p[0] == '0' && p[1] == 'x') {
		base = 16;
		p += 2;
	}
	uint64_t v = 0;
	bool digits = false;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return EIO;
		v = v * base + d;
		digits = true;
	}
	if (!digits || (*p != '\n' && *p != '\0'))
		return EIO;
	*out = v;
	return 0;
}

int vmm_devdax_info(dev_t rdev, struct vmm_devdax *out)
{
	struct vmm_msg path;
	attr_path(&path, rdev, "subsystem");
	char link[256];
	ssize_t n = readlink(vmm_msg_cstr(&path), link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? ENODEV : errno;
	link[n] = '\0';
	/* ".../bus/dax", the device model since Linux 4.20 */
	if (n < 4 || strcmp(link + n - 4, "/dax") != 0)
		return ENODEV;
	uint64_t size, align;
	int err = read_number(rdev, "size", &size);
	if (err != 0)
		return err;
	if (read_number(rdev, "align", &align) != 0)
		align = 2 * VMM_MiB;
	/* a power of two of at least a page, or the mapping cannot be made */
	if (align < 4096 || (align & (align - 1)) != 0)
		return EIO;
	out->size = size;
	out->align = align;
	return 0;
}
