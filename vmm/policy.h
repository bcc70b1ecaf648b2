/*
 * policy — pure decisions of the vmm core: VMX control derivation from the
 * capability MSRs, the guest-visible CPUID, the MSR interception policy and
 * the MSR-bitmap page. Host-testable, freestanding, no hardware access: the
 * core executes CPUID/RDMSR and hands the raw values in.
 */
#ifndef HVMON_VMM_POLICY_H
#define HVMON_VMM_POLICY_H

#include <stdint.h>
#include <stdbool.h>

/* ---- VMX controls ---- */
enum vmx_ctl_kind {
	VMX_CTL_PIN = 0,     /* IA32_VMX_PINBASED_CTLS     0x481 / TRUE 0x48D */
	VMX_CTL_PROC,        /* IA32_VMX_PROCBASED_CTLS    0x482 / TRUE 0x48E */
	VMX_CTL_PROC2,       /* IA32_VMX_PROCBASED_CTLS2   0x48B (no TRUE variant) */
	VMX_CTL_EXIT,        /* IA32_VMX_EXIT_CTLS         0x483 / TRUE 0x48F */
	VMX_CTL_ENTRY,       /* IA32_VMX_ENTRY_CTLS        0x484 / TRUE 0x490 */
	VMX_CTL_NR
};

#define VMX_BASIC_TRUE_CTLS (1ULL << 55)   /* IA32_VMX_BASIC bit 55 */

/* MSR to read for @kind: the TRUE_ variant when IA32_VMX_BASIC bit 55 is set. */
uint32_t vmx_ctl_msr(enum vmx_ctl_kind kind, uint64_t vmx_basic);

/*
 * vmx_ctl_derive - final control value from a capability MSR (low 32 bits:
 * allowed-0 settings = bits that must be 1; high 32: allowed-1 = bits that may be 1).
 *   value = ((required | optional) & allowed1) | allowed0
 * @missing (optional) receives required & ~allowed1.
 * Returns 0, or -1 when a required bit is not allowed (value then still holds the
 * best-effort result); name the first missing bit with vmx_ctl_bit_name(kind, bit).
 */
int vmx_ctl_derive(uint64_t cap_msr, uint32_t required, uint32_t optional,
		   uint32_t *value, uint32_t *missing);

/* "secondary: enable EPT", "pin: external-interrupt exiting", ...; for bits without a
 * name "<kind>: unnamed bit" (print the bit number next to it). */
const char *vmx_ctl_bit_name(enum vmx_ctl_kind kind, unsigned bit);

/* Lowest set bit index of @bits (0..31), 32 if none. */
unsigned vmx_first_bit(uint32_t bits);

/* CR0/CR4 under VMX: (value | fixed0) & fixed1 (IA32_VMX_CR0_FIXED0/1 0x486/0x487,
 * CR4 0x488/0x489). For an unrestricted guest clear CR0.PE/PG from fixed0 first
 * (vmx_cr0_fixed0_unrestricted). */
static inline uint64_t vmx_cr_fix(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (value | fixed0) & fixed1;
}
static inline uint64_t vmx_cr0_fixed0_unrestricted(uint64_t fixed0)
{
	return fixed0 & ~((1ULL << 0) | (1ULL << 31));
}

/* ---- CPUID ---- */
struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

struct cpuid_guest_state {
	uint64_t cr4;        /* guest CR4 as the guest believes it is (read shadow applied) */
};

#define CPUID1_ECX_VMX        (1u << 5)
#define CPUID1_ECX_SMX        (1u << 6)
#define CPUID1_ECX_OSXSAVE    (1u << 27)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID7_ECX_OSPKE      (1u << 4)
#define CPUID7_ECX_WAITPKG    (1u << 5)
#define CPUID7_EBX_PT         (1u << 25)
#define CPUID1_ECX_DTES64     (1u << 2)
#define CPUID1_ECX_MONITOR    (1u << 3)
#define CPUID1_ECX_DSCPL      (1u << 4)
#define CPUID1_EDX_DS         (1u << 21)
#define CPUID_D1_ECX_XSS_PT   (1u << 8)
#define CR4_OSXSAVE           (1ULL << 18)
#define CR4_PKE               (1ULL << 22)

/*
 * cpuid_policy_apply - turn the hardware's answer @r for (leaf, subleaf) (executed
 * by the core in root mode) into what the guest sees. Policy (docs/VMM-LOGIC.md):
 *  - leaf 1 ECX: VMX cleared, SMX cleared (GETSEC would exit unconditionally),
 *    hypervisor bit (31) CLEARED: hvmon is meant to be invisible, the guest sees
 *    bare metal; OSXSAVE reflects the guest's CR4.OSXSAVE.
 *  - leaf 7 subleaf 0 ECX.OSPKE reflects the guest's CR4.PKE.
 *  - hidden (issue 17): DS/DTES64/DS-CPL (leaf 1), PT (leaf 7 EBX.25, leaf 0x14,
 *    XSS PT state in leaf 0xd.1), WAITPKG (leaf 7 ECX.5: user wait is off),
 *    MONITOR/MWAIT (leaf 1 ECX.3, leaf 5: deep C-states stop the preemption timer).
 *  - hypervisor range 0x40000000-0x4fffffff: passed through (what the hardware
 *    answers for those leaves on bare metal).
 *  - everything else passes through unchanged.
 * @g may be NULL (OSXSAVE/OSPKE then left as the hardware reported).
 */
