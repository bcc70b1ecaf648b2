/*
 * Speculation hygiene on VM entry (issue 17 item 5, docs/SECURITY.md), pure
 * decision (host-tested: tests/unit/test_spec.c) + the per-entry action in
 * vmm/spec_vmx.c.
 *  - L1TF (Intel "L1 Terminal Fault", VMM section): a guest can read L1D lines
 *    hvmon left behind through a not-present guest PTE. Mitigation: flush
 *    L1D before every VM entry (IA32_FLUSH_CMD bit 0) on CPUs that have
 *    L1D_FLUSH (CPUID.7.0:EDX[28]) unless IA32_ARCH_CAPABILITIES says
 *    SKIP_L1DFL_VMENTRY (bit 3) or RDCL_NO (bit 0: not affected).
 *  - MDS/TAA/MMIO stale data (Intel "Microarchitectural Data Sampling"):
 *    clear the CPU buffers with VERW before VM entry on CPUs with MD_CLEAR
 *    (CPUID.7.0:EDX[10]) unless ARCH_CAPABILITIES says MDS_NO (bit 5) and
 *    TAA_NO (bit 8) and, for MMIO stale data, FBSDP_NO|PSDP_NO|SBDR_SSDP_NO
 *    (bits 14, 15, 13). An L1D flush also clears the buffers (Intel's MDS
 *    guidance), so VERW is only needed without it.
 *
 * On VM exit (branch-target injection, "Spectre v2", guest to hvmon):
 *  - IA32_SPEC_CTRL: the guest's value is saved at every exit and restored at
 *    every entry, and hvmon's own is loaded at every exit, by the VMCS MSR
 *    lists (VM-exit MSR-store, VM-exit MSR-load, VM-entry MSR-load: SDM Vol. 3C
 *    25.7.2, 27.4, 26.4), so no hvmon instruction runs under the guest's value.
 *    hvmon's value is IBRS (bit 0) on every CPU with IBRS: with enhanced IBRS
 *    (ARCH_CAPABILITIES bit 1, IBRS_ALL) it isolates the predictor modes for
 *    good; without it ("legacy" IBRS) it must be written after every
 *    transition to the more privileged mode, which the exit-load list does.
 *    Linux/KVM: arch/x86/kvm/vmx/vmenter.S, vmx_spec_ctrl_restore_host().
 *  - RSB filling on every exit without enhanced IBRS (KVM's RSB_VMEXIT, Linux
 *    arch/x86/kernel/cpu/bugs.c spectre_v2_determine_rsb_fill_type_at_vmexit):
 *    a return that underflows the return stack buffer would take a guest
 *    entry, or (RSBA/RRSBA) a guest-trained branch target. With enhanced IBRS
 *    the only RSB exposure is PBRSB (the first unbalanced RET after an exit may
 *    use the guest's last CALL; KVM then fills one entry): hvmon's exit stub
 *    starts on a fresh stack and never returns without a CALL of its own, so
 *    it has no unbalanced RET and needs no filling there.
 *  - IBPB: not used. It separates predictor state between guests (KVM: on a
 *    switch of vCPU/VMCS on a CPU); hvmon has one guest and one vCPU per CPU.
 */
#ifndef HVMON_VMM_SPEC_H
#define HVMON_VMM_SPEC_H

#include <stdint.h>
#include <stdbool.h>

#define CPUID7_EDX_MD_CLEAR   (1u << 10)
#define CPUID7_EDX_L1D_FLUSH  (1u << 28)
#define CPUID7_EDX_IBRS_IBPB  (1u << 26)   /* IA32_SPEC_CTRL.IBRS, IA32_PRED_CMD */
#define CPUID7_EDX_STIBP      (1u << 27)
#define CPUID7_EDX_SSBD       (1u << 31)
#define CPUID7_EDX_ARCH_CAPS  (1u << 29)

#define ARCH_CAP_RDCL_NO            (1ULL << 0)
#define ARCH_CAP_IBRS_ALL           (1ULL << 1)   /* enhanced IBRS */
#define ARCH_CAP_RSBA               (1ULL << 2)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3)
#define ARCH_CAP_MDS_NO             (1ULL << 5)
#define ARCH_CAP_TAA_NO             (1ULL << 8)
#define ARCH_CAP_SBDR_SSDP_NO       (1ULL << 13)
#define ARCH_CAP_FBSDP_NO           (1ULL << 14)
#define ARCH_CAP_PSDP_NO            (1ULL << 15)
#define ARCH_CAP_RRSBA              (1ULL << 19)
#define ARCH_CAP_PBRSB_NO           (1ULL << 24)

#define MSR_IA32_SPEC_CTRL 0x48
#define SPEC_CTRL_IBRS     (1ULL << 0)

enum spec_entry {
	SPEC_ENTRY_NONE = 0,     /* not affected, or nothing the CPU offers */
	SPEC_ENTRY_VERW,         /* clear CPU buffers */
	SPEC_ENTRY_L1D_FLUSH,    /* flush L1D (clears the buffers too) */
};

/* arch_caps: IA32_ARCH_CAPABILITIES, or 0 when CPUID.7.0:EDX[29] is clear. */
enum spec_entry spec_entry_mode(uint32_t cpuid7_edx, uint64_t arch_caps);
const char *spec_entry_name(enum spec_entry m);

/* What hvmon does at every VM exit (above). */
struct spec_exit {
	bool switch_spec_ctrl;   /* IA32_SPEC_CTRL exists: switched by the VMCS MSR lists */
	uint64_t host_spec_ctrl; /* hvmon's value while it runs */
	bool legacy_ibrs;        /* IBRS without enhanced IBRS (rewritten at every exit) */
	bool rsb_fill;           /* fill the RSB at every exit (arch/x86/vmx_entry.S) */
};

/* arch_caps: IA32_ARCH_CAPABILITIES, or 0 when CPUID.7.0:EDX[29] is clear. */
void spec_exit_policy(uint32_t cpuid7_edx, uint64_t arch_caps, struct spec_exit *out);

#endif
