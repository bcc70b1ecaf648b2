/*
 * MSR exits. The MSR bitmap (built by vmm/policy from its one table) denies
 * by default (issue 17): only the table's MSR_PASS lines go to the hardware
 * without an exit. Here: the VMX capability MSRs (#GP, as without VMX),
 * IA32_FEATURE_CONTROL (locked, VMX off), writes to IA32_LSTAR (observed:
 * registered hooks run, the inference engine starts there, then performed),
 * checked MSRs (vmm/msr_guard.c), reads of unlisted MSRs (performed with
 * fault recovery) and refused writes (#GP + a `denied` event).
 */
#include "vmm/vcpu.h"
#include "vmm/policy.h"
#include "vmm/deny.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

int msr_setup(struct vm *vm)
{
	vm->msr_bitmap = page_alloc();
	if (!vm->msr_bitmap)
		return -1;
	vm->msr_bitmap_pa = hv_virt_to_phys(vm->msr_bitmap);
	msr_bitmap_build(vm->msr_bitmap);
	return 0;
}

int rdmsr_exit(struct vcpu *v)
{
	union guest_regs *r = v->regs;
	uint32_t msr = (uint32_t)r->rcx;
	uint64_t val = 0;

	switch (msr_policy_read(msr)) {
	case MSR_ABSENT:                /* not on this CPU class: the hardware's answer */
		vcpu_inject_gp(v);
		return HV_RESUME;
	case MSR_GP:
		pr_debug("guest RDMSR %#x -> #GP (hidden)\n", msr);
		hv_deny(v, HV_DENY_MSR_READ, msr, 0);
		vcpu_inject_gp(v);
		return HV_RESUME;
	case MSR_CHECK:
		if (msr_check_read(v, msr, &val)) {
			vcpu_inject_gp(v);
			return HV_RESUME;
		}
		break;
	case MSR_EMULATE:
		if (msr == MSR_IA32_FEATURE_CONTROL) {
			val = msr_feature_control_guest(rdmsr(IA32_FEATURE_CONTROL));
			break;
		}
		vcpu_inject_gp(v);
		return HV_RESUME;
	case MSR_PASS:
	case MSR_OBSERVE:
	case MSR_PERFORM:
	default:
		if (rdmsr_safe(msr, &val)) {
			vcpu_inject_gp(v);
			return HV_RESUME;
		}
		break;
	}
	r->rax = (uint32_t)val;
	r->rdx = val >> 32;
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

/* An MSR that VM entry loads from the VMCS guest-state area (SDM Vol. 3C
 * 25.4.1, 28.3.2.1): a WRMSR in root mode would change the host's copy only,
 * overwritten by the next VM entry. It exits only when a subscriber asked for
 * it (the policy passes it through): the write goes into the guest field. */
static int msr_write_guest_field(uint32_t msr, uint64_t val)
{
	/* ESP/EIP must be canonical (WRMSR #GPs otherwise; VM entry checks it, SDM 28.3.1.1) */
	if ((msr == 0x175 || msr == 0x176) && (uint64_t)((int64_t)(val << 16) >> 16) != val)
		return -1;
	switch (msr) {
	case 0x174:                     /* IA32_SYSENTER_CS (32-bit field) */
		vmwrite(VMCS_GUEST_SYSENTER_CS, (uint32_t)val);
		return 1;
	case 0x175:                     /* IA32_SYSENTER_ESP */
		vmwrite(VMCS_GUEST_SYSENTER_ESP, val);
		return 1;
	case 0x176:                     /* IA32_SYSENTER_EIP */
		vmwrite(VMCS_GUEST_SYSENTER_EIP, val);
		return 1;
	default:
		return 0;
	}
}

int wrmsr_exit(struct vcpu *v)
{
	union guest_regs *r = v->regs;
	uint32_t msr = (uint32_t)r->rcx;
	uint64_t val = (r->rdx << 32) | (uint32_t)r->rax;
	int rc;

	/* IA32_LSTAR: the first write is where the guest kernel's profile is inferred */
	if (msr == IA32_LSTAR && ++v->lstar_writes == 1)
		pr_info("guest wrote IA32_LSTAR = %#lx (first write, RIP %#lx)\n",
			(unsigned long)val, (unsigned long)vmread(VMCS_GUEST_RIP));
	/* subscribers (vmm/intercept.h) see it before it is performed */
	struct hv_icpt x = { .kind = HV_ICPT_MSR_WRITE, .msr = { .msr = msr, .value = val } };
	if (hv_intercept_call(v, &x) == HV_ICPT_DONE) {
		vcpu_skip_instruction(v);
		return HV_RESUME;
	}
	switch (msr_policy_write(msr)) {
	case MSR_ABSENT:
		vcpu_inject_gp(v);
		return HV_RESUME;
	case MSR_GP:
		hv_deny(v, HV_DENY_MSR_WRITE, msr, val);
		vcpu_inject_gp(v);
		return HV_RESUME;
	case MSR_CHECK:
		if (msr_check_write(v, msr, val)) {
			hv_deny(v, HV_DENY_MSR_WRITE, msr, val);
			vcpu_inject_gp(v);
			return HV_RESUME;
		}
		break;
	case MSR_EMULATE:
		vcpu_skip_instruction(v);       /* dropped */
		return HV_RESUME;
	case MSR_OBSERVE:               /* observed above, performed */
	case MSR_PASS:
	case MSR_PERFORM:
	default:
		rc = msr_write_guest_field(msr, val);
		if (rc > 0)
			break;
		if (rc < 0 || wrmsr_safe(msr, val)) {
			vcpu_inject_gp(v);
			return HV_RESUME;
		}
		break;
	}
	vcpu_skip_instruction(v);
	return HV_RESUME;
}
