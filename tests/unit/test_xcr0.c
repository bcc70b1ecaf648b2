/* Unit tests for vmm/xcr0.c: every XCR0 rule of SDM Vol. 1 13.3, on the
 * CPUID.0DH masks of a Skylake-X (AVX-512, MPX, PKRU: 0x2ff) and a Sapphire
 * Rapids (+ AMX: 0x602e7), and an exhaustive check of the low 19 bits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/xcr0.h"

#define SKX 0x2ffULL
#define SPR 0x602e7ULL

static void test_valid(void **st)
{
	(void)st;
	assert_null(xcr0_check(0, 0x1, SKX));                  /* x87 only */
	assert_null(xcr0_check(0, 0x3, SKX));
	assert_null(xcr0_check(0, 0x7, SKX));                  /* Linux without AVX-512 */
	assert_null(xcr0_check(0, 0xe7, SKX));                 /* Linux on Skylake-X */
	assert_null(xcr0_check(0, 0x2ff, SKX));                /* everything */
	assert_null(xcr0_check(0, 0x602e7, SPR));              /* AMX */
	assert_null(xcr0_check(0, 0x19, SKX));                 /* MPX pair without AVX */
}

static void test_invalid(void **st)
{
	(void)st;
	assert_non_null(xcr0_check(1, 0x7, SKX));              /* XCR1 is not writable */
	assert_non_null(xcr0_check(0, 0x6, SKX));              /* no x87 */
	assert_non_null(xcr0_check(0, 0x5, SKX));              /* AVX without SSE */
	assert_non_null(xcr0_check(0, 0x27, SKX));             /* opmask alone */
	assert_non_null(xcr0_check(0, 0x67, SKX));             /* 5-6 without 7 */
	assert_non_null(xcr0_check(0, 0xe3, SKX));             /* AVX-512 without AVX */
	assert_non_null(xcr0_check(0, 0xe5, SKX));             /* AVX-512 without SSE (and AVX without SSE) */
	assert_non_null(xcr0_check(0, 0xe1, SKX));
	assert_non_null(xcr0_check(0, 0xf, SKX));              /* BNDREGS alone */
	assert_non_null(xcr0_check(0, 0x17, SKX));             /* BNDCSR alone */
	assert_non_null(xcr0_check(0, 0x20007, SPR));          /* XTILECFG alone */
	assert_non_null(xcr0_check(0, 0x40007, SPR));          /* XTILEDATA alone */
	assert_non_null(xcr0_check(0, 0x60007, SKX));          /* AMX not supported */
	assert_non_null(xcr0_check(0, 0x107, SKX));            /* PT: supervisor state, never in XCR0 */
	assert_non_null(xcr0_check(0, 0x8000000000000007ULL, ~0ULL & ~(1ULL << 63)));
	assert_non_null(xcr0_check(0, 0xe7, 0x7));             /* AVX-512 on a CPU without it */
}

/* Every value of the low 19 bits on SPR: valid iff a direct restatement says so. */
static void test_exhaustive(void **st)
{
	(void)st;
	for (uint64_t v = 0; v < (1u << 19); v++) {
		int ok = (v & 1) && !(v & ~SPR) && (!(v & 4) || (v & 2)) &&
			 ((v & 0xe0) == 0 || ((v & 0xe0) == 0xe0 && (v & 6) == 6)) &&
			 (((v >> 3) & 1) == ((v >> 4) & 1)) && (((v >> 17) & 1) == ((v >> 18) & 1));
		assert_int_equal(xcr0_check(0, v, SPR) == NULL, ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
