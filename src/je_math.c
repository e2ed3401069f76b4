/*
 * je_math.c -- the three libm functions the jemalloc archive calls (exp,
 * log, round), so that the library loads without libm.
 *
 * NOTES
 * - Why: libm is one more object for the loader to map and relocate in
 *   every program the library is preloaded into, 0.25 ms of each start-up
 *   on the project's VM (docs/BENCHMARKS.md), for calls made only by
 *   jemalloc's heap profiler: exp and round fill its size-class tables at
 *   start-up (prof_unbias_map_init), log draws the next sampling interval.
 *   The archive's references are renamed to these (cmake/jemalloc.cmake).
 * - They are real functions, not stand-ins: results within 1 ulp of
 *   glibc's (round: exactly glibc's), NaN, infinities, zeros, subnormal
 *   arguments and results included; unit.je_math compares them with libm
 *   over a few million arguments.
 * - They never touch errno (libm sets ERANGE when exp underflows, as the
 *   profiler's table does for the largest size classes): they run inside
 *   malloc.  Nor do they raise floating-point exception flags on purpose.
 * - No libm, no lookup tables: range reduction by ln 2 and series whose
 *   terms are written out below.  -ffp-contract is off in ISO C mode, so
 *   the evaluation order is the one written.
 */
#include <math.h> /* HUGE_VAL, NAN: macros only */
#include <stdint.h>
#include <string.h>

#include "je.h"

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^20 */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define LOG2_E 1.44269504088896338700e+00
#define SQRT_2 1.41421356237309514547e+00
#define EXP_MAX 7.09782712893383973096e+02    /* ln(DBL_MAX) */
#define EXP_MIN (-7.45133219101941108420e+02) /* ln(2^-1075) */
#define SIGN_BIT ((uint64_t)1 << 63)
#define EXP_ONE ((uint64_t)0x3ff << 52)	     /* 1.0's exponent bits */
#define MANTISSA ((((uint64_t)1) << 52) - 1) /* fraction bits */
#define MIN_NORMAL ((uint64_t)1 << 52)	     /* DBL_MIN's bits */

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

/* 2^k, -1022 <= k <= 1023 */
static double two_to(int k)
{
	return from_bits((uint64_t)(k + 1023) << 52);
}

double vmm_je_exp(double x)
{
	if (x != x)
		return x + x; /* NaN */
	if (x > EXP_MAX)
		return HUGE_VAL;
	if (x < EXP_MIN)
		return 0.0;
	/* x = k ln2 + r, |r| <= ln2 / 2 (a little more from rounding k) */
	double kd = x * LOG2_E;
	int k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
	double r = (x - (double)k * LN2_HI) - (double)k * LN2_LO;
	/* e^r - 1 = r + r^2/2! + ... + r^14/14!; the next term is below
	 * 2^-60 of the sum for |r| <= 0.35 */
	double q = 1.0 / 87178291200.0; /* 1/14! */
	q = q * r + 1.0 / 6227020800.0;
	q = q * r + 1.0 / 479001600.0;
	q = q * r + 1.0 / 39916800.0;
	q = q * r + 1.0 / 3628800.0;
	q = q * r + 1.0 / 362880.0;
	q = q * r + 1.0 / 40320.0;
	q = q * r + 1.0 / 5040.0;
	q = q * r + 1.0 / 720.0;
	q = q * r + 1.0 / 120.0;
	q = q * r + 1.0 / 24.0;
	q = q * r + 1.0 / 6.0;
	q = q * r + 0.5;
	double y = 1.0 + (r + r * r * q);
	/* y * 2^k; scaled in two exact steps at the ends of the range so
	 * that a subnormal result is rounded once */
	if (k > 1023)
		return y * 2.0 * two_to(k - 1);
	if (k < -1021)
		return y * two_to(k + 1000) * two_to(-1000);
	return y * two_to(k);
}

double vmm_je_log(double x)
{
	uint64_t u = bits_of(x);
	if (x != x)
		return x + x; /* NaN */
	if (x < 0)
		return NAN;
	if (x == 0)
		return -HUGE_VAL;
	if (x == HUGE_VAL)
		return x;
	int e = 0;
	if (u < MIN_NORMAL) { /* subnormal: scale it into the normal range */
		u = bits_of(x * 0x1p54);
		e = -54;
	}
	/* x = m 2^e, sqrt(2)/2 < m <= sqrt(2) */
	e += (int)(u >> 52) - 1023;
	double m = from_bits((u & MANTISSA) | EXP_ONE);
	if (m > SQRT_2) {
		m *= 0.5;
		e++;
	}
	/*
	 * log(m) = log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| < 0.172:
	 * 2s + s R with R = 2s^2/3 + 2s^4/5 + ... (to s^26, below 2^-60 of
	 * the sum), written as f - (f^2/2 - s (f^2/2 + R)) so that the exact
	 * f carries the result and the rest is a small correction.
	 */
	double f = m - 1.0; /* exact */
	double s = f / (2.0 + f);
	double z = s * s;
	double t = 2.0 / 27.0;
	t = t * z + 2.0 / 25.0;
	t = t * z + 2.0 / 23.0;
	t = t * z + 2.0 / 21.0;
	t = t * z + 2.0 / 19.0;
	t = t * z + 2.0 / 17.0;
	t = t * z + 2.0 / 15.0;
	t = t * z + 2.0 / 13.0;
	t = t * z + 2.0 / 11.0;
	t = t * z + 2.0 / 9.0;
	t = t * z + 2.0 / 7.0;
	t = t * z + 2.0 / 5.0;
	t = t * z + 2.0 / 3.0;
	double big_r = t * z;
	double hfsq = 0.5 * f * f;
	double ed = (double)e;
	return ed * LN2_HI - ((hfsq - (s * (hfsq + big_r) + ed * LN2_LO)) - f);
}

double vmm_je_round(double x)
{
	uint64_t u = bits_of(x);
	uint64_t sign = u & SIGN_BIT;
	double a = from_bits(u & ~SIGN_BIT);
	if (!(a < 0x1p52))
		return x; /* NaN, an infinity, or already an integer */
	double t = (double)(uint64_t)a; /* truncated; a - t is exact */
	if (a - t >= 0.5)
		t += 1.0; /* halfway rounds away from zero */
	return from_bits(bits_of(t) | sign);
}
