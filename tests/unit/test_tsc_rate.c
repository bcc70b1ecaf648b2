/* Unit tests for vmm/tsc_rate.c: CPUID leaves 0x15/0x16 to a rate, and the
 * choice between CPUID's rate and the PIT measurement (docs/MONITORS.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/tsc_rate.h"

static void test_from_cpuid(void **st)
{
	(void)st;
	const char *w;
	const uint32_t skl[3] = { 2, 216, 24000000 };      /* a Skylake client: 24 MHz x 216/2 */
	const uint32_t no_crystal[3] = { 2, 216, 0 };      /* 0x15 without ECX (Skylake server) */
	assert_int_equal(tsc_rate_from_cpuid(0x16, skl, 2600, &w), 2592000000ULL);
	assert_string_equal(w, "CPUID 0x15");
	assert_int_equal(tsc_rate_from_cpuid(0x16, no_crystal, 3500, &w), 3500000000ULL);
	assert_string_equal(w, "CPUID 0x16");
	assert_int_equal(tsc_rate_from_cpuid(0x16, no_crystal, 0xffff0000u | 2100, &w), 2100000000ULL);
	assert_int_equal(tsc_rate_from_cpuid(0x15, no_crystal, 3500, &w), 0);   /* 0x16 beyond max */
	assert_string_equal(w, "");
	assert_int_equal(tsc_rate_from_cpuid(0xd, skl, 2600, &w), 0);           /* neither leaf */
	assert_int_equal(tsc_rate_from_cpuid(0x16, NULL, 0, NULL), 0);
}

static void test_choose(void **st)
{
	(void)st;
	enum tsc_rate_src s;
	uint64_t off;
	/* Bochs corei7_skylake_x: 0x16 says 3.5 GHz, the TSC runs at ips=200M */
	assert_int_equal(tsc_rate_choose(3500000000ULL, 200001000ULL, &s, &off), 200001000ULL);
	assert_int_equal(s, TSC_RATE_MEASURED_OVER);
	assert_int_equal(off, 16499);
	/* hardware: 0x15 exact, the PIT 0.05% off: CPUID's rate is kept (more precise) */
	assert_int_equal(tsc_rate_choose(2592000000ULL, 2593300000ULL, &s, &off), 2592000000ULL);
	assert_int_equal(s, TSC_RATE_CPUID);
	assert_int_equal(off, 0);
	/* the tolerance edge: 2.0% kept, 2.1% refused (both directions) */
	assert_int_equal(tsc_rate_choose(1020000000ULL, 1000000000ULL, &s, &off), 1020000000ULL);
	assert_int_equal(s, TSC_RATE_CPUID);
	assert_int_equal(off, 20);
	assert_int_equal(tsc_rate_choose(1021000000ULL, 1000000000ULL, &s, &off), 1000000000ULL);
	assert_int_equal(s, TSC_RATE_MEASURED_OVER);
	assert_int_equal(tsc_rate_choose(979000000ULL, 1000000000ULL, &s, NULL), 1000000000ULL);
	assert_int_equal(s, TSC_RATE_MEASURED_OVER);
	/* one source only */
	assert_int_equal(tsc_rate_choose(0, 200002000ULL, &s, &off), 200002000ULL);
	assert_int_equal(s, TSC_RATE_MEASURED);
	assert_int_equal(off, 0);
	assert_int_equal(tsc_rate_choose(3500000000ULL, 0, &s, NULL), 3500000000ULL);
	assert_int_equal(s, TSC_RATE_CPUID);
	assert_int_equal(tsc_rate_choose(0, 0, &s, NULL), 1000000000ULL);
	assert_int_equal(s, TSC_RATE_FALLBACK);
	/* no overflow at extreme values */
	assert_int_equal(tsc_rate_choose(~0ULL >> 8, 1, &s, &off), 1);
	assert_int_equal(s, TSC_RATE_MEASURED_OVER);
	assert_int_equal(tsc_rate_choose(1, ~0ULL >> 8, NULL, NULL), ~0ULL >> 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_cpuid),
		cmocka_unit_test(test_choose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
