/* Unit tests for boot/uefi/vtx.c: the VT-x verdict from CPUID/MSR values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "boot/uefi/vtx.h"

#define P1_SEC   ((uint64_t)PROC_ACTIVATE_SECONDARY << 32)
#define P2(bits) ((uint64_t)(bits) << 32)

static void check(uint32_t ecx, uint64_t fc, uint64_t p1, uint64_t p2,
		  int ok, enum uefi_vtx_verdict v, const char *needle)
{
	struct uefi_vtx_status st;

	memset(&st, 0xcc, sizeof(st));
	uefi_vtx_decide(ecx, fc, p1, p2, &st);
	assert_int_equal(st.ok, ok);
	assert_int_equal(st.verdict, v);
	assert_non_null(st.reason);
	if (!strstr(st.reason, needle))
		fail_msg("reason '%s' lacks '%s'", st.reason, needle);
}

static void test_verdicts(void **s)
{
	(void)s;
	const uint64_t good2 = P2(PROC2_EPT | PROC2_UNRESTRICTED);

	check(0, 0, 0, 0, 0, UEFI_VTX_NO_VMX, "CPUID.1:ECX.VMX = 0");
	/* MSR values are ignored without VMX */
	check(~CPUID1_ECX_VMX, 5, P1_SEC, good2, 0, UEFI_VTX_NO_VMX, "no VT-x");
	check(CPUID1_ECX_VMX, FC_LOCKED, P1_SEC, good2, 0, UEFI_VTX_LOCKED_OFF, "locked");
	check(CPUID1_ECX_VMX, FC_LOCKED | 2 /* SMX only */, P1_SEC, good2, 0, UEFI_VTX_LOCKED_OFF,
	      "firmware setup");
	check(CPUID1_ECX_VMX, 0, P1_SEC, good2, 1, UEFI_VTX_OK, "EPT");            /* Bochs: unlocked 0 */
	check(CPUID1_ECX_VMX, FC_LOCKED | FC_VMX_OUTSIDE_SMX, P1_SEC, good2, 1, UEFI_VTX_OK, "EPT");
	check(CPUID1_ECX_VMX, FC_VMX_OUTSIDE_SMX, 0xffffffffULL /* allowed-0 only */, good2, 0,
	      UEFI_VTX_NO_SECONDARY, "secondary");
	check(CPUID1_ECX_VMX, 0, P1_SEC, P2(PROC2_UNRESTRICTED) | 0xffffffffULL, 0, UEFI_VTX_NO_EPT,
	      "without EPT");
	check(CPUID1_ECX_VMX, 0, P1_SEC, P2(PROC2_EPT), 0, UEFI_VTX_NO_UNRESTRICTED,
	      "unrestricted guest");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
	};
	return cmocka_run_group_tests_name("uefi_vtx", tests, NULL, NULL);
}
