/*
 * VT-x availability for hvmon.efi (see vtx.h).
 */
#include "boot/uefi/vtx.h"

void uefi_vtx_decide(uint32_t cpuid1_ecx, uint64_t feature_control,
		     uint64_t procbased, uint64_t procbased2,
		     struct uefi_vtx_status *st)
{
	st->ok = 0;
	st->feature_control = 0;
	if (!(cpuid1_ecx & CPUID1_ECX_VMX)) {
		st->verdict = UEFI_VTX_NO_VMX;
		st->reason = "this CPU has no VT-x (CPUID.1:ECX.VMX = 0): an Intel CPU with "
			     "VT-x is needed (under a hypervisor: enable nested VT-x)";
		return;
	}
	st->feature_control = feature_control;
	if ((feature_control & FC_LOCKED) && !(feature_control & FC_VMX_OUTSIDE_SMX)) {
		st->verdict = UEFI_VTX_LOCKED_OFF;
		st->reason = "VT-x is disabled and locked by the firmware (IA32_FEATURE_CONTROL "
			     "locked with VMX-outside-SMX clear): enable 'Intel Virtualization "
			     "Technology' in the firmware setup";
		return;
	}
	if (!((procbased >> 32) & PROC_ACTIVATE_SECONDARY)) {
		st->verdict = UEFI_VTX_NO_SECONDARY;
		st->reason = "VT-x has no secondary processor-based controls (so no EPT): "
			     "hvmon needs EPT and unrestricted guest";
		return;
	}
	if (!((procbased2 >> 32) & PROC2_EPT)) {
		st->verdict = UEFI_VTX_NO_EPT;
		st->reason = "VT-x without EPT (IA32_VMX_PROCBASED_CTLS2 allowed-1 bit 1 = 0): "
			     "hvmon needs EPT";
		return;
	}
	if (!((procbased2 >> 32) & PROC2_UNRESTRICTED)) {
		st->verdict = UEFI_VTX_NO_UNRESTRICTED;
		st->reason = "VT-x without unrestricted guest (IA32_VMX_PROCBASED_CTLS2 allowed-1 "
			     "bit 7 = 0): hvmon needs it";
		return;
	}
	st->ok = 1;
	st->verdict = UEFI_VTX_OK;
	st->reason = "VT-x with EPT and unrestricted guest";
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

void uefi_vtx_probe(struct uefi_vtx_status *st)
{
	uint32_t a, b, c, d;
	uint64_t fc = 0, p1 = 0, p2 = 0;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (c & CPUID1_ECX_VMX) {
		/* these MSRs exist whenever CPUID reports VMX */
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
		p1 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
		if ((p1 >> 32) & PROC_ACTIVATE_SECONDARY)
			p2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	}
	uefi_vtx_decide(c, fc, p1, p2, st);
}
