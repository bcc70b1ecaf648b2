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
 */
#ifndef HVMON_VMM_SPEC_H
#define HVMON_VMM_SPEC_H

#include <stdint.h>
#include <stdbool.h>

#define CPUID7_EDX_MD_CLEAR   (1u << 10)
#define CPUID7_EDX_L1D_FLUSH  (1u << 28)
#define CPUID7_EDX_ARCH_CAPS  (1u << 29)

#define ARCH_CAP_RDCL_NO            (1ULL << 0)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3)
#define ARCH_CAP_MDS_NO             (1ULL << 5)
#define ARCH_CAP_TAA_NO             (1ULL << 8)
#define ARCH_CAP_SBDR_SSDP_NO       (1ULL << 13)
#define ARCH_CAP_FBSDP_NO           (1ULL << 14)
#define ARCH_CAP_PSDP_NO            (1ULL << 15)

enum spec_entry {
	SPEC_ENTRY_NONE = 0,     /* not affected, or nothing the CPU offers */
	SPEC_ENTRY_VERW,         /* clear CPU buffers */
	SPEC_ENTRY_L1D_FLUSH,    /* flush L1D (clears the buffers too) */
};

/* arch_caps: IA32_ARCH_CAPABILITIES, or 0 when CPUID.7.0:EDX[29] is clear. */
enum spec_entry spec_entry_mode(uint32_t cpuid7_edx, uint64_t arch_caps);
const char *spec_entry_name(enum spec_entry m);

#endif
