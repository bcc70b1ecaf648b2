/*
 * The core's side of the monitor registry (vmm/monitor.h): loops over
 * hv_monitors[] at each stage of a run. No monitor is named here.
 */
#include "vmm/monitor.h"
#include "vmm/vcpu.h"
#include "vmm/introspect.h"
#include "lib/console.h"
#include "lib/heap.h"

static bool active(const struct vm *vm, unsigned i)
{
	return (vm->mon_active >> i) & 1;
}

int hv_monitors_options(struct hv_options *o)
{
	const struct hv_opt_owner *owners[HV_MAX_MONITORS];
	unsigned n = hv_monitor_owners(owners, HV_MAX_MONITORS);
	for (unsigned i = 0; i < hv_nr_monitors && i < HV_MAX_MONITORS; i++)
		if (hv_monitors[i].ops)
			hv_monitors[i].ops->slot = i + 1;
	return hv_options_set_owners(o, owners, n);
}

const void *hv_monitor_config(const struct vm *vm, const struct hv_monitor_ops *ops)
{
	return ops->slot ? hv_options_config(&vm->opt, ops->slot - 1) : NULL;
}

struct vcpu *hv_current_vcpu(void)
{
	return this_cpu()->vcpu;
}

static void monitors_ready(struct vm *vm, void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < hv_nr_monitors && i < HV_MAX_MONITORS; i++)
		if (active(vm, i) && hv_monitors[i].ops->ready)
			hv_monitors[i].ops->ready(vm);
}

void hv_monitors_setup(struct vm *vm)
{
	for (unsigned i = 0; i < hv_nr_monitors && i < HV_MAX_MONITORS; i++) {
		const struct hv_monitor *m = &hv_monitors[i];
		if (!m->ops)
			continue;
		if (!((vm->opt.monitors >> i) & 1)) {
			if (m->ops->disabled)
				m->ops->disabled(vm);
			else
				pr_info("monitor %s: off (monitors= option)\n", m->options->name);
			continue;
		}
		if (!m->ops->setup || m->ops->setup(vm) == 0)
			vm->mon_active |= 1u << i;
	}
	if (vm->mon_active && introspect_on_ready(vm, monitors_ready, NULL))
		pr_err("monitors: the inference's ready table is full\n");
}

int hv_monitors_vcpu_start(struct vcpu *v)
{
	for (unsigned i = 0; i < hv_nr_monitors && i < HV_MAX_MONITORS; i++) {
		const struct hv_monitor *m = &hv_monitors[i];
		if (!active(v->vm, i))
			continue;
		if (m->ops->vcpu_state_size) {
			v->mon_state[i] = pages_alloc((m->ops->vcpu_state_size + 4095) / 4096);
			if (!v->mon_state[i]) {
				pr_err("monitor %s: no memory for its vCPU %u state\n", m->options->name, v->id);
				return -1;
			}
		}
		if (m->ops->vcpu_start)
			m->ops->vcpu_start(v);
	}
	return 0;
}

void hv_monitors_print_stats(struct vm *vm)
{
	for (unsigned i = 0; i < hv_nr_monitors && i < HV_MAX_MONITORS; i++)
		if (active(vm, i) && hv_monitors[i].ops->print_stats)
			hv_monitors[i].ops->print_stats(vm);
}
