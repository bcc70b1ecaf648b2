/*
 * hang — ring -1 side of the hang detector (monitors/hang.h, docs/MONITORS.md):
 * a sampler on hvmon's tick (vmm/tick.h) reading the vCPU's state from the VMCS,
 * context-switch evidence from a probe on the inferred __switch_to (vmm/probe.h)
 * or, without it, from %gs:current_task (guest memory: cross-checked in
 * monitors/hang_core.c, never trusted alone).
 */
#include <string.h>
#include "monitors/hang.h"
#include "events/event.h"
#include "events/ring1.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/monitor.h"
#include "vmm/tick.h"
#include "vmm/probe.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

#define HANG_TICK_MS 100
#define HANG_STATS_EVERY 100    /* samples between two "hang: stats:" console lines (10 s) */
/* The CPU stopper's task_struct per vCPU once recognised (it never exits), and a small
 * cache of tasks known not to be it, so most switches cost no guest read. */
#define HANG_OTHER_CACHE 8

/* per vCPU (allocated by the core: hv_vcpu_state) */
struct hang_vcpu {
	struct hang_state st;
	uint64_t switches;              /* all switches seen by the probe */
	uint64_t progress_sw;           /* ... without the CPU stopper's (progress) */
	uint64_t stopper;
	uint64_t other[HANG_OTHER_CACHE];
	unsigned other_next;
	uint64_t samples, sample_ticks;
};

static bool switch_probe;       /* set once, in ready */
static bool armed;              /* judging starts once the guest kernel profile is known */
static uint64_t timeout_tsc;
static uint64_t seq;            /* hang episodes reported (console numbering; atomic: every vCPU) */

static struct hang_vcpu *hv_of(struct vcpu *v)
{
	return hv_vcpu_state(v, &hang_ops);
}

/* @task is the CPU stopper of this vCPU (comm "migration/N"); unreadable: no */
static bool is_stopper(struct vcpu *v, struct hang_vcpu *h, uint64_t task)
{
	unsigned i;
	if (h->stopper && task == h->stopper)
		return true;
	for (i = 0; i < HANG_OTHER_CACHE; i++)
		if (h->other[i] == task)
			return false;
	struct guest_task t;
	if (!(task >> 63) || guest_task_of(v, task, &t))
		return false;
	if (hang_comm_is_stopper(t.comm)) {
		h->stopper = task;
		return true;
	}
	h->other[h->other_next++ % HANG_OTHER_CACHE] = task;
	return false;
}

/* probe on __switch_to(prev, next): a switch is progress unless it enters or leaves
 * the CPU stopper (hang_comm_is_stopper(): the soft-lockup watchdog's 4 s heartbeat
 * would otherwise hide a run queue starved by a SCHED_FIFO task) */
static void on_switch(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	(void)ctx;
	struct hang_vcpu *h = hv_of(v);
	if (!h)
		return;
	union guest_regs *r = hit->regs;
	h->switches++;
	if (!is_stopper(v, h, r->rdi) && !is_stopper(v, h, r->rsi))
		h->progress_sw++;
}

static void hang_ready(struct vm *vm)
{
	static const enum infer_param need[] = { INFER_P_PCPU_CURRENT_TASK, INFER_P_TASK_PID,
						 INFER_P_TASK_COMM };
	introspect_require(vm, HV_EMON_HANG, need, sizeof(need) / sizeof(need[0]));
	if (introspect_have(vm, INFER_P_SWITCH_TO) &&
	    !probe_place(vm, introspect_value(vm, INFER_P_SWITCH_TO), on_switch, NULL, "hang"))
		switch_probe = true;
	/* start judging now: before the first LSTAR write the kernel boots with IRQs
	 * off and has no current task, and the inference itself stopped the guest */
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct hang_vcpu *h = hv_of(vm->vcpus[i]);
		if (h)
			hang_state_init(&h->st, timeout_tsc);
	}
	armed = true;
	pr_info("hang: context-switch evidence: %s\n", switch_probe ?
		"probe on __switch_to" : "sampling %gs:current_task (no __switch_to probe)");
}

static void emit(struct vcpu *v, const struct hang_verdict *vd, uint64_t rip, const struct guest_task *t,
		 bool ids)
{
	int32_t pid = t->pid;
	const char *comm = t->comm;
	uint32_t secs = (uint32_t)(vd->duration / tick_tsc_hz());
	uint64_t ms = tick_tsc_to_ms(vd->duration);
	/* SMP: this vCPU's hang, judged on its own samples; the scope says whether
	 * the other vCPUs still progress (partial) or every one is hung (machine) */
	unsigned hung = 0;
	enum hang_scope scope = HANG_SCOPE_UNKNOWN;
	if (!vd->recovered) {
		const struct hang_state *all[HV_MAX_CPUS];
		struct vm *vm = v->vm;
		unsigned n = vm->nr_vcpus < HV_MAX_CPUS ? vm->nr_vcpus : HV_MAX_CPUS;
		for (unsigned i = 0; i < n; i++) {
			const struct hang_vcpu *o = vm->vcpus[i] ? hv_of(vm->vcpus[i]) : NULL;
			all[i] = o ? &o->st : NULL;
		}
		scope = hang_scope_of(all, n, &hung);
	}
	uint64_t nr = vd->recovered ? __atomic_load_n(&seq, __ATOMIC_RELAXED)
				    : __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	pr_warn_queued("hang #%lu: %s %s on vCPU %u%s%s: %lu ms, RIP %#lx, task %d (%s) tsc=%lu\n",
		(unsigned long)nr, vd->recovered ? "recovered from" : "detected",
		hang_kind_name(vd->kind), v->id, scope ? ", " : "", scope ? hang_scope_name(scope) : "",
		(unsigned long)ms, (unsigned long)rip, ids ? pid : -1,
		ids ? comm : "?", (unsigned long)rdtsc());
	/* @t was sampled earlier (maybe not the task running now): named as given, or no task
	 * (pid -1) when its ids were unreadable — never the current one read now */
	static const struct guest_task no_task = { .pid = -1, .tgid = -1 };
	struct hv_event *ev = hv_event_reserve_task(v, vd->recovered ? HV_EV_HANG_RECOVERED : HV_EV_HANG,
						    HV_EMON_HANG, ids ? t : &no_task);
	if (!ev)
		return;
	hv_strlcpy_bounded(ev->u.hang.kind, sizeof(ev->u.hang.kind), hang_kind_name(vd->kind), 16);
	ev->u.hang.vcpu = v->id;
	ev->u.hang.seconds = secs;
	ev->u.hang.rip = rip;
	ev->u.hang.scope = (uint8_t)scope;
	ev->u.hang.cpus_hung = hung;
	hv_event_commit(v->id);
	hv_events_ring1_kick(v->id);
}

