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
 *  - the IDT moved to a copy (LIDT) for 400 ms, then back;
 *  - the IDT, then the GDT, swapped for a copy and back at once (interrupts
 *    off; too fast for any sampling: hvmon must trap LIDT/LGDT), and STR/SLDT/
 *    LLDT(0) run (emulated by hvmon under descriptor-table exiting);
 *  - (EPT write protection) one byte of kernel text (ktext=) and one byte of
 *    sys_call_table (sct=, the entry of acct(2)) changed through a writable vmap
 *    alias of their page (what a rootkit does when CR0.WP is pinned), kept 300 ms
 *    and read back through the kernel's own mapping (held=: with
 *    integrity_action=block hvmon has put the byte back by then), then restored
 *    if it still holds the change;
 *  - (the patch-site classifier, issue 15 item 3 B) the kernel's own text_poke
 *    (tpoke=, from /proc/kallsyms) writing `jmp .+5` (e9 00 00 00 00: harmless,
 *    it jumps to the next instruction) over the 5-byte ftrace NOP at the entry of
 *    fsite= (a function nobody calls during the test): the writer and the shape
 *    are the kernel's, the form is not one ftrace writes there (it writes CALL),
 *    so hvmon must call it an attack and, under block, put the NOP back; read
 *    back 300 ms later, then restored if it still holds.
 * attack=0: none of it (a plain module load and unload for the "no false
 * positive" workload). Results: "HVTEST: integ ..." lines in the kernel log.
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
#include <asm/set_memory.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include "hvtest_try.h"

static int attack = 1;
module_param(attack, int, 0444);
MODULE_PARM_DESC(attack, "0: load and unload only");
static unsigned long ktext;
module_param(ktext, ulong, 0444);
MODULE_PARM_DESC(ktext, "a kernel text address nobody runs during the test (e.g. __x64_sys_acct)");
static unsigned long sct;
module_param(sct, ulong, 0444);
MODULE_PARM_DESC(sct, "sys_call_table");

static unsigned long tpoke;
module_param(tpoke, ulong, 0444);
MODULE_PARM_DESC(tpoke, "text_poke (the kernel's own text patcher, not exported)");
static unsigned long fsite;
module_param(fsite, ulong, 0444);
MODULE_PARM_DESC(fsite, "a function whose entry is an ftrace NOP nobody traces or calls during the test");

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
	HVTEST_TRY(faulted, "mov %1, %2", "r"(v), "m"(*(unsigned long *)&hvinteg_ro));
	asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	local_irq_restore(flags);
	pr_info("HVTEST: integ cr0_wp took_effect=%d ro_write_faulted=%d\n", !(rb & X86_CR0_WP), faulted);
}

static void move_idt(void)
{
	struct desc_ptr orig, copy, now;
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
	asm volatile("sidt %0" : "=m"(now));
	mdelay(400);                    /* several of hvmon's 100 ms samples */
	asm volatile("lidt %0" : : "m"(orig) : "memory");
	preempt_enable();
	pr_info("HVTEST: integ idt_move=done copy=%px took_effect=%d\n", page, now.address == copy.address);
	free_page((unsigned long)page);
}

/*
 * Descriptor-table exiting (hvmon traps LGDT/LIDT): a table swapped for a copy
 * and back at once, far faster than any sampling sees, with interrupts off
 * (nothing runs on the copy). @gdt: the GDT, else the IDT. took_effect: SGDT/
 * SIDT right after the load read the copy's address back (with
 * integrity_action=block hvmon refused the load: the original).
 */
static void swap_table(int gdt)
{
	struct desc_ptr orig, copy, now;
	unsigned long flags;
	void *page = (void *)__get_free_page(GFP_KERNEL);
	const char *what = gdt ? "gdt" : "idt";

	if (!page) {
		pr_info("HVTEST: integ %s_swap=nomem\n", what);
		return;
	}
	local_irq_save(flags);
	if (gdt)
		asm volatile("sgdt %0" : "=m"(orig));
	else
		asm volatile("sidt %0" : "=m"(orig));
	memcpy(page, (void *)orig.address, min_t(unsigned long, orig.size + 1UL, PAGE_SIZE));
	copy.size = orig.size;
	copy.address = (unsigned long)page;
	if (gdt) {
		asm volatile("lgdt %0" : : "m"(copy) : "memory");
		asm volatile("sgdt %0" : "=m"(now));
		asm volatile("lgdt %0" : : "m"(orig) : "memory");
	} else {
		asm volatile("lidt %0" : : "m"(copy) : "memory");
		asm volatile("sidt %0" : "=m"(now));
		asm volatile("lidt %0" : : "m"(orig) : "memory");
	}
	local_irq_restore(flags);
	pr_info("HVTEST: integ %s_swap=done took_effect=%d size=%u\n", what, now.address == copy.address,
		now.size);
	free_page((unsigned long)page);
}

