/*
 * policy — VMX control derivation, guest CPUID, MSR interception policy and
 * MSR bitmap. See policy.h and docs/VMM-LOGIC.md for the reasoning.
 */
#include "vmm/policy.h"

uint32_t vmx_ctl_msr(enum vmx_ctl_kind kind, uint64_t vmx_basic)
{
	bool t = (vmx_basic & VMX_BASIC_TRUE_CTLS) != 0;

	switch (kind) {
	case VMX_CTL_PIN:   return t ? 0x48d : 0x481;
	case VMX_CTL_PROC:  return t ? 0x48e : 0x482;
	case VMX_CTL_PROC2: return 0x48b;
	case VMX_CTL_EXIT:  return t ? 0x48f : 0x483;
	case VMX_CTL_ENTRY: return t ? 0x490 : 0x484;
	default:            return 0;
	}
}

int vmx_ctl_derive(uint64_t cap_msr, uint32_t required, uint32_t optional,
		   uint32_t *value, uint32_t *missing)
{
	uint32_t allowed0 = (uint32_t)cap_msr;           /* bits that must be 1 */
	uint32_t allowed1 = (uint32_t)(cap_msr >> 32);   /* bits that may be 1 */
	uint32_t miss = required & ~allowed1;

	if (value)
		*value = (((required | optional) & allowed1) | allowed0);
	if (missing)
		*missing = miss;
	return miss ? -1 : 0;
}

unsigned vmx_first_bit(uint32_t bits)
{
	unsigned i;

	for (i = 0; i < 32; i++)
		if (bits & (1u << i))
			return i;
	return 32;
}

struct bit_name { uint8_t bit; const char *name; };

