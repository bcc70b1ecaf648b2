/*
 * integrity — ring -1 side of the kernel integrity monitor (monitors/integrity.h,
 * docs/MONITORS.md "Integrity monitor"). Subscribes (vmm/intercept.h) to WRMSR
 * of IA32_LSTAR and IA32_SYSENTER_CS/ESP/EIP, to MOV to CR0 changing CR0.WP,
 * and registers a 100 ms tick that decides "boot done" and samples IDTR/GDTR.
 */
#include <string.h>
#include <stdlib.h>
#include "monitors/integrity.h"
#include "monitors/integrity_sites.h"
#include "events/event.h"
#include "events/ring1.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/monitor.h"
#include "vmm/intercept.h"
#include "vmm/tick.h"
#include "vmm/introspect.h"
#include "vmm/page_guard.h"
#include "vmm/probe.h"
#include "vmm/dtr_insn.h"
#include "lib/console.h"
#include "lib/spinlock.h"
#include "arch/x86/cpu.h"

#define INTEG_TICK_MS 100
/* With the kernel_execve probe placed, user-mode ticks before boot done are
 * usermode helpers (ms each). This many (10 s of sampled user mode) and the
 * probe has not fired for pid 1: the tick decides after all, said on the
 * console, rather than never watching. */
#define INTEG_PROBE_PATIENCE 100

struct integ_vcpu {
	struct integ_baseline esp;          /* IA32_SYSENTER_ESP: one per vCPU */
	struct integ_dtr idtr, gdtr;
	uint64_t starts;                    /* v->nr_starts the baselines belong to */
	bool synced, restarted;             /* starts taken after boot done; the guest restarted the vCPU since */
	uint64_t nr_hook, nr_wp, nr_dtr;    /* occurrences on this vCPU (report rate) */
};

/* one baseline for every vCPU: LSTAR, SYSENTER_CS, SYSENTER_EIP */
static struct integ_baseline shared[INTEG_NREG];
static bool boot_done;
static uint64_t boot_done_tsc;
/* boot done is pid 1's kernel_execve (integ_init_exec): the probe is placed and
 * the tick does not decide; false: the tick's first CPL 3 (the fallback) */
static bool boot_probe;
static uint64_t nr_user_ticks;          /* ticks that found CPL 3 before boot done */
/* IDTR/GDTR trapped (descriptor-table exiting, vmm/dtr.c) from boot done on;
 * false: sampled on the tick (a processor without the control) */
static bool dtr_trapped;
static uint64_t nr_dtr_loads;
/* each vCPU's v->nr_starts at boot done: a vCPU the guest restarts later has
 * its baselines taken again, after its bring-up (sync_starts) */
static uint64_t starts_at_boot[HV_MAX_CPUS];
/* statistics of every vCPU (atomic adds) */
static uint64_t nr_msr_exits, nr_cr0_exits, nr_hooks, nr_wp, nr_dtr, nr_blocked, nr_wp_boot;
static uint64_t exit_ticks;
#define COUNT(c, n) __atomic_fetch_add(&(c), (n), __ATOMIC_RELAXED)

/* ---- part B: the kernel image write-protected through EPT (vmm/page_guard.h) ---- */
#define INTEG_MAX_RANGES 12
#define INTEG_WINDOWS    64       /* a static key flip patches sites on tens of pages at once */
#define INTEG_SCT_BYTES  (512 * 8)      /* sys_call_table: __NR_syscalls <= 512 on x86-64 */
static struct { uint64_t gpa, size; uint8_t region; } granges[INTEG_MAX_RANGES];
static unsigned nr_granges;
static uint64_t sct_gpa;                /* 0: unknown */
static uint64_t idt_gpa;                /* the IDT's page, 0: unknown */
static uint64_t prot_pages[INTEG_R__COUNT], prot_ticks;
static bool protected_on;
static uint64_t nr_gap_pages;           /* read-only in the image map, writable in the direct map: not protected */
/* A write window: from the first write to a protected page (the core opens it)
 * to the tick that protects it again and compares it with the copy taken before. */
struct integ_window {
	uint64_t page;                      /* 0: free */
	uint64_t va, rip;
	uint8_t  region, writer;
	bool     task_ok;
	struct guest_task task;
	uint32_t vcpu;
	uint64_t t_open;
	uint8_t  before[4096];
};
static struct integ_window *wins;       /* INTEG_WINDOWS, from the heap when protection starts */
static hv_spinlock_t wlock;
static bool closing;                    /* one vCPU closes windows at a time */
static uint8_t cur_page[4096];          /* the closer's copy (closing held) */
static struct integ_window cur_win;     /* the closer's window (closing held) */
static uint64_t nr_windows, nr_win_full, nr_text_attack, nr_text_patch, nr_paging, nr_dup;
static uint64_t nr_text_unverified;     /* kprobe/optprobe/SMP-alternative forms off the lists */
static uint64_t write_ticks, close_ticks, close_n;
static uint64_t nr_reverted, nr_revert_fail;    /* integrity_action=block: attack windows put back / not */
/* The kernel's patch-site lists (monitors/integrity_sites.h), read at the first
 * LSTAR write (the inference's ready hook): __mcount_loc is init data, gone after
 * boot; the kernel is trusted until boot is done (docs/MONITORS.md). */
static struct integ_sites sites;
static const char *sites_why;
static uint64_t sites_ticks;
static uint64_t img_delta;              /* kernel VA - GPA of the image (one physical run) */

