/*
 * VM-exit dispatch: ONE table indexed by basic exit reason (ACRN style);
 * each handler lives in the file that owns its concern. Exit statistics
 * (count + ring -1 TSC ticks per reason) are kept per vCPU here.
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "vmm/probe.h"
#include "lib/console.h"
#include "vmm/tick.h"
#include "vmm/smp.h"
#include "arch/x86/cpu.h"

typedef int (*exit_handler_fn)(struct vcpu *v);

struct exit_entry {
	exit_handler_fn handler;
	const char *name;
	bool need_qual;          /* read EXIT_QUALIFICATION before calling */
};

/*
 * Exceptions in the exception bitmap (vmm/intercept.h): the subscribers of the
 * vector first; one that returns HV_ICPT_DONE has dealt with it. Otherwise it
 * is delivered to the guest as the CPU raised it (SDM 27.2.2 exit interruption
 * information; 26.6.1.1: a software exception needs the instruction length;
 * #PF: the guest's CR2 is the real CR2 in ring -1).
 */
/*
 * Exception/NMI exits counted by vector and logged at the first, then at every
 * power of two from 2^16: a storm (the guest stuck re-raising one exception, or
 * a handler that never completes it) then names its vector, RIP, error code and
 * qualification in the log, even when the run is cut short, at ~17 lines per
 * vector for 2^32 exits and one counter increment per exit.
 */
static void exc_note(struct vcpu *v, uint32_t info)
{
	uint64_t n = ++v->exc_exits[info & 31];
	if (n != 1 && (n < 65536 || (n & (n - 1))))
		return;
	pr_info("exception exits: vCPU%u vector %u (info %#x): %lu, this one at RIP %#lx, error %#lx, "
		"qualification %#lx, CR0 %#lx CR4 %#lx\n", v->id, info & 0xff, info, (unsigned long)n,
		(unsigned long)vmread(VMCS_GUEST_RIP), (unsigned long)vmread(VMCS_EXIT_INTR_ERROR),
		(unsigned long)v->exit_qual, (unsigned long)vmread(VMCS_GUEST_CR0),
		(unsigned long)vmread(VMCS_GUEST_CR4));
}

int exception_exit(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	unsigned type = (info >> 8) & 7;
	exc_note(v, info);
	if ((info & INTR_INFO_VALID) && type == 2)
		return vcpu_nmi_exit(v);        /* a kick or the guest's NMI (vmm/reinject.c) */
	if (!(info & INTR_INFO_VALID) || (type != 3 && type != 6)) {
		pr_err("unexpected exception/NMI exit: interruption info %#x\n", info);
		return HV_FATAL;
	}
	struct hv_icpt x;               /* fields set one by one: no zeroing on the probe-hit path */
	x.kind = HV_ICPT_EXCEPTION;
	x.exc.vector = (uint8_t)(info & 0xff);
	x.exc.software = type == 6;
	x.exc.has_error = (info & INTR_INFO_DELIVER_ERR) != 0;
	x.exc.error = x.exc.has_error ? (uint32_t)vmread(VMCS_EXIT_INTR_ERROR) : 0;
	x.exc.qual = v->exit_qual;
	if (hv_intercept_call(v, &x) == HV_ICPT_DONE)
		return HV_RESUME;
	vcpu_reflect_exception(v, &x);
	return HV_RESUME;
}

