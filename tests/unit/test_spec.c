/* Unit tests for vmm/spec.c: which speculation mitigation runs before VM entry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/spec.h"

#define ALL (CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAPS)
#define NOT_AFFECTED (ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO | \
		      ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO)

static void test_modes(void **st)
{
	(void)st;
	/* Skylake with microcode: L1TF affected, L1D_FLUSH there: flush (covers MDS) */
	assert_int_equal(spec_entry_mode(ALL, 0), SPEC_ENTRY_L1D_FLUSH);
	assert_int_equal(spec_entry_mode(CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH, 0), SPEC_ENTRY_L1D_FLUSH);
	/* Cascade Lake: RDCL_NO, MDS_NO, but TAA affected: VERW */
	assert_int_equal(spec_entry_mode(ALL, ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO), SPEC_ENTRY_VERW);
	/* the VMM may skip the flush (nested hypervisor told it): VERW if buffers still leak */
	assert_int_equal(spec_entry_mode(ALL, ARCH_CAP_SKIP_L1DFL_VMENTRY), SPEC_ENTRY_VERW);
	/* Ice Lake server and later: not affected */
	assert_int_equal(spec_entry_mode(ALL, NOT_AFFECTED), SPEC_ENTRY_NONE);
	/* MMIO stale data alone keeps VERW */
	assert_int_equal(spec_entry_mode(ALL, NOT_AFFECTED & ~ARCH_CAP_FBSDP_NO), SPEC_ENTRY_VERW);
	/* no microcode (no L1D_FLUSH, no MD_CLEAR): nothing can be done */
	assert_int_equal(spec_entry_mode(0, 0), SPEC_ENTRY_NONE);
	assert_int_equal(spec_entry_mode(CPUID7_EDX_MD_CLEAR, 0), SPEC_ENTRY_VERW);
	/* caps ignored without the ARCH_CAPABILITIES bit */
	assert_int_equal(spec_entry_mode(CPUID7_EDX_L1D_FLUSH, NOT_AFFECTED), SPEC_ENTRY_L1D_FLUSH);
	assert_non_null(spec_entry_name(SPEC_ENTRY_NONE));
	assert_non_null(spec_entry_name(SPEC_ENTRY_VERW));
}

#define SC (CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_SSBD | CPUID7_EDX_ARCH_CAPS)

static void test_exit(void **st)
{
	(void)st;
	struct spec_exit e;
	/* Skylake with microcode: legacy IBRS in hvmon, rewritten at every exit, RSB filled */
	spec_exit_policy(SC & ~CPUID7_EDX_ARCH_CAPS, 0, &e);
	assert_true(e.switch_spec_ctrl);
	assert_int_equal(e.host_spec_ctrl, SPEC_CTRL_IBRS);
	assert_true(e.legacy_ibrs);
	assert_true(e.rsb_fill);
	/* Cascade Lake / Ice Lake (Bochs corei7_icelake_u: ARCH_CAPABILITIES 0x1f): enhanced IBRS */
	spec_exit_policy(SC, 0x1f, &e);
	assert_true(e.switch_spec_ctrl);
	assert_int_equal(e.host_spec_ctrl, SPEC_CTRL_IBRS);
	assert_false(e.legacy_ibrs);
	assert_false(e.rsb_fill);
	/* eIBRS with PBRSB and RRSBA: still no fill (hvmon has no unbalanced RET after an exit) */
	spec_exit_policy(SC, ARCH_CAP_IBRS_ALL | ARCH_CAP_RRSBA, &e);
	assert_false(e.rsb_fill);
	assert_false(e.legacy_ibrs);
	/* IBRS_ALL without the IBRS CPUID bit is not enhanced IBRS */
	spec_exit_policy(CPUID7_EDX_SSBD | CPUID7_EDX_ARCH_CAPS, ARCH_CAP_IBRS_ALL, &e);
	assert_true(e.switch_spec_ctrl);           /* SSBD alone: the MSR exists */
	assert_int_equal(e.host_spec_ctrl, 0);
	assert_true(e.rsb_fill);
	/* caps ignored without the ARCH_CAPABILITIES bit */
	spec_exit_policy(SC & ~CPUID7_EDX_ARCH_CAPS, ARCH_CAP_IBRS_ALL, &e);
	assert_true(e.legacy_ibrs);
	assert_true(e.rsb_fill);
	/* no microcode / Bochs broadwell_ult, skylake_x: no SPEC_CTRL, RSB filled */
	spec_exit_policy(0, 0, &e);
	assert_false(e.switch_spec_ctrl);
	assert_int_equal(e.host_spec_ctrl, 0);
	assert_false(e.legacy_ibrs);
	assert_true(e.rsb_fill);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_modes), cmocka_unit_test(test_exit) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
