/*
 * Control registers. CR0/CR4 bits that VMX fixes are owned by hvmon through
 * the guest/host masks; the guest reads its own values from the read
 * shadows and never sees or clears CR4.VMXE (setting it raises #GP, as on a
 * CPU without VMX). XSETBV is checked and performed for the guest.
 * MOV to CR0 reaches the CR0 subscribers (vmm/intercept.h) when it changes a
 * bit they put in the guest/host mask (SDM Vol. 3C 26.1.3: a MOV to CR0 exits
 * when a masked bit differs from the read shadow).
 */
#include "vmm/vcpu.h"
#include "vmm/xcr0.h"
#include "vmm/deny.h"
#include "vmm/cr0.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

uint64_t vcpu_guest_cr0(struct vcpu *v)
{
	return cr0_guest_view(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_SHADOW), vmread(VMCS_CR0_MASK));
}

uint64_t vcpu_guest_cr4(struct vcpu *v)
{
	uint64_t mask = vmread(VMCS_CR4_MASK);
	return (vmread(VMCS_GUEST_CR4) & ~mask) | (vmread(VMCS_CR4_SHADOW) & mask);
}

static int guest_write_cr0(struct vcpu *v, uint64_t val)
{
	const struct vmx_caps *c = &v->vm->caps;
	uint64_t fixed0 = c->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	struct cr0_write w = cr0_guest_write(val, fixed0, c->cr0_fixed1);   /* vmm/cr0.h */
	if (w.gp) {
		vcpu_inject_gp(v);
		return HV_RESUME;
	}
	/* subscribers (vmm/intercept.h) see a valid write and may keep bits
	 * (e.g. CR0.WP): what they leave is re-checked and performed */
	if (v->vm->cr0_icpt_bits) {
		struct hv_icpt x = { .kind = HV_ICPT_CR0_WRITE, .cr0 = { .old = vcpu_guest_cr0(v), .val = val } };
		hv_intercept_call(v, &x);
		if (x.cr0.val != val) {
			struct cr0_write k = cr0_guest_write(x.cr0.val, fixed0, c->cr0_fixed1);
			if (!k.gp) {
				val = x.cr0.val;
				w = k;
			}
		}
	}
	uint64_t old = vmread(VMCS_GUEST_CR0);
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	/* Paging switched with EFER.LME: IA-32e mode follows (SDM 10.8.5). */
	if ((val ^ old) & X86_CR0_PG && (efer & X86_EFER_LME)) {
		uint32_t entry = (uint32_t)vmread(VMCS_ENTRY_CTLS);
		if (val & X86_CR0_PG) {
			efer |= X86_EFER_LMA;
			entry |= ENTRY_IA32E_GUEST;
		} else {
			efer &= ~X86_EFER_LMA;
			entry &= ~ENTRY_IA32E_GUEST;
		}
		vmwrite(VMCS_GUEST_EFER, efer);
		vmwrite(VMCS_ENTRY_CTLS, entry);
	}
	vmwrite(VMCS_CR0_SHADOW, w.shadow);
	vmwrite(VMCS_GUEST_CR0, w.guest);
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

static int guest_write_cr4(struct vcpu *v, uint64_t val)
{
	const struct vmx_caps *c = &v->vm->caps;
	/* VMXE, or a bit VMX operation does not allow: #GP as the guest's CPU
	 * (which has no VMX) would raise. */
	if ((val & X86_CR4_VMXE) || (val & ~c->cr4_fixed1)) {
		pr_debug("guest MOV CR4 <- %#lx refused (#GP)\n", (unsigned long)val);
		vcpu_inject_gp(v);
		return HV_RESUME;
	}
	/* subscribers (vmm/intercept.h) may keep bits (the read shadow) and force
	 * bits into the real CR4 */
	struct hv_icpt x = { .kind = HV_ICPT_CR4_WRITE, .cr4 = { .old = vcpu_guest_cr4(v), .val = val } };
	if (v->vm->cr4_icpt_bits)
		hv_intercept_call(v, &x);
	vmwrite(VMCS_CR4_SHADOW, x.cr4.val);
	vmwrite(VMCS_GUEST_CR4, x.cr4.val | x.cr4.force | c->cr4_fixed0 | X86_CR4_VMXE);
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

int cr_access_exit(struct vcpu *v)
{
	uint64_t q = v->exit_qual;
	unsigned int cr = q & 0xf, type = (q >> 4) & 3, reg = (q >> 8) & 0xf;
	uint64_t val;

	if (type == 0) {                                /* MOV to CR */
		val = reg == 4 ? vmread(VMCS_GUEST_RSP) : v->regs->by_index[reg];
		if (cr == 0)
			return guest_write_cr0(v, val);
		if (cr == 4)
			return guest_write_cr4(v, val);
	} else if (type == 2) {                         /* CLTS */
		vmwrite(VMCS_CR0_SHADOW, vmread(VMCS_CR0_SHADOW) & ~8ULL);
		vmwrite(VMCS_GUEST_CR0, vmread(VMCS_GUEST_CR0) & ~8ULL);
		vcpu_skip_instruction(v);
		return HV_RESUME;
	} else if (type == 3) {                         /* LMSW: low 4 bits, cannot clear PE */
		uint64_t src = (q >> 16) & 0xf;
		uint64_t cur = vcpu_guest_cr0(v);
		val = (cur & ~0xeULL) | (src & 0xf) | (cur & 1);
		return guest_write_cr0(v, val);
	}
	pr_err("unexpected CR access: CR%u type %u reg %u\n", cr, type, reg);
	return HV_FATAL;
}

int xsetbv_exit(struct vcpu *v)
{
	union guest_regs *r = v->regs;
	uint32_t idx = (uint32_t)r->rcx;
	uint64_t val = (r->rdx << 32) | (uint32_t)r->rax;
	struct x86_cpuid c;
	cpuid_count(0xd, 0, &c);
	uint64_t supported = ((uint64_t)c.edx << 32) | c.eax;

	if (!(read_cr4() & X86_CR4_OSXSAVE)) {      /* host without XSAVE: neither has the guest */
		vcpu_inject_ud(v);
		return HV_RESUME;
	}
	/* every XCR0 rule (vmm/xcr0.c), then the instruction with fault recovery:
	 * a #GP here would halt ring -1 (issue 17) */
	const char *why = (vcpu_guest_cr4(v) & X86_CR4_OSXSAVE) ? xcr0_check(idx, val, supported)
								: "CR4.OSXSAVE is clear";
	if (why || xsetbv_safe(idx, val)) {
		/* the rule that refused it, for the first reports (as hv_deny's rate) */
		if (v->denied[HV_DENY_XCR0] < 16)
			pr_info("guest XSETBV %#x <- %#lx refused: %s\n", idx, (unsigned long)val,
				why ? why : "#GP from the CPU");
		hv_deny(v, HV_DENY_XCR0, idx, val);
		vcpu_inject_gp(v);
		return HV_RESUME;
	}
	vcpu_skip_instruction(v);
	return HV_RESUME;
}
