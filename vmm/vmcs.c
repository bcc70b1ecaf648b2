/*
 * VMCS of a vCPU: controls (derived in vmm/vmx.c), host state (this CPU's
 * ring -1 environment), CR0/CR4 guest/host masks, bitmaps, EPTP. The guest
 * state is filled by vmm/guest_boot.c. Also the first VM entry and decoding
 * of VM-entry failures.
 */
#include "vmm/cr0.h"
#include <string.h>
#include "vmm/vcpu.h"
#include "vmm/policy.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

extern void vmx_exit_stub(void);
extern void vmx_launch(union guest_regs *regs) __attribute__((noreturn));

static int vmcs_failed;

static void vw(uint64_t field, uint64_t value)
{
	int rc = vmwrite(field, value);
	if (rc) {
		pr_err("VMWRITE %#lx <- %#lx failed: %s\n", (unsigned long)field, (unsigned long)value,
		       rc == -1 ? "no current VMCS" : vmx_instr_error_str((uint32_t)vmread(VMCS_VM_INSTR_ERROR)));
		vmcs_failed = 1;
	}
}

int vmcs_setup(struct vcpu *v)
{
	struct vm *vm = v->vm;
	const struct vmx_caps *c = &vm->caps;
	struct percpu *p = v->cpu;

	v->vmcs = page_alloc();
	if (!v->vmcs)
		return -1;
	v->vmcs_pa = hv_virt_to_phys(v->vmcs);
	*(uint32_t *)v->vmcs = (uint32_t)(c->basic & 0x7fffffff);
	if (vmclear(v->vmcs_pa) || vmptrld(v->vmcs_pa)) {
		pr_err("VMCLEAR/VMPTRLD of the VMCS at %#lx failed\n", (unsigned long)v->vmcs_pa);
		return -1;
	}
	vmcs_failed = 0;

	/* controls */
	vw(VMCS_PIN_CTLS, c->pin);
	vw(VMCS_PROC_CTLS, c->proc);
	vw(VMCS_PROC_CTLS2, c->proc2);
	vw(VMCS_EXIT_CTLS, c->exit);
	vw(VMCS_ENTRY_CTLS, c->entry);
	vw(VMCS_EXCEPTION_BITMAP, 0);
	vw(VMCS_PF_ERR_MASK, 0);
	vw(VMCS_PF_ERR_MATCH, 0);
	vw(VMCS_CR3_TARGET_COUNT, 0);
	vw(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vw(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vw(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vw(VMCS_ENTRY_INTR_INFO, 0);
	vw(VMCS_TSC_OFFSET, 0);                  /* guest TSC writes move it: vmm/msr_guard.c */
	vw(VMCS_MSR_BITMAP, vm->msr_bitmap_pa);
	vw(VMCS_IO_BITMAP_A, vm->io_bitmap_pa);
	vw(VMCS_IO_BITMAP_B, vm->io_bitmap_pa + 4096);
	vw(VMCS_EPTP, vm->eptp);
	vw(VMCS_LINK_POINTER, ~0ULL);

	/* CR0/CR4: bits VMX fixes are owned by hvmon; the guest reads its shadow.
	 * With unrestricted guest CR0.PE/PG are the guest's own. */
	uint64_t cr0_fixed0 = vmx_cr0_fixed0_unrestricted(c->cr0_fixed0);
	vw(VMCS_CR0_MASK, cr0_guest_mask(cr0_fixed0, c->cr0_fixed1));   /* + CD/NW: vmm/cr0.h */
	vw(VMCS_CR4_MASK, (c->cr4_fixed0 | ~c->cr4_fixed1 | X86_CR4_VMXE) & 0xffffffffULL);

	/* host state: this CPU's ring -1 environment */
	struct desc_ptr gdtr, idtr;
	sgdt(&gdtr);
	sidt(&idtr);
	vw(VMCS_HOST_CR0, read_cr0());
	vw(VMCS_HOST_CR3, read_cr3());
	vw(VMCS_HOST_CR4, read_cr4());
	vw(VMCS_HOST_CS_SEL, KERNEL_CS);
	vw(VMCS_HOST_SS_SEL, KERNEL_DS);
	vw(VMCS_HOST_DS_SEL, KERNEL_DS);
	vw(VMCS_HOST_ES_SEL, KERNEL_DS);
	vw(VMCS_HOST_FS_SEL, 0);
	vw(VMCS_HOST_GS_SEL, 0);
	vw(VMCS_HOST_TR_SEL, KERNEL_TSS);
	vw(VMCS_HOST_FS_BASE, 0);
	vw(VMCS_HOST_GS_BASE, (uint64_t)p);
	vw(VMCS_HOST_TR_BASE, (uint64_t)&p->tss);
	vw(VMCS_HOST_GDTR_BASE, gdtr.base);
	vw(VMCS_HOST_IDTR_BASE, idtr.base);
	vw(VMCS_HOST_SYSENTER_CS, 0);
	vw(VMCS_HOST_SYSENTER_ESP, 0);
	vw(VMCS_HOST_SYSENTER_EIP, 0);
	vw(VMCS_HOST_EFER, rdmsr(IA32_EFER));
	if (c->exit & EXIT_LOAD_PAT)
		vw(VMCS_HOST_PAT, rdmsr(IA32_PAT));
	v->regs = (union guest_regs *)(percpu_stack_top(p) - sizeof(union guest_regs));
	memset(v->regs, 0, sizeof(*v->regs));
	vw(VMCS_HOST_RSP, percpu_stack_top(p));   /* the exit stub pushes the frame below it */
	vw(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
	spec_vcpu_setup(v);                      /* L1D flush / VERW before entries (issue 17) */
	return vmcs_failed ? -1 : 0;
}

void vmx_report_entry_failure(struct vcpu *v, const char *what)
{
	uint32_t err = (uint32_t)vmread(VMCS_VM_INSTR_ERROR);
	pr_err("%s failed: VM-instruction error %u: %s\n", what, err, vmx_instr_error_str(err));
	if (err == 7)
		pr_err("  check the controls: pin %#lx proc %#lx proc2 %#lx exit %#lx entry %#lx\n",
		       (unsigned long)vmread(VMCS_PIN_CTLS), (unsigned long)vmread(VMCS_PROC_CTLS),
		       (unsigned long)vmread(VMCS_PROC_CTLS2), (unsigned long)vmread(VMCS_EXIT_CTLS),
		       (unsigned long)vmread(VMCS_ENTRY_CTLS));
	if (err == 8)
		pr_err("  check the host state: CR0 %#lx CR3 %#lx CR4 %#lx RIP %#lx RSP %#lx EFER %#lx\n",
		       (unsigned long)vmread(VMCS_HOST_CR0), (unsigned long)vmread(VMCS_HOST_CR3),
		       (unsigned long)vmread(VMCS_HOST_CR4), (unsigned long)vmread(VMCS_HOST_RIP),
		       (unsigned long)vmread(VMCS_HOST_RSP), (unsigned long)vmread(VMCS_HOST_EFER));
}

/* Called from arch/x86/vmx_entry.S when VMLAUNCH/VMRESUME falls through. */
void __attribute__((noreturn)) vmx_entry_failed(union guest_regs *regs, int resume)
{
	struct vcpu *v = this_cpu()->vcpu;
	vmx_report_entry_failure(v, resume ? "VMRESUME" : "VMLAUNCH");
	vcpu_dump_state(v, "VM entry failed");
	vcpu_guest_crash(v, "VM entry failed");
}

void vcpu_run(struct vcpu *v)
{
	v->vm->guest_entry_tsc = rdtsc();
	spec_before_entry(v);
	vmx_launch(v->regs);
}
