// SPDX-License-Identifier: GPL-2.0
/*
 * faultinj — fault and attack injection for hvmon's hang and ret2usr detectors
 * (docs/MONITORS.md). Triggers: write a command to /proc/faultinj:
 *   irqoff N       spin N seconds with local interrupts disabled   (hard lockup)
 *   preemptoff N   spin N seconds with preemption disabled          (soft lockup)
 *   deadlock       take a spinlock twice (self-deadlock, never returns)
 *   spinlock N     ABBA-free variant: wait N s on a spinlock held by nobody but us
 *                  through a timer-free trylock loop (recoverable "deadlock")
 *   fakelive N     a hostile kernel faking liveness (issue 15 item 4): spin N s with
 *                  local interrupts disabled while rewriting this CPU's current_task
 *                  (the per-CPU `current` hvmon samples) in a loop: the idle task
 *                  (pid 0), the writer, its parent. Restored before IRQs are on again.
 *   execuser       execute a user page (mmap'ed RWX in the writer) from kernel mode
 *   smepoff_exec   clear CR4.SMEP with a raw MOV CR4, then execute a user page
 *   mark TEXT      only log "FAULTINJ: mark TEXT tsc=..." (phase boundaries on the TSC)
 *   log TEXT       only log "FAULTINJ: TEXT pid=P comm=C tsc=..." with the writer's pid/comm
 *                  (user-space injections, e.g. tests/guest/faultinj/rtspin.c, announce
 *                  themselves on the kernel log and hvmon's clock)
 * Every trigger logs "FAULTINJ: <cmd> start/end ..." lines (printk) with the
 * writer's pid/comm, for the tests to match hvmon's reports.
 * Time is measured with the TSC (ktime would stall with IRQs off on one CPU).
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/spinlock.h>
#include <linux/delay.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <asm/tsc.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon fault/attack injection (test only)");

static DEFINE_SPINLOCK(fi_lock);

/* busy-wait @secs seconds of TSC time (tsc_khz from the kernel's calibration) */
static void spin_seconds(unsigned int secs)
{
	u64 end = rdtsc() + (u64)secs * tsc_khz * 1000ULL;
	while (rdtsc() < end)
		cpu_relax();
}

/* fakelive: what a rootkit would do to look alive while it holds the CPU with IRQs
 * off. Nothing may use `current` in the loop (no printk, no preemption point). */
static void fake_liveness(unsigned int secs)
{
	struct task_struct *me = current;
	struct task_struct *fake[3] = { &init_task, me, me->real_parent };
	u64 end = rdtsc() + (u64)secs * tsc_khz * 1000ULL, n = 0;
	unsigned long flags;

	local_irq_save(flags);
	while (rdtsc() < end) {
		unsigned int i;
		this_cpu_write(current_task, fake[n++ % 3]);
		for (i = 0; i < 1000; i++)
			cpu_relax();
	}
	this_cpu_write(current_task, me);
	local_irq_restore(flags);
	pr_info("FAULTINJ: fakelive %u end rewrites=%llu\n", secs, n);
}

static void exec_user(const char *what)
{
	unsigned long addr;
	void (*fn)(void);
	static const u8 ret_insn[1] = { 0xc3 };

	addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr)) {
		pr_info("FAULTINJ: %s vm_mmap failed %ld\n", what, (long)addr);
		return;
	}
	if (copy_to_user((void __user *)addr, ret_insn, 1)) {
		pr_info("FAULTINJ: %s copy_to_user failed\n", what);
		return;
	}
	pr_info("FAULTINJ: %s exec user_addr=%#lx pid=%d comm=%s\n", what, addr, current->pid,
		current->comm);
	fn = (void (*)(void))addr;
	fn();                   /* the attack: kernel mode runs user memory */
	pr_info("FAULTINJ: %s returned (the user page RAN in kernel mode)\n", what);
}