static const struct bit_name pin_names[] = {
	{ 0, "pin: external-interrupt exiting" }, { 3, "pin: NMI exiting" },
	{ 5, "pin: virtual NMIs" }, { 6, "pin: activate VMX-preemption timer" },
	{ 7, "pin: process posted interrupts" },
};
static const struct bit_name proc_names[] = {
	{ 2, "primary: interrupt-window exiting" }, { 3, "primary: use TSC offsetting" },
	{ 7, "primary: HLT exiting" }, { 9, "primary: INVLPG exiting" },
	{ 10, "primary: MWAIT exiting" }, { 11, "primary: RDPMC exiting" },
	{ 12, "primary: RDTSC exiting" }, { 15, "primary: CR3-load exiting" },
	{ 16, "primary: CR3-store exiting" }, { 17, "primary: activate tertiary controls" },
	{ 19, "primary: CR8-load exiting" }, { 20, "primary: CR8-store exiting" },
	{ 21, "primary: use TPR shadow" }, { 22, "primary: NMI-window exiting" },
	{ 23, "primary: MOV-DR exiting" }, { 24, "primary: unconditional I/O exiting" },
	{ 25, "primary: use I/O bitmaps" }, { 27, "primary: monitor trap flag" },
	{ 28, "primary: use MSR bitmaps" }, { 29, "primary: MONITOR exiting" },
	{ 30, "primary: PAUSE exiting" }, { 31, "primary: activate secondary controls" },
};
static const struct bit_name proc2_names[] = {
	{ 0, "secondary: virtualize APIC accesses" }, { 1, "secondary: enable EPT" },
	{ 2, "secondary: descriptor-table exiting" }, { 3, "secondary: enable RDTSCP" },
	{ 4, "secondary: virtualize x2APIC mode" }, { 5, "secondary: enable VPID" },
	{ 6, "secondary: WBINVD exiting" }, { 7, "secondary: unrestricted guest" },
	{ 8, "secondary: APIC-register virtualization" }, { 9, "secondary: virtual-interrupt delivery" },
	{ 10, "secondary: PAUSE-loop exiting" }, { 11, "secondary: RDRAND exiting" },
	{ 12, "secondary: enable INVPCID" }, { 13, "secondary: enable VM functions" },
	{ 14, "secondary: VMCS shadowing" }, { 15, "secondary: enable ENCLS exiting" },
	{ 16, "secondary: RDSEED exiting" }, { 17, "secondary: enable PML" },
	{ 18, "secondary: EPT-violation #VE" }, { 19, "secondary: conceal VMX from PT" },
	{ 20, "secondary: enable XSAVES/XRSTORS" }, { 22, "secondary: mode-based execute control for EPT" },
	{ 23, "secondary: sub-page write permissions" }, { 24, "secondary: PT uses guest-physical addresses" },
	{ 25, "secondary: use TSC scaling" }, { 26, "secondary: enable user wait and pause" },
	{ 27, "secondary: enable PCONFIG" }, { 28, "secondary: enable ENCLV exiting" },
};
static const struct bit_name exit_names[] = {
	{ 2, "exit: save debug controls" }, { 9, "exit: host address-space size" },
	{ 12, "exit: load IA32_PERF_GLOBAL_CTRL" }, { 15, "exit: acknowledge interrupt on exit" },
	{ 18, "exit: save IA32_PAT" }, { 19, "exit: load IA32_PAT" },
	{ 20, "exit: save IA32_EFER" }, { 21, "exit: load IA32_EFER" },
	{ 22, "exit: save VMX-preemption timer value" }, { 23, "exit: clear IA32_BNDCFGS" },
	{ 24, "exit: conceal VMX from PT" }, { 25, "exit: clear IA32_RTIT_CTL" },
	{ 28, "exit: load CET state" }, { 29, "exit: load PKRS" },
};
static const struct bit_name entry_names[] = {
	{ 2, "entry: load debug controls" }, { 9, "entry: IA-32e mode guest" },
	{ 10, "entry: entry to SMM" }, { 11, "entry: deactivate dual-monitor treatment" },
	{ 13, "entry: load IA32_PERF_GLOBAL_CTRL" }, { 14, "entry: load IA32_PAT" },
	{ 15, "entry: load IA32_EFER" }, { 16, "entry: load IA32_BNDCFGS" },
	{ 17, "entry: conceal VMX from PT" }, { 18, "entry: load IA32_RTIT_CTL" },
	{ 20, "entry: load CET state" }, { 22, "entry: load PKRS" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *vmx_ctl_bit_name(enum vmx_ctl_kind kind, unsigned bit)
{
	static const struct { const struct bit_name *t; unsigned n; const char *unnamed; } tabs[VMX_CTL_NR] = {
		[VMX_CTL_PIN]   = { pin_names,   ARRAY_SIZE(pin_names),   "pin: unnamed bit" },
		[VMX_CTL_PROC]  = { proc_names,  ARRAY_SIZE(proc_names),  "primary: unnamed bit" },
		[VMX_CTL_PROC2] = { proc2_names, ARRAY_SIZE(proc2_names), "secondary: unnamed bit" },
		[VMX_CTL_EXIT]  = { exit_names,  ARRAY_SIZE(exit_names),  "exit: unnamed bit" },
		[VMX_CTL_ENTRY] = { entry_names, ARRAY_SIZE(entry_names), "entry: unnamed bit" },
	};
	unsigned i;

	if ((unsigned)kind >= VMX_CTL_NR)
		return "unknown control kind";
	for (i = 0; i < tabs[kind].n; i++)
		if (tabs[kind].t[i].bit == bit)
			return tabs[kind].t[i].name;
	return tabs[kind].unnamed;
}

/* ---- CPUID ---- */
#define CPUID1_ECX_XSAVE (1u << 26)

void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, const struct cpuid_guest_state *g,
			struct cpuid_regs *r)
{
	if (!r)
		return;
	switch (leaf) {
	case 1:
		r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_SMX | CPUID1_ECX_HYPERVISOR);
		/* DS, DTES64, DS-CPL hidden: IA32_DS_AREA/PEBS are refused (issue 17) */
		r->ecx &= ~(CPUID1_ECX_DTES64 | CPUID1_ECX_DSCPL);
		/* MONITOR/MWAIT hidden (and #UD): deep C-states stop the preemption timer */
		r->ecx &= ~CPUID1_ECX_MONITOR;
		r->edx &= ~CPUID1_EDX_DS;
		if (g) {
			r->ecx &= ~CPUID1_ECX_OSXSAVE;
			if ((r->ecx & CPUID1_ECX_XSAVE) && (g->cr4 & CR4_OSXSAVE))
				r->ecx |= CPUID1_ECX_OSXSAVE;
		}
		break;
	case 7:
		if (subleaf == 0) {
			r->ebx &= ~CPUID7_EBX_PT;       /* Intel PT: RTIT_* refused (issue 17) */
			r->ecx &= ~CPUID7_ECX_WAITPKG;  /* user wait/pause is off in the VMCS: TPAUSE would #UD */
		}
		if (subleaf == 0 && g) {
			r->ecx &= ~CPUID7_ECX_OSPKE;
			if (g->cr4 & CR4_PKE)
				r->ecx |= CPUID7_ECX_OSPKE;
		}
		break;
	case 0xd:
		if (subleaf == 1)
			r->ecx &= ~CPUID_D1_ECX_XSS_PT; /* no PT state in XSAVES (IA32_XSS bit 8 refused) */
		break;
	case 5:                                 /* the MONITOR/MWAIT leaf: nothing */
	case 0x14:                              /* the PT leaf: nothing */
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	default:
		break;   /* pass through, including 0x40000000-0x4fffffff */
	}
}

