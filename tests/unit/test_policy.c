/* Unit tests for vmm/policy.c: VMX control derivation, CPUID policy, MSR policy and bitmap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/policy.h"

static void test_ctl_derive(void **st)
{
	(void)st;
	uint32_t v, miss;
	/* allowed0 = 0x16 (must be 1), allowed1 = 0xfff9fffe (bit 0, 17, 18 may not be 1) */
	uint64_t cap = ((uint64_t)0xfff9fffe << 32) | 0x16;
	assert_int_equal(vmx_ctl_derive(cap, 0x80000000, 0x1, &v, &miss), 0);
	assert_int_equal(v, 0x80000016);            /* optional bit 0 dropped, fixed-1 bits added */
	assert_int_equal(miss, 0);
	assert_int_equal(vmx_ctl_derive(cap, (1u << 17) | (1u << 3), 0, &v, &miss), -1);
	assert_int_equal(miss, 1u << 17);
	assert_int_equal(vmx_first_bit(miss), 17);
	assert_int_equal(vmx_first_bit(0), 32);
	/* randomized property: value within allowed1, contains allowed0, contains every allowed required bit */
	srand(1);
	for (int i = 0; i < 10000; i++) {
		uint32_t a0 = rand() & rand(), a1 = (rand() | a0), req = rand() & rand() & rand(), opt = rand();
		int rc = vmx_ctl_derive(((uint64_t)a1 << 32) | a0, req, opt, &v, &miss);
		assert_int_equal(v & ~a1, 0);
		assert_int_equal(v & a0, a0);
		assert_int_equal(v & req & a1, req & a1);
		assert_int_equal(rc == 0, (req & ~a1) == 0);
		assert_int_equal(miss, req & ~a1);
	}
}

static void test_ctl_msr_and_names(void **st)
{
	(void)st;
	assert_int_equal(vmx_ctl_msr(VMX_CTL_PIN, 0), 0x481);
	assert_int_equal(vmx_ctl_msr(VMX_CTL_PIN, VMX_BASIC_TRUE_CTLS), 0x48d);
	assert_int_equal(vmx_ctl_msr(VMX_CTL_PROC, VMX_BASIC_TRUE_CTLS), 0x48e);
	assert_int_equal(vmx_ctl_msr(VMX_CTL_PROC2, VMX_BASIC_TRUE_CTLS), 0x48b);
	assert_int_equal(vmx_ctl_msr(VMX_CTL_EXIT, 0), 0x483);
	assert_int_equal(vmx_ctl_msr(VMX_CTL_ENTRY, VMX_BASIC_TRUE_CTLS), 0x490);
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 1), "secondary: enable EPT");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 7), "secondary: unrestricted guest");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC, 28), "primary: use MSR bitmaps");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_ENTRY, 9), "entry: IA-32e mode guest");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_EXIT, 9), "exit: host address-space size");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PIN, 1), "pin: unnamed bit");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_NR, 1), "unknown control kind");
}

static void test_cr_fixed(void **st)
{
	(void)st;
	/* typical: CR0 fixed0 = PE|NE|PG, fixed1 = all ones */
	uint64_t f0 = 0x80000021, f1 = 0xffffffff;
	assert_int_equal(vmx_cr_fix(0x10, f0, f1), 0x80000031);
	assert_int_equal(vmx_cr_fix(0x10, vmx_cr0_fixed0_unrestricted(f0), f1), 0x30);
	assert_int_equal(vmx_cr_fix(0x3ffff | (1ULL << 40), 0x2000, 0x3fffff), 0x3ffff);
}

