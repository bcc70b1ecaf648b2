/*
 * hang — the OS hang detector (docs/MONITORS.md "Hang detector").
 *
 * Pure decision logic (monitors/hang_core.c, host-tested in tests/unit/test_hang.c)
 * fed by a ring -1 sampler (monitors/hang.c) on hvmon's periodic tick (vmm/tick.h).
 *
 * Each tick takes one sample of the vCPU: TSC, idle (activity state HLT, or the
 * exit was a HLT/MWAIT), CPL, RFLAGS.IF, RIP, the current task (%gs:current_task
 * from the inferred profile) and the count of context switches seen by the probe
 * on __switch_to (when placed), not counting switches into or out of the CPU
 * stopper (hang_comm_is_stopper()). PROGRESS = the vCPU was idle, or the switch count
 * moved, or the current task changed. Verdicts (T = hang_timeout):
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
	bool     idle;          /* HLT/MWAIT/activity state HLT */
	bool     kernel;        /* CPL 0 */
	bool     if_on;         /* RFLAGS.IF */
	bool     task_valid;
	uint64_t task;          /* current task_struct */
	uint64_t switches;      /* context switches counted so far (0 if no probe) */
	uint64_t rip;
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
 * vCPU (HLT, MWAIT, the idle task; an offline CPU sits in HLT) is progress, so it
 * is never hung and never counts as hung. */
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