/* ---- MSR policy: deny by default (issue 17, docs/SECURITY.md "MSRs") ----
 * The one table of MSRs the guest may touch. An MSR with no line is
 * intercepted in both directions: a read is performed by hvmon (with fault
 * recovery: #GP when the hardware has no such MSR), a write is refused (#GP
 * and a `denied` event). A line says what happens instead, and why. MSRs
 * that VMX switches on entry/exit (FS/GS base, SYSENTER, EFER, PAT,
 * DEBUGCTL...) must be PASS or emulated: a read performed in root mode
 * would return hvmon's own value. Owners: the x2APIC line is the SMP core's
 * (issue 11: it subscribes to ICR 0x830 writes through hv_intercept_msr_write,
 * which sets the write bit again on top of this table). */
#define R(first, last, rd, wr, why) { first, last, rd, wr, why }
static const struct msr_rule msr_rules[] = {
	/* hvmon's clock and the guest's view of it */
	R(0x010, 0x010, MSR_PASS, MSR_CHECK, "IA32_TSC: reads give TSC + the vCPU's offset; a write moves the offset, never the TSC (hvmon's clock)"),
	R(0x03b, 0x03b, MSR_CHECK, MSR_CHECK, "IA32_TSC_ADJUST: emulated per vCPU on top of the TSC offset (the real one would move hvmon's clock)"),
	/* memory that bypasses EPT */
	R(0x01b, 0x01b, MSR_PASS, MSR_CHECK, "IA32_APIC_BASE: mode changes performed; moving the APIC page (over hvmon's memory) refused"),
	R(0x3f1, 0x3f1, MSR_GP, MSR_GP, "IA32_PEBS_ENABLE: PEBS records are written with host paging while hvmon runs (DS hidden in CPUID)"),
	R(0x3f2, 0x3f2, MSR_GP, MSR_GP, "IA32_PEBS_DATA_CFG: PEBS (refused)"),
	R(0x3f6, 0x3f7, MSR_GP, MSR_GP, "PEBS_LD_LAT, PEBS_FRONTEND: PEBS (refused)"),
	R(0x560, 0x58f, MSR_GP, MSR_GP, "Intel PT (RTIT_OUTPUT_BASE/MASK, RTIT_CTL, STATUS, CR3_MATCH, ADDRn): trace output goes to host-physical addresses (PT hidden in CPUID)"),
	R(0x600, 0x600, MSR_GP, MSR_GP, "IA32_DS_AREA: BTS/PEBS buffer, written with host paging (DS hidden in CPUID)"),
	R(0xda0, 0xda0, MSR_PASS, MSR_CHECK, "IA32_XSS: XRSTORS would load the PT state (bit 8): refused; other states performed"),
	R(0x079, 0x079, MSR_GP, MSR_GP, "IA32_BIOS_UPDT_TRIG: no microcode update from the guest"),
	/* VMX: the guest sees a CPU without it */
	R(0x03a, 0x03a, MSR_EMULATE, MSR_GP, "IA32_FEATURE_CONTROL (reads: locked, VMX off; writes: #GP as when locked)"),
	R(0x09b, 0x09b, MSR_GP, MSR_GP, "IA32_SMM_MONITOR_CTL (absent without VMX/SMX)"),
	R(0x480, 0x493, MSR_GP, MSR_GP, "IA32_VMX_* capability MSRs (absent without VMX)"),
	/* checked writes */
	R(0x1a0, 0x1a0, MSR_CHECK, MSR_CHECK, "IA32_MISC_ENABLE: reads say BTS/PEBS unavailable; setting XD-disable refused (the next VM entry would fail)"),
	R(0x200, 0x21f, MSR_PASS, MSR_CHECK, "variable MTRRs: rewriting the current value performed, a change dropped (memory types of hvmon's memory)"),
	R(0x250, 0x250, MSR_PASS, MSR_CHECK, "fixed MTRR 64K: as variable MTRRs"),
	R(0x258, 0x259, MSR_PASS, MSR_CHECK, "fixed MTRRs 16K: as variable MTRRs"),
	R(0x268, 0x26f, MSR_PASS, MSR_CHECK, "fixed MTRRs 4K: as variable MTRRs"),
	R(0x2ff, 0x2ff, MSR_PASS, MSR_CHECK, "IA32_MTRR_DEF_TYPE: as variable MTRRs; clearing E (Linux's cache_disable at every CPU start) dropped without a report"),
	/* switched by the VMCS or the hardware on entry/exit: the guest's own */
	R(0x174, 0x176, MSR_PASS, MSR_PASS, "SYSENTER_CS/ESP/EIP: guest state in the VMCS"),
	R(0x1d9, 0x1d9, MSR_PASS, MSR_PASS, "IA32_DEBUGCTL: saved/loaded by the debug-controls VM-exit/entry controls, cleared on exit"),
	R(0x277, 0x277, MSR_PASS, MSR_PASS, "IA32_PAT: saved/loaded by the VMCS"),
	R(0xd90, 0xd90, MSR_PASS, MSR_PASS, "IA32_BNDCFGS: guest state (MPX)"),
	R(0xc0000080, 0xc0000080, MSR_PASS, MSR_PASS, "IA32_EFER: saved/loaded by the VMCS"),
	R(0xc0000081, 0xc0000081, MSR_PASS, MSR_PASS, "IA32_STAR: the guest's system-call target"),
	R(0xc0000082, 0xc0000082, MSR_PASS, MSR_OBSERVE, "IA32_LSTAR (writes observed: the inference starts there, then performed)"),
	R(0xc0000083, 0xc0000084, MSR_PASS, MSR_PASS, "IA32_CSTAR, IA32_FMASK: the guest's system-call state"),
	R(0xc0000100, 0xc0000102, MSR_PASS, MSR_PASS, "FS_BASE, GS_BASE (VMCS), KERNEL_GS_BASE (hvmon never uses SWAPGS)"),
	R(0xc0000103, 0xc0000103, MSR_PASS, MSR_PASS, "IA32_TSC_AUX: RDTSCP/RDPID's value, the guest's"),
	/* the guest's interrupts and timers (hot: never an exit) */
	R(0x6e0, 0x6e0, MSR_PASS, MSR_PASS, "IA32_TSC_DEADLINE: the guest's APIC timer"),
	R(0x800, 0x82f, MSR_PASS, MSR_PASS, "x2APIC registers: the local APIC is the guest's"),
	R(0x830, 0x830, MSR_PASS, MSR_PASS, "x2APIC ICR: the SMP core's line (issue 11: it intercepts writes, INIT/SIPI)"),
	R(0x831, 0x8ff, MSR_PASS, MSR_PASS, "x2APIC registers: the local APIC is the guest's"),
	/* speculation controls (hot: written at kernel entry/exit by some mitigations) */
	R(0x048, 0x049, MSR_PASS, MSR_PASS, "IA32_SPEC_CTRL, IA32_PRED_CMD: the guest's mitigations (docs/SECURITY.md: hvmon's own)"),
	R(0x10a, 0x10b, MSR_PASS, MSR_PASS, "IA32_ARCH_CAPABILITIES (read-only), IA32_FLUSH_CMD"),
	R(0x10f, 0x10f, MSR_PASS, MSR_PASS, "TSX_FORCE_ABORT: TSX erratum control (Skylake; Linux perf writes it)"),
	R(0x122, 0x123, MSR_PASS, MSR_PASS, "IA32_TSX_CTRL, IA32_MCU_OPT_CTRL: mitigation controls"),
	/* performance monitoring without memory: counters, selectors, LBRs */
	R(0x0c1, 0x0c8, MSR_PASS, MSR_PASS, "IA32_PMC0-7: counters"),
	R(0x186, 0x18d, MSR_PASS, MSR_PASS, "IA32_PERFEVTSEL0-7: event selectors"),
	R(0x309, 0x30f, MSR_PASS, MSR_PASS, "fixed-function counters 0-6 (counter 3, TOPDOWN.SLOTS, from Ice Lake)"),
	R(0x329, 0x329, MSR_PASS, MSR_PASS, "PERF_METRICS: top-down counters (Ice Lake+, perf writes 0 with plain WRMSR)"),
	R(0x345, 0x345, MSR_PASS, MSR_PASS, "IA32_PERF_CAPABILITIES (read-only)"),
	R(0x38d, 0x392, MSR_PASS, MSR_PASS, "FIXED_CTR_CTRL, PERF_GLOBAL_STATUS/CTRL/OVF_CTRL/STATUS_SET/INUSE: counter control"),
	R(0x1a6, 0x1a7, MSR_PASS, MSR_PASS, "OFFCORE_RSP_0/1: event filters of the counters (perf writes them with plain WRMSR)"),
	R(0x4c1, 0x4c8, MSR_PASS, MSR_PASS, "IA32_A_PMC0-7: full-width counters"),
	R(0x0e7, 0x0e8, MSR_PASS, MSR_PASS, "IA32_MPERF, IA32_APERF: read every scheduler tick (frequency invariance)"),
	R(0x1c8, 0x1c9, MSR_PASS, MSR_PASS, "LBR_SELECT, LBR TOS: last-branch records stay in MSRs"),
	R(0x1db, 0x1de, MSR_PASS, MSR_PASS, "last branch/exception from/to (read-only)"),
	R(0x680, 0x69f, MSR_PASS, MSR_PASS, "LBR from stack"),
	R(0x6c0, 0x6df, MSR_PASS, MSR_PASS, "LBR to stack"),
	R(0xdc0, 0xddf, MSR_PASS, MSR_PASS, "LBR_INFO stack"),
	R(0x1200, 0x121f, MSR_PASS, MSR_PASS, "architectural LBR_INFO_0-31 (Alder Lake+): records stay in MSRs"),
	R(0x14ce, 0x14cf, MSR_PASS, MSR_PASS, "architectural LBR_CTL, LBR_DEPTH (written at context switch by perf)"),
	R(0x1500, 0x151f, MSR_PASS, MSR_PASS, "architectural LBR_FROM_IP_0-31"),
	R(0x1600, 0x161f, MSR_PASS, MSR_PASS, "architectural LBR_TO_IP_0-31"),
	/* machine check, thermal and power: the guest runs the machine */
	R(0x017, 0x017, MSR_PASS, MSR_PASS, "IA32_PLATFORM_ID (read-only)"),
	R(0x034, 0x035, MSR_PASS, MSR_PASS, "SMI count, core/thread count (read-only)"),
	R(0x04e, 0x04f, MSR_PASS, MSR_PASS, "PPIN_CTL, PPIN: protected processor inventory number (Xeon; Linux enables it at boot, seen on corei7_skylake_x)"),
	R(0x08b, 0x08b, MSR_PASS, MSR_PASS, "IA32_BIOS_SIGN_ID: microcode revision (written 0, then read, by Linux)"),
	R(0x0ce, 0x0ce, MSR_PASS, MSR_PASS, "MSR_PLATFORM_INFO (read-only)"),
	R(0x0e2, 0x0e2, MSR_PASS, MSR_CHECK, "PKG_CST_CONFIG_CONTROL: turning on I/O MWAIT redirection (bit 10) refused (reads of its ports would enter C-states hvmon does not see); other bits performed"),
	R(0x0e4, 0x0e4, MSR_PASS, MSR_GP, "PMG_IO_CAPTURE_BASE: the I/O MWAIT port range; moving it refused (hvmon traps the range set at boot)"),
	R(0x0fe, 0x0fe, MSR_PASS, MSR_PASS, "IA32_MTRRCAP (read-only)"),
	R(0x140, 0x140, MSR_PASS, MSR_PASS, "MISC_FEATURES_ENABLES: CPUID faulting is checked before the CPUID exit"),
	R(0x179, 0x17b, MSR_PASS, MSR_PASS, "IA32_MCG_CAP/STATUS/CTL: machine check"),
	R(0x198, 0x19c, MSR_PASS, MSR_PASS, "PERF_STATUS/CTL, clock modulation, thermal interrupt/status"),
	R(0x1a2, 0x1a2, MSR_PASS, MSR_PASS, "TEMPERATURE_TARGET (read-only)"),
	R(0x1a4, 0x1a4, MSR_PASS, MSR_PASS, "MISC_FEATURE_CONTROL (prefetchers)"),
	R(0x1ad, 0x1ad, MSR_PASS, MSR_PASS, "TURBO_RATIO_LIMIT (read-only)"),
	R(0x1b0, 0x1b2, MSR_PASS, MSR_PASS, "ENERGY_PERF_BIAS, package thermal status/interrupt"),
	R(0x1fc, 0x1fc, MSR_PASS, MSR_PASS, "POWER_CTL (C1E)"),
	R(0x280, 0x29f, MSR_PASS, MSR_PASS, "IA32_MCi_CTL2: machine check"),
	R(0x3f8, 0x3fe, MSR_PASS, MSR_PASS, "C-state residency counters (read-only)"),
	R(0x400, 0x47f, MSR_PASS, MSR_PASS, "IA32_MCi_CTL/STATUS/ADDR/MISC: machine-check banks"),
	R(0x4d0, 0x4d0, MSR_PASS, MSR_PASS, "IA32_MCG_EXT_CTL: local machine check"),
	R(0x606, 0x64f, MSR_PASS, MSR_PASS, "RAPL power units, limits and energy counters"),
	R(0x6a0, 0x6a8, MSR_PASS, MSR_PASS, "CET: U_CET, S_CET, PLn_SSP, INTERRUPT_SSP_TABLE (the guest's shadow stacks)"),
	R(0x1c4, 0x1c5, MSR_PASS, MSR_PASS, "IA32_XFD, XFD_ERR: AMX first-use trap, the guest's XSAVE state (ring -1 uses no XSAVE state; written at context switch)"),
	R(0x6e1, 0x6e1, MSR_PASS, MSR_PASS, "IA32_PKRS: supervisor protection keys (hvmon runs with CR4.PKS clear)"),
	R(0x19d, 0x19d, MSR_PASS, MSR_PASS, "THERM2_CTL: thermal control"),
	R(0xc81, 0xc82, MSR_PASS, MSR_PASS, "RDT: L3/L2 QoS configuration (cache allocation, no memory address)"),
	R(0xc8d, 0xc90, MSR_PASS, MSR_PASS, "RDT: QM_EVTSEL, QM_CTR, PQR_ASSOC (written at context switch by resctrl)"),
	R(0xd10, 0xd8f, MSR_PASS, MSR_PASS, "RDT: L3/L2 cache allocation masks"),
	R(0x770, 0x777, MSR_PASS, MSR_PASS, "HWP: hardware P-states"),
	/* not on Intel CPUs: #GP as the hardware gives it. Emulators answer some
	 * (Bochs's ignore_bad_msrs reads 0xc0011029 AMD DE_CFG as 0; Linux 6.1 then
	 * saves it for S3 and writes it back on resume: a refused write, an
	 * "unchecked MSR access" in the guest — a real Intel CPU #GPs the read) */
	R(0xc0010000, 0xc001ffff, MSR_ABSENT, MSR_ABSENT, "AMD MSRs (K7/K8 and family 10h+: HWCR, DE_CFG, LS_CFG, NB_CFG, PERF_CTL...): absent on VT-x hosts"),
};
#undef R

