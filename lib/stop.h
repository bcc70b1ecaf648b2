/*
 * stop — the one way a run of hvmon ends (implemented by vmm/stop.c).
 *
 * Every end goes through hv_stop(): hvmon's own failures (hv_panic, an
 * exception in ring -1), a guest crash (unhandled exit, triple fault, failed
 * VM entry), the guest's power-off or final halt, and a monitor that stops
 * the guest (ret2usr_action=halt). hv_stop prints the guest state (when a
 * vCPU ran and the reason calls for it), the exit and monitor statistics,
 * performs the optional Bochs exit, then halts or resets. A second call
 * (a fault inside the stop path, or another CPU) only halts its CPU. With
 * several CPUs this is also the one place that will stop the others.
 *
 * Declared here, below arch/, so that arch/x86/exception.c can end a run
 * without knowing vmm/; struct vcpu stays opaque at this layer.
 */
#ifndef HVMON_LIB_STOP_H
#define HVMON_LIB_STOP_H

enum hv_stop_reason {
	HV_STOP_PANIC = 0,      /* hvmon cannot go on (hv_panic): halt */
	HV_STOP_HOST_FAULT,     /* an exception in ring -1 (arch/x86/exception.c): halt */
	HV_STOP_GUEST_CRASH,    /* the guest cannot go on: halt or reset per on_guest_crash= */
	HV_STOP_POWER_OFF,      /* the guest powered off or halted for good: the machine powers off */
	HV_STOP_MONITOR_HALT,   /* a monitor stops the guest (ret2usr_action=halt): halt;
				 * why = "<monitor> (<what>)", e.g. "ret2usr (ret2usr_action=halt)" */
};

struct vcpu;
/* @v: the vCPU that was running (NULL when none: early boot, or unknown). */
void hv_stop(enum hv_stop_reason reason, struct vcpu *v, const char *why) __attribute__((noreturn));

#endif
