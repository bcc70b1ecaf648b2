/* Unit tests for lib/tickhist.h: bucket bounds, the median's error bound, percentiles. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/tickhist.h"

/* Every value falls into the bucket whose [lower, lower + width) holds it. */
static void test_buckets_cover_values(void **st)
{
	(void)st;
	uint64_t vals[] = { 0, 1, 31, 32, 33, 47, 63, 64, 65, 1499, 1500, 1501, 6000, 24591,
			    (1ull << 27) + 12345, (1ull << 28) - 1 };
	for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		unsigned b = tickhist_bucket(vals[i]);
		uint64_t w, lo = tickhist_lower(b, &w);
		assert_true(b < TICKHIST_BUCKETS - 1);
		assert_true(vals[i] >= lo);
		assert_true(vals[i] < lo + w);
		assert_true(w * 16 <= (lo > 16 ? lo : 16));           /* <= 1/16 of the bound */
	}
	assert_int_equal(tickhist_bucket(1ull << 28), TICKHIST_BUCKETS - 1);
	assert_int_equal(tickhist_bucket(UINT64_MAX), TICKHIST_BUCKETS - 1);
	/* buckets are ordered: a larger value never lands in a lower bucket */
	unsigned prev = 0;
	for (uint64_t v = 0; v < 200000; v += 7) {
		unsigned b = tickhist_bucket(v);
		assert_true(b >= prev);
		prev = b;
	}
}

static void test_median_within_bound(void **st)
{
	(void)st;
	struct tickhist h = { 0 };
	assert_int_equal(tickhist_median(&h), 0);
	/* 3 slow outliers do not move the median of 7 samples, unlike a mean */
	uint64_t s[] = { 1400, 1410, 1390, 1420, 90000, 2000000, 2500000 };
	for (unsigned i = 0; i < 7; i++)
		tickhist_add(&h, s[i]);
	assert_int_equal(tickhist_count(&h), 7);
	uint64_t m = tickhist_median(&h);             /* exact: 1420 */
	assert_true(m * 1000 >= 1420 * 968 && m * 1000 <= 1420 * 1032);
	/* pseudo-random samples: the median is within 3.2 % of the exact one */
	struct tickhist g = { 0 };
	static uint64_t v[1001];
	uint64_t x = 88172645463325252ull;
	for (unsigned i = 0; i < 1001; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		v[i] = 500 + x % 30000;
		tickhist_add(&g, v[i]);
	}
	unsigned below = 0;                           /* exact median by counting */
	uint64_t med = 0;
	for (unsigned i = 0; i < 1001; i++) {
		below = 0;
		for (unsigned j = 0; j < 1001; j++)
			below += v[j] < v[i];
		if (below <= 500 && below + 1 > 500) {
			unsigned eq = 0;
			for (unsigned j = 0; j < 1001; j++)
				eq += v[j] == v[i];
			if (below + eq > 500) {
				med = v[i];
				break;
			}
		}
	}
	assert_true(med != 0);
	m = tickhist_median(&g);
	assert_true(m * 1000 >= med * 968 && m * 1000 <= med * 1032);
}

static void test_percentiles(void **st)
{
	(void)st;
	struct tickhist h = { 0 };
	for (uint64_t i = 1; i <= 100; i++)
		tickhist_add(&h, i * 100);            /* 100 .. 10000 */
	uint64_t p10 = tickhist_percentile(&h, 10), p90 = tickhist_percentile(&h, 90);
	assert_true(p10 * 1000 >= 1000 * 968 && p10 * 1000 <= 1000 * 1032);
	assert_true(p90 * 1000 >= 9000 * 968 && p90 * 1000 <= 9000 * 1032);
	assert_int_equal(tickhist_percentile(&h, 0), 0);
	assert_int_equal(tickhist_percentile(&h, 100), 0);
	/* exact small values */
	struct tickhist s = { 0 };
	tickhist_add(&s, 5);
	tickhist_add(&s, 7);
	tickhist_add(&s, 9);
	assert_int_equal(tickhist_median(&s), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_cover_values),
		cmocka_unit_test(test_median_within_bound),
		cmocka_unit_test(test_percentiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