void vcpu_reflect_exception(struct vcpu *v, const struct hv_icpt *x)
{
	uint32_t info = INTR_INFO_VALID | x->exc.vector |
			(x->exc.software ? INTR_TYPE_SW_EXCEPTION : INTR_TYPE_HW_EXCEPTION);
	if (x->exc.vector == X86_VEC_PF)
		write_cr2(x->exc.qual);
	if (x->exc.has_error) {
		info |= INTR_INFO_DELIVER_ERR;
		vmwrite(VMCS_ENTRY_EXC_ERROR, x->exc.error);
	}
	if (x->exc.software)
		vmwrite(VMCS_ENTRY_INSTR_LEN, vmread(VMCS_EXIT_INSTR_LEN));
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static int triple_fault_exit(struct vcpu *v);
static int unexpected_exit(struct vcpu *v);

static const struct exit_entry exit_table[EXIT_REASON_MAX] = {
	[EXIT_EXCEPTION_NMI]   = { exception_exit,       "exception/NMI", true },  /* subscribers: vmm/intercept.h */
	[EXIT_EXTERNAL_INTR]   = { external_intr_exit,   "external interrupt", false }, /* C-state waits: vmm/cstate_vmx.c */
	[EXIT_TRIPLE_FAULT]    = { triple_fault_exit,    "triple fault", false },
	[EXIT_INIT]            = { unexpected_exit,      "INIT signal", false },
	[EXIT_SIPI]            = { unexpected_exit,      "SIPI", true },
	[EXIT_IO_SMI]          = { unexpected_exit,      "I/O SMI", true },
	[EXIT_OTHER_SMI]       = { unexpected_exit,      "other SMI", false },
	[EXIT_INTR_WINDOW]     = { unexpected_exit,      "interrupt window", false },
	[EXIT_NMI_WINDOW]      = { nmi_window_exit,      "NMI window", false },     /* vmm/reinject.c */
	[EXIT_TASK_SWITCH]     = { unexpected_exit,      "task switch", true },
	[EXIT_CPUID]           = { cpuid_exit,           "CPUID", false },
	[EXIT_GETSEC]          = { getsec_exit,          "GETSEC", false },
	[EXIT_HLT]             = { unexpected_exit,      "HLT", false },
	[EXIT_INVD]            = { invd_exit,            "INVD", false },
	[EXIT_INVLPG]          = { unexpected_exit,      "INVLPG", true },
	[EXIT_RDPMC]           = { unexpected_exit,      "RDPMC", false },
	[EXIT_RDTSC]           = { unexpected_exit,      "RDTSC", false },
	[EXIT_RSM]             = { unexpected_exit,      "RSM", false },
	[EXIT_VMCALL]          = { vmx_instruction_exit, "VMCALL", false },
	[EXIT_VMCLEAR]         = { vmx_instruction_exit, "VMCLEAR", false },
	[EXIT_VMLAUNCH]        = { vmx_instruction_exit, "VMLAUNCH", false },
	[EXIT_VMPTRLD]         = { vmx_instruction_exit, "VMPTRLD", false },
	[EXIT_VMPTRST]         = { vmx_instruction_exit, "VMPTRST", false },
	[EXIT_VMREAD]          = { vmx_instruction_exit, "VMREAD", false },
	[EXIT_VMRESUME]        = { vmx_instruction_exit, "VMRESUME", false },
	[EXIT_VMWRITE]         = { vmx_instruction_exit, "VMWRITE", false },
	[EXIT_VMXOFF]          = { vmx_instruction_exit, "VMXOFF", false },
	[EXIT_VMXON]           = { vmx_instruction_exit, "VMXON", false },
	[EXIT_CR_ACCESS]       = { cr_access_exit,       "CR access", true },
	[EXIT_DR_ACCESS]       = { unexpected_exit,      "DR access", true },
	[EXIT_IO]              = { io_exit,              "I/O", true },
	[EXIT_RDMSR]           = { rdmsr_exit,           "RDMSR", false },
	[EXIT_WRMSR]           = { wrmsr_exit,           "WRMSR", false },
	[EXIT_ENTRY_BAD_GUEST] = { unexpected_exit,      "VM entry: invalid guest state", true },
	[EXIT_ENTRY_BAD_MSR]   = { unexpected_exit,      "VM entry: MSR loading", true },
	[EXIT_MWAIT]           = { monitor_mwait_exit,   "MWAIT", false },    /* #UD: vmm/insn.c */
	[EXIT_MTF]             = { unexpected_exit,      "monitor trap flag", false },
	[EXIT_MONITOR]         = { monitor_mwait_exit,   "MONITOR", false },
	[EXIT_PAUSE]           = { unexpected_exit,      "PAUSE", false },
	[EXIT_ENTRY_MCE]       = { unexpected_exit,      "VM entry: machine check", false },
	[EXIT_TPR_BELOW]       = { unexpected_exit,      "TPR below threshold", false },
	[EXIT_APIC_ACCESS]     = { unexpected_exit,      "APIC access", true },
	[EXIT_VIRT_EOI]        = { unexpected_exit,      "virtualized EOI", true },
	[EXIT_GDTR_IDTR]       = { dtr_exit,             "GDTR/IDTR access", true },   /* vmm/dtr.c (hv_intercept_dtr) */
	[EXIT_LDTR_TR]         = { dtr_exit,             "LDTR/TR access", true },
	[EXIT_EPT_VIOLATION]   = { ept_violation_exit,   "EPT violation", true }, /* subscribed pages (probes), else hvmon memory */
	[EXIT_EPT_MISCONFIG]   = { ept_misconfig_exit,   "EPT misconfiguration", false },
	[EXIT_INVEPT]          = { vmx_instruction_exit, "INVEPT", false },
	[EXIT_RDTSCP]          = { unexpected_exit,      "RDTSCP", false },
	[EXIT_PREEMPT_TIMER]   = { tick_preempt_exit,    "preemption timer", false },  /* vmm/tick.c */
	[EXIT_INVVPID]         = { vmx_instruction_exit, "INVVPID", false },
	[EXIT_WBINVD]          = { wbinvd_exit,          "WBINVD", false },
	[EXIT_XSETBV]          = { xsetbv_exit,          "XSETBV", false },
	[EXIT_APIC_WRITE]      = { unexpected_exit,      "APIC write", true },
	[EXIT_RDRAND]          = { unexpected_exit,      "RDRAND", false },
	[EXIT_INVPCID]         = { unexpected_exit,      "INVPCID", false },
	[EXIT_VMFUNC]          = { vmx_instruction_exit, "VMFUNC", false },
	[EXIT_ENCLS]           = { unexpected_exit,      "ENCLS", false },
	[EXIT_RDSEED]          = { unexpected_exit,      "RDSEED", false },
	[EXIT_PML_FULL]        = { unexpected_exit,      "page-modification log full", false },
	[EXIT_XSAVES]          = { unexpected_exit,      "XSAVES", false },
	[EXIT_XRSTORS]         = { unexpected_exit,      "XRSTORS", false },
	[EXIT_SPP]             = { unexpected_exit,      "SPP-related event", true },
	[EXIT_UMWAIT]          = { unexpected_exit,      "UMWAIT", false },
	[EXIT_TPAUSE]          = { unexpected_exit,      "TPAUSE", false },
	[EXIT_LOADIWKEY]       = { unexpected_exit,      "LOADIWKEY", false },
};

const char *exit_reason_name(uint32_t basic)
{
	if (basic < EXIT_REASON_MAX && exit_table[basic].name)
		return exit_table[basic].name;
	return "unknown";
}

/* Called from arch/x86/vmx_entry.S; the saved guest GPRs are v->regs (the
 * top of this CPU's stack, set at vmcs_setup). */
void vmexit_handler(void)
{
	uint64_t t0 = rdtsc();
	struct vcpu *v = this_cpu()->vcpu;
	v->exit_tsc = t0;
	v->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint32_t basic = v->exit_reason & 0xffff;
	const struct exit_entry *e = basic < EXIT_REASON_MAX ? &exit_table[basic] : NULL;
	v->exit_qual = (e && e->need_qual) ? vmread(VMCS_EXIT_QUALIFICATION) : 0;
	v->nr_exits++;

	int rc;
	if (v->exit_reason & EXIT_REASON_ENTRY_FAIL) {
		v->exit_qual = vmread(VMCS_EXIT_QUALIFICATION);
		pr_err("VM entry failed: exit reason %u (%s), exit qualification %#lx%s\n", basic,
		       exit_reason_name(basic), (unsigned long)v->exit_qual,
		       basic == EXIT_ENTRY_BAD_MSR ? " (index of the failing MSR entry)" :
		       basic == EXIT_ENTRY_BAD_GUEST && v->exit_qual == 2 ? " (invalid PDPTE)" :
		       basic == EXIT_ENTRY_BAD_GUEST && v->exit_qual == 3 ? " (NMI injection while blocked)" :
		       basic == EXIT_ENTRY_BAD_GUEST && v->exit_qual == 4 ? " (invalid VMCS link pointer)" : "");
		vcpu_guest_crash(v, "VM entry failed (guest state)");
	} else if (!e || !e->handler) {
		rc = unexpected_exit(v);
	} else {
		rc = e->handler(v);
	}
	if (rc != HV_RESUME)
		vcpu_guest_crash(v, "unhandled VM exit");
	tick_after_exit(v);                     /* periodic ring -1 work, re-arms the timer */
	vcpu_reinject_idt_vectoring(v);         /* an event the exit interrupted (vmm/reinject.c) */

	/* Deliver the guest's NMI (an NMI exit, or one taken in ring -1), unless
	 * an event is already being injected or the guest blocks NMIs: then
	 * NMI-window exiting brings it back when it unblocks (vmm/reinject.c). */
	if (__builtin_expect(v->cpu->nmi_pending != 0, 0))
		vcpu_deliver_nmi(v);

	if (basic < EXIT_REASON_MAX) {
		v->stats[basic].count++;
		v->stats[basic].ticks += rdtsc() - t0;
	}
	smp_exit_poll(v);                       /* other CPUs' requests, the guest's INIT (vmm/smp.h) */
	probe_vcpu_sync(v);                     /* its EPT view after probes came or went (also after a park) */
	spec_before_entry(v);                   /* last: L1D flush / VERW (vmm/spec_vmx.c) */
}

void vcpu_skip_instruction(struct vcpu *v)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTR_LEN);
	vmwrite(VMCS_GUEST_RIP, rip);
	/* Skipping an instruction ends STI/MOV-SS blocking. */
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & 3)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ULL);
}

