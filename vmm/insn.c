/* Instructions that exit unconditionally and belong to no other concern. */
#include "vmm/vcpu.h"

/* INVD would throw away dirty lines hvmon owns too: do WBINVD instead,
 * which is indistinguishable for a coherent guest. */
int invd_exit(struct vcpu *v)
{
	asm volatile("wbinvd" ::: "memory");
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

int wbinvd_exit(struct vcpu *v)
{
	asm volatile("wbinvd" ::: "memory");
	vcpu_skip_instruction(v);
	return HV_RESUME;
}

/* GETSEC: CPUID.SMX is hidden, so the guest's CPU has no SMX: #UD. */
int getsec_exit(struct vcpu *v)
{
	vcpu_inject_ud(v);
	return HV_RESUME;
}

/* MONITOR/MWAIT (issue 17): CPUID.1:ECX.MONITOR is hidden, so the guest idles
 * with HLT. MWAIT could enter C-states deeper than C2, where the
 * VMX-preemption timer stops (SDM Vol. 3C 26.5.1) and hvmon's tick starves;
 * with the exiting controls on, both are #UD as on a CPU without them. */
int monitor_mwait_exit(struct vcpu *v)
{
	vcpu_inject_ud(v);
	return HV_RESUME;
}
