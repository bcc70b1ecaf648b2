/*
 * integrity — ring -1 side of the kernel integrity monitor (monitors/integrity.h,
 * docs/MONITORS.md "Integrity monitor"). Subscribes (vmm/intercept.h) to WRMSR
 * of IA32_LSTAR and IA32_SYSENTER_CS/ESP/EIP, to MOV to CR0 changing CR0.WP,
 * and registers a 100 ms tick that decides "boot done" and samples IDTR/GDTR.
 */
#include <string.h>
#include "monitors/integrity.h"
#include "events/event.h"
#include "events/ring1.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/monitor.h"
#include "vmm/intercept.h"
#include "vmm/tick.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

#define INTEG_TICK_MS 100

struct integ_vcpu {
	struct integ_baseline esp;          /* IA32_SYSENTER_ESP: one per vCPU */
	struct integ_dtr idtr, gdtr;
	uint64_t starts;                    /* v->nr_starts the baselines belong to */
	uint64_t nr_hook, nr_wp, nr_dtr;    /* occurrences on this vCPU (report rate) */
};

/* one baseline for every vCPU: LSTAR, SYSENTER_CS, SYSENTER_EIP */
static struct integ_baseline shared[INTEG_NREG];
static bool boot_done;
static uint64_t boot_done_tsc;
/* statistics of every vCPU (atomic adds) */
static uint64_t nr_msr_exits, nr_cr0_exits, nr_hooks, nr_wp, nr_dtr, nr_blocked, nr_wp_boot;
static uint64_t exit_ticks;
#define COUNT(c, n) __atomic_fetch_add(&(c), (n), __ATOMIC_RELAXED)

static struct integ_vcpu *state_of(struct vcpu *v)
{
	return hv_vcpu_state(v, &integrity_ops);
}

static bool blocking(const struct vm *vm)
{
	return ((const struct integrity_config *)hv_monitor_config(vm, &integrity_ops))->action == HV_INTEG_BLOCK;
}

/* One event of @type for the current task of @v. */
static void report(struct vcpu *v, unsigned type, const char *what, uint64_t reg, uint64_t old,
		   uint64_t val, uint64_t rip, bool blocked)
{
	struct guest_task t;
	bool ok = guest_task_of(v, GUEST_TASK_CURRENT, &t) == 0;
	struct hv_event *ev = hv_event_reserve(v->id, type, HV_EMON_INTEGRITY);
	if (ev) {
		if (ok)
			hv_event_set_task(ev, t.pid, t.tgid, t.comm, 16);
		ev->u.integrity.reg = reg;
		ev->u.integrity.old_value = old;
		ev->u.integrity.new_value = val;
		ev->u.integrity.rip = rip;
		ev->u.integrity.blocked = blocked;
		hv_strlcpy_bounded(ev->u.integrity.what, sizeof(ev->u.integrity.what), what, strlen(what));
		hv_event_commit(v->id);
	}
	hv_events_ring1_kick(v->id);
	pr_warn("integrity: %s: %s %#lx -> %#lx at RIP %#lx by %d (%s)%s\n", hv_event_type_name(type), what,
		(unsigned long)old, (unsigned long)val, (unsigned long)rip, ok ? t.pid : -1, ok ? t.comm : "?",
		blocked ? ": blocked" : "");
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
		report(v, HV_EV_IDT_WRITE, what, limit, old, base, vcpu_rip(v), false);
}

/* Every 100 ms on every vCPU: boot done at the first CPL 3 seen; then the
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
		bool f = false;
		if (__atomic_compare_exchange_n(&boot_done, &f, true, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			boot_done_tsc = now;
			pr_info("integrity: boot done: vCPU %u runs user mode (RIP %#lx); CR0.WP, IDTR and GDTR "
				"watched from now on\n", v->id, (unsigned long)vcpu_rip(v));
		}
	}
	/* the guest restarted this vCPU (INIT/SIPI, CPU offline/online): new baselines */
	if (s->starts != v->nr_starts) {
		s->starts = v->nr_starts;
		memset(&s->idtr, 0, sizeof(s->idtr));
		memset(&s->gdtr, 0, sizeof(s->gdtr));
	}
	dtr_check(v, s, &s->idtr, "idtr", vcpu_idtr_base(v), vcpu_idtr_limit(v));
	dtr_check(v, s, &s->gdtr, "gdtr", vcpu_gdtr_base(v), vcpu_gdtr_limit(v));
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
		"sampled every %u ms after boot\n", hv_integrity_action_name(blocking(vm)), INTEG_TICK_MS);
	return 0;
}

static void integ_print_stats(struct vm *vm)
{
	(void)vm;
	uint64_t n = nr_msr_exits + nr_cr0_exits;
	hv_printf("hvmon: integrity: %lu WRMSR + %lu CR0 exits (%lu TSC ticks/exit), boot done at %lu ms; "
		  "%lu syscall_hook, %lu cr0_wp (+%lu during boot), %lu idt_write, %lu blocked\n",
		  (unsigned long)nr_msr_exits, (unsigned long)nr_cr0_exits, (unsigned long)(n ? exit_ticks / n : 0),
		  (unsigned long)(boot_done ? tick_tsc_to_ms(boot_done_tsc) : 0), (unsigned long)nr_hooks,
		  (unsigned long)nr_wp, (unsigned long)nr_wp_boot, (unsigned long)nr_dtr, (unsigned long)nr_blocked);
}

struct hv_monitor_ops integrity_ops = {
	.setup = integ_setup,
	.print_stats = integ_print_stats,
	.vcpu_state_size = sizeof(struct integ_vcpu),
};