static ssize_t fi_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	char buf[64];
	unsigned int n = 0;
	unsigned long flags;
	size_t l = min(len, sizeof(buf) - 1);

	if (copy_from_user(buf, ubuf, l))
		return -EFAULT;
	buf[l] = 0;
	strim(buf);
	if (sscanf(buf, "irqoff %u", &n) == 1) {
		pr_info("FAULTINJ: irqoff %u start pid=%d comm=%s tsc=%llu\n", n, current->pid, current->comm, rdtsc());
		local_irq_save(flags);
		spin_seconds(n);
		local_irq_restore(flags);
		pr_info("FAULTINJ: irqoff %u end\n", n);
	} else if (sscanf(buf, "preemptoff %u", &n) == 1) {
		pr_info("FAULTINJ: preemptoff %u start pid=%d comm=%s tsc=%llu\n", n, current->pid, current->comm, rdtsc());
		preempt_disable();
		spin_seconds(n);
		preempt_enable();
		pr_info("FAULTINJ: preemptoff %u end\n", n);
	} else if (sscanf(buf, "spinlock %u", &n) == 1) {
		/* held lock + waiter that gives up after n s (recoverable) */
		u64 end = rdtsc() + (u64)n * tsc_khz * 1000ULL;
		pr_info("FAULTINJ: spinlock %u start pid=%d comm=%s tsc=%llu\n", n, current->pid, current->comm, rdtsc());
		spin_lock(&fi_lock);
		while (!spin_trylock(&fi_lock) && rdtsc() < end)
			cpu_relax();
		spin_unlock(&fi_lock);
		pr_info("FAULTINJ: spinlock %u end\n", n);
	} else if (sscanf(buf, "fakelive %u", &n) == 1) {
		pr_info("FAULTINJ: fakelive %u start pid=%d comm=%s tsc=%llu\n", n, current->pid, current->comm, rdtsc());
		fake_liveness(n);
	} else if (!strcmp(buf, "deadlock")) {
		pr_info("FAULTINJ: deadlock start pid=%d comm=%s tsc=%llu\n", current->pid, current->comm, rdtsc());
		spin_lock(&fi_lock);
		spin_lock(&fi_lock);    /* never returns */
		pr_info("FAULTINJ: deadlock passed?!\n");
		spin_unlock(&fi_lock);
	} else if (!strncmp(buf, "mark ", 5)) {
		/* a timestamp for the tests: guest phases on hvmon's clock (the TSC) */
		pr_info("FAULTINJ: mark %s tsc=%llu\n", buf + 5, rdtsc());
	} else if (!strncmp(buf, "log ", 4)) {
		pr_info("FAULTINJ: %s pid=%d comm=%s tsc=%llu\n", buf + 4, current->pid, current->comm, rdtsc());
	} else if (!strcmp(buf, "execuser")) {
		exec_user("execuser");
	} else if (!strcmp(buf, "smepoff_exec")) {
		unsigned long cr4 = __read_cr4(), after;
		/* raw MOV CR4 (bypasses the kernel's own CR4 pinning in native_write_cr4) */
		asm volatile("mov %0, %%cr4" : : "r"(cr4 & ~X86_CR4_SMEP) : "memory");
		after = __read_cr4();
		pr_info("FAULTINJ: smepoff cr4 before=%#lx after=%#lx smep_after=%d pid=%d comm=%s\n", cr4,
			after, !!(after & X86_CR4_SMEP), current->pid, current->comm);
		exec_user("smepoff_exec");
	} else {
		pr_info("FAULTINJ: unknown command '%s'\n", buf);
		return -EINVAL;
	}
	return len;
}

static const struct proc_ops fi_ops = {
	.proc_write = fi_write,
};

static int __init fi_init(void)
{
	if (!proc_create("faultinj", 0200, NULL, &fi_ops))
		return -ENOMEM;
	pr_info("FAULTINJ: ready tsc_khz=%u\n", tsc_khz);
	return 0;
}

static void __exit fi_exit(void)
{
	remove_proc_entry("faultinj", NULL);
}

module_init(fi_init);
module_exit(fi_exit);
