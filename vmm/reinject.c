/*
 * Events the guest must not lose across an exit (issue 17: no guest input
 * halts ring -1, and none is silently dropped):
 *  - an exit during event delivery (IDT-vectoring information valid: an EPT
 *    violation on the guest's IDT or stack, ...) re-injects that event on the
 *    next entry unless the handler injected another one (SDM Vol. 3C 28.2.4,
 *    27.6.1.1);
 *  - an NMI is injected only when the guest blocks neither by NMI, by MOV SS
 *    nor by STI (SDM 27.3.1.5: a VM entry that injects an NMI with blocking
 *    by STI fails on some processors);
 *  - a guest #PF built by hvmon (CR2 is not part of the VMCS: it is loaded
 *    here, just before the entry).
 */
#include "vmm/vcpu.h"
#include "arch/x86/cpu.h"

#define INTR_TYPE_MASK      (7u << 8)
#define INTR_TYPE_SW_INTR   (4u << 8)
#define INTR_TYPE_PRIV_SW   (5u << 8)
#define INTERRUPTIBILITY_STI    (1u << 0)
#define INTERRUPTIBILITY_MOVSS  (1u << 1)
#define INTERRUPTIBILITY_NMI    (1u << 3)

void vcpu_reinject_idt_vectoring(struct vcpu *v)
{
	(void)v;
	uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	if (!(idt & INTR_INFO_VALID) || (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID))
		return;
	/* bit 12 is undefined in IDT-vectoring information, reserved in entry info */
	vmwrite(VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));
	if (idt & INTR_INFO_DELIVER_ERR)
		vmwrite(VMCS_ENTRY_EXC_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	uint32_t type = idt & INTR_TYPE_MASK;
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW || type == INTR_TYPE_SW_EXCEPTION)
		vmwrite(VMCS_ENTRY_INSTR_LEN, vmread(VMCS_EXIT_INSTR_LEN));
}

bool vcpu_nmi_injectable(struct vcpu *v)
{
	(void)v;
	return !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOVSS | INTERRUPTIBILITY_STI));
}

/* A #PF for the guest at a linear address hvmon failed to write for it
 * (error code: write, supervisor; present or not as its walk found). */
void vcpu_inject_pf(struct vcpu *v, uint64_t addr, uint32_t err)
{
	write_cr2(addr);
	vcpu_inject_exception(v, X86_VEC_PF, true, err);
}