static struct integ_vcpu *state_of(struct vcpu *v)
{
	return hv_vcpu_state(v, &integrity_ops);
}

static bool blocking(const struct vm *vm)
{
	return ((const struct integrity_config *)hv_monitor_config(vm, &integrity_ops))->action == HV_INTEG_BLOCK;
}

/* One event of @type for the current task of @v (@how: idt_write's appended field, HV_INTEG_HOW_*). */
static void report_how(struct vcpu *v, unsigned type, const char *what, uint64_t reg, uint64_t old,
		       uint64_t val, uint64_t rip, bool blocked, uint8_t how)
{
	struct guest_task t;
	bool ok = guest_task_of(v, GUEST_TASK_CURRENT, &t) == 0;
	struct hv_event *ev = hv_event_reserve_task(v, type, HV_EMON_INTEGRITY, &t);
	if (ev) {
		ev->u.integrity.reg = reg;
		ev->u.integrity.old_value = old;
		ev->u.integrity.new_value = val;
		ev->u.integrity.rip = rip;
		ev->u.integrity.blocked = blocked;
		ev->u.integrity.how = how;
		hv_strlcpy_bounded(ev->u.integrity.what, sizeof(ev->u.integrity.what), what, strlen(what));
		hv_event_commit(v->id);
	}
	hv_events_ring1_kick(v->id);
	pr_warn_queued("integrity: %s: %s %#lx -> %#lx at RIP %#lx by %d (%s)%s\n", hv_event_type_name(type), what,
		(unsigned long)old, (unsigned long)val, (unsigned long)rip, ok ? t.pid : -1, ok ? t.comm : "?",
		blocked ? ": blocked" : "");
}

static void report(struct vcpu *v, unsigned type, const char *what, uint64_t reg, uint64_t old,
		   uint64_t val, uint64_t rip, bool blocked)
{
	report_how(v, type, what, reg, old, val, rip, blocked, 0);
}

/* WRMSR of a watched MSR, before it is performed. */
static int integ_msr(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	uint64_t t0 = rdtsc();
	COUNT(nr_msr_exits, 1);
	int idx = integ_msr_index(x->msr.msr);
	struct integ_vcpu *s = state_of(v);
	if (idx < 0 || !s)
		return HV_ICPT_PASS;
	struct integ_baseline *b = integ_reg_per_vcpu((unsigned)idx) ? &s->esp : &shared[idx];
	enum integ_verdict vd = integ_check_write(b, x->msr.value);
	int rc = HV_ICPT_PASS;
	if (vd == INTEG_FIRST)
		pr_info("integrity: vCPU %u: %s baseline %#lx\n", v->id, integ_reg_name((unsigned)idx),
			(unsigned long)x->msr.value);
	if (vd == INTEG_CHANGED) {
		bool block = blocking(v->vm);
		COUNT(nr_hooks, 1);
		if (block) {
			COUNT(nr_blocked, 1);
			rc = HV_ICPT_DONE;      /* not performed; the guest resumes after its WRMSR */
		}
		if (integ_should_report(++s->nr_hook))
			report(v, HV_EV_SYSCALL_HOOK, integ_reg_name((unsigned)idx), x->msr.msr, b->value,
			       x->msr.value, vcpu_rip(v), block);
	}
	COUNT(exit_ticks, rdtsc() - t0);
	return rc;
}

/* MOV to CR0 that changes WP (the mask makes only those exit, with the core's own bits). */
static int integ_cr0(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	uint64_t t0 = rdtsc();
	COUNT(nr_cr0_exits, 1);
	struct integ_vcpu *s = state_of(v);
	if (!s || !integ_cr0_clears_wp(x->cr0.old, x->cr0.val))
		goto out;
	if (!__atomic_load_n(&boot_done, __ATOMIC_ACQUIRE)) {
		COUNT(nr_wp_boot, 1);   /* during boot: counted only (docs/MONITORS.md) */
		goto out;
	}
	bool block = blocking(v->vm);
	uint64_t want = x->cr0.val;
	COUNT(nr_wp, 1);
	if (block) {
		COUNT(nr_blocked, 1);
		x->cr0.val |= X86_CR0_WP;       /* the rest of the write is performed */
	}
	if (integ_should_report(++s->nr_wp))
		report(v, HV_EV_CR0_WP, "cr0", 0, x->cr0.old, want, vcpu_rip(v), block);
out:
	COUNT(exit_ticks, rdtsc() - t0);
	return HV_ICPT_PASS;
}

static void dtr_check(struct vcpu *v, struct integ_vcpu *s, struct integ_dtr *d, const char *what,
		      uint64_t base, uint32_t limit)
{
	uint64_t old = d->base;
	if (!integ_dtr_sample(d, base, limit, vcpu_cpl(v) == 3))
		return;
	COUNT(nr_dtr, 1);
	if (integ_should_report(++s->nr_dtr))
		report_how(v, HV_EV_IDT_WRITE, what, limit, old, base, vcpu_rip(v), false, HV_INTEG_HOW_SAMPLE);
}

/* The guest restarted @v (INIT/SIPI: CPU offline/online) since boot done or
 * since its baselines were taken: new ones, from its first user-mode tick (its
 * bring-up loads transient tables first: the real-mode trampoline's, the early
 * GDT). Compared with its start count at boot done, so that a vCPU whose first
 * exit after boot done is in such a bring-up does not take a transient table
 * as its baseline. */
