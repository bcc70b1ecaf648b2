/*
 * VT-x availability check for hvmon.efi. The decision is pure (host-tested
 * with synthetic CPUID/MSR values); uefi_vtx_probe() reads the real CPU.
 */
#ifndef HVMON_BOOT_UEFI_VTX_H
#define HVMON_BOOT_UEFI_VTX_H

#include <stdint.h>

#define MSR_IA32_FEATURE_CONTROL       0x3a
#define MSR_IA32_VMX_PROCBASED_CTLS    0x482
#define MSR_IA32_VMX_PROCBASED_CTLS2   0x48b

#define FC_LOCKED               (1ULL << 0)
#define FC_VMX_OUTSIDE_SMX      (1ULL << 2)
#define CPUID1_ECX_VMX          (1U << 5)
#define PROC_ACTIVATE_SECONDARY (1U << 31)   /* allowed-1: high dword of 0x482 */
#define PROC2_EPT               (1U << 1)    /* allowed-1: high dword of 0x48b */
#define PROC2_UNRESTRICTED      (1U << 7)

enum uefi_vtx_verdict {
	UEFI_VTX_OK = 0,
	UEFI_VTX_NO_VMX,          /* CPUID.1:ECX.VMX = 0 */
	UEFI_VTX_LOCKED_OFF,      /* IA32_FEATURE_CONTROL locked, VMX outside SMX clear */
	UEFI_VTX_NO_SECONDARY,    /* no secondary processor-based controls */
	UEFI_VTX_NO_EPT,
	UEFI_VTX_NO_UNRESTRICTED,
};

struct uefi_vtx_status {
	int ok;
	enum uefi_vtx_verdict verdict;
	const char *reason;       /* message a person can act on */
	uint64_t feature_control; /* as read (0 when VMX is absent) */
};

/* Pure decision. procbased/procbased2 are the raw 64-bit MSR values; they,
 * and feature_control, are ignored when cpuid1_ecx has no VMX. */
void uefi_vtx_decide(uint32_t cpuid1_ecx, uint64_t feature_control,
		     uint64_t procbased, uint64_t procbased2,
		     struct uefi_vtx_status *st);

/* Read CPUID/MSRs of the running CPU (ring 0) and decide. */
void uefi_vtx_probe(struct uefi_vtx_status *st);

#endif
