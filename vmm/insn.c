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