void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, const struct cpuid_guest_state *g,
			struct cpuid_regs *r);

/* ---- MSRs ---- */
#define MSR_IA32_FEATURE_CONTROL   0x0000003a
#define MSR_IA32_SMM_MONITOR_CTL   0x0000009b
#define MSR_IA32_VMX_FIRST         0x00000480   /* IA32_VMX_BASIC */
#define MSR_IA32_VMX_LAST          0x00000493   /* IA32_VMX_VMFUNC (..0x492 TRUE_ENTRY, 0x493 VMFUNC) */
#define MSR_IA32_LSTAR             0xc0000082

#define FEATURE_CONTROL_LOCK       (1ULL << 0)
#define FEATURE_CONTROL_VMX_SMX    (1ULL << 1)
#define FEATURE_CONTROL_VMX        (1ULL << 2)

enum msr_action {
	MSR_PASS = 0,        /* not intercepted (bitmap bit clear) */
	MSR_GP,              /* inject #GP(0): hidden, or refused (a write is reported: `denied`) */
	MSR_EMULATE,         /* hvmon supplies the value (read) / drops the write */
	MSR_OBSERVE,         /* intercepted: hvmon records the value, then performs it */
	MSR_PERFORM,         /* intercepted, performed by hvmon with fault recovery (unlisted reads) */
	MSR_CHECK,           /* intercepted, the value checked per MSR (vmm/msr.c: TSC, APIC_BASE...) */
	MSR_ABSENT,          /* #GP(0) as the hardware gives it, not reported: an MSR that Intel
	                      * CPUs do not have (AMD's), whatever the emulator answers */
};

struct msr_rule {
	uint32_t first, last;       /* inclusive range */
	uint8_t  read, write;       /* enum msr_action */
	const char *name;
};

/* The rule for @msr, or NULL: deny by default (issue 17) — a read is
 * MSR_PERFORM, a write MSR_GP. MSRs outside 0..0x1fff and 0xc0000000..0xc0001fff
 * always exit. */
const struct msr_rule *msr_policy_lookup(uint32_t msr);

/* Read and write actions for @msr (MSR_PERFORM / MSR_GP when no rule). */
enum msr_action msr_policy_read(uint32_t msr);
enum msr_action msr_policy_write(uint32_t msr);

/* Value the guest reads for IA32_FEATURE_CONTROL: locked, VMX (in and outside SMX)
 * disabled, other bits (e.g. SGX, LMCE) as the hardware has them. */
uint64_t msr_feature_control_guest(uint64_t host_value);

/* Checked writes (MSR_CHECK), pure: */
/* IA32_APIC_BASE: only the mode bits (BSP, x2APIC, enable) may change, not the base */
bool msr_apic_base_write_ok(uint64_t cur, uint64_t val);
/* IA32_MISC_ENABLE: the guest reads BTS and PEBS unavailable; a write that sets
 * XD-disable is refused (-1), else *out is the value to write (read-only bits kept) */
uint64_t msr_misc_enable_guest(uint64_t hw);
int msr_misc_enable_write(uint64_t hw, uint64_t val, uint64_t *out);
/* MSR_PKG_CST_CONFIG_CONTROL (0xe2): a write may not turn I/O MWAIT redirection
 * (bit 10) on; left on by the firmware, it may stay */
bool msr_pkg_cst_write_ok(uint64_t cur, uint64_t val);
/* The ports whose reads I/O MWAIT redirection turns into MWAITs, from
 * MSR_PKG_CST_CONFIG_CONTROL and MSR_PMG_IO_CAPTURE_BASE (0xe4): *base and the
 * number of ports (0: redirection off) */
unsigned msr_io_mwait_ports(uint64_t pkg_cst, uint64_t capture_base, uint16_t *base);
/* IA32_XSS: no PT state component (bit 8) */
bool msr_xss_write_ok(uint64_t val);
/* the MTRRs (variable, fixed, default type) */
bool msr_is_mtrr(uint32_t msr);
/* An MTRR write is never performed unless it rewrites the current value. True
 * when the dropped write is reported (`denied`): any change except clearing
 * IA32_MTRR_DEF_TYPE.E (bit 11), the first step of the update sequence of SDM
 * Vol. 3A 11.11.8 that Linux runs on every CPU start (cache_disable): dropped
 * quietly (its re-enable with the same value is not a change). */
bool msr_mtrr_change_reported(uint32_t msr, uint64_t cur, uint64_t val);

/* The rule table, for documentation / logging. */
const struct msr_rule *msr_policy_table(uint32_t *count);

/* ---- MSR bitmap (SDM Vol. 3C 25.6.9): one 4 KiB page ----
 *   0x000 read  0x00000000-0x00001fff   0x400 read  0xc0000000-0xc0001fff
 *   0x800 write 0x00000000-0x00001fff   0xc00 write 0xc0000000-0xc0001fff   */
#define MSR_BITMAP_SIZE 4096

/* Set (intercept) or clear the read and/or write bit of @msr. Returns -1 if @msr is
 * outside both bitmap ranges (such MSRs always exit), else 0. */
int msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool read, bool write, bool intercept);
/* True when an access to @msr exits (always true outside the two ranges). */
bool msr_bitmap_intercepts(const uint8_t *bitmap, uint32_t msr, bool write);
/* Set every bit of @bitmap (deny by default), then clear the bits of the
 * directions the table passes through (action MSR_PASS). */
void msr_bitmap_build(uint8_t *bitmap);

#endif
