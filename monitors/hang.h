/*
 * hang — the OS hang detector (docs/MONITORS.md "Hang detector").
 *
 * Pure decision logic (monitors/hang_core.c, host-tested in tests/unit/test_hang.c)
 * fed by a ring -1 sampler (monitors/hang.c) on hvmon's periodic tick (vmm/tick.h).
 *
 * Each tick takes one sample of the vCPU. Hardware state, read from the VMCS in
 * ring -1 (the guest cannot fake it): TSC (ring -1's own clock; the guest's TSC
 * writes only move its offset, vmm/msr_guard.c), halted (activity state HLT, or
 * the exit was a HLT/MWAIT), CPL, RFLAGS.IF, RIP, and the count of #BP exits at
 * the probe on __switch_to (when placed: each is one execution of the kernel's
 * context switch), not counting switches into or out of the CPU stopper
 * (hang_comm_is_stopper()). Guest memory: the current task (%gs:current_task from
 * the inferred profile) and whether it is the idle task (pid 0).
 * Issue 15 item 4: guest memory is never trusted alone (docs/MONITORS.md
 * "Progress the guest cannot fake"):
 *   - IDLE is the hardware's word only: a vCPU in HLT. The idle task in `current`
 *     with the vCPU running is not idle (Linux under hvmon idles in HLT: MWAIT is
 *     hidden); such samples are counted (idle_claims), nothing else.
 *   - PROGRESS = idle, or the probed switch count moved, or (no probe only) the
 *     sampled current task changed. With the probe, a task change it did not see
 *     is a rewrite of `current`, not a switch: counted (task_claims), ignored.
 *   - The IRQs-off streak (CPL 0, IF=0, not halted) is judged on hardware state
 *     alone: progress never breaks it, and a `hard` hang ends only when the
 *     hardware says so (IF=1, CPL 3 or HLT), whatever the guest writes meanwhile.
 * Verdicts (T = hang_timeout):
 *   hard      : kernel mode (CPL 0) with IF=0 at every sample for >= T
 *   soft      : kernel mode at every sample for >= T, no progress, IF=1 seen
 *               (decided only when the IF=0 streak is shorter than T/2, else
 *               the verdict waits for "hard")
 *   no_switch : no progress for >= T and the vCPU is not in such a kernel streak
 * One `hang` per episode; `hang_recovered` at the next progress.
 */
#ifndef HVMON_MONITORS_HANG_H
#define HVMON_MONITORS_HANG_H

#include <stdbool.h>
#include <stdint.h>

struct hang_sample {
	uint64_t tsc;
	/* hardware (VMCS, ring -1's exit counts) */
	bool     idle;          /* halted: activity state HLT, or a HLT/MWAIT exit */
	bool     kernel;        /* CPL 0 */
	bool     if_on;         /* RFLAGS.IF */
	uint64_t switches;      /* #BP exits at the __switch_to probe so far (0 if no probe) */
	bool     switch_probe;  /* @switches come from a probe: sampled task changes are no evidence */
	uint64_t rip;
	/* guest memory (hostile kernel: cross-checked, never trusted alone) */
	bool     task_valid;
	uint64_t task;          /* current task_struct */
	bool     idle_task;     /* current is the idle task (pid 0) */
};

enum hang_kind { HANG_NONE = 0, HANG_HARD, HANG_SOFT, HANG_NO_SWITCH };

struct hang_state {
	uint64_t timeout;       /* T in TSC ticks */
	bool     started;
	uint64_t progress_tsc;  /* last progress */
	uint64_t kernel_since;  /* start of the current kernel-mode streak (0: none) */
	uint64_t irqoff_since;  /* start of the current kernel+IF=0 streak (0: none) */
	uint64_t last_task, last_switches;
	bool     last_task_valid;
	enum hang_kind hung;    /* reported and not yet recovered */
	uint64_t hung_since;    /* start of the hung interval (for the recovered event) */
	uint64_t reports, recoveries;
	/* guest-memory claims the hardware did not confirm (not progress): samples whose
	 * current is the idle task while the vCPU runs; task changes the probe never saw */
	uint64_t idle_claims, task_claims;
};

struct hang_verdict {
	enum hang_kind kind;    /* HANG_NONE: nothing to report */
	bool     recovered;     /* a hang_recovered event (kind = the kind that ended) */
	uint64_t duration;      /* TSC ticks hung (report: since start; recovered: total) */
};

void hang_state_init(struct hang_state *s, uint64_t timeout_tsc);
/* Feed one sample (tsc non-decreasing). Returns true when @out holds an event. */
bool hang_step(struct hang_state *s, const struct hang_sample *x, struct hang_verdict *out);
const char *hang_kind_name(enum hang_kind k);
/* SMP (issue 11): each vCPU has its own hang_state, fed by the tick on that
 * vCPU; one stuck vCPU while others progress is a PARTIAL hang, every sampled
 * vCPU hung at once is a MACHINE hang (with one vCPU every hang is one). An idle
 * vCPU (HLT; NOHZ idle and offline CPUs sit in HLT) is progress, so it is never
 * hung and never counts as hung. */
enum hang_scope { HANG_SCOPE_UNKNOWN = 0, HANG_SCOPE_PARTIAL = 1, HANG_SCOPE_MACHINE = 2 };
/* Scope of a hang on one vCPU: @st[0..n) the states of every vCPU (NULL: no such
 * vCPU or monitor off); vCPUs that never sampled are not counted. @hung counts
 * the vCPUs hung now (including the reporter, which must be hung). */
enum hang_scope hang_scope_of(const struct hang_state *const *st, unsigned n, unsigned *hung);
const char *hang_scope_name(enum hang_scope s);

/* comm (16 bytes, may lack a NUL) names the kernel's per-CPU stopper thread
 * ("migration/N", kernel/stop_machine.c). Switches into and out of it are not
 * scheduler progress: the stop class preempts every task, and the kernel's own
 * soft-lockup watchdog queues work on it every watchdog_thresh*2/5 s (4 s by
 * default), so a starved run queue would otherwise look alive. */
bool hang_comm_is_stopper(const char comm[16]);

/* ---- options (monitors/hang_options.c; docs/OPTIONS.md) ---- */
struct hang_config {
	uint32_t timeout_s;     /* hang_timeout=, 1..3600 s; default 5 */
};
struct hv_opt_owner;
extern const struct hv_opt_owner hang_options;

/* ---- ring -1 (monitors/hang.c): the registry entry's operations ---- */
struct hv_monitor_ops;
extern struct hv_monitor_ops hang_ops;

#endif
