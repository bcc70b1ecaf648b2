/* Speculation hygiene on VM entry, the decision: vmm/spec.h. */
#include "vmm/spec.h"

enum spec_entry spec_entry_mode(uint32_t edx, uint64_t caps)
{
	if (!(edx & CPUID7_EDX_ARCH_CAPS))
		caps = 0;                       /* no MSR: assume affected */
	bool l1tf = !(caps & (ARCH_CAP_RDCL_NO | ARCH_CAP_SKIP_L1DFL_VMENTRY));
	if (l1tf && (edx & CPUID7_EDX_L1D_FLUSH))
		return SPEC_ENTRY_L1D_FLUSH;
	const uint64_t mmio_no = ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO | ARCH_CAP_SBDR_SSDP_NO;
	bool buffers = !(caps & ARCH_CAP_MDS_NO) || !(caps & ARCH_CAP_TAA_NO) ||
		       (caps & mmio_no) != mmio_no;
	if (buffers && (edx & CPUID7_EDX_MD_CLEAR))
		return SPEC_ENTRY_VERW;
	return SPEC_ENTRY_NONE;
}

const char *spec_entry_name(enum spec_entry m)
{
	switch (m) {
	case SPEC_ENTRY_VERW:      return "VERW (clear CPU buffers) before every VM entry";
	case SPEC_ENTRY_L1D_FLUSH: return "L1D flush before every VM entry";
	default:                   return "none (not affected, or no L1D_FLUSH/MD_CLEAR on this CPU)";
	}
}

void spec_exit_policy(uint32_t edx, uint64_t caps, struct spec_exit *out)
{
	if (!(edx & CPUID7_EDX_ARCH_CAPS))
		caps = 0;                       /* no MSR: no enhanced IBRS */
	bool eibrs = (edx & CPUID7_EDX_IBRS_IBPB) && (caps & ARCH_CAP_IBRS_ALL);

	/* the MSR exists with any of its controls (SDM Vol. 4, IA32_SPEC_CTRL) */
	out->switch_spec_ctrl = (edx & (CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_SSBD)) != 0;
	out->host_spec_ctrl = (edx & CPUID7_EDX_IBRS_IBPB) ? SPEC_CTRL_IBRS : 0;
	out->legacy_ibrs = (edx & CPUID7_EDX_IBRS_IBPB) && !eibrs;
	/* every CPU without enhanced IBRS: underflowing returns must not reach
	 * guest entries; PBRSB needs an unbalanced RET, which hvmon has not */
	out->rsb_fill = !eibrs;
}
