/* options.c -- the size and integer parsers behind every VMMALLOC_* variable */
#include "vmm.h"
#include "vmmtest.h"

static void ok(const char *s, size_t want)
{
	size_t got = 0;
	const char *why = vmm_parse_size(s, &got);
	if (why != NULL)
		FAIL("\"%s\" rejected: %s", s, why);
	if (got != want)
		FAIL("\"%s\" parsed as %zu, want %zu", s, got, want);
}

static void bad(const char *s)
{
	size_t got = 12345;
	if (vmm_parse_size(s, &got) == NULL)
		FAIL("\"%s\" accepted as %zu", s ? s : "(null)", got);
	CHECK_U(got, ==, 12345); /* untouched on error */
}

int main(void)
{
	ok("0", 0);
	ok("14680064", 14680064);
	ok("1k", 1024);
	ok("1K", 1024);
	ok("16M", 16u << 20);
	ok("16m", 16u << 20);
	ok("16MB", 16u << 20);
	ok("16MiB", 16u << 20);
	ok("2G", (size_t)2 << 30);
	ok("2gib", (size_t)2 << 30);
	ok("1T", (size_t)1 << 40);
	ok("128T", (size_t)128 << 40); /* the largest accepted */
	ok("007", 7);
	bad(NULL);
	bad("");
	bad(" 16M");
	bad("16M ");
	bad("-1");
	bad("+1");
	bad("16Q");
	bad("16MM");
	bad("16Mi");
	bad("M");
	bad("0x10");
	bad("1.5G");
	bad("129T");
	bad("18446744073709551616"); /* 2^64 */
	bad("99999999999999999999999");
	bad("17179869184G"); /* 2^34 G overflows 64 bits */

	unsigned v = 99;
	CHECK(vmm_parse_uint("0", 0, 3, &v) && v == 0);
	CHECK(vmm_parse_uint("3", 0, 3, &v) && v == 3);
	CHECK(!vmm_parse_uint("4", 0, 3, &v));
	CHECK(!vmm_parse_uint("", 0, 3, &v));
	CHECK(!vmm_parse_uint("-1", 0, 3, &v));
	CHECK(!vmm_parse_uint("1x", 0, 3, &v));
	CHECK(!vmm_parse_uint(" 1", 0, 3, &v));
	CHECK(!vmm_parse_uint("99999999999999999999", 0, 3, &v));
	CHECK(!vmm_parse_uint("0", 1, 3, &v));
	CHECK_U(v, ==, 3);
	return 0;
}