const struct msr_rule *msr_policy_table(uint32_t *count)
{
	if (count)
		*count = ARRAY_SIZE(msr_rules);
	return msr_rules;
}

const struct msr_rule *msr_policy_lookup(uint32_t msr)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(msr_rules); i++)
		if (msr >= msr_rules[i].first && msr <= msr_rules[i].last)
			return &msr_rules[i];
	return (const struct msr_rule *)0;
}

/* No line: a read is performed by hvmon, a write refused (deny by default). */
enum msr_action msr_policy_read(uint32_t msr)
{
	const struct msr_rule *r = msr_policy_lookup(msr);
	return r ? (enum msr_action)r->read : MSR_PERFORM;
}

enum msr_action msr_policy_write(uint32_t msr)
{
	const struct msr_rule *r = msr_policy_lookup(msr);
	return r ? (enum msr_action)r->write : MSR_GP;
}

/* IA32_APIC_BASE (SDM Vol. 3A 11.4.4): bits 8 (BSP, read-only), 10 (x2APIC
 * enable) and 11 (global enable) may change; the base address may not. */
#define APIC_BASE_MODE_BITS ((1ULL << 8) | (1ULL << 10) | (1ULL << 11))
bool msr_apic_base_write_ok(uint64_t cur, uint64_t val)
{
	return (cur & ~APIC_BASE_MODE_BITS) == (val & ~APIC_BASE_MODE_BITS);
}

