/*
 * tick — hvmon's periodic tick in ring -1 (docs/MONITORS.md).
 *
 * The VMX-preemption timer (pin-based control; counts at TSC >> IA32_VMX_MISC[4:0],
 * also while the guest spins with interrupts off or sits in HLT) guarantees an
 * exit at least every period of the fastest registered tick. After EVERY exit
 * (timer or not) tick_after_exit() runs the callbacks whose TSC deadline passed
 * and re-arms the timer to the next deadline, so the period does not depend on
 * the other exits and the "save preemption timer value" control is not needed
 * (it is requested when available, for the record).
 *
 * Time is guest TSC time: with Bochs `clock: sync=none` the TSC follows the
 * instruction count; tick_tsc_hz() is the TSC frequency (CPUID 0x15/0x16, else
 * calibrated against PIT channel 2 once at boot).
 */
#ifndef HVMON_VMM_TICK_H
#define HVMON_VMM_TICK_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

#define TICK_MAX_CLIENTS 16   /* 13 in use with every option on (iommu, smp_bench, SPEC_CTRL, C-states, probe_pt) */
/* Clients due within this many ms of an exit run in it (issue 15 review: the
 * integrity tick's 100 ms no longer adds timer exits of its own beside the
 * other 100 ms clients); the first deadlines of every client lie on one grid
 * (the first registration + k * period). */
#define TICK_SLACK_MS 1

/* Runs in ring -1 on the vCPU that exited (the guest stopped), once per period
 * (up to TICK_SLACK_MS early in a preemption-timer exit, to share it with another client; late by at
 * most one exit or one timer period). @now: TSC. */
typedef void (*tick_fn)(struct vcpu *v, uint64_t now, void *ctx);

/* hv_main, before the first VM entry: TSC frequency, timer rate. 0 or -1
 * (no preemption timer: ticks then only run on other exits; logged). */
int tick_init(struct vm *vm);
/* Register a periodic callback (period 1..60000 ms). 0, or -1 (table full / bad period). */
int tick_register(const char *name, uint32_t period_ms, tick_fn fn, void *ctx);
/* Same, but the timer is armed for this client only while want(ctx) is true
 * (e.g. output waiting for a device, events waiting in a ring): an idle client
 * costs no exit. want() is asked after every exit; when it turns true the first
 * run comes one period later, never in the exit that made the work. */
int tick_register_lazy(const char *name, uint32_t period_ms, tick_fn fn, void *ctx,
		       bool (*want)(void *ctx));
/* After vmcs_setup for @v: arm the timer. */
void tick_vcpu_start(struct vcpu *v);
/* Exit-table handler for EXIT_PREEMPT_TIMER (the work happens in tick_after_exit). */
int tick_preempt_exit(struct vcpu *v);
/* vmm/vmexit.c, at the end of every exit. */
void tick_after_exit(struct vcpu *v);

uint64_t tick_tsc_hz(void);
/* TSC ticks -> milliseconds (guest TSC time) */
uint64_t tick_tsc_to_ms(uint64_t tsc);

struct tick_stats {
	uint64_t timer_exits;   /* EXIT_PREEMPT_TIMER */
	uint64_t runs;          /* callback invocations */
	uint64_t ticks;         /* TSC ticks spent in callbacks */
};
void tick_get_stats(struct tick_stats *s);
void tick_print_stats(void);

#endif
