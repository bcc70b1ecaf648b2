/* Pure rules of the C-state wait (vmm/cstate.h): host-tested (tests/unit/test_cstate.c). */
#include "vmm/cstate.h"

#define RFLAGS_TF             (1ULL << 8)
#define INTR_BLOCK_STI_MOVSS  3u            /* interruptibility bits 0-1 */
#define INTR_INFO_VALID_BIT   (1u << 31)
#define VMX_MISC_HLT          (1ULL << 6)
#define PIN_EXT_INTR          (1u << 0)

/*
 * SDM Vol. 3C 26.3.1.5 (checks on guest non-register state): the activity
 * state may be HLT only with SS.DPL = 0, without STI/MOV-SS blocking, and, with
 * RFLAGS.TF = 1, only with a pending single-step #DB: each of these completes
 * the read at once instead (the C-state ends as on a break event). An event
 * this entry injects ends the wait anyway. Without external-interrupt exiting
 * a wait with IF = 0 would never end.
 */
enum cstate_verdict cstate_decide(const struct cstate_guest *g)
{
	if (!(g->vmx_misc & VMX_MISC_HLT))
		return CSTATE_NOW_NO_HLT;
	if (!(g->pin_allowed1 & PIN_EXT_INTR))
		return CSTATE_NOW_NO_EXIT;
	if ((g->ss_ar >> 5) & 3)
		return CSTATE_NOW_CPL;
	if (g->rflags & RFLAGS_TF)
		return CSTATE_NOW_TF;
	if (g->interruptibility & INTR_BLOCK_STI_MOVSS)
		return CSTATE_NOW_BLOCKING;
	if (g->entry_intr_info & INTR_INFO_VALID_BIT)
		return CSTATE_NOW_EVENT;
	if (g->irq_pending)
		return CSTATE_NOW_IRQ;
	return CSTATE_WAIT;
}

const char *cstate_verdict_name(enum cstate_verdict vd)
{
	static const char *const names[CSTATE__COUNT] = {
		[CSTATE_WAIT] = "wait",
		[CSTATE_NOW_IRQ] = "interrupt already pending",
		[CSTATE_NOW_CPL] = "read at CPL > 0",
		[CSTATE_NOW_TF] = "single-stepping",
		[CSTATE_NOW_BLOCKING] = "STI/MOV-SS blocking",
		[CSTATE_NOW_EVENT] = "event being injected",
		[CSTATE_NOW_NO_HLT] = "no HLT activity state",
		[CSTATE_NOW_NO_EXIT] = "no external-interrupt exiting",
	};
	return (unsigned)vd < CSTATE__COUNT ? names[vd] : "?";
}

bool cstate_irr_pending(const uint32_t irr[8])
{
	if (irr[0] & 0xffff0000u)
		return true;
	for (unsigned i = 1; i < 8; i++)
		if (irr[i])
			return true;
	return false;
}