/* IA32_MISC_ENABLE (SDM Vol. 4 2.1): bit 11 BTS unavailable, 12 PEBS
 * unavailable (read-only), 34 XD bit disable. */
#define MISC_BTS_UNAVAIL  (1ULL << 11)
#define MISC_PEBS_UNAVAIL (1ULL << 12)
#define MISC_XD_DISABLE   (1ULL << 34)
uint64_t msr_misc_enable_guest(uint64_t hw)
{
	return hw | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL;
}

int msr_misc_enable_write(uint64_t hw, uint64_t val, uint64_t *out)
{
	if (val & MISC_XD_DISABLE)
		return -1;
	/* the read-only bits keep the hardware's value (the guest read them as 1) */
	*out = (val & ~(MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL)) | (hw & (MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL));
	return 0;
}

/* MSR_PKG_CST_CONFIG_CONTROL bit 10 (SDM Vol. 4, Nehalem and later): reads of the
 * ports of MSR_PMG_IO_CAPTURE_BASE become MWAITs */
#define PKG_CST_IO_MWAIT (1ULL << 10)
bool msr_pkg_cst_write_ok(uint64_t cur, uint64_t val)
{
	return !(val & PKG_CST_IO_MWAIT) || (cur & PKG_CST_IO_MWAIT);
}

