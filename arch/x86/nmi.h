/*
 * arch/x86/nmi.h — hvmon's own NMIs ("kicks", issue 11) told apart from the
 * guest's. Pure bookkeeping (host-tested: tests/unit/test_nmi_kick.c) plus
 * the one instruction sequence that unblocks NMIs in ring -1.
 *
 * A cross-CPU request (vmm/smp.c smp_call_all) sends an NMI IPI to each CPU
 * that runs the guest; "NMI exiting" makes it a VM exit at once, also in HLT
 * (SDM Vol. 3C 25.2, 26.1.2). An NMI carries no payload, so each CPU has one
 * flag, `kick`: set by the sender before it sends, taken (exchanged with 0)
 * by the first NMI the target sees, in a VM exit or in ring -1's NMI handler.
 * A taken flag means "this NMI was hvmon's": it is consumed. Any other NMI is
 * the guest's and is re-injected (vmm/reinject.c), exactly as before.
 *
 * At most one kick NMI is in flight per CPU: a sender that finds the flag
 * already set does not send another (the one in flight makes the CPU poll).
 * If the guest's NMI arrives first and takes the flag, the kick NMI that
 * follows finds it clear and is handed to the guest instead: the guest still
 * gets exactly one NMI. The one loss is the hardware's own: two NMIs that
 * arrive while NMIs are blocked merge into one (SDM Vol. 3A 10.5.1); if one
 * of the two was a kick, the merged NMI is taken as the kick.
 */
#ifndef HVMON_ARCH_NMI_H
#define HVMON_ARCH_NMI_H

#include <stdbool.h>
#include <stdint.h>

/* Sender: mark a kick for the target CPU. True: the caller sends the NMI. */
static inline bool nmi_kick_post(volatile uint32_t *kick)
{
	return __atomic_exchange_n(kick, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Target, for every NMI it sees: true if it was a kick (consumed). */
static inline bool nmi_kick_take(volatile uint32_t *kick)
{
	if (!__atomic_load_n(kick, __ATOMIC_ACQUIRE))      /* the usual case: one load */
		return false;
	return __atomic_exchange_n(kick, 0, __ATOMIC_ACQ_REL) != 0;
}

/* What to do before a VM entry while the guest is owed @pending NMIs. */
enum nmi_action {
	NMI_ACT_NONE,           /* nothing owed: clear NMI-window exiting if it was set */
	NMI_ACT_INJECT,         /* inject one now */
	NMI_ACT_WINDOW,         /* blocked: exit when the guest unblocks (NMI-window exiting) */
	NMI_ACT_LATER,          /* blocked, no NMI-window exiting: at the next exit */
};

static inline enum nmi_action nmi_decide(uint32_t pending, bool injectable, bool have_window)
{
	if (!pending)
		return NMI_ACT_NONE;
	if (injectable)
		return NMI_ACT_INJECT;
	return have_window ? NMI_ACT_WINDOW : NMI_ACT_LATER;
}

#ifdef HV_RING1
/*
 * A VM exit caused by an NMI leaves NMIs blocked in ring -1 until an IRET
 * (SDM Vol. 3C, "VM Exits": NMI blocking after an NMI-caused exit; KVM and
 * Jailhouse run an IRET for it). Bochs 2.7 keeps them blocked even across
 * the next VM entry (cpu/event.cc masks BX_EVENT_NMI, only a root IRET in
 * cpu/ctrl_xfer64.cc unmasks it): without this every later NMI, kick or
 * guest's, would be lost. An IRET to the next instruction, same stack,
 * unblocks them; an NMI latched meanwhile is then taken by ring -1's handler.
 */
static inline void nmi_unblock(void)
{
	asm volatile("mov %%ss, %%eax\n\t"
		     "pushq %%rax\n\t"
		     "leaq 8(%%rsp), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "pushfq\n\t"
		     "mov %%cs, %%eax\n\t"
		     "pushq %%rax\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "iretq\n"
		     "1:"
		     ::: "rax", "memory", "cc");
}
#endif

#endif
