// the public header compiles as C++, before and after the libc headers
#include "libvmmalloc.h"
#include <cstdlib>
#include <malloc.h>
#include "libvmmalloc.h"
static_assert(VMMALLOC_MIN_POOL == 14u << 20, "14 MiB");
int main()
{
	void *(*f)(size_t) = malloc;
	return f == nullptr;
}