static void test_cpuid(void **st)
{
	(void)st;
	struct cpuid_guest_state g = { .cr4 = 0 };
	struct cpuid_regs r = { 0x000306a9, 0x01000800, 0xffffffff, 0xbfebfbff };
	cpuid_policy_apply(1, 0, &g, &r);
	assert_int_equal(r.ecx & CPUID1_ECX_VMX, 0);
	assert_int_equal(r.ecx & CPUID1_ECX_SMX, 0);
	assert_int_equal(r.ecx & CPUID1_ECX_HYPERVISOR, 0);
	assert_int_equal(r.ecx & CPUID1_ECX_OSXSAVE, 0);          /* guest CR4.OSXSAVE clear */
	assert_int_equal(r.ecx & (CPUID1_ECX_DTES64 | CPUID1_ECX_DSCPL), 0);   /* DS hidden (issue 17) */
	assert_int_equal(r.ecx & CPUID1_ECX_MONITOR, 0);                       /* MWAIT hidden */
	assert_int_equal(r.ecx | CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_HYPERVISOR | CPUID1_ECX_OSXSAVE |
			 CPUID1_ECX_DTES64 | CPUID1_ECX_DSCPL | CPUID1_ECX_MONITOR, 0xffffffff);
	assert_int_equal(r.eax, 0x000306a9);
	assert_int_equal(r.edx, 0xbfebfbff & ~CPUID1_EDX_DS);
	g.cr4 = CR4_OSXSAVE;
	r.ecx = 0xffffffff;
	cpuid_policy_apply(1, 0, &g, &r);
	assert_true(r.ecx & CPUID1_ECX_OSXSAVE);
	r.ecx = CPUID1_ECX_OSXSAVE;                                 /* no XSAVE: never OSXSAVE */
	cpuid_policy_apply(1, 0, &g, &r);
	assert_int_equal(r.ecx, 0);
	/* leaf 7: OSPKE follows guest CR4.PKE; other bits untouched */
	struct cpuid_regs r7 = { 0, 0x12345678, 0xffffffff, 0x87654321 };
	g.cr4 = 0;
	cpuid_policy_apply(7, 0, &g, &r7);
	assert_int_equal(r7.ecx, 0xffffffff & ~(CPUID7_ECX_OSPKE | CPUID7_ECX_WAITPKG));
	assert_int_equal(r7.ebx, 0x12345678 & ~CPUID7_EBX_PT);
	r7.ebx = 0xffffffff;
	cpuid_policy_apply(7, 0, &g, &r7);
	assert_int_equal(r7.ebx, 0xffffffff & ~CPUID7_EBX_PT);       /* PT hidden (issue 17) */
	struct cpuid_regs mw = { 0x40, 0x40, 3, 0x1120 };
	cpuid_policy_apply(5, 0, &g, &mw);
	assert_int_equal(mw.eax | mw.ebx | mw.ecx | mw.edx, 0);
	struct cpuid_regs pt = { 1, 2, 3, 4 };
	cpuid_policy_apply(0x14, 0, &g, &pt);
	assert_int_equal(pt.eax | pt.ebx | pt.ecx | pt.edx, 0);
	struct cpuid_regs xs = { 0xf, 0, 0x1900, 0 };
	cpuid_policy_apply(0xd, 1, &g, &xs);
	assert_int_equal(xs.ecx, 0x1800);                           /* XSS: CET kept, PT gone */
	g.cr4 = CR4_PKE;
	r7.ecx = 0;
	cpuid_policy_apply(7, 0, &g, &r7);
	assert_int_equal(r7.ecx, CPUID7_ECX_OSPKE);
	r7.ecx = 0;
	cpuid_policy_apply(7, 1, &g, &r7);                          /* other subleaf untouched */
	assert_int_equal(r7.ecx, 0);
	/* pass-through leaves */
	struct cpuid_regs h = { 1, 2, 3, 4 };
	cpuid_policy_apply(0x40000000, 0, &g, &h);
	assert_int_equal(h.eax + h.ebx + h.ecx + h.edx, 10);
	/* NULL guest state: VMX still hidden, OSXSAVE as hardware said */
	struct cpuid_regs r1 = { 0, 0, 0xffffffff, 0 };
	cpuid_policy_apply(1, 0, NULL, &r1);
	assert_int_equal(r1.ecx & CPUID1_ECX_VMX, 0);
	assert_true(r1.ecx & CPUID1_ECX_OSXSAVE);
}

