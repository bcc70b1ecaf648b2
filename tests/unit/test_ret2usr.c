/* Unit tests for monitors/ret2usr_core.c: CR4 pinning and the #PF classification. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "monitors/ret2usr.h"

#define SMEP X86_CR4_SMEP
#define SMAP X86_CR4_SMAP
#define PAE  (1ULL << 5)

static void test_pin_after_enable(void **st)
{
	(void)st;
	struct r2u_pin p = { 0 };
	struct r2u_cr4_result r;
	r2u_cr4_write(&p, PAE, PAE, &r);                       /* nothing enabled yet: free */
	assert_false(r.tamper);
	assert_int_equal(r.shadow, PAE);
	r2u_cr4_write(&p, PAE, PAE | SMEP | SMAP, &r);         /* guest enables them */
	assert_false(r.tamper);
	assert_int_equal(r.shadow, PAE | SMEP | SMAP);
	r2u_cr4_write(&p, PAE | SMEP | SMAP, PAE | SMAP, &r);  /* clear SMEP: attack */
	assert_true(r.tamper);
	assert_int_equal(r.shadow, PAE | SMEP | SMAP);         /* does not take effect */
	r2u_cr4_write(&p, PAE | SMEP | SMAP, PAE | SMEP, &r);  /* clear SMAP: attack */
	assert_true(r.tamper);
	assert_int_equal(r.shadow, PAE | SMEP | SMAP);
	r2u_cr4_write(&p, PAE | SMEP | SMAP, PAE | SMEP | SMAP | (1ULL << 7), &r);  /* PGE: fine */
	assert_false(r.tamper);
}

static void test_pinned_from_old_value(void **st)
{
	(void)st;
	struct r2u_pin p = { 0 };
	struct r2u_cr4_result r;
	/* SMEP set in the guest's view before hvmon saw a write (boot value) */
	r2u_cr4_write(&p, SMEP, 0, &r);
	assert_true(r.tamper);
	assert_int_equal(r.shadow, SMEP);
}

static void test_nosmep_guest(void **st)
{
	(void)st;
	struct r2u_pin p = { .force_smep = true };
	struct r2u_cr4_result r;
	r2u_cr4_write(&p, PAE, PAE | SMAP, &r);                /* guest without SMEP */
	assert_false(r.tamper);
	assert_int_equal(r.shadow & SMEP, 0);                   /* guest view: no SMEP */
	assert_int_equal(r.real_extra, SMEP);                   /* real CR4: SMEP */
	r2u_cr4_write(&p, PAE | SMAP, PAE, &r);
	assert_true(r.tamper);                                  /* SMAP was enabled: pinned */
}

static void test_classify_pf(void **st)
{
	(void)st;
	/* supervisor fetch of a present user page: SMEP */
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0x7f0000001000ULL, false), R2U_PF_SMEP);
	/* supervisor fetch of an unmapped user address */
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID, 0x400000ULL, false), R2U_PF_USER_UNMAPPED);
	/* supervisor fetch in the kernel half (NX kernel page): not ours */
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0xffffffff81000000ULL, false), R2U_PF_REFLECT);
	/* user-mode fetch, supervisor data access: not ours */
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_US | X86_PFEC_P, 0x400000ULL, false), R2U_PF_REFLECT);
	assert_int_equal(r2u_classify_pf(X86_PFEC_P | X86_PFEC_WR, 0x400000ULL, false), R2U_PF_REFLECT);
	/* reserved-bit fault: page-table corruption, not ret2usr */
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P | X86_PFEC_RSVD, 0x400000ULL, false), R2U_PF_REFLECT);
	/* the exit filter the hardware applies agrees with the classification */
	assert_int_equal(R2U_PFEC_MASK, X86_PFEC_ID | X86_PFEC_US);
	assert_int_equal(R2U_PFEC_MATCH, X86_PFEC_ID);
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0x00007fffffffffffULL, false), R2U_PF_SMEP);
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0x0000800000000000ULL, false), R2U_PF_REFLECT);
	/* 5-level paging (CR4.LA57): the user half reaches 2^56 - 1 (issue 15 item 5) */
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0x0000800000000000ULL, true), R2U_PF_SMEP);
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID, 0x00ffffffffffffffULL, true), R2U_PF_USER_UNMAPPED);
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0x0100000000000000ULL, true), R2U_PF_REFLECT);
	assert_int_equal(r2u_classify_pf(X86_PFEC_ID | X86_PFEC_P, 0xff00000000000000ULL, true), R2U_PF_REFLECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_after_enable),
		cmocka_unit_test(test_pinned_from_old_value),
		cmocka_unit_test(test_nosmep_guest),
		cmocka_unit_test(test_classify_pf),
	};
	return cmocka_run_group_tests_name("ret2usr", tests, NULL, NULL);
}
