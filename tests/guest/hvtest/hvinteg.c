// SPDX-License-Identifier: GPL-2.0
/*
 * hvinteg — the rootkit moves hvmon's integrity monitor must see (issue 15,
 * docs/MONITORS.md "Integrity monitor"), loaded by the "hvtest" scenario after
 * hvtest.ko. Each attack puts things back at once, so the guest goes on either
 * way (hvmon reporting, or blocking with integrity_action=block):
 *  - a syscall-entry hook: IA32_LSTAR, then IA32_SYSENTER_EIP, moved 16 bytes
 *    on and read back, with interrupts off (no system call can take the moved
 *    entry), then restored;
 *  - CR0.WP cleared by a plain MOV to CR0 (write_cr0 would pin it back), read
 *    back, and a write of a read-only variable tried under it (its own value:
 *    harmless if it lands; a #PF is caught by the exception table), then WP set;
 *  - the IDT moved to a copy (LIDT) for 400 ms, then back.
 * Results: "HVTEST: integ ..." lines in the kernel log.
 */
#include <linux/module.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/string.h>
#include <linux/preempt.h>
#include <asm/msr.h>
#include <asm/asm.h>
#include <asm/desc.h>
#include <asm/processor-flags.h>

/* in .rodata: read-only once the module is loaded (module_enable_ro) */
static const unsigned long hvinteg_ro __attribute__((section(".rodata"), used)) = 0x5a5a5a5a;

static void hook_msr(const char *name, unsigned int msr)
{
	unsigned long flags;
	u64 orig, rb;

	local_irq_save(flags);
	rdmsrl(msr, orig);
	wrmsrl(msr, orig + 16);         /* the "hook": never taken, interrupts are off */
	rdmsrl(msr, rb);
	wrmsrl(msr, orig);
	local_irq_restore(flags);
	pr_info("HVTEST: integ %s_hook took_effect=%d\n", name, rb != orig);
}

static void clear_wp(void)
{
	unsigned long flags, cr0, rb, v = READ_ONCE(hvinteg_ro);
	int faulted = 0;

	local_irq_save(flags);
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %0, %%cr0" : : "r"(cr0 & ~X86_CR0_WP) : "memory");
	asm volatile("mov %%cr0, %0" : "=r"(rb));
	/* a write to read-only memory: lands only if WP is really clear */
	asm volatile("1: mov %1, %2\n"
		     "2:\n"
		     _ASM_EXTABLE(1b, 3f)
		     ".pushsection .fixup_hvinteg, \"ax\"\n"
		     "3: movl $1, %0\n"
		     "   jmp 2b\n"
		     ".popsection\n"
		     : "+r"(faulted) : "r"(v), "m"(*(unsigned long *)&hvinteg_ro) : "memory");
	asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	local_irq_restore(flags);
	pr_info("HVTEST: integ cr0_wp took_effect=%d ro_write_faulted=%d\n", !(rb & X86_CR0_WP), faulted);
}

static void move_idt(void)
{
	struct desc_ptr orig, copy;
	void *page = (void *)__get_free_page(GFP_KERNEL);

	if (!page) {
		pr_info("HVTEST: integ idt_move=nomem\n");
		return;
	}
	preempt_disable();
	asm volatile("sidt %0" : "=m"(orig));
	memcpy(page, (void *)orig.address, min_t(unsigned long, orig.size + 1UL, PAGE_SIZE));
	copy.size = orig.size;
	copy.address = (unsigned long)page;
	asm volatile("lidt %0" : : "m"(copy) : "memory");
	mdelay(400);                    /* several of hvmon's 100 ms samples */
	asm volatile("lidt %0" : : "m"(orig) : "memory");
	preempt_enable();
	pr_info("HVTEST: integ idt_move=done copy=%px\n", page);
	free_page((unsigned long)page);
}

static int __init hvinteg_init(void)
{
	pr_info("HVTEST: integ start cpu=%d\n", raw_smp_processor_id());
	hook_msr("lstar", MSR_LSTAR);
	hook_msr("sysenter_eip", MSR_IA32_SYSENTER_EIP);
	clear_wp();
	move_idt();
	pr_info("HVTEST: integ end\n");
	return 0;
}

static void __exit hvinteg_exit(void)
{
}

module_init(hvinteg_init);
module_exit(hvinteg_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon guest-side checks: the integrity monitor's attacks");
