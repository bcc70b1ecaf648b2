/*
 * The HLT-like wait of an ACPI SystemIO C-state entry (issue 17; rules in
 * vmm/cstate.h). power.c completes a P_LVL2/P_LVL3 or _CST-register read and
 * calls cstate_wait_begin(): the vCPU then sits in the HLT activity state with
 * external-interrupt exiting on, hvmon's tick (the VMX-preemption timer, which
 * counts in HLT: SDM Vol. 3C 26.5.1) still running. The wait ends:
 *  - on hardware, at the next external interrupt, taken or not (RFLAGS.IF does
 *    not block it with external-interrupt exiting, SDM 26.3; "acknowledge
 *    interrupt on exit" is off, so it stays pending for the guest): the
 *    EXIT_EXTERNAL_INTR handler below;
 *  - under Bochs 2.7, whose HLT loop ignores an interrupt while IF = 0 even
 *    with external-interrupt exiting (cpu/event.cc handleWaitForEvent), at the
 *    tick client's 1 ms look at the local APIC's IRR (also a safety net on
 *    hardware);
 *  - when the vCPU leaves HLT by itself (NMI, INIT, an injected event).
 * Then external-interrupt exiting is turned off again: no exit per interrupt
 * outside a wait.
 */
#include "vmm/vcpu.h"
#include "vmm/cstate.h"
#include "vmm/policy.h"
#include "vmm/tick.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"

#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT    1
#define APIC_REG_IRR    0x200           /* xAPIC: 8 registers 16 bytes apart (SDM Vol. 3A 11.8.4) */
#define X2APIC_MSR_IRR  0x820           /* x2APIC: 0x820-0x827 (SDM Vol. 3A 11.12.1.2) */
#define WAKE_POLL_MS    1

static uint32_t nr_waiting;                             /* vCPUs in a wait (atomic) */
static uint64_t nr_waits, nr_wakes[CSTATE_WAKE__COUNT], nr_now[CSTATE__COUNT], wait_ticks;
static uint32_t now_logged;                             /* bit per verdict: logged once */

static bool lapic_irr_pending(void)
{
	uint32_t irr[8];
	bool x2 = lapic_x2apic();
	for (unsigned i = 0; i < 8; i++)
		irr[i] = x2 ? (uint32_t)rdmsr(X2APIC_MSR_IRR + i) : *lapic_reg(APIC_REG_IRR + 0x10 * i);
	return cstate_irr_pending(irr);
}

bool cstate_wait_begin(struct vcpu *v)
{
	struct cstate_guest g = {
		.ss_ar = (uint32_t)vmread(VMCS_GUEST_SS_AR),
		.rflags = vmread(VMCS_GUEST_RFLAGS),
		/* the IN is being skipped, which ends STI/MOV-SS blocking (vcpu_skip_instruction) */
		.interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3u,
		.entry_intr_info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO),
		.vmx_misc = v->vm->caps.misc,
		.pin_allowed1 = (uint32_t)(rdmsr(vmx_ctl_msr(VMX_CTL_PIN, v->vm->caps.basic)) >> 32),
		.irq_pending = lapic_irr_pending(),
	};
	enum cstate_verdict vd = cstate_decide(&g);
	if (vd != CSTATE_WAIT) {
		__atomic_add_fetch(&nr_now[vd], 1, __ATOMIC_RELAXED);
		if (!(__atomic_fetch_or(&now_logged, 1u << vd, __ATOMIC_RELAXED) & (1u << vd)))
			pr_info("C-state: vCPU%u: entry completed at once (%s)\n", v->id, cstate_verdict_name(vd));
		return false;
	}
	if (v->cstate_wait)                     /* cannot be: a waiting vCPU runs no IN */
		return true;
	v->cstate_wait = true;
	v->cstate_t0 = rdtsc();
	vmwrite(VMCS_PIN_CTLS, vmread(VMCS_PIN_CTLS) | PIN_EXT_INTR_EXIT);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	__atomic_add_fetch(&nr_waits, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&nr_waiting, 1, __ATOMIC_RELEASE);
	return true;
}

static void wait_end(struct vcpu *v, enum cstate_wake why)
{
	if (!v->cstate_wait)
		return;
	v->cstate_wait = false;
	vmwrite(VMCS_PIN_CTLS, vmread(VMCS_PIN_CTLS) & ~(uint64_t)PIN_EXT_INTR_EXIT);
	if (vmread(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
		vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	__atomic_add_fetch(&wait_ticks, rdtsc() - v->cstate_t0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&nr_wakes[why], 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&nr_waiting, 1, __ATOMIC_RELEASE);
}

/* EXIT_EXTERNAL_INTR: only a waiting vCPU has external-interrupt exiting on. */
int external_intr_exit(struct vcpu *v)
{
	if (!v->cstate_wait) {
		pr_err("unexpected VM exit: external interrupt outside a C-state wait\n");
		return HV_FATAL;
	}
	wait_end(v, CSTATE_WAKE_EXIT);
	return HV_RESUME;
}

static void wake_poll(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)now; (void)ctx;
	if (!v->cstate_wait)
		return;
	if (vmread(VMCS_GUEST_ACTIVITY_STATE) != ACTIVITY_HLT)
		wait_end(v, CSTATE_WAKE_OTHER);
	else if (lapic_irr_pending())
		wait_end(v, CSTATE_WAKE_POLL);
}

static bool wake_want(void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&nr_waiting, __ATOMIC_ACQUIRE) != 0;
}

int cstate_wait_setup(void)
{
	return tick_register_lazy("cstate-wake", WAKE_POLL_MS, wake_poll, NULL, wake_want);
}

void cstate_print_stats(void)
{
	uint64_t w = __atomic_load_n(&nr_waits, __ATOMIC_RELAXED), now = 0;
	for (unsigned i = 1; i < CSTATE__COUNT; i++)
		now += __atomic_load_n(&nr_now[i], __ATOMIC_RELAXED);
	if (!w && !now)
		return;
	uint64_t ms = tick_tsc_to_ms(wait_ticks);
	hv_printf("hvmon: C-state: %lu waits (%lu ended by an external-interrupt exit, %lu by the APIC poll, "
		  "%lu otherwise), %lu ms waited (mean %lu us), %lu entries completed at once\n",
		  (unsigned long)w, (unsigned long)nr_wakes[CSTATE_WAKE_EXIT],
		  (unsigned long)nr_wakes[CSTATE_WAKE_POLL], (unsigned long)nr_wakes[CSTATE_WAKE_OTHER],
		  (unsigned long)ms, (unsigned long)(w ? tick_tsc_to_ms(wait_ticks * 1000 / w) : 0),
		  (unsigned long)now);
}