static void test_msr_policy(void **st)
{
	(void)st;
	for (uint32_t m = 0x480; m <= 0x493; m++) {
		assert_int_equal(msr_policy_read(m), MSR_GP);
		assert_int_equal(msr_policy_write(m), MSR_GP);
	}
	/* deny by default: an unlisted MSR is read by hvmon, a write is refused */
	assert_null(msr_policy_lookup(0x4ff));
	assert_int_equal(msr_policy_read(0x4ff), MSR_PERFORM);
	assert_int_equal(msr_policy_write(0x47f + 0x100), MSR_GP);
	assert_int_equal(msr_policy_read(0x494), MSR_PERFORM);
	assert_int_equal(msr_policy_write(0x4000), MSR_GP);
	assert_int_equal(msr_policy_write(0xe1), MSR_GP);           /* UMWAIT_CONTROL: WAITPKG hidden */
	assert_int_equal(msr_policy_read(0x3a), MSR_EMULATE);
	assert_int_equal(msr_policy_write(0x3a), MSR_GP);
	assert_int_equal(msr_policy_read(0xc0000082), MSR_PASS);
	assert_int_equal(msr_policy_write(0xc0000082), MSR_OBSERVE);
	/* the issue-17 MSRs */
	assert_int_equal(msr_policy_read(0x10), MSR_PASS);          /* TSC: reads include the offset */
	assert_int_equal(msr_policy_write(0x10), MSR_CHECK);
	assert_int_equal(msr_policy_read(0x3b), MSR_CHECK);         /* TSC_ADJUST emulated */
	assert_int_equal(msr_policy_write(0x3b), MSR_CHECK);
	assert_int_equal(msr_policy_write(0x1b), MSR_CHECK);        /* APIC_BASE */
	assert_int_equal(msr_policy_read(0x1b), MSR_PASS);
	static const uint32_t refused[] = { 0x560, 0x561, 0x570, 0x571, 0x572, 0x580, 0x587, /* PT */
					    0x600, 0x3f1, 0x3f6, 0x3f7, 0x79 };
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(msr_policy_write(refused[i]), MSR_GP);
		assert_int_equal(msr_policy_read(refused[i]), MSR_GP);
	}
	for (uint32_t m = 0x200; m <= 0x21f; m++) {
		assert_true(msr_is_mtrr(m));
		assert_int_equal(msr_policy_write(m), MSR_CHECK);
	}
	assert_true(msr_is_mtrr(0x2ff) && msr_is_mtrr(0x250) && msr_is_mtrr(0x26f));
	assert_false(msr_is_mtrr(0x277) || msr_is_mtrr(0x220) || msr_is_mtrr(0xfe));
	/* hot and VMCS-switched MSRs pass both ways (an exit would cost, or leak hvmon's value) */
	static const uint32_t pass[] = { 0x6e0, 0x830, 0x80b, 0x48, 0x49, 0x174, 0x1d9, 0x277,
					 0xc0000080, 0xc0000100, 0xc0000101, 0xc0000102, 0xe7, 0xe8 };
	for (unsigned i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		assert_int_equal(msr_policy_read(pass[i]), MSR_PASS);
		assert_int_equal(msr_policy_write(pass[i]), MSR_PASS);
	}
	/* MSRs Linux writes with a plain (unchecked) WRMSR on Intel hardware that the
	 * default would refuse: perf (OFFCORE_RSP, PERF_METRICS, fixed counter 3,
	 * GLOBAL_STATUS_SET/INUSE, arch LBRs), AMX (XFD), TSX_FORCE_ABORT */
	static const uint32_t linux_wrmsr[] = { 0x4e, 0x4f, 0x1a6, 0x1a7, 0x329, 0x30c, 0x391, 0x392, 0x14ce, 0x14cf,
						0x1200, 0x121f, 0x1500, 0x161f, 0x1c4, 0x1c5, 0x10f };
	for (unsigned i = 0; i < sizeof(linux_wrmsr) / sizeof(linux_wrmsr[0]); i++) {
		assert_int_equal(msr_policy_read(linux_wrmsr[i]), MSR_PASS);
		assert_int_equal(msr_policy_write(linux_wrmsr[i]), MSR_PASS);
	}
	assert_int_equal(msr_policy_write(0x1220), MSR_GP);         /* beyond the 32 arch LBRs */
	/* AMD MSRs: #GP both ways, not reported (Bochs answers DE_CFG 0xc0011029; Linux
	 * then wrote it back after S3: "unchecked MSR access") */
	static const uint32_t amd[] = { 0xc0010000, 0xc0010015, 0xc0011020, 0xc0011029, 0xc001ffff };
	for (unsigned i = 0; i < sizeof(amd) / sizeof(amd[0]); i++) {
		assert_int_equal(msr_policy_read(amd[i]), MSR_ABSENT);
		assert_int_equal(msr_policy_write(amd[i]), MSR_ABSENT);
	}
	assert_int_equal(msr_policy_read(0xc0020000), MSR_PERFORM);
	assert_int_equal(msr_policy_write(0xc000ffff), MSR_GP);
	assert_int_equal(msr_feature_control_guest(0x5), 0x1);
	assert_int_equal(msr_feature_control_guest(0x0), 0x1);
	assert_int_equal(msr_feature_control_guest((1ULL << 20) | 7), (1ULL << 20) | 1);
}

