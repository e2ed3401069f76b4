/*
 * startup.c -- what serves the library before the pool exists: the
 * bootstrap allocator (bootstrap.c) up to running out, vmm_getenv's
 * three sources (options.c): `environ`, the constructor's envp, and
 * /proc/self/environ when neither is set yet; and the lookup of glibc's
 * malloc_usable_size on first use, when no constructor ran (foreign.c).
 * Run with VMM_UNIT_ENV=a=b=c in the environment it was started with.
 */
#include <malloc.h>

#include "vmm.h"
#include "vmmtest.h"

static void bootstrap(void)
{
	/* requests it can never serve: ENOMEM at once */
	errno = 0;
	CHECK(vmm_boot_alloc((size_t)1 << 40, 16) == NULL);
	CHECK_I(errno, ==, ENOMEM);
	errno = 0;
	CHECK(vmm_boot_alloc(16, (size_t)1 << 30) == NULL);
	CHECK_I(errno, ==, ENOMEM);

	/* size 0 is a block; alignments below 16 still give 16 */
	char *z = vmm_boot_alloc(0, 1);
	CHECK(z != NULL && vmm_in_boot(z));
	CHECK_U((uintptr_t)z % 16, ==, 0);
	CHECK_U(vmm_boot_usable_size(z), ==, 0);
	char *a = vmm_boot_alloc(100, 4096);
	__asm__ volatile("" : "+r"(a));
	CHECK(a != NULL && vmm_in_boot(a));
	CHECK_U((uintptr_t)a % 4096, ==, 0);
	CHECK_U(vmm_boot_usable_size(a), ==, 100);
	for (size_t i = 0; i < 100; i++)
		CHECK(a[i] == 0); /* static storage: zeroed */
	memset(a, 0xa5, 100);
	CHECK(!vmm_in_boot(&a));

	/* then until it runs out: disjoint blocks, each its own size */
	char *prev = a + 100;
	size_t n = 0, size = 1000;
	for (;;) {
		errno = 0;
		char *p = vmm_boot_alloc(size, 16);
		if (p == NULL)
			break;
		CHECK(vmm_in_boot(p) && vmm_in_boot(p + size - 1));
		CHECK_P(p, >=,
			prev + 16); /* after the last one and its header */
		CHECK_U(vmm_boot_usable_size(p), ==, size);
		memset(p, (int)n, size);
		prev = p + size;
		n++;
		CHECK_U(n, <, 1000);
	}
	CHECK_I(errno, ==, ENOMEM);
	/* 256 KiB: at least 200 of them fit, less than 263 can */
	CHECK_U(n, >=, 200);
	CHECK_U(n, <=, 262);
	for (size_t i = 0; i < 100; i++)
		CHECK(a[i] == (char)0xa5); /* nobody wrote over the first */
	errno = 0;
	CHECK(vmm_boot_alloc(size, 16) == NULL);
	CHECK_I(errno, ==, ENOMEM);
}

static void getenv_sources(void)
{
	const char *want = getenv("VMM_UNIT_ENV");
	if (want == NULL)
		FAIL("run with VMM_UNIT_ENV=a=b=c");
	CHECK_STR(want, "a=b=c");
	/* `environ` set: secure_getenv's answer */
	CHECK_STR(vmm_getenv("VMM_UNIT_ENV"), "a=b=c");

	char **saved = environ;
	environ = NULL;
	/* the constructor's envp */
	char *envp[] = {"VMM_UNIT_ENVX=no", "VMM_UNIT_ENV=from envp", "OTHER=1",
			NULL};
	vmm_envp = envp;
	CHECK_STR(vmm_getenv("VMM_UNIT_ENV"), "from envp");
	CHECK_STR(vmm_getenv("OTHER"), "1");
	CHECK(vmm_getenv("VMM_UNIT_EN") == NULL);
	CHECK(vmm_getenv("MISSING") == NULL);
	/* neither: /proc/self/environ, the environment at exec */
	vmm_envp = NULL;
	const char *got = vmm_getenv("VMM_UNIT_ENV");
	environ = saved;
	if (got == NULL)
		FAIL("VMM_UNIT_ENV not found in /proc/self/environ");
	CHECK_STR(got, "a=b=c");
	environ = NULL;
	CHECK(vmm_getenv("VMM_UNIT_EN") == NULL); /* a prefix is no match */
	CHECK(vmm_getenv("VMM_UNIT_ENV_MISSING") == NULL);
	const char *again = vmm_getenv("VMM_UNIT_ENV"); /* read once, kept */
	environ = saved;
	CHECK(again == got);
}

/*
 * The lookup on first use, and its guard: the next malloc_usable_size must
 * never be the one this link unit calls (in the library that is its own,
 * which would recurse).  Here, without override.c, the name is glibc's, so
 * the guard must refuse it and answer 0 for glibc's block -- a lookup that
 * took it would answer its real size.
 */
static void foreign_first_use(void)
{
	char *p = malloc(1000);
	CHECK(p != NULL);
	CHECK_U(malloc_usable_size(p), >=, 1000);
	CHECK_U(vmm_foreign_usable_size(p), ==, 0);
	vmm_foreign_init(); /* already looked up: asks the loader no more */
	CHECK_U(vmm_foreign_usable_size(p), ==, 0);
	free(p);
}

int main(void)
{
	foreign_first_use();
	bootstrap();
	getenv_sources();
	return 0;
}
