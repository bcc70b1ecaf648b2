/*
 * monitor — how the core hosts monitors (docs/ARCHITECTURE.md "Adding a monitor").
 *
 * A monitor is one entry of the const table hv_monitors[] (monitors/monitors.c),
 * like strategies[] in infer/infer.c. The core knows no monitor by name: it
 * hands their option descriptors to the option parser, then for each monitor
 * that monitors= selects it calls setup(vm) once, vcpu_start(v) for each vCPU,
 * ready(vm) once the guest kernel profile is known (vmm/introspect.h), and
 * print_stats(vm) when the run ends (lib/stop.h). A monitor observes the guest
 * through the intercepts (vmm/intercept.h), probes (vmm/probe.h) and ticks
 * (vmm/tick.h) it subscribes to in setup, reads it through vmm/guest.h, and
 * reports through the event core. Its per-vCPU state (vcpu_state_size bytes,
 * zeroed) is allocated by the core for every vCPU: hv_vcpu_state(v, ops).
 *
 * The table is pure data: host builds (unit tests, the UEFI loader, which
 * validates options) see names, event ids and option descriptors; ops (ring -1
 * functions) exist in ring -1 builds only (HV_RING1).
 */
#ifndef HVMON_VMM_MONITOR_H
#define HVMON_VMM_MONITOR_H

#include <stddef.h>
#include <stdint.h>
#include "vmm/options.h"

struct vm;
struct vcpu;

struct hv_monitor_ops {
	/* monitors= selects it: subscribe (intercepts, probes, ticks). 0, or -1: it
	 * said why on the console and stays off (no vcpu_start/ready/print_stats). */
	int  (*setup)(struct vm *vm);
	void (*disabled)(struct vm *vm);      /* optional: monitors= left it out */
	void (*vcpu_start)(struct vcpu *v);   /* optional: each vCPU, after its VMCS exists */
	void (*ready)(struct vm *vm);         /* optional: inference over (vm->profile) */
	void (*print_stats)(struct vm *vm);   /* optional: the run ends */
	size_t vcpu_state_size;               /* per-vCPU state, allocated zeroed by the core */
	unsigned slot;                        /* set by the core: 1 + its index in hv_monitors[] */
};

struct hv_monitor {
	const struct hv_opt_owner *options;   /* name (monitors= word), keys, config size */
	unsigned event_id;                    /* enum hv_monitor_id of its events */
	struct hv_monitor_ops *ops;           /* ring -1 only (HV_MONITOR_OPS) */
};

#ifdef HV_RING1
#define HV_MONITOR_OPS(ops) (ops)
#else
#define HV_MONITOR_OPS(ops) ((struct hv_monitor_ops *)0)
#endif

#define HV_MAX_MONITORS HV_OPT_MAX_OWNERS

/* monitors/monitors.c */
extern const struct hv_monitor hv_monitors[];
extern const unsigned hv_nr_monitors;
/* The option owners of hv_monitors[], in table order, for hv_options_set_owners. */
unsigned hv_monitor_owners(const struct hv_opt_owner *out[], unsigned max);

/* ---- ring -1 (vmm/monitor.c) ---- */
/* hv_main: the parser gets every monitor's keys (before hv_options_parse); each
 * monitor's ops->slot is set. */
int hv_monitors_options(struct hv_options *o);
/* hv_main: setup of each selected monitor; the ready hook with the inference. */
void hv_monitors_setup(struct vm *vm);
/* After vmcs_setup(v): per-vCPU state of every monitor, then vcpu_start. 0 or -1. */
int hv_monitors_vcpu_start(struct vcpu *v);
void hv_monitors_print_stats(struct vm *vm);
/* The monitor's parsed options (its hv_opt_owner's config_size bytes). */
const void *hv_monitor_config(const struct vm *vm, const struct hv_monitor_ops *ops);
/* The vCPU of the exit being handled on this CPU (NULL outside exits). */
struct vcpu *hv_current_vcpu(void);
/* This vCPU's state of the monitor (NULL if it is off or has none): an inline
 * in vmm/vcpu.h (one load: it is on the monitors' exit paths). */

#endif