static void sync_starts(struct vcpu *v, struct integ_vcpu *s)
{
	if (!s->synced) {
		s->synced = true;
		s->starts = v->id < HV_MAX_CPUS ? __atomic_load_n(&starts_at_boot[v->id], __ATOMIC_ACQUIRE) : 0;
	}
	if (s->starts != v->nr_starts) {
		s->starts = v->nr_starts;
		s->restarted = true;
		memset(&s->idtr, 0, sizeof(s->idtr));
		memset(&s->gdtr, 0, sizeof(s->gdtr));
	}
}

/* Same table: both bases map the same guest-physical page (kernel addresses). */
static bool same_page(struct vcpu *v, uint64_t a, uint64_t b)
{
	struct guest_xlat xa, xb;
	return !guest_kernel_translate(v, a, &xa) && !guest_kernel_translate(v, b, &xb) && xa.gpa == xb.gpa;
}

/* A trapped LGDT/LIDT (vmm/dtr.c, after its checks, before the load): after
 * boot done, a table other than the vCPU's baseline is event idt_write, and
 * with integrity_action=block it is not loaded (the guest resumes after the
 * instruction with the register unchanged). */
static int integ_dtr(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	if (x->dtr.op != DTR_LGDT && x->dtr.op != DTR_LIDT)
		return HV_ICPT_PASS;
	uint64_t t0 = rdtsc();
	struct integ_vcpu *s = state_of(v);
	bool idt = x->dtr.op == DTR_LIDT;
	int rc = HV_ICPT_PASS;
	COUNT(nr_dtr_loads, 1);
	if (!s || !__atomic_load_n(&boot_done, __ATOMIC_ACQUIRE))
		goto out;
	sync_starts(v, s);
	struct integ_dtr *d = idt ? &s->idtr : &s->gdtr;
	integ_dtr_baseline(d, x->dtr.old_base, x->dtr.old_limit, s->restarted, vcpu_cpl(v) == 3);
	bool same = d->set && x->dtr.limit == d->limit && x->dtr.base != d->base && same_page(v, x->dtr.base, d->base);
	enum integ_dtr_verdict vd = integ_dtr_load(d, x->dtr.base, x->dtr.limit, same);
	if (vd != INTEG_DTR_CHANGED && vd != INTEG_DTR_EMPTY)
		goto out;
	bool block = vd == INTEG_DTR_CHANGED && blocking(v->vm);
	COUNT(nr_dtr, 1);
	if (block) {
		COUNT(nr_blocked, 1);
		rc = HV_ICPT_DONE;
	}
	if (integ_should_report(++s->nr_dtr))
		report_how(v, HV_EV_IDT_WRITE, idt ? "idtr" : "gdtr", x->dtr.limit, d->base, x->dtr.base, vcpu_rip(v),
			   block, idt ? HV_INTEG_HOW_LIDT : HV_INTEG_HOW_LGDT);
out:
	COUNT(exit_ticks, rdtsc() - t0);
	return rc;
}

static unsigned region_of(uint64_t gpa)
{
	if (sct_gpa && gpa - sct_gpa < INTEG_SCT_BYTES)
		return INTEG_R_SCT;
	if (idt_gpa && (gpa & ~0xfffULL) == idt_gpa)
		return INTEG_R_IDT;
	for (unsigned i = 0; i < nr_granges; i++)
		if (gpa - granges[i].gpa < granges[i].size)
			return granges[i].region;
	return INTEG_R_TEXT;
}

/* A write to a protected page, before the core opens it (vmm/page_guard.h):
 * the page as it was, and who wrote. */
static int integ_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	uint64_t t0 = rdtsc();
	uint64_t page = x->page.gpa & ~0xfffULL;
	uint64_t q = x->page.qual;
	uint64_t lin = (q & (1u << 7)) ? vcpu_guest_linear(v) : 0;
	enum integ_writer w = integ_writer_of(q, lin, vcpu_cpl(v));
	hv_spin_lock(&wlock);
	struct integ_window *free_w = NULL;
	for (unsigned i = 0; i < INTEG_WINDOWS; i++) {
		if (wins[i].page == page) {         /* open already (another vCPU's stale TLB) */
			hv_spin_unlock(&wlock);
			COUNT(nr_dup, 1);
			return HV_ICPT_PASS;
		}
		if (!wins[i].page && !free_w)
			free_w = &wins[i];
	}
	if (!free_w) {
		hv_spin_unlock(&wlock);
		COUNT(nr_win_full, 1);      /* opened without a copy: reported with nothing to compare */
		/* without a copy the bytes cannot be judged: the writer alone says
		 * (text_poke into text: patch; anything else: attack) */
		unsigned rg = region_of(x->page.gpa);
		bool poke = rg == INTEG_R_TEXT && w == INTEG_W_POKE;
		if (w == INTEG_W_PAGING)
			return HV_ICPT_PASS;
		COUNT(*(poke ? &nr_text_patch : &nr_text_attack), 1);
		struct hv_event *ev = hv_event_reserve(v->id, HV_EV_KERNEL_TEXT_WRITE, HV_EMON_INTEGRITY);
		if (ev) {
			ev->u.text_write.va = lin;
			ev->u.text_write.gpa = x->page.gpa;
			ev->u.text_write.rip = vcpu_rip(v);
			hv_strlcpy_bounded(ev->u.text_write.region, HV_KIND_LEN, integ_region_name(rg), 15);
			hv_strlcpy_bounded(ev->u.text_write.severity, HV_KIND_LEN, poke ? "patch" : "attack", 15);
			hv_strlcpy_bounded(ev->u.text_write.writer, HV_KIND_LEN, integ_writer_name(w), 15);
			hv_event_commit(v->id);
		}
		return HV_ICPT_PASS;
	}
	free_w->va = lin;
	free_w->rip = vcpu_rip(v);
	free_w->region = (uint8_t)region_of(x->page.gpa);
	free_w->writer = (uint8_t)w;
	free_w->vcpu = v->id;
	free_w->t_open = t0;
	free_w->task_ok = w != INTEG_W_PAGING && guest_task_of(v, GUEST_TASK_CURRENT, &free_w->task) == 0;
	if (guest_read_gpa(v, page, free_w->before, sizeof(free_w->before)))
		memset(free_w->before, 0, sizeof(free_w->before));
	free_w->page = page;
	hv_spin_unlock(&wlock);
	COUNT(nr_windows, 1);
	COUNT(write_ticks, rdtsc() - t0);
	return HV_ICPT_PASS;
}

