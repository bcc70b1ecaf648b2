// SPDX-License-Identifier: GPL-2.0
/*
 * hvspec — guest side of hvmon's IA32_SPEC_CTRL switching (issue 17, vmm/spec.h;
 * tests/campaign/spec_icelake.sh). At load: read the guest's IA32_SPEC_CTRL, set
 * SSBD (bit 2) on top, cause 1,000 VM exits (CPUID), read it back. hvmon loads
 * its own value at every exit and the guest's again at every entry, so the value
 * read back must be the one written. SSBD stays set: hvmon's end-of-run line then
 * shows the guest's value (saved at the last exit) beside its own.
 * Also (tamper_bochs.sh): writing a port number to
 * /sys/module/hvspec/parameters/read_port reads that I/O port once, as ACPI's
 * SystemIO C-state entry does with P_LVL2/P_LVL3 (hvmon completes it without touching the port).
 * Writing a port number to /sys/module/hvspec/parameters/cstate_loop runs an idle loop as ACPI's
 * acpi_idle does: 100 times, interrupts off, read the port, interrupts on. hvmon makes each read
 * an HLT-like wait that an interrupt ends: the loop then takes about 100 timer interrupts, and the
 * guest's clocks (jiffies, ktime) must agree across it.
 */
#include <linux/module.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <linux/io.h>
#include <linux/moduleparam.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/irqflags.h>

static int read_port_set(const char *val, const struct kernel_param *kp)
{
	unsigned int port;
	int err = kstrtouint(val, 0, &port);
	u8 v;

	if (err || port > 0xffff)
		return err ? err : -EINVAL;
	v = inb(port);
	pr_info("HVSPEC: port %#x read %#x\n", port, v);
	return 0;
}

#define CSTATE_LOOPS 100

static int cstate_loop_set(const char *val, const struct kernel_param *kp)
{
	unsigned int port;
	unsigned long j0;
	u64 t0, t1, longest = 0, total;
	int err = kstrtouint(val, 0, &port), i, waited = 0;

	if (err || port > 0xffff)
		return err ? err : -EINVAL;
	j0 = jiffies;
	t0 = ktime_get_ns();
	for (i = 0; i < CSTATE_LOOPS; i++) {
		u64 a, b;

		local_irq_disable();
		a = ktime_get_ns();
		inb(port);
		b = ktime_get_ns();
		local_irq_enable();     /* the interrupt that ended the wait is taken here */
		if (b - a >= 100000)
			waited++;
		if (b - a > longest)
			longest = b - a;
	}
	t1 = ktime_get_ns();
	total = t1 - t0;
	pr_info("HVSPEC: cstate port %#x loops=%d waited=%d longest_us=%llu ktime_ms=%llu jiffies_ms=%u HZ=%d\n",
		port, CSTATE_LOOPS, waited, longest / 1000, total / 1000000,
		jiffies_to_msecs(jiffies - j0), HZ);
	return 0;
}

static const struct kernel_param_ops cstate_loop_ops = { .set = cstate_loop_set };
module_param_cb(cstate_loop, &cstate_loop_ops, NULL, 0200);
MODULE_PARM_DESC(cstate_loop, "write a port number: an idle loop of 100 C-state entries through it");

static const struct kernel_param_ops read_port_ops = { .set = read_port_set };
module_param_cb(read_port, &read_port_ops, NULL, 0200);
MODULE_PARM_DESC(read_port, "write a port number: read it once (ACPI P_LVLx C-state entry)");

static int __init hvspec_init(void)
{
	u32 eax, ebx, ecx, edx;
	u64 before = 0, after = 0;
	int i, err;

	cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
	if (!(edx & (1u << 31))) {              /* SSBD: the bit we set */
		pr_info("HVSPEC: skipped (no SSBD in CPUID.7.0:EDX %#x)\n", edx);
		return 0;
	}
	preempt_disable();
	err = rdmsrl_safe(MSR_IA32_SPEC_CTRL, &before);
	if (!err)
		err = wrmsrl_safe(MSR_IA32_SPEC_CTRL, before | SPEC_CTRL_SSBD);
	for (i = 0; i < 1000; i++)
		cpuid_count(0, 0, &eax, &ebx, &ecx, &edx);
	if (!err)
		err = rdmsrl_safe(MSR_IA32_SPEC_CTRL, &after);
	preempt_enable();
	pr_info("HVSPEC: err=%d before=%#llx written=%#llx after_1000_exits=%#llx\n", err, before,
		before | SPEC_CTRL_SSBD, after);
	return 0;
}

static void __exit hvspec_exit(void)
{
}

module_init(hvspec_init);
module_exit(hvspec_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon guest-side check: IA32_SPEC_CTRL survives VM exits");
