/*
 * je_math.c -- the library's exp, log and round (src/je_math.c), which the
 * jemalloc archive calls instead of libm's, against glibc's libm: exp and
 * log within 1 ulp, round bit for bit, over the special values (NaN,
 * infinities, zeros, the ends of exp's range, subnormal arguments and
 * results, halfway cases), the arguments jemalloc's profiler passes, and
 * a few million random ones; and none of them sets errno.
 */
#include <float.h>
#include <math.h>

#include "je.h"
#include "vmmtest.h"

static unsigned long compared;

static uint64_t bits_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

static double from_bits(uint64_t u)
{
	double x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

/* doubles in the order of their values as integers (-0 next to +0) */
static int64_t ordered(double x)
{
	uint64_t u = bits_of(x);
	return (u >> 63) ? -(int64_t)(u & ~((uint64_t)1 << 63)) : (int64_t)u;
}

/* how many doubles apart a and b are; NaN only matches NaN */
static uint64_t ulps(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
	int64_t d = ordered(a) - ordered(b);
	return (uint64_t)(d < 0 ? -d : d);
}

/* the functions under test, called through pointers the compiler cannot
 * see through (it would fold calls with constant arguments) */
static double (*volatile my_exp)(double) = vmm_je_exp;
static double (*volatile my_log)(double) = vmm_je_log;
static double (*volatile my_round)(double) = vmm_je_round;

static void same(const char *name, double (*mine)(double),
		 double (*libm)(double), double x, uint64_t tolerance)
{
	errno = 12345;
	double got = mine(x);
	if (errno != 12345)
		FAIL("%s(%a) set errno to %d", name, x, errno);
	double want = libm(x);
	uint64_t d = ulps(got, want);
	/* the sign of a zero or an infinity is part of the answer */
	if (d > tolerance ||
	    (got == 0 && want == 0 && signbit(got) != signbit(want)))
		FAIL("%s(%a) = %a (%.17g), libm says %a (%.17g): %llu ulps",
		     name, x, got, got, want, want, (unsigned long long)d);
	compared++;
}

/* xorshift64*: the same arguments in every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717u;
}

/* uniform in [lo, hi) */
static double uniform(double lo, double hi)
{
	return lo + (hi - lo) * ((double)(next_random() >> 11) * 0x1p-53);
}

/* any finite or infinite double, NaN excepted, of either sign */
static double any_double(void)
{
	double x;
	do
		x = from_bits(next_random());
	while (isnan(x));
	return x;
}

static void exp_cases(void)
{
	const double special[] = {
		0.0,
		-0.0,
		1.0,
		-1.0,
		0.5,
		-0.5,
		INFINITY,
		-INFINITY,
		NAN,
		DBL_MIN,
		-DBL_MIN,
		DBL_TRUE_MIN,
		DBL_MAX,
		-DBL_MAX,
		0x1p-60,
		-0x1p-60,
		M_LN2,
		-M_LN2,
		M_LN2 / 2,
		-M_LN2 / 2,
		709.0,
		709.782712893383973096,
		709.7827128933841,
		710.0,
		-708.0,
		-708.3964185322641,
		-709.0,
		-720.0,
		-740.0,
		-744.44007192138,
		-745.0,
		-745.13321910194110842,
		-745.1332191019412,
		-746.0,
		-1000.0,
		1000.0,
		36.0,
		-36.0,
		1e-300,
		-1e-300,
	};
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		same("exp", my_exp, exp, special[i], 1);
	/* what jemalloc's profiler computes at start-up: exp(-size / 2^19)
	 * for its size classes, here every size at 4 steps per doubling */
	for (unsigned lg = 3; lg < 63; lg++)
		for (unsigned q = 0; q < 4; q++) {
			double sz = ldexp(1.0 + q / 4.0, (int)lg);
			same("exp", my_exp, exp, -sz / 0x1p19, 1);
		}
	for (int i = 0; i < 1000000; i++)
		same("exp", my_exp, exp, uniform(-1.0, 1.0), 1);
	for (int i = 0; i < 1000000; i++)
		same("exp", my_exp, exp, uniform(-746.0, 710.0), 1);
	/* around every multiple of ln2 / 2, where the reduction switches k */
	for (int k = -2150; k <= 2050; k++) {
		double x = k * (M_LN2 / 2);
		same("exp", my_exp, exp, x, 1);
		same("exp", my_exp, exp, nextafter(x, -INFINITY), 1);
		same("exp", my_exp, exp, nextafter(x, INFINITY), 1);
	}
	for (int i = 0; i < 200000; i++)
		same("exp", my_exp, exp, any_double(), 1);
}

static void log_cases(void)
{
	const double special[] = {
		1.0,
		0.0,
		-0.0,
		-1.0,
		-INFINITY,
		INFINITY,
		NAN,
		-NAN,
		2.0,
		0.5,
		M_E,
		10.0,
		DBL_MIN,
		DBL_TRUE_MIN,
		DBL_MAX,
		-DBL_TRUE_MIN,
		nextafter(1.0, 2.0),
		nextafter(1.0, 0.0),
		M_SQRT2,
		nextafter(M_SQRT2, 2.0),
		nextafter(M_SQRT2, 0.0),
		M_SQRT1_2,
		nextafter(M_SQRT1_2, 0.0),
		0x1p-1070,
		0x1.fffffffffffffp-1023,
		1e-310,
		0x1p1023,
		3.0,
		0.75,
	};
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		same("log", my_log, log, special[i], 1);
	/* what jemalloc's profiler draws from: u in (0, 1] */
	for (int i = 0; i < 1000000; i++)
		same("log", my_log, log, uniform(0x1p-53, 1.0), 1);
	for (int i = 0; i < 500000; i++)
		same("log", my_log, log, uniform(0.5, 2.0), 1);
	/* every power of two, and its neighbours */
	for (int e = -1074; e <= 1023; e++) {
		double x = ldexp(1.0, e);
		same("log", my_log, log, x, 1);
		same("log", my_log, log, nextafter(x, 0.0), 1);
		same("log", my_log, log, nextafter(x, INFINITY), 1);
		same("log", my_log, log, x * 1.5, 1);
	}
	for (int i = 0; i < 1000000; i++)
		same("log", my_log, log, fabs(any_double()), 1);
	for (int i = 0; i < 100000; i++)
		same("log", my_log, log, -fabs(any_double()), 0);
}

static void round_cases(void)
{
	const double special[] = {
		0.0,
		-0.0,
		0.5,
		-0.5,
		1.5,
		-1.5,
		2.5,
		-2.5,
		0.49999999999999994,
		-0.49999999999999994,
		0x1p52,
		-0x1p52,
		0x1p52 - 0.5,
		-(0x1p52 - 0.5),
		0x1p52 + 1,
		0x1p53 - 1,
		0x1p63,
		0x1p64,
		DBL_MAX,
		-DBL_MAX,
		DBL_MIN,
		DBL_TRUE_MIN,
		-DBL_TRUE_MIN,
		INFINITY,
		-INFINITY,
		NAN,
		0.7,
		-0.7,
		1e15 + 0.5,
		1e300,
	};
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		same("round", my_round, round, special[i], 0);
	/* every halfway case n + 0.5 up to 2^20, both signs */
	for (int n = 0; n < (1 << 20); n++) {
		same("round", my_round, round, n + 0.5, 0);
		same("round", my_round, round, -(n + 0.5), 0);
		same("round", my_round, round, nextafter(n + 0.5, 0.0), 0);
	}
	for (int i = 0; i < 1000000; i++)
		same("round", my_round, round, uniform(-1e6, 1e6), 0);
	for (int i = 0; i < 1000000; i++)
		same("round", my_round, round, any_double(), 0);
	/* the profiler's use: round(sz / (1 - exp(-sz / 2^19))) */
	for (unsigned lg = 3; lg < 63; lg++) {
		double sz = ldexp(1.0, (int)lg);
		double div = 1.0 - exp(-sz / 0x1p19);
		same("round", my_round, round, sz / div, 0);
		same("round", my_round, round, 4095.0 / div, 0);
	}
}

int main(void)
{
	exp_cases();
	log_cases();
	round_cases();
	printf("%lu arguments: exp and log within 1 ulp of libm's, round "
	       "equal to it, errno untouched\n",
	       compared);
	return 0;
}