/* MSR_PMG_IO_CAPTURE_BASE (SDM Vol. 4): bits 15:0 the LVL_2 base port, 18:16 the
 * deepest C-state included (0 = C3, 1 = C6, 2 = C7, later CPUs more): one port per
 * C-state from LVL_2 up; IO_MWAIT_PORTS covers every encoding. */
#define IO_MWAIT_PORTS 8
unsigned msr_io_mwait_ports(uint64_t pkg_cst, uint64_t capture_base, uint16_t *base)
{
	*base = (uint16_t)capture_base;
	if (!(pkg_cst & PKG_CST_IO_MWAIT) || !*base)
		return 0;
	return 0x10000u - *base < IO_MWAIT_PORTS ? 0x10000u - *base : IO_MWAIT_PORTS;
}

#define XSS_PT (1ULL << 8)      /* SDM Vol. 1 13.5.6: PT state component */
bool msr_xss_write_ok(uint64_t val)
{
	return !(val & XSS_PT);
}

#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_DEF_TYPE_E   (1ULL << 11)      /* SDM Vol. 3A 11.11.2.1: MTRRs enabled */
bool msr_mtrr_change_reported(uint32_t msr, uint64_t cur, uint64_t val)
{
	if (cur == val)
		return false;
	return !(msr == MSR_MTRR_DEF_TYPE && !(val & MTRR_DEF_TYPE_E));
}