/*
 * integrity_action=block for an attack on the image: the window's page was
 * protected again (hv_page_guard_close) before it was read, so the guest cannot
 * write it while the bytes it changed are put back from the copy taken before
 * its first write, run by run. A patch is never reverted (integ_should_revert).
 */
static bool revert_window(struct vcpu *v, const struct integ_diff *d, enum integ_severity sev)
{
	if (!integ_should_revert(sev, blocking(v->vm), d->changed))
		return false;
	uint32_t off = 0, len, from = 0;
	bool ok = true;
	while ((len = integ_next_run(cur_win.before, cur_page, 4096, from, &off)) != 0) {
		ok &= hv_page_guard_restore(v->vm, cur_win.page + off, cur_win.before + off, len) == 0;
		from = off + len;
	}
	COUNT(*(ok ? &nr_reverted : &nr_revert_fail), 1);
	return ok;
}

/* The sites' bytes outside a window's page: kernel memory now. */
static bool site_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	return guest_read(ctx, va, buf, (uint32_t)len, false) == 0;
}

/* Close every open window: protect the page again (every CPU), then compare it
 * with the copy from before the first write and report. */
static void close_windows(struct vcpu *v)
{
	bool f = false;
	if (!__atomic_compare_exchange_n(&closing, &f, true, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	for (unsigned i = 0; i < INTEG_WINDOWS; i++) {
		if (!__atomic_load_n(&wins[i].page, __ATOMIC_RELAXED))
			continue;
		uint64_t t0 = rdtsc();
		hv_spin_lock(&wlock);
		cur_win = wins[i];
		wins[i].page = 0;
		hv_spin_unlock(&wlock);
		if (!cur_win.page)
			continue;
		/* protected first: a later write opens a new window; what landed before is in this one */
		hv_page_guard_close(v->vm, cur_win.page);
		if (guest_read_gpa(v, cur_win.page, cur_page, sizeof(cur_page)))
			memcpy(cur_page, cur_win.before, sizeof(cur_page));
		struct integ_diff d;
		integ_diff(cur_win.before, cur_page, 4096, &d);
		const struct integ_site_rd rd = { .read = site_read, .ctx = v };
		enum integ_severity sev = integ_classify_sites(&sites, cur_win.region, cur_win.writer,
							       cur_win.page + img_delta, cur_win.before, cur_page,
							       4096, &d, &rd);
		bool reverted = revert_window(v, &d, sev);
		if (sev == INTEG_SEV_NONE) {
			COUNT(nr_paging, 1);
		} else {
			COUNT(*(sev == INTEG_SEV_PATCH ? &nr_text_patch :
				sev == INTEG_SEV_UNVERIFIED ? &nr_text_unverified : &nr_text_attack), 1);
			/* the writer saved when the window opened (maybe on another vCPU): named as
			 * saved, or no task (pid -1) — never the task running on @v now */
			static const struct guest_task no_task = { .pid = -1, .tgid = -1 };
			struct hv_event *ev = hv_event_reserve_task(v, HV_EV_KERNEL_TEXT_WRITE, HV_EMON_INTEGRITY,
								    cur_win.task_ok ? &cur_win.task : &no_task);
			if (ev) {
				struct hv_ev_text_write *t = &ev->u.text_write;
				ev->hdr.cpu = (uint16_t)cur_win.vcpu;   /* the vCPU that wrote */
				t->va = cur_win.va;
				t->gpa = cur_win.page + (d.changed ? d.first : 0);
				t->rip = cur_win.rip;
				t->changed = d.changed;
				t->len = (uint8_t)d.span;
				if (d.changed) {
					memcpy(t->old_bytes, cur_win.before + d.first, d.span);
					memcpy(t->new_bytes, cur_page + d.first, d.span);
				}
				hv_strlcpy_bounded(t->region, HV_KIND_LEN, integ_region_name(cur_win.region), 15);
				hv_strlcpy_bounded(t->severity, HV_KIND_LEN, integ_severity_name(sev), 15);
				hv_strlcpy_bounded(t->writer, HV_KIND_LEN, integ_writer_name(cur_win.writer), 15);
				t->reverted = reverted;
				hv_event_commit(v->id);
			}
			if (sev == INTEG_SEV_ATTACK || sev == INTEG_SEV_UNVERIFIED)
				pr_warn_queued("integrity: kernel_text_write%s: %s GPA %#lx (VA %#lx) by RIP %#lx (%s, %s): %u bytes "
					"changed%s\n", sev == INTEG_SEV_UNVERIFIED ? " (unverified: a kprobe's form)" : "",
					integ_region_name(cur_win.region), (unsigned long)cur_win.page,
					(unsigned long)cur_win.va, (unsigned long)cur_win.rip,
					integ_writer_name(cur_win.writer), cur_win.task_ok ? cur_win.task.comm : "?",
					d.changed, reverted ? ", reverted" : "");
		}
		COUNT(close_ticks, rdtsc() - t0);
		COUNT(close_n, 1);
	}
	/* pages opened without a window (the table was full): protected again, unjudged */
	static uint64_t open_now[PAGE_GUARD_MAX_OPEN];
	unsigned n = hv_page_guard_open_pages(open_now, PAGE_GUARD_MAX_OPEN);
	for (unsigned i = 0; i < n; i++) {
		bool has = false;
		for (unsigned j = 0; j < INTEG_WINDOWS && !has; j++)
			has = __atomic_load_n(&wins[j].page, __ATOMIC_RELAXED) == open_now[i];
		if (!has)
			hv_page_guard_close(v->vm, open_now[i]);
	}
	hv_events_ring1_kick(v->id);
	__atomic_store_n(&closing, false, __ATOMIC_RELEASE);
}

/* Add a run of pages the kernel maps read-only (one kind) as a protected range. */
static void protect_run(struct vm *vm, uint64_t gpa, uint64_t end, unsigned region)
{
	if (end <= gpa)
		return;
	if (nr_granges >= INTEG_MAX_RANGES) {
		pr_warn("integrity: more than %u read-only runs in the kernel image: %#lx-%#lx not protected\n",
			INTEG_MAX_RANGES, (unsigned long)gpa, (unsigned long)end);
		return;
	}
	granges[nr_granges].gpa = gpa;
	granges[nr_granges].size = end - gpa;
	granges[nr_granges].region = (uint8_t)region;
	nr_granges++;
	long n = hv_page_guard(vm, gpa, end - gpa, integ_write, NULL);
	if (n > 0)
		prot_pages[region] += (uint64_t)n;
}

/*
 * The kernel's direct-map offset (page_offset_base): VA - GPA of memory the
 * kernel allocated — the running task's task_struct (slab, in the direct map),
 * else the per-CPU area the GS base pointed at during syscall_init. The offset
 * is PUD-aligned (KASLR randomises it in 1 GiB steps) and in the kernel half;
 * anything else is no direct-map address. 0: unknown.
 */
static uint64_t direct_map_base(struct vcpu *v)
{
	struct guest_task t;
	uint64_t cand[2] = { 0, v->vm->profile.gs_base };
	if (guest_task_of(v, GUEST_TASK_CURRENT, &t) >= 0)
		cand[0] = t.ptr;
	for (unsigned i = 0; i < 2; i++) {
		struct guest_xlat x;
		if (!cand[i] || guest_kernel_translate(v, cand[i], &x))
			continue;
		uint64_t base = cand[i] - x.gpa;
		if ((base >> 63) && !(base & ((1ULL << 30) - 1)))
			return base;
	}
	return 0;
}

/*
 * Is the read-only, no-execute page at @gpa really read-only data? mark_rodata_ro
 * frees the text/rodata and rodata/data gaps of the image to the page allocator
 * (free_kernel_image_pages) and makes them writable through set_memory_rw —
 * which keeps the image's 2 MiB high mapping read-only (protect_kernel_text_ro)
 * but makes the direct-map alias writable; any kernel user then writes them
 * there (seen in Bochs: pipe and page-cache pages of grep, sh). Genuine
 * read-only data is read-only in its direct-map alias too (set_memory_ro changes
 * the alias: cpa_process_alias). So: protected only when the alias is not
 * writable (or not mapped at all).
 */
static bool rodata_page(struct vcpu *v, uint64_t dmap, uint64_t gpa)
{
	struct guest_xlat a;
	return guest_kernel_translate(v, dmap + gpa, &a) || !a.writable || a.gpa != gpa;
}

/*
 * Boot done (this vCPU, this exit): write-protect what the kernel itself mapped
 * read-only in its image — the text and read-only data, __ro_after_init and the
 * system-call table among them — by walking its page tables over the image span
 * the inference found (vm->profile: runtime _text .. the end of the mapped run),
 * and the page the IDT register points at.
 */
static void integ_protect(struct vcpu *v)
{
	struct vm *vm = v->vm;
	const struct vm_profile *pr = &vm->profile;
	uint64_t t0 = rdtsc();
	if (!pr->runtime_text || !pr->image_end) {
		pr_warn("integrity: EPT write protection off: the kernel image span is unknown (%s)\n", pr->why);
		return;
	}
	wins = calloc(INTEG_WINDOWS, sizeof(*wins));
	if (!wins) {
		pr_warn("integrity: EPT write protection off: no heap for %u write windows\n", INTEG_WINDOWS);
		return;
	}
	uint64_t run = 0, run_end = 0;
	unsigned run_kind = 0;
	uint64_t dmap = direct_map_base(v);
	uint64_t text_lo = 0, text_hi = 0;
	struct guest_xlat t0x;
	if (!guest_kernel_translate(v, pr->runtime_text, &t0x))
		img_delta = pr->runtime_text - t0x.gpa;
	if (!dmap)
		pr_warn("integrity: the kernel's direct map is unknown: read-only data not protected (text only)\n");
	for (uint64_t va = pr->runtime_text; va < pr->image_end;) {
		struct guest_xlat x;
		uint64_t step = 4096;
		bool ro = false;
		unsigned kind = INTEG_R_TEXT;
		if (!guest_kernel_translate(v, va, &x)) {
			step = x.page_size - (va & (x.page_size - 1));
			ro = !x.writable;
			kind = x.nx ? INTEG_R_RODATA : INTEG_R_TEXT;
			if (ro && kind == INTEG_R_RODATA) {
				step = 4096;            /* page by page: a freed gap shares the 2 MiB page */
				ro = dmap && rodata_page(v, dmap, x.gpa);
				if (!ro && dmap)
					nr_gap_pages++;
			}
		}
		if (va + step > pr->image_end)
			step = pr->image_end - va;
		if (ro && kind == INTEG_R_TEXT) {       /* call targets of the patch-site forms */
			text_lo = text_lo ? text_lo : va;
			text_hi = va + step;
		}
		if (ro && run_end && kind == run_kind && x.gpa == run_end) {
			run_end += step;
		} else {
			if (run_end)
				protect_run(vm, run, run_end, run_kind);
			run = run_end = 0;
			if (ro) {
				run = x.gpa;
				run_end = x.gpa + step;
				run_kind = kind;
			}
		}
		va += step;
	}
	if (run_end)
		protect_run(vm, run, run_end, run_kind);
	if (introspect_have(vm, INFER_P_SYS_CALL_TABLE)) {
		struct guest_xlat x;
		if (!guest_kernel_translate(v, introspect_value(vm, INFER_P_SYS_CALL_TABLE), &x))
			sct_gpa = x.gpa;
	}
	struct guest_xlat ix;
	if (!guest_kernel_translate(v, vcpu_idtr_base(v), &ix)) {
		uint64_t p = ix.gpa & ~0xfffULL;
		idt_gpa = p;
		bool inside = false;
		for (unsigned i = 0; i < nr_granges; i++)
			inside |= p - granges[i].gpa < granges[i].size;
		if (!inside)
			protect_run(vm, p, p + 4096, INTEG_R_IDT);
	}
	sites.text_lo = text_lo;
	sites.text_hi = text_hi;
	prot_ticks = rdtsc() - t0;
	__atomic_store_n(&protected_on, true, __ATOMIC_RELEASE);
	pr_info("integrity: EPT write protection: %lu text + %lu rodata + %lu IDT pages in %u ranges "
		"(kernel map %#lx-%#lx), sys_call_table at GPA %#lx; %lu TSC ticks; %lu freed pages left out "
		"(writable in the direct map at %#lx)\n",
		(unsigned long)prot_pages[INTEG_R_TEXT], (unsigned long)prot_pages[INTEG_R_RODATA],
		(unsigned long)prot_pages[INTEG_R_IDT], nr_granges, (unsigned long)pr->runtime_text,
		(unsigned long)pr->image_end, (unsigned long)sct_gpa, (unsigned long)prot_ticks,
		(unsigned long)nr_gap_pages, (unsigned long)dmap);
}

/*
 * Boot done, on @v now (@how: what said so, for the log): the baselines of the
 * vCPUs' restarts, LGDT/LIDT trapped from now on, the image write-protected.
 * Once, whoever comes first (racing vCPUs: the compare-exchange decides).
 */
static void boot_finish(struct vcpu *v, uint64_t now, const char *how)
{
	bool f = false;
	/* before boot_done is seen by anyone (racing vCPUs write the same counts) */
	for (uint32_t i = 0; i < v->vm->nr_vcpus && i < HV_MAX_CPUS; i++)
		if (v->vm->vcpus[i])
			__atomic_store_n(&starts_at_boot[i], __atomic_load_n(&v->vm->vcpus[i]->nr_starts,
					 __ATOMIC_RELAXED), __ATOMIC_RELEASE);
	if (!__atomic_compare_exchange_n(&boot_done, &f, true, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	boot_done_tsc = now;
	pr_info("integrity: boot done: %s on vCPU %u (RIP %#lx, TSC %lu, %lu user-mode ticks before); CR0.WP, "
		"IDTR and GDTR watched from now on\n", how, v->id, (unsigned long)vcpu_rip(v), (unsigned long)now,
		(unsigned long)__atomic_load_n(&nr_user_ticks, __ATOMIC_RELAXED));
	/* from now on every LGDT/LIDT exits (the boot's own loads never did) */
	if (!hv_intercept_dtr(v->vm, integ_dtr, NULL)) {
		__atomic_store_n(&dtr_trapped, true, __ATOMIC_RELEASE);
		pr_info("integrity: IDTR/GDTR trapped (descriptor-table exiting) from now on\n");
	} else {
		pr_info("integrity: no descriptor-table exiting: IDTR/GDTR sampled every %u ms\n", INTEG_TICK_MS);
	}
	if (((const struct integrity_config *)hv_monitor_config(v->vm, &integrity_ops))->ept)
		integ_protect(v);
	else
		pr_info("integrity: EPT write protection off (integrity_ept=off)\n");
}

/*
 * The kernel's own step into user space: pid 1's kernel_execve (run_init_process
 * in init/main.c's kernel_init, on 5.10 and 6.x after free_initmem, mark_readonly
 * — mark_rodata_ro — and pti_finalize). A kernel not yet compromised says so
 * itself, before init's first instruction and before anything early user space
 * loads (udev, modprobe). The usermode helpers the initcalls may start exec
 * through kernel_execve too, as other pids: not boot done. A hit the probe takes
 * as a return (ret_only: the tracer's return trampoline on the same site) is not
 * an entry. One shot: the probe goes at once.
 */
static void integ_init_exec(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	(void)ctx;
	struct guest_task t;
	if (hit->ret_only || __atomic_load_n(&boot_done, __ATOMIC_ACQUIRE))
		return;
	if (guest_task_of(v, GUEST_TASK_CURRENT, &t) != 0 || t.pid != 1)
		return;
	boot_finish(v, rdtsc(), "the kernel execs init (pid 1's kernel_execve)");
	probe_unplace(v->vm, hit->va, integ_init_exec, NULL);
}

/* Every 100 ms on every vCPU: boot done at the first CPL 3 seen when the
 * kernel_execve probe could not be placed (the fallback); then the
 * descriptor-table registers against this vCPU's first sample. */
static void integ_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)ctx;
	struct integ_vcpu *s = state_of(v);
	if (!s)
		return;
	if (!__atomic_load_n(&boot_done, __ATOMIC_ACQUIRE)) {
		if (vcpu_cpl(v) != 3)
			return;
		uint64_t n = __atomic_add_fetch(&nr_user_ticks, 1, __ATOMIC_RELAXED);
		if (__atomic_load_n(&boot_probe, __ATOMIC_ACQUIRE) && n < INTEG_PROBE_PATIENCE)
			return;         /* the kernel's exec of init decides (integ_init_exec) */
		boot_finish(v, now, n < INTEG_PROBE_PATIENCE ? "the first user mode seen by the 100 ms tick" :
			    "the 100 ms tick (the kernel_execve probe never fired for pid 1)");
		if (!__atomic_load_n(&boot_done, __ATOMIC_ACQUIRE))
			return;
	}
	if (__atomic_load_n(&protected_on, __ATOMIC_ACQUIRE) && hv_page_guard_any_open())
		close_windows(v);
	/* the guest restarted this vCPU (INIT/SIPI, CPU offline/online): new baselines */
	sync_starts(v, s);
	if (__atomic_load_n(&dtr_trapped, __ATOMIC_ACQUIRE)) {
		/* trapped: the tick only takes the baselines (the loads are judged at the exit) */
		bool user = vcpu_cpl(v) == 3;
		integ_dtr_baseline(&s->idtr, vcpu_idtr_base(v), vcpu_idtr_limit(v), s->restarted, user);
		integ_dtr_baseline(&s->gdtr, vcpu_gdtr_base(v), vcpu_gdtr_limit(v), s->restarted, user);
		return;
	}
	dtr_check(v, s, &s->idtr, "idtr", vcpu_idtr_base(v), vcpu_idtr_limit(v));
	dtr_check(v, s, &s->gdtr, "gdtr", vcpu_gdtr_base(v), vcpu_gdtr_limit(v));
}

/* Boot done from the kernel's exec of init (integ_init_exec) when hvmon can
 * probe kernel_execve and read the current task's pid; else the tick's first
 * CPL 3 (the fallback, said on the console). */
static void place_boot_probe(struct vm *vm)
{
	static const enum infer_param need[] = { INFER_P_KERNEL_EXECVE, INFER_P_PCPU_CURRENT_TASK, INFER_P_TASK_PID };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!introspect_have(vm, need[i])) {
			pr_warn("integrity: %s unknown (%s): boot done at the first user mode the %u ms tick sees\n",
				infer_param_name(need[i]), vm->profile.p.p[need[i]].why, INTEG_TICK_MS);
			return;
		}
	uint64_t va = introspect_value(vm, INFER_P_KERNEL_EXECVE);
	/* unlabelled: the tracer's probe on the same site keeps its name (probe_tamper reports) */
	if (probe_place(vm, va, integ_init_exec, NULL, "integrity")) {
		pr_warn("integrity: no probe on kernel_execve at %#lx: boot done at the first user mode the %u ms "
			"tick sees\n", (unsigned long)va, INTEG_TICK_MS);
		return;
	}
	__atomic_store_n(&boot_probe, true, __ATOMIC_RELEASE);
	pr_info("integrity: boot done will be the kernel's exec of init (probe on kernel_execve at %#lx, pid 1)\n",
		(unsigned long)va);
}

/* The inference is over (first LSTAR write, the boot CPU, early in start_kernel):
 * read the kernel's patch-site lists while its init data is still there. */
static void integ_ready(struct vm *vm)
{
	struct vcpu *v = hv_current_vcpu();
	const struct vm_profile *pr = &vm->profile;
	place_boot_probe(vm);
	if (!((const struct integrity_config *)hv_monitor_config(vm, &integrity_ops))->ept)
		return;
	struct integ_site_syms y = {
		.base = pr->runtime_text, .end = pr->image_end,
		.mcount_start = introspect_value(vm, INFER_P_MCOUNT_LOC_START),
		.mcount_stop = introspect_value(vm, INFER_P_MCOUNT_LOC_STOP),
		.jump_start = introspect_value(vm, INFER_P_JUMP_TABLE_START),
		.jump_stop = introspect_value(vm, INFER_P_JUMP_TABLE_STOP),
		.scall_start = introspect_value(vm, INFER_P_SCALL_SITES_START),
		.scall_stop = introspect_value(vm, INFER_P_SCALL_SITES_STOP),
		.tramp_start = introspect_value(vm, INFER_P_SCALL_TEXT_START),
		.tramp_end = introspect_value(vm, INFER_P_SCALL_TEXT_END),
		.ftrace_call = introspect_value(vm, INFER_P_FTRACE_CALL),
		.ftrace_regs_call = introspect_value(vm, INFER_P_FTRACE_REGS_CALL),
		.ftrace_graph_call = introspect_have(vm, INFER_P_FTRACE_GRAPH_CALL) ?
				     introspect_value(vm, INFER_P_FTRACE_GRAPH_CALL) : 0,
	};
	if (!v) {
		sites_why = "no vCPU at the inference";
		return;
	}
	const struct integ_site_rd rd = { .read = site_read, .ctx = v };
	uint64_t t0 = rdtsc();
	integ_sites_build(&sites, &y, &rd, malloc, &sites_why);
	sites_ticks = rdtsc() - t0;
	if (sites.ok)
		pr_info("integrity: patch sites: %u ftrace, %u jump labels, %u static calls, trampolines %s, "
			"ftrace_caller calls %u, function-graph jump %s (%u outside the image dropped; %lu TSC ticks)%s%s\n",
			sites.n_mcount, sites.n_jump, sites.n_scall, sites.tramp_end ? "known" : "unknown",
			(sites.ftrace_call[0] != 0) + (sites.ftrace_call[1] != 0), sites.graph_call ? "known" : "none",
			sites.dropped,
			(unsigned long)sites_ticks, sites_why ? "; " : "", sites_why ? sites_why : "");
	else
		pr_warn("integrity: patch sites unknown (%s): text_poke writes judged by their shape alone\n",
			sites_why ? sites_why : "?");
}

static int integ_setup(struct vm *vm)
{
	static const uint32_t msrs[] = { INTEG_MSR_LSTAR, INTEG_MSR_SYSENTER_CS, INTEG_MSR_SYSENTER_ESP,
					 INTEG_MSR_SYSENTER_EIP };
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		if (hv_intercept_msr_write(vm, msrs[i], integ_msr, NULL)) {
			pr_err("integrity: off: cannot subscribe to WRMSR %#x\n", msrs[i]);
			return -1;
		}
	if (hv_intercept_cr0(vm, X86_CR0_WP, integ_cr0, NULL)) {
		pr_err("integrity: off: cannot subscribe to MOV to CR0\n");
		return -1;
	}
	if (tick_register("integrity", INTEG_TICK_MS, integ_tick, NULL)) {
		pr_err("integrity: off: no tick slot\n");
		return -1;
	}
	pr_info("integrity: on (action %s): WRMSR LSTAR/SYSENTER_CS/ESP/EIP, MOV to CR0 (WP), IDTR/GDTR "
		"after boot (LGDT/LIDT trapped if the CPU has descriptor-table exiting, else sampled every %u ms)\n",
		hv_integrity_action_name(blocking(vm)), INTEG_TICK_MS);
	return 0;
}

static void integ_print_stats(struct vm *vm)
{
	(void)vm;
	uint64_t n = nr_msr_exits + nr_cr0_exits;
	hv_printf("hvmon: integrity: %lu WRMSR + %lu CR0 exits (%lu TSC ticks/exit), boot done at %lu ms; "
		  "%lu syscall_hook, %lu cr0_wp (+%lu during boot), %lu idt_write, %lu blocked; IDTR/GDTR %s (%lu LGDT/LIDT seen)\n",
		  (unsigned long)nr_msr_exits, (unsigned long)nr_cr0_exits, (unsigned long)(n ? exit_ticks / n : 0),
		  (unsigned long)(boot_done ? tick_tsc_to_ms(boot_done_tsc) : 0), (unsigned long)nr_hooks,
		  (unsigned long)nr_wp, (unsigned long)nr_wp_boot, (unsigned long)nr_dtr, (unsigned long)nr_blocked,
		  dtr_trapped ? "trapped" : "sampled", (unsigned long)nr_dtr_loads);
	if (!protected_on)
		return;
	struct page_guard_stats g;
	page_guard_get_stats(&g);
	hv_printf("hvmon: integrity: EPT write protection: %lu pages (%lu text, %lu rodata, %lu IDT; %lu left to "
		  "probes), %lu EPT tables, %lu TSC ticks to protect; %lu write windows (%lu TSC ticks/write exit, "
		  "%lu TSC ticks/close), %lu kernel_text_write attack, %lu patch, %lu paging-structure, %lu repeated "
		  "exits, %lu without a copy; %lu reverted (%lu could not be); %lu unverified (kprobe/optprobe/SMP "
		  "lock forms off the kernel's lists; %u int3s followed, %lu not)\n",
		  (unsigned long)g.pages, (unsigned long)prot_pages[INTEG_R_TEXT], (unsigned long)prot_pages[INTEG_R_RODATA],
		  (unsigned long)prot_pages[INTEG_R_IDT], (unsigned long)g.skipped, (unsigned long)g.tables,
		  (unsigned long)prot_ticks, (unsigned long)nr_windows,
		  (unsigned long)(nr_windows ? write_ticks / nr_windows : 0),
		  (unsigned long)(close_n ? close_ticks / close_n : 0), (unsigned long)nr_text_attack,
		  (unsigned long)nr_text_patch, (unsigned long)nr_paging, (unsigned long)nr_dup,
		  (unsigned long)nr_win_full, (unsigned long)nr_reverted, (unsigned long)nr_revert_fail,
		  (unsigned long)nr_text_unverified, sites.n_kp, (unsigned long)sites.kp_full);
}

struct hv_monitor_ops integrity_ops = {
	.setup = integ_setup,
	.ready = integ_ready,
	.print_stats = integ_print_stats,
	.vcpu_state_size = sizeof(struct integ_vcpu),
};