/* STR/SLDT (memory and register forms) and LLDT of the null selector, which
 * hvmon emulates once descriptor-table exiting is on: the values the kernel set. */
static void sel_insns(void)
{
	u16 tr_m = 0xffff, ldt_m = 0xffff, ldt_after = 0xffff;
	unsigned long tr_r = ~0UL, ldt_r = ~0UL;
	unsigned long flags;

	local_irq_save(flags);
	asm volatile("str %0" : "=m"(tr_m));
	asm volatile("str %k0" : "=r"(tr_r));
	asm volatile("sldt %0" : "=m"(ldt_m));
	asm volatile("sldt %k0" : "=r"(ldt_r));
	if (ldt_m == 0)                  /* no LDT (insmod has none): loading the null selector changes nothing */
		asm volatile("lldt %w0" : : "r"((u16)0));
	asm volatile("sldt %0" : "=m"(ldt_after));
	local_irq_restore(flags);
	pr_info("HVTEST: integ sel str_m=%#x str_r=%#lx sldt_m=%#x sldt_r=%#lx sldt_after=%#x\n", tr_m, tr_r, ldt_m,
		ldt_r, ldt_after);
}

/* Flip one bit of the byte at kernel address @va through a writable alias of its
 * page, keep it @ms, read it back, put it back if the change is still there. */
static void poke_alias(const char *what, unsigned long va, unsigned int ms)
{
	phys_addr_t pa;
	struct page *pg;
	u8 *alias, old, now, held;

	if (!va) {
		pr_info("HVTEST: integ %s_poke=noaddr\n", what);
		return;
	}
	pa = slow_virt_to_phys((void *)va);
	pg = pfn_to_page(pa >> PAGE_SHIFT);
	alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	if (!alias) {
		pr_info("HVTEST: integ %s_poke=novmap\n", what);
		return;
	}
	old = READ_ONCE(alias[pa & ~PAGE_MASK]);
	WRITE_ONCE(alias[pa & ~PAGE_MASK], old ^ 1);
	now = READ_ONCE(*(u8 *)va);
	msleep(ms);
	held = READ_ONCE(*(u8 *)va);
	if (held != old)
		WRITE_ONCE(alias[pa & ~PAGE_MASK], old);
	vunmap(alias);
	pr_info("HVTEST: integ %s_poke=done va=%px pa=%pa old=%02x seen=%02x held=%02x\n", what, (void *)va, &pa,
		old, now, held);
}

/* text_poke a non-ftrace form over an ftrace call site (see the header). */
static void poke_ftrace_site(void)
{
	static const u8 nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, jmp5[5] = { 0xe9, 0, 0, 0, 0 };
	void *(*poke)(void *addr, const void *opcode, size_t len) = (void *)tpoke;
	u8 *site = (u8 *)fsite, seen[5], held[5];

	if (!tpoke || !fsite) {
		pr_info("HVTEST: integ fsite_poke=noaddr\n");
		return;
	}
	if (memcmp(site, nop5, 5)) {
		pr_info("HVTEST: integ fsite_poke=notnop va=%px first=%02x\n", site, site[0]);
		return;
	}
	poke(site, jmp5, 5);
	memcpy(seen, site, 5);
	msleep(300);
	memcpy(held, site, 5);
	if (memcmp(held, nop5, 5))
		poke(site, nop5, 5);
	pr_info("HVTEST: integ fsite_poke=done va=%px old=%02x seen=%02x held=%02x restored=%d\n", site, nop5[0],
		seen[0], held[0], memcmp(site, nop5, 5) == 0);
}

static int __init hvinteg_init(void)
{
	pr_info("HVTEST: integ start cpu=%d attack=%d\n", raw_smp_processor_id(), attack);
	if (!attack)
		return 0;
	hook_msr("lstar", MSR_LSTAR);
	hook_msr("sysenter_eip", MSR_IA32_SYSENTER_EIP);
	clear_wp();
	move_idt();
	swap_table(0);
	swap_table(1);
	sel_insns();
	poke_alias("text", ktext, 300);
	poke_alias("sct", sct ? sct + 163 * 8 : 0, 300);   /* __NR_acct (x86-64) */
	poke_ftrace_site();
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
