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

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_modes) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