/* the one table: every line has a reason, valid actions, no overlap with another */
static void test_msr_table(void **st)
{
	(void)st;
	uint32_t n;
	const struct msr_rule *t = msr_policy_table(&n);
	assert_non_null(t);
	assert_true(n >= 40);
	for (uint32_t i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_true(strlen(t[i].name) > 10);
		assert_true(t[i].first <= t[i].last);
		assert_true(t[i].read <= MSR_ABSENT && t[i].write <= MSR_ABSENT);
		assert_true(t[i].read != MSR_OBSERVE);              /* observing is for writes */
		for (uint32_t j = i + 1; j < n; j++)
			assert_true(t[i].last < t[j].first || t[j].last < t[i].first);
		assert_ptr_equal(msr_policy_lookup(t[i].first), &t[i]);
		assert_ptr_equal(msr_policy_lookup(t[i].last), &t[i]);
	}
}

static void test_msr_checks(void **st)
{
	(void)st;
	uint64_t out;
	/* APIC_BASE: enable/x2APIC/BSP bits may change, the base may not */
	assert_true(msr_apic_base_write_ok(0xfee00900, 0xfee00d00));   /* x2APIC on */
	assert_true(msr_apic_base_write_ok(0xfee00900, 0xfee00100));   /* disabled */
	assert_false(msr_apic_base_write_ok(0xfee00900, 0x1dc00900));  /* moved onto hvmon */
	assert_false(msr_apic_base_write_ok(0xfee00900, 0xfee01900));
	assert_false(msr_apic_base_write_ok(0xfee00900, 0xfee00901));  /* reserved bit */
	/* MISC_ENABLE: BTS/PEBS unavailable in reads; XD-disable refused; RO bits kept */
	assert_int_equal(msr_misc_enable_guest(0x850089), 0x851889);
	assert_int_equal(msr_misc_enable_write(0x850089, 0x850089 | (1ULL << 34), &out), -1);
	assert_int_equal(msr_misc_enable_write(0x850089, 0x851888, &out), 0);
	assert_int_equal(out, 0x850088);
	assert_int_equal(msr_misc_enable_write(0x851889, 0x850889, &out), 0);
	assert_int_equal(out, 0x851889);
	/* MTRRs: a change is dropped; reported unless it clears DEF_TYPE.E (the update
	 * sequence's disable step Linux runs at every CPU start: 0xc06 -> 0 -> 0xc06) */
	assert_false(msr_mtrr_change_reported(0x2ff, 0xc06, 0xc06));
	assert_false(msr_mtrr_change_reported(0x2ff, 0xc06, 0));
	assert_false(msr_mtrr_change_reported(0x2ff, 0xc06, 0x406));
	assert_true(msr_mtrr_change_reported(0x2ff, 0xc06, 0xc00));     /* default type UC */
	assert_true(msr_mtrr_change_reported(0x2ff, 0x806, 0xc06));     /* fixed range on */
	assert_true(msr_mtrr_change_reported(0x200, 0x6, 0x0));         /* a variable range */
	assert_false(msr_mtrr_change_reported(0x200, 0x6, 0x6));
	assert_true(msr_mtrr_change_reported(0x201, 0xfff800800, 0));   /* its mask: range off */
	/* XSS: PT state refused, CET states allowed */
	assert_false(msr_xss_write_ok(1ULL << 8));
	assert_true(msr_xss_write_ok((1ULL << 11) | (1ULL << 12)));
	assert_true(msr_xss_write_ok(0));
	/* I/O MWAIT redirection (issue 17): PKG_CST_CONFIG_CONTROL may not turn bit 10 on
	 * (a package C-state limit change is fine); left on by the firmware it may stay;
	 * PMG_IO_CAPTURE_BASE writes refused, reads passed */
	assert_true(msr_pkg_cst_write_ok(0x1e000403, 0x1e000401));
	assert_false(msr_pkg_cst_write_ok(0x1e000003, 0x1e000403));
	assert_true(msr_pkg_cst_write_ok(0x1e008403, 0x1e008403));
	assert_true(msr_pkg_cst_write_ok(0x1e000403, 0x1e000003));       /* turning it off */
	assert_int_equal(msr_policy_write(0x0e2), MSR_CHECK);
	assert_int_equal(msr_policy_read(0x0e2), MSR_PASS);
	assert_int_equal(msr_policy_write(0x0e4), MSR_GP);
	assert_int_equal(msr_policy_read(0x0e4), MSR_PASS);
	uint16_t base = 0;
	assert_int_equal(msr_io_mwait_ports(0x1e000003, 0x10414, &base), 0);     /* redirection off */
	assert_int_equal(msr_io_mwait_ports(0x1e000403, 0x10414, &base), 8);     /* LVL_2 0x414, up to C6 */
	assert_int_equal(base, 0x414);
	assert_int_equal(msr_io_mwait_ports(0x1e000403, 0x0, &base), 0);         /* no base */
	assert_int_equal(msr_io_mwait_ports(0x400, 0xfffd, &base), 3);           /* the range ends at 0xffff */
	assert_int_equal(base, 0xfffd);
}

