/* CPUID exits: the hardware's answer filtered through vmm/policy (VMX
 * hidden), plus consistency with the VMX controls hvmon could enable. */
#include "vmm/vcpu.h"
#include "vmm/policy.h"
#include "arch/x86/cpu.h"

int cpuid_exit(struct vcpu *v)
{
	union guest_regs *r = v->regs;
	uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
	struct x86_cpuid h;
	cpuid_count(leaf, sub, &h);
	struct cpuid_regs g = { h.eax, h.ebx, h.ecx, h.edx };
	struct cpuid_guest_state gs = { .cr4 = vcpu_guest_cr4(v) };
	cpuid_policy_apply(leaf, sub, &gs, &g);

	/* Features whose instructions would #UD in VMX non-root operation
	 * because the matching secondary control is unavailable. */
	uint32_t p2 = v->vm->caps.proc2;
	if (leaf == 7 && sub == 0 && !(p2 & PROC2_INVPCID))
		g.ebx &= ~(1u << 10);
	if (leaf == 0xd && sub == 1 && !(p2 & PROC2_XSAVES))
		g.eax &= ~(1u << 3);
	if (leaf == 0x80000001 && !(p2 & PROC2_RDTSCP))
		g.edx &= ~(1u << 27);

	r->rax = g.eax;
	r->rbx = g.ebx;
	r->rcx = g.ecx;
	r->rdx = g.edx;
	vcpu_skip_instruction(v);
	return HV_RESUME;
}
