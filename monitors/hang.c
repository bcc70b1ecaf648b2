/*
 * hang — ring -1 side of the hang detector (monitors/hang.h, docs/MONITORS.md):
 * a sampler on hvmon's tick (vmm/tick.h), context-switch evidence from a probe on
 * the inferred __switch_to (vmm/probe.h) or, without it, from %gs:current_task.
 */
#include <string.h>
#include "monitors/hang.h"
#include "events/event.h"
#include "vmm/vcpu.h"
#include "vmm/tick.h"
#include "vmm/probe.h"
#include "events/ring1.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

#define HANG_TICK_MS 100
#define HANG_STATS_EVERY 100    /* samples between two "hang: stats:" console lines (10 s) */

static struct hang_state st[HV_MAX_CPUS];
static uint64_t switches[HV_MAX_CPUS];           /* all switches seen by the probe */
static uint64_t progress_sw[HV_MAX_CPUS];        /* ... without the CPU stopper's (progress) */
/* The CPU stopper's task_struct per vCPU once recognised (it never exits), and a small
 * cache of tasks known not to be it, so most switches cost no guest read. */
#define HANG_OTHER_CACHE 8
static uint64_t stopper[HV_MAX_CPUS];
static uint64_t other[HV_MAX_CPUS][HANG_OTHER_CACHE];
static unsigned other_next[HV_MAX_CPUS];
static bool switch_probe;
static bool armed;              /* judging starts once the guest kernel profile is known */
static uint64_t timeout_tsc;
static uint64_t samples, sample_ticks;

/* @task is the CPU stopper of this vCPU (comm "migration/N"); unreadable: no */
static bool is_stopper(struct vcpu *v, uint64_t task)
{
	unsigned c = v->id, i;
	if (stopper[c] && task == stopper[c])
		return true;
	for (i = 0; i < HANG_OTHER_CACHE; i++)
		if (other[c][i] == task)
			return false;
	char comm[16];
	if (!(task >> 63) || !introspect_have(v->vm, INFER_P_TASK_COMM) ||
	    guest_read(v, task + introspect_value(v->vm, INFER_P_TASK_COMM), comm, 16, false))
		return false;
	if (hang_comm_is_stopper(comm)) {
		stopper[c] = task;
		return true;
	}
	other[c][other_next[c]++ % HANG_OTHER_CACHE] = task;
	return false;
}

/* probe on __switch_to(prev, next): a switch is progress unless it enters or leaves
 * the CPU stopper (hang_comm_is_stopper(): the soft-lockup watchdog's 4 s heartbeat
 * would otherwise hide a run queue starved by a SCHED_FIFO task) */
static void on_switch(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	(void)ctx;
	if (v->id >= HV_MAX_CPUS)
		return;
	union guest_regs *r = hit->regs;
	switches[v->id]++;
	if (!is_stopper(v, r->rdi) && !is_stopper(v, r->rsi))
		progress_sw[v->id]++;
}

static void hang_ready(struct vm *vm, void *ctx)
{
	(void)ctx;
	static const enum infer_param need[] = { INFER_P_PCPU_CURRENT_TASK, INFER_P_TASK_PID,
						 INFER_P_TASK_COMM };
	introspect_require(vm, HV_EMON_HANG, need, sizeof(need) / sizeof(need[0]));
	if (introspect_have(vm, INFER_P_SWITCH_TO) &&
	    !probe_place(vm, introspect_value(vm, INFER_P_SWITCH_TO), on_switch, NULL, "hang"))
		switch_probe = true;
	/* start judging now: before the first LSTAR write the kernel boots with IRQs
	 * off and has no current task, and the inference itself stopped the guest */
	for (unsigned i = 0; i < HV_MAX_CPUS; i++)
		hang_state_init(&st[i], timeout_tsc);
	armed = true;
	pr_info("hang: context-switch evidence: %s\n", switch_probe ?
		"probe on __switch_to" : "sampling %gs:current_task (no __switch_to probe)");
}

/* current task: kernel GS base (VMCS GS base in kernel mode, IA32_KERNEL_GS_BASE
 * holds it while the guest runs user code: hvmon never touches that MSR). */
static int current_task(struct vcpu *v, bool kernel, uint64_t *task)
{
	if (!introspect_have(v->vm, INFER_P_PCPU_CURRENT_TASK))
		return -1;
	uint64_t gs = vmread(VMCS_GUEST_GS_BASE);
	if (!kernel || !(gs >> 63))
		gs = rdmsr(MSR_KERNEL_GS_BASE);
	if (!(gs >> 63))
		return -1;
	uint64_t t;
	if (guest_read(v, gs + introspect_value(v->vm, INFER_P_PCPU_CURRENT_TASK), &t, 8, false) ||
	    !(t >> 63))
		return -1;
	*task = t;
	return 0;
}

