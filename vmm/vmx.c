/*
 * VMX bring-up: CPUID/feature-control checks, control derivation from the
 * IA32_VMX_(TRUE_)* capability MSRs (vmm/policy), VMXON per CPU, and the
 * guest's own VMX instructions (#UD: the guest sees a CPU without VMX).
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "vmm/policy.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

static int derive(const struct vmx_caps *c, enum vmx_ctl_kind kind, uint32_t req, uint32_t opt,
		  uint32_t *out, const char *what)
{
	uint64_t cap = rdmsr(vmx_ctl_msr(kind, c->basic));
	uint32_t missing = 0;
	if (vmx_ctl_derive(cap, req, opt, out, &missing) < 0) {
		pr_err("VMX: this CPU lacks a required %s control: %s (capability MSR %#lx)\n",
		       what, vmx_ctl_bit_name(kind, vmx_first_bit(missing)), (unsigned long)cap);
		return -1;
	}
	uint32_t lost = opt & ~*out;
	if (lost)
		pr_warn("VMX: optional %s control unavailable: %s\n", what,
			vmx_ctl_bit_name(kind, vmx_first_bit(lost)));
	return 0;
}

int vmx_probe_and_derive(struct vmx_caps *c)
{
	struct x86_cpuid r;
	cpuid_count(1, 0, &r);
	if (!(r.ecx & (1u << 5))) {
		pr_err("VMX: CPUID.1:ECX.VMX[bit 5] = 0: this CPU has no VT-x (or it is disabled)\n");
		return -1;
	}
	uint64_t fc = rdmsr(IA32_FEATURE_CONTROL);
	if (fc & IA32_FC_LOCK) {
		if (!(fc & IA32_FC_VMX_OUT_SMX)) {
			pr_err("VMX: IA32_FEATURE_CONTROL (%#lx) is locked with VMX disabled: "
			       "enable VT-x in the firmware setup\n", (unsigned long)fc);
			return -1;
		}
	}
	memset(c, 0, sizeof(*c));
	c->basic = rdmsr(IA32_VMX_BASIC);
	c->misc = rdmsr(IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(IA32_VMX_CR4_FIXED1);

	if (((c->basic >> 50) & 0xf) != 6) {
		pr_err("VMX: VMCS memory type is not write-back (IA32_VMX_BASIC %#lx)\n",
		       (unsigned long)c->basic);
		return -1;
	}
	/* NMI exiting + virtual NMIs: hvmon's kick NMIs become exits (vmm/smp.c,
	 * arch/x86/nmi.h); the guest's NMIs are injected, its IRET unblocks
	 * virtual-NMI blocking (SDM Vol. 3C 25.3, 26.6.1.2). */
	if (derive(c, VMX_CTL_PIN, 0, PIN_PREEMPT_TIMER /* vmm/tick.c */ | PIN_NMI_EXIT | PIN_VIRTUAL_NMIS,
		   &c->pin, "pin-based") ||
	    derive(c, VMX_CTL_PROC, PROC_USE_MSR_BITMAPS | PROC_USE_IO_BITMAPS | PROC_SECONDARY,
		   PROC_USE_TSC_OFFSET /* guest TSC writes: vmm/msr_guard.c */ |
		   PROC_MWAIT_EXIT | PROC_MONITOR_EXIT /* no deep C-states: vmm/insn.c */, &c->proc, "processor-based"))
		return -1;
	/* NMI exiting alone would keep the guest's NMIs blocked after its first
	 * (its IRET no longer unblocks them): both or neither (then no kicks:
	 * cross-CPU requests wait for the other CPUs' next exit). */
	if ((c->pin & (PIN_NMI_EXIT | PIN_VIRTUAL_NMIS)) != (PIN_NMI_EXIT | PIN_VIRTUAL_NMIS))
		c->pin &= ~(PIN_NMI_EXIT | PIN_VIRTUAL_NMIS);
	c->nmi_window = (c->pin & PIN_VIRTUAL_NMIS) &&
			((rdmsr(vmx_ctl_msr(VMX_CTL_PROC, c->basic)) >> 32) & PROC_NMI_WINDOW);
	uint64_t p2 = rdmsr(IA32_VMX_PROCBASED2);
	if (!(p2 >> 32 & PROC2_EPT)) {
		pr_err("VMX: no EPT on this CPU: hvmon needs EPT to hide its memory\n");
		return -1;
	}
	if (!(p2 >> 32 & PROC2_UNRESTRICTED)) {
		pr_err("VMX: no unrestricted guest on this CPU: hvmon needs it\n");
		return -1;
	}
	if (derive(c, VMX_CTL_PROC2, PROC2_EPT | PROC2_UNRESTRICTED,
		   PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES, &c->proc2, "secondary") ||
	    /* debug controls (issue 17): the guest's DR7/DEBUGCTL survive exits */
	    derive(c, VMX_CTL_EXIT, EXIT_HOST_ADDR64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
		   EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_PREEMPT_TIMER | EXIT_SAVE_DEBUG, &c->exit, "VM-exit") ||
	    derive(c, VMX_CTL_ENTRY, ENTRY_IA32E_GUEST | ENTRY_LOAD_EFER, ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG,
		   &c->entry, "VM-entry"))
		return -1;

	/* descriptor-table exiting: off until a subscriber asks (hv_intercept_dtr) */
	c->dtr_exit = (p2 >> 32 & PROC2_DESC_TABLE_EXIT) != 0;
	c->ept_vpid_cap = rdmsr(IA32_VMX_EPT_VPID_CAP);
	c->ept_caps = ept_caps_from_msr(c->ept_vpid_cap);
	if (!(c->ept_caps & EPT_CAP_WALK4) || !(c->ept_caps & EPT_CAP_WB)) {
		pr_err("VMX: EPT lacks 4-level walks or write-back paging structures (cap %#lx)\n",
		       (unsigned long)c->ept_vpid_cap);
		return -1;
	}
	pr_info("VMX: basic %#lx pin %#x proc %#x proc2 %#x exit %#x entry %#x EPT caps %#x\n",
		(unsigned long)c->basic, c->pin, c->proc, c->proc2, c->exit, c->entry, c->ept_caps);
	return 0;
}

