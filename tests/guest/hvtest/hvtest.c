// SPDX-License-Identifier: GPL-2.0
/*
 * hvtest — guest-side checks for hvmon (docs/TESTING.md), loaded by the "hvtest" scenario:
 *  1. map the physical page probe_pa (the first page of the hole hvmon leaves
 *     in the guest's memory map: hvmon's own memory) and read it; report
 *     whether any byte of hvmon's image is visible (hvmon's image starts with
 *     the handoff magic "HVMON64");
 *  2. CPUID.1:ECX.VMX, RDMSR of the VMX capability MSRs and IA32_FEATURE_CONTROL,
 *     setting CR4.VMXE and VMXON: all must behave as on a CPU without VMX;
 *  3. the hostile-guest attacks of issue 17 (docs/SECURITY.md): sleep requests
 *     written straight to PM1a_CNT (pm1_cnt=); with attacks=1: APIC_BASE moved
 *     onto hvmon's memory, PT and DS/PEBS MSR writes, a TSC rewind during an
 *     injected hang (the hang detector must still fire: hvmon's clock is not
 *     the guest's), bad XCR0 values, 10,000 distinct MMIO pages above RAM, a
 *     VMX instruction storm. Each must fail in the guest (and hvmon report it).
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
#include <asm/tsc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <linux/delay.h>

#include "hvtest_try.h"

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

static int attacks;
module_param(attacks, int, 0444);
MODULE_PARM_DESC(attacks, "1: run the issue-17 MSR/TSC/XCR0/MMIO/VMX attacks");

/* 7 s: longer than hvmon's 5 s heartbeat period, so a heartbeat must go out
 * while the guest's TSC is rewound (core_hvtest.sh checks it at the collector) */
static unsigned int hang_ms = 7000;
module_param(hang_ms, uint, 0444);
MODULE_PARM_DESC(hang_ms, "length of the interrupts-off spin run while the TSC is rewound");

/* APIC page onto hvmon's memory, Intel PT and DS/PEBS pointing at it */
static void attack_msrs(void)
{
	u64 base, after, pa = probe_pa & PAGE_MASK;
	int e_apic, n = 0;

	rdmsrl(MSR_IA32_APICBASE, base);
	e_apic = wrmsrl_safe(MSR_IA32_APICBASE, (base & 0xfffULL) | pa);
	rdmsrl(MSR_IA32_APICBASE, after);
	pr_info("HVTEST: apic_base_move_refused=%d moved=%d\n", !!e_apic, after != base);
	n += !!wrmsrl_safe(MSR_IA32_RTIT_OUTPUT_BASE, pa);
	n += !!wrmsrl_safe(MSR_IA32_RTIT_OUTPUT_MASK, 0x7f);
	n += !!wrmsrl_safe(MSR_IA32_RTIT_CTL, RTIT_CTL_TRACEEN | RTIT_CTL_TOPA);
	n += !!wrmsrl_safe(MSR_IA32_DS_AREA, (u64)(unsigned long)__va(pa));
	n += !!wrmsrl_safe(MSR_IA32_PEBS_ENABLE, 1);
	pr_info("HVTEST: pt_ds_pebs_refused=%d/5\n", n);
}

/*
 * The TSC rewound to half its value, then interrupts off for hang_ms (a hard
 * hang hvmon's hang detector must report: its clock is the host TSC, which a
 * guest write only offsets), then the TSC put forward again so the guest's
 * own time stays sane.
 */
static void attack_tsc(void)
{
	unsigned long flags;
	u64 t0, t1, t2, spin = (u64)hang_ms * tsc_khz;
	int err;

	local_irq_save(flags);
	t0 = rdtsc();
	err = wrmsrl_safe(MSR_IA32_TSC, t0 / 2);
	t1 = rdtsc();
	while (rdtsc() - t1 < spin)
		cpu_relax();
	t2 = rdtsc();
	wrmsrl_safe(MSR_IA32_TSC, t2 + (t0 - t0 / 2));
	local_irq_restore(flags);
	pr_info("HVTEST: tsc_rewind err=%d rewound=%d spun_ms=%llu\n", err, t1 < t0 / 2 + t0 / 4,
		(t2 - t1) / tsc_khz);
}

static int try_xsetbv(u32 idx, u64 val)
{
	int faulted = 0;

	HVTEST_TRY(faulted, "xsetbv", "a"((u32)val), "d"((u32)(val >> 32)), "c"(idx));
	return faulted;
}