bool msr_is_mtrr(uint32_t msr)
{
	return (msr >= 0x200 && msr <= 0x21f) || msr == 0x250 || msr == 0x258 || msr == 0x259 ||
	       (msr >= 0x268 && msr <= 0x26f) || msr == 0x2ff;
}

uint64_t msr_feature_control_guest(uint64_t host_value)
{
	return (host_value | FEATURE_CONTROL_LOCK) & ~(FEATURE_CONTROL_VMX_SMX | FEATURE_CONTROL_VMX);
}

/* ---- MSR bitmap ---- */
static int bitmap_pos(uint32_t msr, bool write, uint32_t *byte, uint8_t *mask)
{
	uint32_t base;

	if (msr <= 0x1fff)
		base = write ? 0x800 : 0x000;
	else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		base = write ? 0xc00 : 0x400;
	else
		return -1;
	*byte = base + ((msr & 0x1fff) >> 3);
	*mask = (uint8_t)(1u << (msr & 7));
	return 0;
}

int msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool read, bool write, bool intercept)
{
	uint32_t byte;
	uint8_t mask;
	int dir;

	if (!bitmap || bitmap_pos(msr, false, &byte, &mask))
		return -1;
	for (dir = 0; dir < 2; dir++) {
		if (!(dir ? write : read))
			continue;
		bitmap_pos(msr, dir, &byte, &mask);
		if (intercept)
			bitmap[byte] |= mask;
		else
			bitmap[byte] &= (uint8_t)~mask;
	}
	return 0;
}

bool msr_bitmap_intercepts(const uint8_t *bitmap, uint32_t msr, bool write)
{
	uint32_t byte;
	uint8_t mask;

	if (!bitmap || bitmap_pos(msr, write, &byte, &mask))
		return true;
	return (bitmap[byte] & mask) != 0;
}

void msr_bitmap_build(uint8_t *bitmap)
{
	unsigned i;
	uint32_t msr;

	if (!bitmap)
		return;
	for (i = 0; i < MSR_BITMAP_SIZE; i++)
		bitmap[i] = 0xff;               /* deny by default: every MSR exits */
	for (i = 0; i < ARRAY_SIZE(msr_rules); i++)
		for (msr = msr_rules[i].first; msr <= msr_rules[i].last && msr >= msr_rules[i].first; msr++) {
			msr_bitmap_set(bitmap, msr, msr_rules[i].read == MSR_PASS,
				       msr_rules[i].write == MSR_PASS, false);
			if (msr == 0xffffffffu)
				break;
		}
}
