/* Unit tests for vmm/probe_filter.h (issue 16): probe_gpa_probed's lock-free
 * first answer — never "not probed" for a probed page, rarely "maybe" for
 * another, and a rebuild forgets removed pages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/probe_filter.h"

#define NP 16   /* PROBE_MAX_PAGES */

/* 16 probed pages (text-like, spread) plus their neighbours' offsets: every
 * address inside a probed page answers "maybe"; no false "not probed". */
static void test_no_false_negative(void **st)
{
	(void)st;
	struct probe_filter f = { { 0 } };
	uint64_t g[NP];
	bool used[NP];
	for (unsigned i = 0; i < NP; i++) {
		g[i] = 0x1000000ULL + (uint64_t)i * 0x37000ULL;
		used[i] = true;
	}
	probe_filter_build(&f, g, used, NP);
	for (unsigned i = 0; i < NP; i++)
		for (uint64_t off = 0; off < 0x1000; off += 8)
			assert_true(probe_filter_maybe(&f, g[i] + off));
}

/* Kernel-stack-like pages (a contiguous run of 64 MiB, none probed): a few per
 * cent at most answer "maybe" (1 024 bits, 16 pages set). */
static void test_false_positive_rate(void **st)
{
	(void)st;
	struct probe_filter f = { { 0 } };
	uint64_t g[NP];
	bool used[NP];
	for (unsigned i = 0; i < NP; i++) {
		g[i] = 0x1000000ULL + (uint64_t)i * 0x1000ULL;   /* 16 adjacent pages */
		used[i] = true;
	}
	probe_filter_build(&f, g, used, NP);
	unsigned maybe = 0, n = 0;
	for (uint64_t p = 0x40000000ULL; p < 0x44000000ULL; p += 0x1000, n++)
		maybe += probe_filter_maybe(&f, p);
	assert_true(n == 16384);
	assert_true(maybe * 100 <= n * 3);          /* <= 3 % */
	/* an empty set answers "not probed" everywhere */
	struct probe_filter e = { { 0 } };
	for (unsigned i = 0; i < NP; i++)
		used[i] = false;
	probe_filter_build(&e, g, used, NP);
	for (uint64_t p = 0; p < 0x4000000ULL; p += 0x1000)
		assert_false(probe_filter_maybe(&e, p));
}

/* A rebuild after a page left the table clears its bit (unless another page
 * shares it), and unused slots never count. */
static void test_rebuild_forgets(void **st)
{
	(void)st;
	struct probe_filter f = { { 0 } };
	uint64_t g[NP] = { 0 };
	bool used[NP] = { false };
	g[0] = 0x2345000ULL;
	g[1] = 0x7777000ULL;
	used[0] = used[1] = true;
	g[2] = 0x9999000ULL;                         /* not used: not in the set */
	probe_filter_build(&f, g, used, NP);
	assert_true(probe_filter_maybe(&f, 0x2345abcULL));
	assert_true(probe_filter_maybe(&f, 0x7777000ULL));
	if (probe_filter_bit(0x9999000ULL) != probe_filter_bit(0x2345000ULL) &&
	    probe_filter_bit(0x9999000ULL) != probe_filter_bit(0x7777000ULL))
		assert_false(probe_filter_maybe(&f, 0x9999000ULL));
	used[0] = false;
	probe_filter_build(&f, g, used, NP);
	assert_true(probe_filter_bit(0x2345000ULL) != probe_filter_bit(0x7777000ULL));
	assert_false(probe_filter_maybe(&f, 0x2345000ULL));
	assert_true(probe_filter_maybe(&f, 0x7777fffULL));
}

/* the bit depends on the page only, and stays below PROBE_FILTER_BITS */
static void test_bit_range(void **st)
{
	(void)st;
	for (uint64_t p = 0; p < (1ULL << 40); p += 0x1234567000ULL) {
		unsigned b = probe_filter_bit(p);
		assert_true(b < PROBE_FILTER_BITS);
		assert_int_equal(b, probe_filter_bit(p | 0xfff));
	}
	assert_true(probe_filter_bit(0xfffffffffffff000ULL) < PROBE_FILTER_BITS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_false_negative),
		cmocka_unit_test(test_false_positive_rate),
		cmocka_unit_test(test_rebuild_forgets),
		cmocka_unit_test(test_bit_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