void vcpu_inject_exception(struct vcpu *v, unsigned int vector, bool has_err, uint32_t err)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | (vector & 0xff);
	if (has_err) {
		info |= INTR_INFO_DELIVER_ERR;
		vmwrite(VMCS_ENTRY_EXC_ERROR, err);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

/* The controls the intercept subscriptions imply (vmm/intercept.c), written to
 * the vCPU's VMCS (SDM 25.2, 25.6.3, 25.6.6): at its start, and at once on the
 * vCPU of the exit during which a subscription changed them (no cost on other
 * exits). Only bits are added, never removed. The other vCPUs take it at
 * their next exit (smp_exit_poll compares icpt_gen, vmm/smp.h). */
void hv_intercept_changed(struct vm *vm)
{
	struct vcpu *v = this_cpu()->vcpu;
	if (v && v->vm == vm && v->icpt_started)
		hv_intercept_apply(v);
}

void hv_intercept_apply(struct vcpu *v)
{
	struct vm *vm = v->vm;
	v->icpt_started = true;         /* from now on changes reach this VMCS at once */
	if (v->icpt_gen == vm->icpt_gen && v->icpt_gen)
		return;
	v->icpt_gen = vm->icpt_gen;
	vmwrite(VMCS_EXCEPTION_BITMAP, vmread(VMCS_EXCEPTION_BITMAP) | vm->exc_bitmap);
	vmwrite(VMCS_PF_ERR_MASK, vm->pf_mask);
	vmwrite(VMCS_PF_ERR_MATCH, vm->pf_match);
	vmwrite(VMCS_CR4_MASK, vmread(VMCS_CR4_MASK) | vm->cr4_icpt_bits);
	/* CR0: the read shadow always holds the guest's own CR0 (vmm/cr.c), so a
	 * bit joining the mask keeps reading what the guest last wrote */
	if (vm->cr0_icpt_bits)
		vmwrite(VMCS_CR0_MASK, vmread(VMCS_CR0_MASK) | vm->cr0_icpt_bits);
	if (vm->dtr_exiting)
		vmwrite(VMCS_PROC_CTLS2, vmread(VMCS_PROC_CTLS2) | PROC2_DESC_TABLE_EXIT);
}

static int triple_fault_exit(struct vcpu *v)
{
	vcpu_guest_crash(v, "guest triple fault");
}

static int unexpected_exit(struct vcpu *v)
{
	uint32_t basic = v->exit_reason & 0xffff;
	pr_err("unexpected VM exit: reason %u (%s), qualification %#lx\n", basic,
	       exit_reason_name(basic), (unsigned long)vmread(VMCS_EXIT_QUALIFICATION));
	return HV_FATAL;
}

#define SEG(name, sel, base, lim, ar) \
	hv_printf("  %-4s sel %04lx base %016lx limit %08lx ar %05lx\n", name, \
		  (unsigned long)vmread(sel), (unsigned long)vmread(base), \
		  (unsigned long)vmread(lim), (unsigned long)vmread(ar))

void vcpu_dump_state(struct vcpu *v, const char *why)
{
	union guest_regs *r = v->regs;
	hv_printf("\nhvmon: ==== guest state (vCPU %u): %s ====\n", v->id, why);
	hv_printf("  exit reason %#x (%s) qualification %#lx, %lu exits so far\n", v->exit_reason,
		  exit_reason_name(v->exit_reason & 0xffff), (unsigned long)v->exit_qual,
		  (unsigned long)v->nr_exits);
	hv_printf("  RIP %016lx RSP %016lx RFLAGS %016lx\n", (unsigned long)vmread(VMCS_GUEST_RIP),
		  (unsigned long)vmread(VMCS_GUEST_RSP), (unsigned long)vmread(VMCS_GUEST_RFLAGS));
	hv_printf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", (unsigned long)r->rax,
		  (unsigned long)r->rbx, (unsigned long)r->rcx, (unsigned long)r->rdx);
	hv_printf("  RSI %016lx RDI %016lx RBP %016lx\n", (unsigned long)r->rsi,
		  (unsigned long)r->rdi, (unsigned long)r->rbp);
	hv_printf("  R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n", (unsigned long)r->r8,
		  (unsigned long)r->r9, (unsigned long)r->r10, (unsigned long)r->r11);
	hv_printf("  R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n", (unsigned long)r->r12,
		  (unsigned long)r->r13, (unsigned long)r->r14, (unsigned long)r->r15);
	hv_printf("  CR0 %016lx (shadow %016lx) CR3 %016lx CR4 %016lx (shadow %016lx)\n",
		  (unsigned long)vmread(VMCS_GUEST_CR0), (unsigned long)vmread(VMCS_CR0_SHADOW),
		  (unsigned long)vmread(VMCS_GUEST_CR3), (unsigned long)vmread(VMCS_GUEST_CR4),
		  (unsigned long)vmread(VMCS_CR4_SHADOW));
	hv_printf("  EFER %016lx PAT %016lx DR7 %016lx activity %lu interruptibility %#lx\n",
		  (unsigned long)vmread(VMCS_GUEST_EFER), (unsigned long)vmread(VMCS_GUEST_PAT),
		  (unsigned long)vmread(VMCS_GUEST_DR7), (unsigned long)vmread(VMCS_GUEST_ACTIVITY_STATE),
		  (unsigned long)vmread(VMCS_GUEST_INTERRUPTIBILITY));
	SEG("CS", VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR);
	SEG("SS", VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR);
	SEG("DS", VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR);
	SEG("ES", VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR);
	SEG("FS", VMCS_GUEST_FS_SEL, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR);
	SEG("GS", VMCS_GUEST_GS_SEL, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR);
	SEG("TR", VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR);
	SEG("LDTR", VMCS_GUEST_LDTR_SEL, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR);
	hv_printf("  GDTR %016lx/%04lx IDTR %016lx/%04lx\n",
		  (unsigned long)vmread(VMCS_GUEST_GDTR_BASE), (unsigned long)vmread(VMCS_GUEST_GDTR_LIMIT),
		  (unsigned long)vmread(VMCS_GUEST_IDTR_BASE), (unsigned long)vmread(VMCS_GUEST_IDTR_LIMIT));
	hv_printf("  IDT-vectoring info %#lx error %#lx, exit interruption info %#lx, guest-physical %#lx, linear %#lx\n",
		  (unsigned long)vmread(VMCS_IDT_VECTORING_INFO), (unsigned long)vmread(VMCS_IDT_VECTORING_ERROR),
		  (unsigned long)vmread(VMCS_EXIT_INTR_INFO), (unsigned long)vmread(VMCS_GUEST_PHYS_ADDR),
		  (unsigned long)vmread(VMCS_GUEST_LINEAR_ADDR));
}
