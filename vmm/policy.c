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
		if (g) {
			r->ecx &= ~CPUID1_ECX_OSXSAVE;
			if ((r->ecx & CPUID1_ECX_XSAVE) && (g->cr4 & CR4_OSXSAVE))
				r->ecx |= CPUID1_ECX_OSXSAVE;
		}
		break;
	case 7:
		if (subleaf == 0 && g) {
			r->ecx &= ~CPUID7_ECX_OSPKE;
			if (g->cr4 & CR4_PKE)
				r->ecx |= CPUID7_ECX_OSPKE;
		}
		break;
	default:
		break;   /* pass through, including 0x40000000-0x4fffffff */
	}
}

/* ---- MSR policy ---- */
static const struct msr_rule msr_rules[] = {
	{ MSR_IA32_FEATURE_CONTROL, MSR_IA32_FEATURE_CONTROL, MSR_EMULATE, MSR_GP,
	  "IA32_FEATURE_CONTROL (reads: locked, VMX off; writes: #GP as when locked)" },
	{ MSR_IA32_SMM_MONITOR_CTL, MSR_IA32_SMM_MONITOR_CTL, MSR_GP, MSR_GP,
	  "IA32_SMM_MONITOR_CTL (absent without VMX/SMX)" },
	{ MSR_IA32_VMX_FIRST, MSR_IA32_VMX_LAST, MSR_GP, MSR_GP,
	  "IA32_VMX_* capability MSRs (absent without VMX)" },
	{ MSR_IA32_LSTAR, MSR_IA32_LSTAR, MSR_PASS, MSR_OBSERVE,
	  "IA32_LSTAR (writes observed, then performed)" },
};

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

enum msr_action msr_policy_read(uint32_t msr)
{
	const struct msr_rule *r = msr_policy_lookup(msr);
	return r ? (enum msr_action)r->read : MSR_PASS;
}

enum msr_action msr_policy_write(uint32_t msr)
{
	const struct msr_rule *r = msr_policy_lookup(msr);
	return r ? (enum msr_action)r->write : MSR_PASS;
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
		bitmap[i] = 0;
	for (i = 0; i < ARRAY_SIZE(msr_rules); i++)
		for (msr = msr_rules[i].first; msr <= msr_rules[i].last && msr >= msr_rules[i].first; msr++) {
			msr_bitmap_set(bitmap, msr, msr_rules[i].read != MSR_PASS,
				       msr_rules[i].write != MSR_PASS, true);
			if (msr == 0xffffffffu)
				break;
		}
}