int vmx_enable_on_cpu(struct percpu *p, const struct vmx_caps *c)
{
	uint64_t fc = rdmsr(IA32_FEATURE_CONTROL);
	if (!(fc & IA32_FC_LOCK)) {
		wrmsr(IA32_FEATURE_CONTROL, fc | IA32_FC_LOCK | IA32_FC_VMX_OUT_SMX);
		pr_debug("CPU%u: IA32_FEATURE_CONTROL was unlocked (%#lx): wrote lock|VMX\n",
			 p->cpu_id, (unsigned long)fc);
	} else if (!(fc & IA32_FC_VMX_OUT_SMX)) {
		pr_err("CPU%u: IA32_FEATURE_CONTROL locked with VMX off\n", p->cpu_id);
		return -1;
	}
	p->vmxon_region = page_alloc();
	if (!p->vmxon_region)
		return -1;
	p->vmxon_pa = hv_virt_to_phys(p->vmxon_region);
	*(uint32_t *)p->vmxon_region = (uint32_t)(c->basic & 0x7fffffff);

	write_cr0((read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
	write_cr4((read_cr4() | c->cr4_fixed0 | X86_CR4_VMXE) & c->cr4_fixed1);
	int rc = vmxon(p->vmxon_pa);
	if (rc) {
		pr_err("CPU%u: VMXON failed (%s)\n", p->cpu_id,
		       rc == -1 ? "VMfailInvalid: bad VMXON region or already in VMX operation"
				: "VMfailValid");
		return -1;
	}
	pr_info("CPU%u: VMX root operation (VMXON region at %#lx)\n", p->cpu_id,
		(unsigned long)p->vmxon_pa);
	return 0;
}

/* Guest VMX instructions: #UD, as on a CPU without VMX (CPUID.VMX is hidden
 * and CR4.VMXE can never be set by the guest). */
int vmx_instruction_exit(struct vcpu *v)
{
	hv_deny(v, HV_DENY_VMX, v->exit_reason & 0xffff, 0);   /* reg: the exit reason (which instruction) */
	vcpu_inject_ud(v);
	return HV_RESUME;
}

const char *vmx_instr_error_str(uint32_t err)
{
	static const char *const s[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
		[19] = "VMCALL with non-clear VMCS",
		[20] = "VMCALL with invalid VM-exit control fields",
		[22] = "VMCALL with incorrect MSEG revision identifier",
		[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
		[24] = "VMCALL with invalid SMM-monitor features",
		[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};
	if (err < sizeof(s) / sizeof(s[0]) && s[err])
		return s[err];
	return "unknown VM-instruction error";
}