/* XCR0 values that break a rule of SDM Vol. 1 13.3: each must #GP in the guest */
static void attack_xcr0(void)
{
	static const u64 bad[] = { 0x0, 0x2, 0x5, 0x27, 0x67, 0xe1, 0xe3, 0x9, 0x11, 0x20003, 0x40003,
				   0x107, 1ULL << 63 };
	u64 before;
	int i, gp = 0, good = 0;

	if (!boot_cpu_has(X86_FEATURE_OSXSAVE)) {   /* XGETBV would #UD */
		pr_info("HVTEST: xcr0=skipped (no OSXSAVE)\n");
		return;
	}
	before = xgetbv(0);
	kernel_fpu_begin();
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		gp += try_xsetbv(0, bad[i]);
	gp += try_xsetbv(1, before);            /* XCR1 is not writable */
	/* valid values are performed: the current one, and (with AVX-512: the
	 * 5-7 rules must not refuse a legal value) the AVX-512 states off, then on */
	good += !try_xsetbv(0, before);
	if (boot_cpu_has(X86_FEATURE_AVX512F)) {
		good += !try_xsetbv(0, before & ~0xe0ULL) && xgetbv(0) == (before & ~0xe0ULL);
		good += !try_xsetbv(0, before);
	}
	kernel_fpu_end();
	pr_info("HVTEST: xcr0_bad_refused=%d/%d xcr0_unchanged=%d xcr0=%#llx\n", gp,
		(int)ARRAY_SIZE(bad) + 1, xgetbv(0) == before, before);
	pr_info("HVTEST: xcr0_good_accepted=%d/%d avx512=%d\n", good,
		boot_cpu_has(X86_FEATURE_AVX512F) ? 3 : 1, boot_cpu_has(X86_FEATURE_AVX512F));
}

/*
 * The XCR0 attack alone, on demand: writing 1 to
 * /sys/module/hvtest/parameters/run_xcr0 runs it (tamper_bochs.sh loads hvtest
 * at boot without parameters on corei7_skylake_x, a CPU with AVX-512, and
 * triggers this from the keyscan scenario; core_hvtest's CPU has no AVX-512).
 */
static int run_xcr0_set(const char *val, const struct kernel_param *kp)
{
	int on, err = kstrtoint(val, 0, &on);

	if (err)
		return err;
	if (on)
		attack_xcr0();
	return 0;
}

static const struct kernel_param_ops run_xcr0_ops = { .set = run_xcr0_set };
module_param_cb(run_xcr0, &run_xcr0_ops, NULL, 0200);
MODULE_PARM_DESC(run_xcr0, "write 1: run the XCR0 attack now (HVTEST: xcr0_* lines)");

/* 10,000 distinct 4 KiB pages above RAM, each in its own 2 MiB region (each
 * used to cost hvmon an EPT table page): read through an uncached mapping. */
#define MMIO_PAGES 10000
static void attack_mmio(void)
{
	u64 base = 1ULL << 33;                  /* 8 GiB: above the 4 GiB hvmon maps at boot, below 2^36 */
	unsigned int i, ok = 0, ones = 0;
	void __iomem *p;

	for (i = 0; i < MMIO_PAGES; i++) {
		p = ioremap(base + (u64)i * (2ULL << 20), PAGE_SIZE);
		if (!p)
			continue;
		ok++;
		if (readl(p) == 0xffffffff)
			ones++;
		iounmap(p);
	}
	pr_info("HVTEST: mmio_pages=%u/%d all_ones=%u\n", ok, MMIO_PAGES, ones);
}

static int try_vmcall(void)
{
	int faulted = 0;

	HVTEST_TRY(faulted, "vmcall", "i"(0));
	return faulted;
}

static int try_vmxon(void);

/* MONITOR is hidden (deep C-states would stop hvmon's timer): CPUID says no, the instruction #UDs */
static void attack_mwait(void)
{
	u32 eax, ebx, ecx, edx;
	int faulted = 0;

	cpuid(1, &eax, &ebx, &ecx, &edx);
	HVTEST_TRY(faulted, "monitor", "a"(&eax), "c"(0), "d"(0));
	pr_info("HVTEST: cpuid_monitor=%d monitor_faulted=%d\n", !!(ecx & (1u << 3)), faulted);
}

/* 2,000 VMX instructions: each must #UD in the guest, none stops hvmon */
static void attack_vmx_storm(void)
{
	int i, ud = 0;

	for (i = 0; i < 1000; i++)
		ud += try_vmxon() + try_vmcall();
	pr_info("HVTEST: vmx_storm_ud=%d/2000\n", ud);
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

	HVTEST_TRY(err, "mov %1, %%cr4", "r"(val));
	return err;
}

static int try_vmxon(void)
{
	u64 region = 0;
	int faulted = 0;

	HVTEST_TRY(faulted, "vmxon %1", "m"(region));
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
	if (attacks) {
		attack_msrs();
		attack_xcr0();
		attack_vmx_storm();
		attack_mwait();
		attack_mmio();
		attack_tsc();
	}
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
