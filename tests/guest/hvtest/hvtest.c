// SPDX-License-Identifier: GPL-2.0
/*
 * hvtest — guest-side checks for hvmon (docs/TESTING.md), loaded by the "hvtest" scenario:
 *  1. map the physical page probe_pa (the first page of the hole hvmon leaves
 *     in the guest's memory map: hvmon's own memory) and read it; report
 *     whether any byte of hvmon's image is visible (hvmon's image starts with
 *     the handoff magic "HVMON64");
 *  2. CPUID.1:ECX.VMX, RDMSR of the VMX capability MSRs and IA32_FEATURE_CONTROL,
 *     setting CR4.VMXE and VMXON: all must behave as on a CPU without VMX;
 *  3. the hostile-guest attacks of issue 17 (docs/SECURITY.md), each given by
 *     a parameter: sleep requests written straight to PM1a_CNT (pm1_cnt=).
 * Every result is one "HVTEST: key=value" line in the kernel log.
 */
#include <linux/module.h>
#include <linux/io.h>
#include <linux/string.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/asm.h>
#include <asm/special_insns.h>
#include <asm/desc.h>

static int triple_fault;
module_param(triple_fault, int, 0444);
MODULE_PARM_DESC(triple_fault, "1: load an empty IDT and raise #BP -> triple fault (tests hvmon's crash path)");

static unsigned long probe_pa;
module_param(probe_pa, ulong, 0444);
MODULE_PARM_DESC(probe_pa, "physical address of a page of hvmon memory (hole in the e820)");

static unsigned int pm1_cnt;
module_param(pm1_cnt, uint, 0444);
MODULE_PARM_DESC(pm1_cnt, "ACPI PM1a_CNT port: write S3 requests to it as a byte, a word and a dword");

/*
 * Issue 17: ACPI sleep requests written directly (no ACPICA): SLP_TYP 1 (S3 in
 * Bochs's and SeaBIOS's DSDT) with SLP_EN as a byte to PM1a_CNT+1, a word to
 * PM1a_CNT and a dword that starts 2 ports below. hvmon must refuse each one:
 * we are still running afterwards, and SLP_EN never sticks.
 */
static void attack_pm1(void)
{
	u16 v, after;

	if (!pm1_cnt || pm1_cnt > 0xfffd) {
		pr_info("HVTEST: pm1=skipped\n");
		return;
	}
	v = inw(pm1_cnt);
	outb((u8)(((v >> 8) & ~0x3c) | 0x24), pm1_cnt + 1);
	outw((u16)((v & ~0x3c00) | 0x2400), pm1_cnt);
	outl(((u32)((v & ~0x3c00) | 0x2400) << 16) | inw(pm1_cnt - 2), pm1_cnt - 2);
	after = inw(pm1_cnt);
	outw(v, pm1_cnt);                       /* SLP_TYP back as it was */
	pr_info("HVTEST: pm1=survived port=%#x before=%#x after=%#x slp_en=%d\n", pm1_cnt, v, after,
		!!(after & 0x2000));
}

static void probe_memory(void)
{
	static u8 buf[PAGE_SIZE];
	void __iomem *p;
	int i, not_ff = 0, magic = 0;

	if (!probe_pa) {
		pr_info("HVTEST: probe=skipped (no probe_pa)\n");
		return;
	}
	p = ioremap(probe_pa & PAGE_MASK, PAGE_SIZE);
	if (!p) {
		pr_info("HVTEST: probe=ioremap-failed pa=%#lx\n", probe_pa);
		return;
	}
	memcpy_fromio(buf, p, PAGE_SIZE);
	iounmap(p);
	for (i = 0; i < PAGE_SIZE; i++)
		if (buf[i] != 0xff)
			not_ff++;
	for (i = 0; i + 7 <= PAGE_SIZE; i++)
		if (!memcmp(buf + i, "HVMON64", 7))
			magic++;
	pr_info("HVTEST: probe=done pa=%#lx first8=%*ph not_ff=%d hvmon_magic=%d\n",
		probe_pa & PAGE_MASK, 8, buf, not_ff, magic);
}

/* CR4 write that survives #GP (the kernel's own native_write_cr4 would oops). */
static int try_write_cr4(unsigned long val)
{
	int err = 0;

	asm volatile("1: mov %1, %%cr4\n"
		     "2:\n"
		     _ASM_EXTABLE(1b, 3f)
		     ".pushsection .fixup_hvtest, \"ax\"\n"
		     "3: movl $1, %0\n"
		     "   jmp 2b\n"
		     ".popsection\n"
		     : "+r"(err) : "r"(val) : "memory");
	return err;
}

static int try_vmxon(void)
{
	u64 region = 0;
	int faulted = 0;

	asm volatile("1: vmxon %1\n"
		     "2:\n"
		     _ASM_EXTABLE(1b, 3f)
		     ".pushsection .fixup_hvtest, \"ax\"\n"
		     "3: movl $1, %0\n"
		     "   jmp 2b\n"
		     ".popsection\n"
		     : "+r"(faulted) : "m"(region) : "memory", "cc");
	return faulted;
}

static void probe_vmx(void)
{
	u32 eax, ebx, ecx, edx;
	u64 v;
	int msr, gp = 0, readable = 0, err;
	unsigned long cr4;

	cpuid(1, &eax, &ebx, &ecx, &edx);
	pr_info("HVTEST: cpuid_vmx=%d\n", !!(ecx & (1u << 5)));

	for (msr = 0x480; msr <= 0x491; msr++) {
		if (rdmsrl_safe(msr, &v))
			gp++;
		else
			readable++;
	}
	pr_info("HVTEST: vmx_msrs_gp=%d vmx_msrs_readable=%d\n", gp, readable);

	err = rdmsrl_safe(MSR_IA32_FEAT_CTL, &v);
	pr_info("HVTEST: feature_control_err=%d value=%#llx locked=%d vmx_enabled=%d\n", err,
		err ? 0ULL : v, err ? 0 : (int)(v & 1), err ? 0 : (int)((v >> 2) & 1));

	cr4 = __read_cr4();
	pr_info("HVTEST: cr4_vmxe_visible=%d\n", !!(cr4 & X86_CR4_VMXE));
	err = try_write_cr4(cr4 | X86_CR4_VMXE);
	pr_info("HVTEST: cr4_set_vmxe_faulted=%d cr4_vmxe_after=%d\n", err, !!(__read_cr4() & X86_CR4_VMXE));
	if (!err)
		try_write_cr4(cr4);
	pr_info("HVTEST: vmxon_faulted=%d\n", try_vmxon());
}

static void do_triple_fault(void)
{
	struct desc_ptr empty = { .size = 0, .address = 0 };

	pr_info("HVTEST: triple fault now\n");
	local_irq_disable();
	asm volatile("lidt %0; int3" : : "m"(empty) : "memory");
	pr_info("HVTEST: still alive after the triple fault?!\n");
}

static int __init hvtest_init(void)
{
	pr_info("HVTEST: start cpu=%d\n", raw_smp_processor_id());   /* issue 11: which CPU probes */
	if (triple_fault) {
		do_triple_fault();
		return -EIO;
	}
	probe_vmx();
	probe_memory();
	attack_pm1();
	pr_info("HVTEST: end\n");
	return 0;
}

static void __exit hvtest_exit(void)
{
}

module_init(hvtest_init);
module_exit(hvtest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon guest-side checks: hidden memory, hidden VMX");