static void hang_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)ctx;
	uint64_t t0 = rdtsc();
	struct hang_vcpu *h = hv_of(v);
	if (!h || !armed)
		return;
	struct hang_sample x = { .tsc = now };
	uint32_t basic = v->exit_reason & 0xffff;
	x.idle = vcpu_halted(v) || basic == EXIT_HLT || basic == EXIT_MWAIT;
	x.kernel = vcpu_cpl(v) == 0;
	x.if_on = vcpu_if(v);
	x.rip = vcpu_rip(v);
	struct guest_task t;
	int trc = guest_task_of(v, GUEST_TASK_CURRENT, &t);
	x.task_valid = trc >= 0;
	x.task = t.ptr;
	/* a sample that lands in the stopper is no task change (see on_switch) */
	if (x.task_valid && switch_probe && is_stopper(v, h, x.task))
		x.task_valid = false;
	x.switches = h->progress_sw;
	x.switch_probe = switch_probe;
	/* the guest's word that this is its idle loop: recorded, not trusted (hang.h):
	 * only HLT, from the VMCS, is idle */
	x.idle_task = x.task_valid && trc == 0 && t.pid == 0;
	struct hang_verdict vd;
	if (hang_step(&h->st, &x, &vd))
		emit(v, &vd, x.rip, &t, x.task_valid && trc == 0);
	h->samples++;
	h->sample_ticks += rdtsc() - t0;
	if (h->samples % HANG_STATS_EVERY == 0) {   /* rates per phase for docs/BENCHMARKS.md */
		struct tick_stats ts;
		tick_get_stats(&ts);
		uint64_t ring1 = 0;     /* TSC ticks in all exit handlers of this vCPU */
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			ring1 += v->stats[r].ticks;
		pr_info_queued("hang: stats: tsc=%lu exits=%lu timer_exits=%lu exc_exits=%lu samples=%lu "
			"switches=%lu sample_ticks=%lu ring1_ticks=%lu exc_ticks=%lu timer_ticks=%lu "
			"idle_claims=%lu task_claims=%lu\n",
			(unsigned long)now, (unsigned long)v->nr_exits, (unsigned long)ts.timer_exits,
			(unsigned long)v->stats[EXIT_EXCEPTION_NMI].count, (unsigned long)h->samples,
			(unsigned long)h->switches, (unsigned long)h->sample_ticks, (unsigned long)ring1,
			(unsigned long)v->stats[EXIT_EXCEPTION_NMI].ticks,
			(unsigned long)v->stats[EXIT_PREEMPT_TIMER].ticks,
			(unsigned long)h->st.idle_claims, (unsigned long)h->st.task_claims);
	}
}

static int hang_setup(struct vm *vm)
{
	const struct hang_config *cfg = hv_monitor_config(vm, &hang_ops);
	uint64_t T = tick_tsc_hz() * cfg->timeout_s;
	timeout_tsc = T;
	if (tick_register("hang", HANG_TICK_MS, hang_tick, NULL))
		return -1;
	pr_info("hang: on, timeout %u s (%lu TSC ticks), sampling every %u ms\n", cfg->timeout_s,
		(unsigned long)T, HANG_TICK_MS);
	return 0;
}

static void hang_vcpu_start(struct vcpu *v)
{
	hang_state_init(&hv_of(v)->st, timeout_tsc);
}

static void hang_print_stats(struct vm *vm)
{
	uint64_t rep = 0, rec = 0, sw = 0, psw = 0, samples = 0, sample_ticks = 0, ic = 0, tc = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct hang_vcpu *h = hv_of(vm->vcpus[i]);
		if (!h)
			continue;
		rep += h->st.reports;
		rec += h->st.recoveries;
		sw += h->switches;
		psw += h->progress_sw;
		samples += h->samples;
		sample_ticks += h->sample_ticks;
		ic += h->st.idle_claims;
		tc += h->st.task_claims;
	}
	hv_printf("hvmon: hang: %lu samples (%lu TSC ticks/sample), %lu hangs reported, %lu recovered, "
		  "%lu context switches probed (%lu into/out of the CPU stopper); not trusted: %lu samples in "
		  "the idle task while running, %lu task changes without a probed switch\n", (unsigned long)samples,
		  (unsigned long)(samples ? sample_ticks / samples : 0), (unsigned long)rep,
		  (unsigned long)rec, (unsigned long)sw, (unsigned long)(sw - psw), (unsigned long)ic,
		  (unsigned long)tc);
}

struct hv_monitor_ops hang_ops = {
	.setup = hang_setup,
	.vcpu_start = hang_vcpu_start,
	.ready = hang_ready,
	.print_stats = hang_print_stats,
	.vcpu_state_size = sizeof(struct hang_vcpu),
};
