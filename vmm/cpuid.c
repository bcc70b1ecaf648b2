/* CPUID exits: the hardware's answer filtered through vmm/policy (VMX
 * hidden), plus consistency with the VMX controls hvmon could enable. */
#include "vmm/vcpu.h"
#include "vmm/policy.h"
#include "vmm/xcr0.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"

#define IA32_XSS 0xda0

/*
 * CPUID.(EAX=0DH,ECX=1):EBX is "the size of the XSAVE area containing all
 * states enabled by XCR0 | IA32_XSS" (SDM Vol. 2A, CPUID leaf 0DH), i.e. the
 * compacted area XSAVES/XSAVEC write (Vol. 1 13.4.3). Executed here in root
 * operation it describes the guest's XCR0 and IA32_XSS (VMX switches neither).
 * Bochs 2.7 reports the standard-format end of the highest state instead (2688
 * for XCR0 0xe7 on corei7_skylake_x, where XSAVES writes 2432 bytes; fixed in
 * Bochs after 2.7, commit d794b516e), and Linux then turns XSAVE off ("XSAVE
 * consistency problem"). hvmon answers the architectural value computed from
 * the CPU's own sub-leaves: on a correct CPU the same number (Linux checks that
 * equality at every boot), so this only ever changes a wrong one.
 */
static uint32_t xsave_d1_ebx(uint32_t hw)
{
	static int said;
	struct xsave_comp comp[64];
	struct x86_cpuid c;
	uint64_t xss = 0, mask;

	if (!hw || !(read_cr4() & X86_CR4_OSXSAVE))
		return hw;
	cpuid_count(0xd, 1, &c);
	if ((c.eax & (1u << 3)) && rdmsr_safe(IA32_XSS, &xss))
		xss = 0;
	mask = xgetbv(0) | xss;
	for (unsigned i = 0; i < 64; i++) {
		comp[i].size = comp[i].align64 = 0;
		if (i >= 2 && (mask & (1ULL << i))) {
			cpuid_count(0xd, i, &c);
			comp[i].size = c.eax;
			comp[i].align64 = (c.ecx >> 1) & 1;
		}
	}
	uint32_t size = xsave_compacted_size(mask, comp, 64);
	if (!size || size == hw)
		return hw;
	if (!said++)
		pr_info("cpuid: CPUID.(0DH,1).EBX %u is not the compacted size of XCR0|XSS %#lx (%u, SDM Vol. 1 "
			"13.4.3): the guest sees %u\n", hw, (unsigned long)mask, size, size);
	return size;
}

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
	if (leaf == 0xd && sub == 1)
		g.ebx = xsave_d1_ebx(g.ebx);
	if (leaf == 0x80000001 && !(p2 & PROC2_RDTSCP))
		g.edx &= ~(1u << 27);

	r->rax = g.eax;
	r->rbx = g.ebx;
	r->rcx = g.ecx;
	r->rdx = g.edx;
	vcpu_skip_instruction(v);
	return HV_RESUME;
}
