/* Unit tests for vmm/cr0.c: the guest's CR0 rules (mask, read view, write checks). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/cr0.h"

/* Bochs 2.7: IA32_VMX_CR0_FIXED0 0x80000021 (PE NE PG), FIXED1 0xffffffff; an
 * unrestricted guest drops PE/PG from fixed0. Real CPUs report the same. */
#define F0 (0x80000021ULL & ~(CR0_PE | CR0_PG))
#define F1 0xffffffffULL
#define LINUX_CR0 0x80050033ULL   /* PE MP ET NE WP AM PG (Linux CR0_STATE) */

static void test_mask_owns_fixed_and_cache_bits(void **st)
{
	(void)st;
	uint64_t m = cr0_guest_mask(F0, F1);
	assert_true(m & CR0_NE);                  /* fixed to 1 in VMX operation */
	assert_true(m & CR0_CD);
	assert_true(m & CR0_NW);
	assert_false(m & CR0_PE);                 /* unrestricted guest: its own */
	assert_false(m & CR0_PG);
	assert_false(m & (1ULL << 16));           /* WP: the guest's */
	assert_int_equal(m >> 32, 0);
	/* a bit FIXED1 forbids is owned too */
	assert_true(cr0_guest_mask(F0, F1 & ~(1ULL << 18)) & (1ULL << 18));
}

/* The 5.10 boot failure: hardware CR0 with CD=NW=1 (left by the host, not
 * loaded by VM entry), the guest's own value without them. */
static void test_view_hides_hardware_cache_bits(void **st)
{
	(void)st;
	uint64_t m = cr0_guest_mask(F0, F1);
	uint64_t hw = LINUX_CR0 | CR0_CD | CR0_NW;
	uint64_t v = cr0_guest_view(hw, LINUX_CR0, m);
	assert_int_equal(v, LINUX_CR0);
	/* the guest's own CD comes back as written */
	assert_int_equal(cr0_guest_view(LINUX_CR0, LINUX_CR0 | CR0_CD, m), LINUX_CR0 | CR0_CD);
	/* unowned bits come from hardware (e.g. TS after a CLTS-free path) */
	assert_int_equal(cr0_guest_view(LINUX_CR0 | 8, LINUX_CR0, m), LINUX_CR0 | 8);
}

/* Linux's MTRR sequence (prepare_set / post_set) on the guest's view. */
static void test_mtrr_sequence(void **st)
{
	(void)st;
	uint64_t m = cr0_guest_mask(F0, F1);
	uint64_t hw = LINUX_CR0 | CR0_CD | CR0_NW, shadow = LINUX_CR0;
	/* cr0 = read_cr0() | CD; write_cr0(cr0): no-fill mode */
	uint64_t val = cr0_guest_view(hw, shadow, m) | CR0_CD;
	struct cr0_write w = cr0_guest_write(val, F0, F1);
	assert_false(w.gp);
	assert_int_equal(w.shadow, LINUX_CR0 | CR0_CD);
	assert_int_equal(w.guest & (CR0_CD | CR0_NW), 0);   /* hardware cache mode untouched */
	shadow = w.shadow;
	/* write_cr0(read_cr0() & ~CD): back to normal, no #GP */
	val = cr0_guest_view(hw, shadow, m) & ~CR0_CD;
	w = cr0_guest_write(val, F0, F1);
	assert_false(w.gp);
	assert_int_equal(w.shadow, LINUX_CR0);
	assert_int_equal(cr0_guest_view(hw, w.shadow, m), LINUX_CR0);
}

static void test_write_checks(void **st)
{
	(void)st;
	/* NW without CD: #GP (SDM Vol. 3A 2.5) */
	assert_true(cr0_guest_write(LINUX_CR0 | CR0_NW, F0, F1).gp);
	/* CD with NW, CD alone: fine */
	assert_false(cr0_guest_write(LINUX_CR0 | CR0_NW | CR0_CD, F0, F1).gp);
	assert_false(cr0_guest_write(LINUX_CR0 | CR0_CD, F0, F1).gp);
	/* PG without PE */
	assert_true(cr0_guest_write(CR0_PG | CR0_ET, F0, F1).gp);
	/* bits 63:32 */
	assert_true(cr0_guest_write(LINUX_CR0 | (1ULL << 32), F0, F1).gp);
	/* real mode (unrestricted guest): PE=PG=0 allowed; NE forced in hardware only */
	struct cr0_write w = cr0_guest_write(CR0_ET, F0, F1);
	assert_false(w.gp);
	assert_int_equal(w.shadow, CR0_ET);
	assert_int_equal(w.guest, CR0_ET | CR0_NE);
	/* fixed1 clears a forbidden bit in hardware, the shadow keeps the guest's */
	w = cr0_guest_write(LINUX_CR0 | (1ULL << 18), F0, F1 & ~(1ULL << 18));
	assert_false(w.gp);
	assert_int_equal(w.guest & (1ULL << 18), 0);
	assert_true(w.shadow & (1ULL << 18));
}

/* Exhaustive over the architecturally meaningful bits: #GP exactly on the
 * invalid combinations; otherwise the guest reads back what it wrote and the
 * hardware value satisfies the fixed bits with CD/NW clear. */
static void test_property(void **st)
{
	(void)st;
	static const uint64_t bits[] = { CR0_PE, 2, 4, 8, CR0_ET, CR0_NE, 1ULL << 16, 1ULL << 18,
					 CR0_NW, CR0_CD, CR0_PG };
	uint64_t m = cr0_guest_mask(F0, F1);
	for (unsigned k = 0; k < (1u << 11); k++) {
		uint64_t val = 0;
		for (unsigned b = 0; b < 11; b++)
			if (k & (1u << b)) val |= bits[b];
		struct cr0_write w = cr0_guest_write(val, F0, F1);
		bool bad = ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD));
		assert_int_equal(w.gp, bad);
		if (bad)
			continue;
		/* whatever the hardware CD/NW are, the guest reads its own value */
		for (uint64_t hwc = 0; hwc < 4; hwc++) {
			uint64_t hw = w.guest | (hwc & 1 ? CR0_CD : 0) | (hwc & 2 ? CR0_NW : 0);
			assert_int_equal(cr0_guest_view(hw, w.shadow, m), val | (w.guest & ~m & ~val));
		}
		assert_int_equal(w.guest & F0, F0);
		assert_int_equal(w.guest & ~F1, 0);
		assert_int_equal(w.guest & (CR0_CD | CR0_NW), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_owns_fixed_and_cache_bits),
		cmocka_unit_test(test_view_hides_hardware_cache_bits),
		cmocka_unit_test(test_mtrr_sequence),
		cmocka_unit_test(test_write_checks),
		cmocka_unit_test(test_property),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
