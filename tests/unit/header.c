/* the public header compiles as C */
#include <stdlib.h>
#include <malloc.h>
#include "libvmmalloc.h"
int main(void)
{
	return VMMALLOC_MAJOR_VERSION == 1 && VMMALLOC_MINOR_VERSION == 1 &&
			       VMMALLOC_MIN_POOL == 14u * 1024 * 1024
		       ? 0
		       : 1;
}
