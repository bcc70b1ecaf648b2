/* Reporting refused guest requests: vmm/deny.h. */
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/deny.h"
#include "events/event.h"
#include "lib/console.h"

static const char *const deny_name[HV_DENY__COUNT] = {
	[HV_DENY_SLEEP]     = "sleep",
	[HV_DENY_MSR_READ]  = "msr_read",
	[HV_DENY_MSR_WRITE] = "msr_write",
	[HV_DENY_XCR0]      = "xcr0",
	[HV_DENY_VMX]       = "vmx",
	[HV_DENY_MMIO]      = "mmio",
};

void hv_deny(struct vcpu *v, enum hv_deny_kind k, uint64_t reg, uint64_t value)
{
	if ((unsigned)k >= HV_DENY__COUNT)
		return;
	uint64_t n = ++v->denied[k];            /* per vCPU: no lock */
	if (n > 16 && (n & (n - 1)))
		return;                         /* report 1..16, then 32, 64, ... only */
	uint64_t rip = vcpu_rip(v);
	pr_warn_queued("denied %s: reg %#lx value %#lx rip %#lx (cpu %u, %lu so far)\n", deny_name[k],
		(unsigned long)reg, (unsigned long)value, (unsigned long)rip, v->id, (unsigned long)n);
	struct hv_event *ev = hv_event_reserve(v->id, HV_EV_DENIED, HV_EMON_CORE);
	if (!ev)
		return;                         /* ring full: counted by the event core */
	ev->u.denied.reg = reg;
	ev->u.denied.value = value;
	ev->u.denied.rip = rip;
	ev->u.denied.count = n;
	hv_strlcpy_bounded(ev->u.denied.what, sizeof(ev->u.denied.what), deny_name[k], HV_KIND_LEN);
	hv_event_commit(v->id);
}

void hv_deny_print_stats(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		uint64_t any = 0;
		for (unsigned k = 0; k < HV_DENY__COUNT; k++)
			any |= v->denied[k];
		if (!any)
			continue;
		hv_printf("hvmon: denied requests, vCPU %u:", v->id);
		for (unsigned k = 0; k < HV_DENY__COUNT; k++)
			hv_printf(" %s %lu", deny_name[k], (unsigned long)v->denied[k]);
		hv_printf("\n");
	}
}
