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

/* CPUID.(EAX=0DH,ECX=i) sizes and ECX[1] of a Skylake-X (components 2-9) and
 * of a Sapphire Rapids (+ AMX 17-18, TILECFG 64-byte aligned). */
static const struct xsave_comp skx[] = {
	[2] = { 256, 0 }, [3] = { 64, 0 }, [4] = { 64, 0 }, [5] = { 64, 0 },
	[6] = { 512, 0 }, [7] = { 1024, 0 }, [8] = { 128, 0 }, [9] = { 8, 0 },
};
static const struct xsave_comp spr[] = {
	[2] = { 256, 0 }, [5] = { 64, 0 }, [6] = { 512, 0 }, [7] = { 1024, 0 }, [8] = { 128, 0 },
	[9] = { 8, 0 }, [17] = { 64, 1 }, [18] = { 8192, 0 },
};

static void test_compacted_size(void **st)
{
	(void)st;
	assert_int_equal(xsave_compacted_size(0x3, skx, 10), 576);          /* x87 + SSE: legacy + header */
	assert_int_equal(xsave_compacted_size(0x7, skx, 10), 832);          /* + AVX (the standard size too) */
	/* Linux on Skylake-X, AVX-512 without MPX: 576 + 256 + 64 + 512 + 1024. The
	 * standard format puts the AVX-512 states after MPX's hole (2688): Bochs 2.7
	 * reports that in CPUID.(0DH,1):EBX, which made Linux turn XSAVE off */
	assert_int_equal(xsave_compacted_size(0xe7, skx, 10), 2432);
	assert_int_equal(xsave_compacted_size(0x2e7, skx, 10), 2440);       /* + PKRU: Linux's "context size is 2440" */
	assert_int_equal(xsave_compacted_size(0x1e7, skx, 10), 2560);       /* + PT (XSS bit 8) */
	assert_int_equal(xsave_compacted_size(0x1f, skx, 10), 960);         /* MPX in the middle */
	/* AMX: TILECFG aligned to 64 after PKRU's 8 bytes (2440 -> 2496) */
	assert_int_equal(xsave_compacted_size(0x602e7, spr, 19), 2496 + 64 + 8192);
	assert_int_equal(xsave_compacted_size(0x202e7, spr, 19), 2496 + 64);
	/* an unknown component: the size cannot be known */
	assert_int_equal(xsave_compacted_size(0x1f, spr, 19), 0);           /* MPX absent on SPR */
	assert_int_equal(xsave_compacted_size(0x7 | (1ULL << 40), skx, 10), 0);
	assert_int_equal(xsave_compacted_size(0x7, NULL, 0), 0);
	assert_int_equal(xsave_compacted_size(0x3, NULL, 0), 576);
	/* bit 63 (XCOMP_BV's format flag) is not a component */
	assert_int_equal(xsave_compacted_size(0xe7 | (1ULL << 63), skx, 10), 2432);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_exhaustive),
		cmocka_unit_test(test_compacted_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
