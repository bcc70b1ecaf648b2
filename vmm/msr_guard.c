/*
 * The MSRs whose writes hvmon checks (MSR_CHECK in the table of vmm/policy.c,
 * issue 17, docs/SECURITY.md "MSRs"): hvmon's clock (IA32_TSC, TSC_ADJUST:
 * TSC offsetting, the real TSC never moves), IA32_APIC_BASE (no relocation),
 * IA32_MISC_ENABLE (no XD-disable; BTS/PEBS read as unavailable), IA32_XSS
 * (no PT state) and the MTRRs (no change). Per-vCPU state only (struct vcpu).
 */
#include "vmm/vcpu.h"
#include "vmm/policy.h"
#include "vmm/deny.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

#define MSR_TSC        0x10
#define MSR_TSC_ADJUST 0x3b
#define MSR_APIC_BASE  0x1b
#define MSR_MISC_ENABLE 0x1a0
#define MSR_XSS        0xda0
#define MSR_PKG_CST_CONFIG 0xe2

/* The guest's TSC moves by delta: the VMCS offset does, the host TSC not
 * (SDM Vol. 3C 26.6.5: RDTSC/RDTSCP/RDMSR(IA32_TSC) return TSC + offset). */
static int tsc_shift(struct vcpu *v, int64_t delta)
{
	if (!(v->vm->caps.proc & PROC_USE_TSC_OFFSET))
		return -1;              /* no offsetting: refused, the TSC is hvmon's clock */
	v->tsc_offset += delta;
	vmwrite(VMCS_TSC_OFFSET, (uint64_t)v->tsc_offset);
	return 0;
}

/* The guest's IA32_TSC_ADJUST starts at the hardware's (#GP if it has none). */
static int tsc_adjust_get(struct vcpu *v, uint64_t *val)
{
	if (!v->tsc_adjust_valid) {
		uint64_t hw;
		if (rdmsr_safe(MSR_TSC_ADJUST, &hw))
			return -1;
		v->tsc_adjust = hw;
		v->tsc_adjust_valid = true;
	}
	*val = v->tsc_adjust;
	return 0;
}

int msr_check_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_TSC_ADJUST:
		return tsc_adjust_get(v, val);
	case MSR_MISC_ENABLE:
		if (rdmsr_safe(msr, val))
			return -1;
		*val = msr_misc_enable_guest(*val);
		return 0;
	default:
		return rdmsr_safe(msr, val);
	}
}

/* 0: handled (performed, emulated or dropped with a report); -1: #GP. */
int msr_check_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t cur, out;
	switch (msr) {
	case MSR_TSC: {
		/* SDM Vol. 3A 18.17.3: a write to IA32_TSC moves TSC_ADJUST by the same amount */
		uint64_t adj;
		int64_t delta = (int64_t)(val - (rdtsc() + (uint64_t)v->tsc_offset));
		if (tsc_shift(v, delta))
			return -1;
		if (tsc_adjust_get(v, &adj) == 0)
			v->tsc_adjust = adj + (uint64_t)delta;
		return 0;
	}
	case MSR_TSC_ADJUST: {
		uint64_t adj;
		if (tsc_adjust_get(v, &adj) || tsc_shift(v, (int64_t)(val - adj)))
			return -1;
		v->tsc_adjust = val;
		return 0;
	}
	case MSR_APIC_BASE:
		if (rdmsr_safe(msr, &cur) || !msr_apic_base_write_ok(cur, val))
			return -1;
		return wrmsr_safe(msr, val);
	case MSR_MISC_ENABLE:
		if (rdmsr_safe(msr, &cur) || msr_misc_enable_write(cur, val, &out))
			return -1;
		return wrmsr_safe(msr, out);
	case MSR_PKG_CST_CONFIG:
		if (rdmsr_safe(msr, &cur) || !msr_pkg_cst_write_ok(cur, val))
			return -1;
		return wrmsr_safe(msr, val);
	case MSR_XSS:
		if (!msr_xss_write_ok(val))
			return -1;
		return wrmsr_safe(msr, val);
	default:
		if (msr_is_mtrr(msr)) {
			if (rdmsr_safe(msr, &cur))
				return -1;
			/* a change: dropped (memory types of hvmon's pages); reported
			 * unless it is the disable step of the MTRR update sequence */
			if (msr_mtrr_change_reported(msr, cur, val))
				hv_deny(v, HV_DENY_MSR_WRITE, msr, val);
			return 0;
		}
		return -1;
	}
}
