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
#include "arch/x86/nmi.h"

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

/*
 * An NMI exit ("NMI exiting", SDM Vol. 3C 25.2): hvmon's kick (consumed; the
 * request is answered by smp_exit_poll before the entry) or the guest's own
 * NMI, owed to it and injected by vcpu_deliver_nmi, as before NMI exiting.
 * Then an IRET unblocks NMIs in ring -1 (arch/x86/nmi.h nmi_unblock).
 */
int vcpu_nmi_exit(struct vcpu *v)
{
	struct percpu *p = v->cpu;
	if (nmi_kick_take(&p->nmi_kick))
		v->nr_kick_exits++;
	else
		__atomic_fetch_add(&p->nmi_pending, 1, __ATOMIC_RELAXED);
	nmi_unblock();
	return HV_RESUME;
}

static void nmi_window(bool on)
{
	uint64_t proc = vmread(VMCS_PROC_CTLS);
	if (!!(proc & PROC_NMI_WINDOW) != on)
		vmwrite(VMCS_PROC_CTLS, on ? proc | PROC_NMI_WINDOW : proc & ~(uint64_t)PROC_NMI_WINDOW);
}

/* The guest unblocked NMIs (NMI-window exiting, SDM Vol. 3C 26.7.6): the
 * control goes off; vcpu_deliver_nmi injects before this entry or sets it
 * again if the guest still blocks. */
int nmi_window_exit(struct vcpu *v)
{
	(void)v;
	nmi_window(false);
	return HV_RESUME;
}

/* Before a VM entry while the guest is owed NMIs (cpu->nmi_pending != 0). */
void vcpu_deliver_nmi(struct vcpu *v)
{
	struct percpu *p = v->cpu;
	switch (nmi_decide(__atomic_load_n(&p->nmi_pending, __ATOMIC_ACQUIRE), vcpu_nmi_injectable(v),
			   v->vm->caps.nmi_window)) {
	case NMI_ACT_INJECT:
		__atomic_fetch_sub(&p->nmi_pending, 1, __ATOMIC_RELAXED);
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
		/* counted here, at the injection: a guest NMI may also arrive while
		 * this CPU is in ring -1 (arch/x86/exception.c), never as an NMI exit */
		v->nr_guest_nmis++;
		break;
	case NMI_ACT_WINDOW:
		nmi_window(true);
		break;
	case NMI_ACT_NONE:
	case NMI_ACT_LATER:
		break;
	}
}

/* A #PF for the guest at a linear address hvmon failed to write for it
 * (error code: write, supervisor; present or not as its walk found). */
void vcpu_inject_pf(struct vcpu *v, uint64_t addr, uint32_t err)
{
	write_cr2(addr);
	vcpu_inject_exception(v, X86_VEC_PF, true, err);
}