static void emit(struct vcpu *v, const struct hang_verdict *vd, uint64_t rip, uint64_t task, bool tv)
{
	int32_t pid = -1, tgid = -1;
	char comm[16] = "";
	bool ids = tv && !guest_task_ids(v, task, &pid, &tgid, comm);
	uint32_t secs = (uint32_t)(vd->duration / tick_tsc_hz());
	uint64_t ms = tick_tsc_to_ms(vd->duration);
	static uint64_t seq;
	pr_warn("hang #%lu: %s %s on vCPU %u: %lu ms, RIP %#lx, task %d (%s) tsc=%lu\n",
		(unsigned long)(vd->recovered ? seq : ++seq), vd->recovered ? "recovered from" : "detected",
		hang_kind_name(vd->kind), v->id, (unsigned long)ms, (unsigned long)rip, ids ? pid : -1,
		ids ? comm : "?", (unsigned long)rdtsc());
	struct hv_event *ev = hv_event_reserve(v->id, vd->recovered ? HV_EV_HANG_RECOVERED : HV_EV_HANG,
					       HV_EMON_HANG);
	if (!ev)
		return;
	if (ids)
		hv_event_set_task(ev, pid, tgid, comm, sizeof(comm));
	hv_strlcpy_bounded(ev->u.hang.kind, sizeof(ev->u.hang.kind), hang_kind_name(vd->kind), 16);
	ev->u.hang.vcpu = v->id;
	ev->u.hang.seconds = secs;
	ev->u.hang.rip = rip;
	hv_event_commit(v->id);
	hv_events_ring1_drain();
}

static void hang_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)ctx;
	uint64_t t0 = rdtsc();
	if (v->id >= HV_MAX_CPUS || !armed)
		return;
	struct hang_sample x = { .tsc = now };
	uint32_t basic = v->exit_reason & 0xffff;
	x.idle = vmread(VMCS_GUEST_ACTIVITY_STATE) == 1 || basic == EXIT_HLT || basic == EXIT_MWAIT;
	x.kernel = ((vmread(VMCS_GUEST_SS_AR) >> 5) & 3) == 0;
	x.if_on = (vmread(VMCS_GUEST_RFLAGS) >> 9) & 1;
	x.rip = vmread(VMCS_GUEST_RIP);
	x.task_valid = !current_task(v, x.kernel, &x.task);
	/* a sample that lands in the stopper is no task change (see on_switch) */
	if (x.task_valid && switch_probe && is_stopper(v, x.task))
		x.task_valid = false;
	x.switches = progress_sw[v->id];
	/* the idle task (pid 0) runs the idle loop (HLT, or MWAIT without exiting) */
	int32_t pid, tgid;
	char comm[16];
	if (x.task_valid && x.kernel && !guest_task_ids(v, x.task, &pid, &tgid, comm) && pid == 0)
		x.idle = true;
	struct hang_verdict vd;
	if (hang_step(&st[v->id], &x, &vd))
		emit(v, &vd, x.rip, x.task, x.task_valid);
	samples++;
	sample_ticks += rdtsc() - t0;
	if (samples % HANG_STATS_EVERY == 0) {      /* rates per phase for docs/BENCHMARKS.md */
		struct tick_stats ts;
		tick_get_stats(&ts);
		uint64_t ring1 = 0;     /* TSC ticks in all exit handlers of this vCPU */
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			ring1 += v->stats[r].ticks;
		pr_info("hang: stats: tsc=%lu exits=%lu timer_exits=%lu exc_exits=%lu samples=%lu "
			"switches=%lu sample_ticks=%lu ring1_ticks=%lu exc_ticks=%lu timer_ticks=%lu\n",
			(unsigned long)now, (unsigned long)v->nr_exits, (unsigned long)ts.timer_exits,
			(unsigned long)v->stats[EXIT_EXCEPTION_NMI].count, (unsigned long)samples,
			(unsigned long)switches[v->id], (unsigned long)sample_ticks, (unsigned long)ring1,
			(unsigned long)v->stats[EXIT_EXCEPTION_NMI].ticks,
			(unsigned long)v->stats[EXIT_PREEMPT_TIMER].ticks);
	}
}

int hang_setup(struct vm *vm)
{
	if (!(vm->opt.monitors & HV_MON_HANG))
		return 0;
	uint64_t T = tick_tsc_hz() * vm->opt.hang_timeout_s;
	timeout_tsc = T;
	for (unsigned i = 0; i < HV_MAX_CPUS; i++)
		hang_state_init(&st[i], T);
	if (tick_register("hang", HANG_TICK_MS, hang_tick, NULL))
		return -1;
	pr_info("hang: on, timeout %u s (%lu TSC ticks), sampling every %u ms\n", vm->opt.hang_timeout_s,
		(unsigned long)T, HANG_TICK_MS);
	return introspect_on_ready(vm, hang_ready, NULL);
}

void hang_print_stats(void)
{
	uint64_t rep = 0, rec = 0, sw = 0, psw = 0;
	for (unsigned i = 0; i < HV_MAX_CPUS; i++) {
		rep += st[i].reports;
		rec += st[i].recoveries;
		sw += switches[i];
		psw += progress_sw[i];
	}
	hv_printf("hvmon: hang: %lu samples (%lu TSC ticks/sample), %lu hangs reported, %lu recovered, "
		  "%lu context switches probed (%lu into/out of the CPU stopper)\n", (unsigned long)samples,
		  (unsigned long)(samples ? sample_ticks / samples : 0), (unsigned long)rep,
		  (unsigned long)rec, (unsigned long)sw, (unsigned long)(sw - psw));
}