static void test_msr_bitmap(void **st)
{
	(void)st;
	uint8_t *bm = malloc(MSR_BITMAP_SIZE);
	memset(bm, 0x00, MSR_BITMAP_SIZE);
	msr_bitmap_build(bm);
	/* SDM layout: VMX_BASIC 0x480 read bit in the read-low quarter at byte 0x90 bit 0 */
	assert_int_equal(bm[0x480 / 8], 0xff);                      /* 0x480..0x487 */
	assert_int_equal(bm[0x800 + 0x480 / 8], 0xff);              /* writes too */
	assert_int_equal(bm[0x3a / 8] & (1 << (0x3a & 7)), 1 << (0x3a & 7));
	/* LSTAR: read passes (read-high quarter 0x400 + 0x82/8 = 0x410, bit 2 clear), write exits */
	assert_int_equal(bm[0xc10] & (1 << 2), 1 << 2);
	assert_int_equal(bm[0x410] & (1 << 2), 0);
	/* x2APIC: all pass both ways (the SMP core subscribes ICR writes on top) */
	for (uint32_t m = 0x800; m <= 0x8ff; m++) {
		assert_false(msr_bitmap_intercepts(bm, m, false));
		assert_false(msr_bitmap_intercepts(bm, m, true));
	}
	/* every bit follows the table: clear exactly for MSR_PASS */
	for (uint32_t m = 0; m < 0x2000; m++) {
		assert_int_equal(msr_bitmap_intercepts(bm, m, false), msr_policy_read(m) != MSR_PASS);
		assert_int_equal(msr_bitmap_intercepts(bm, m, true), msr_policy_write(m) != MSR_PASS);
		uint32_t hm = 0xc0000000 + m;
		assert_int_equal(msr_bitmap_intercepts(bm, hm, false), msr_policy_read(hm) != MSR_PASS);
		assert_int_equal(msr_bitmap_intercepts(bm, hm, true), msr_policy_write(hm) != MSR_PASS);
	}
	/* deny by default: most of the bitmap exits */
	int bits = 0;
	for (int i = 0; i < MSR_BITMAP_SIZE; i++)
		bits += __builtin_popcount(bm[i]);
	assert_true(bits > 4 * 0x2000 - 2000);
	/* outside the ranges: always exits, cannot be set */
	assert_true(msr_bitmap_intercepts(bm, 0x4000, false));
	assert_int_equal(msr_bitmap_set(bm, 0x4000, true, true, true), -1);
	assert_int_equal(msr_bitmap_set(bm, 0xc0002000, true, true, true), -1);
	/* set/clear individual directions */
	assert_int_equal(msr_bitmap_set(bm, 0xc0000080, true, false, true), 0);
	assert_true(msr_bitmap_intercepts(bm, 0xc0000080, false));
	assert_false(msr_bitmap_intercepts(bm, 0xc0000080, true));
	assert_int_equal(msr_bitmap_set(bm, 0xc0000080, true, false, false), 0);
	assert_false(msr_bitmap_intercepts(bm, 0xc0000080, false));
	free(bm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_derive),
		cmocka_unit_test(test_ctl_msr_and_names),
		cmocka_unit_test(test_cr_fixed),
		cmocka_unit_test(test_cpuid),
		cmocka_unit_test(test_msr_policy),
		cmocka_unit_test(test_msr_table),
		cmocka_unit_test(test_msr_checks),
		cmocka_unit_test(test_msr_bitmap),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
