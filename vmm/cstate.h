/*
 * cstate — pure rules of hvmon's HLT-like wait for ACPI SystemIO C-state entry
 * (issue 17; ring -1 side in vmm/cstate_vmx.c, docs/SECURITY.md "C-states").
 *
 * A read of a C-state entry port (P_LVL2/P_LVL3 of a P_BLK, or a SystemIO
 * register of a _CST package) puts a real CPU into C2/C3 until a break event
 * (an interrupt, taken or not: the OS enters with interrupts disabled, ACPI 6.5
 * 8.1.3-8.1.4). hvmon does not let the CPU go there (deeper than C2 the
 * VMX-preemption timer, its tick, stops: SDM Vol. 3C 26.5.1): it completes the
 * read and lets the vCPU wait in the HLT activity state with external-interrupt
 * exiting on, so that an interrupt ends the wait even with RFLAGS.IF = 0
 * (SDM Vol. 3C 26.3 "Changes to event blocking": with external-interrupt
 * exiting, IF does not block external interrupts; the interrupt is not
 * acknowledged, so it stays pending for the guest).
 */
#ifndef HVMON_VMM_CSTATE_H
#define HVMON_VMM_CSTATE_H

#include <stdbool.h>
#include <stdint.h>

/* The guest state that decides whether the vCPU may wait, read after the
 * IN was completed and skipped (STI/MOV-SS blocking already ended). */
struct cstate_guest {
	uint32_t ss_ar;                 /* VMCS guest SS access rights: DPL in bits 6:5 */
	uint64_t rflags;
	uint32_t interruptibility;      /* VMCS guest interruptibility state */
	uint32_t entry_intr_info;       /* VM-entry interruption information (an event to inject) */
	uint64_t vmx_misc;              /* IA32_VMX_MISC: bit 6 = HLT activity state supported */
	uint32_t pin_allowed1;          /* pin-based controls that may be 1 (bit 0: external-interrupt exiting) */
	bool irq_pending;               /* the local APIC already has a requested vector (IRR) */
};

enum cstate_verdict {
	CSTATE_WAIT = 0,                /* HLT activity state + external-interrupt exiting */
	CSTATE_NOW_IRQ,                 /* an interrupt is already pending: the C-state ends at once */
	CSTATE_NOW_CPL,                 /* SS.DPL != 0 (an IOPL-3 reader): HLT state not allowed (SDM 26.3.1.5) */
	CSTATE_NOW_TF,                  /* single-stepping: HLT needs a pending #DB.BS (SDM 26.3.1.5) */
	CSTATE_NOW_BLOCKING,            /* STI/MOV-SS blocking left: HLT not allowed (SDM 26.3.1.5) */
	CSTATE_NOW_EVENT,               /* an event is being injected by this entry */
	CSTATE_NOW_NO_HLT,              /* the CPU has no HLT activity state (IA32_VMX_MISC[6]) */
	CSTATE_NOW_NO_EXIT,             /* no external-interrupt exiting: IF=0 would never wake */
	CSTATE__COUNT
};

enum cstate_verdict cstate_decide(const struct cstate_guest *g);
const char *cstate_verdict_name(enum cstate_verdict vd);

/* A requested vector in the local APIC's IRR (8 words of 32 vectors; vectors
 * 0-15 are reserved and ignored). */
bool cstate_irr_pending(const uint32_t irr[8]);

/* Ways a wait ended (statistics). */
enum cstate_wake {
	CSTATE_WAKE_EXIT = 0,           /* external-interrupt VM exit (the hardware path) */
	CSTATE_WAKE_POLL,               /* hvmon's 1 ms look at the APIC's IRR (Bochs 2.7 does not leave
					 * HLT with IF=0 for an external-interrupt exit) */
	CSTATE_WAKE_OTHER,              /* the vCPU left HLT by itself (NMI, INIT, an injected event) */
	CSTATE_WAKE__COUNT
};

#endif
