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
 * SystemIO C-state entry does with P_LVL2/P_LVL3 (hvmon must complete it at once).
 */
#include <linux/module.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <linux/io.h>
#include <linux/moduleparam.h>

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
