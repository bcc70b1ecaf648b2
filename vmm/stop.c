/*
 * The end of a run (lib/stop.h): hv_stop, the exit statistics it prints,
 * the machine's power-off and reset. One path for every reason, guarded
 * against re-entry (a fault while stopping only halts its CPU).
 */
#include "vmm/vcpu.h"
#include "vmm/monitor.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "lib/stop.h"
#include "vmm/probe.h"
#include "vmm/tick.h"
#include "vmm/netdev.h"
#include "vmm/iommu.h"
#include "vmm/smp.h"
#include "arch/x86/cpu.h"

#define BOCHS_SHUTDOWN_PORT 0x8900

void vm_print_exit_stats(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		uint64_t total = 0, ticks = 0;
		for (unsigned int r = 0; r < EXIT_REASON_MAX; r++) {
			total += v->stats[r].count;
			ticks += v->stats[r].ticks;
		}
		hv_printf("hvmon: exit statistics, vCPU %u: %lu exits, %lu TSC ticks in ring -1 handlers, "
			  "%lu TSC ticks since first VM entry\n", v->id, (unsigned long)total,
			  (unsigned long)ticks, (unsigned long)(rdtsc() - vm->guest_entry_tsc));
		hv_printf("hvmon:   %-3s %-22s %12s %16s %12s\n", "nr", "reason", "count", "ticks", "ticks/exit");
		for (unsigned int r = 0; r < EXIT_REASON_MAX; r++) {
			const struct exit_stat *s = &v->stats[r];
			if (!s->count)
				continue;
			hv_printf("hvmon:   %-3u %-22s %12lu %16lu %12lu\n", r, exit_reason_name(r),
				  (unsigned long)s->count, (unsigned long)s->ticks,
				  (unsigned long)(s->ticks / s->count));
		}
	}
	probe_print_stats();
	tick_print_stats();
	smp_print_stats();
	netdev_print_stats();
	iommu_print_stats();
	hv_deny_print_stats(vm);
	spec_print_stats(vm);
	power_print_stats(vm);
	dtr_print_stats();
	hv_monitors_print_stats(vm);
	struct heap_stats h;
	heap_get_stats(&h);
	hv_printf("hvmon: heap: %lu KiB of %lu KiB used (%lu pages, %lu KiB malloc arena)\n",
		  (unsigned long)((h.pages_used * 4096 + h.sbrk_used) / 1024), (unsigned long)(h.size / 1024),
		  (unsigned long)h.pages_used, (unsigned long)(h.sbrk_used / 1024));
}

/*
 * Bochs ends the emulation when "Shutdown" is written to port 0x8900. On a real
 * machine that port may belong to a device (PCI I/O windows often cover it), so
 * hvmon writes it only for the guest's own 0x8900 request or with bochs_exit=on.
 */
void power_bochs_exit(struct vm *vm, bool force)
{
	if (!force && !(vm && vm->opt.bochs_exit))
		return;
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
}

void machine_reset(void)
{
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);              /* PCI reset control: hard reset */
	for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
		cpu_relax();
	outb(0x64, 0xfe);               /* keyboard controller reset line */
	struct desc_ptr null_idt = { 0, 0 };
	asm volatile("lidt %0; int3" : : "m"(null_idt));   /* triple fault */
	cpu_halt_forever();
}

/* The guest's own power-off request (vm->power_req), performed on the hardware;
 * port 0 = none (its final halt): Bochs's port only with bochs_exit=on. */
static void __attribute__((noreturn)) machine_power_off(struct vm *vm)
{
	uint16_t port = vm->power_req.port;
	hv_printf("hvmon: powering the machine off\n");
	if (port && port != BOCHS_SHUTDOWN_PORT) {
		if (vm->power_req.size == 1)
			outb(port, (uint8_t)vm->power_req.value);
		else if (vm->power_req.size == 2)
			outw(port, (uint16_t)vm->power_req.value);
		else
			outl(port, vm->power_req.value);
	}
	power_bochs_exit(vm, port == BOCHS_SHUTDOWN_PORT);
	hv_printf("hvmon: power-off did not take effect; halting\n");
	cpu_halt_forever();
}

static uint32_t stopping;       /* re-entry guard: the first caller owns the stop */

void hv_stop(enum hv_stop_reason reason, struct vcpu *v, const char *why)
{
	if (!why)
		why = "?";
	if (__atomic_exchange_n(&stopping, 1, __ATOMIC_SEQ_CST)) {
		hv_printf("hvmon: %s while stopping; halting this CPU\n", why);
		cpu_halt_forever();
	}
	if (!v && (reason == HV_STOP_PANIC || reason == HV_STOP_HOST_FAULT)) {
		/* the vCPU this CPU runs, if any (GS base 0: before percpu_setup) */
		struct percpu *p = (struct percpu *)rdmsr(IA32_GS_BASE);
		v = p ? p->vcpu : NULL;
	}
	struct vm *vm = v ? v->vm : NULL;
	/* Every other CPU stops first (at its next exit, or at once when it waits
	 * for SIPI), so that nothing runs the guest while the report is printed
	 * and only this CPU prints it (vmm/smp.h). */
	smp_stop_others();
	/* the report lines the monitors queued (hv_log_queued) before anything printed now */
	console_evq_flush();
	if (v && reason != HV_STOP_POWER_OFF)
		vcpu_dump_state(v, why);
	if (vm)
		vm_print_exit_stats(vm);
	switch (reason) {
	case HV_STOP_POWER_OFF:
		machine_power_off(vm);
	case HV_STOP_GUEST_CRASH:
		power_bochs_exit(vm, false);
		if (vm && vm->opt.on_guest_crash == HV_CRASH_RESET) {
			hv_printf("hvmon: guest crashed (%s): resetting the machine (on_guest_crash=reset)\n", why);
			machine_reset();
		}
		hv_printf("hvmon: guest crashed (%s): halting (on_guest_crash=halt)\n", why);
		break;
	case HV_STOP_MONITOR_HALT: {
		/* why = "<monitor> (<what>)": the last line names both */
		const char *p = why;
		while (*p && !(p[0] == ' ' && p[1] == '('))
			p++;
		if (*p)
			hv_printf("hvmon: %.*s: guest halted %s: the guest never runs again\n", (int)(p - why), why,
				  p + 1);
		else
			hv_printf("hvmon: guest halted (%s): the guest never runs again\n", why);
		/* With bochs_exit=on (tests) Bochs's shutdown port ends the emulator, so the
		 * run ends by itself; otherwise the CPU stays halted with the report. */
		power_bochs_exit(vm, false);
		break;
	}
	case HV_STOP_HOST_FAULT:
		power_bochs_exit(vm, false);
		hv_printf("hvmon: halted\n");
		break;
	case HV_STOP_PANIC:
	default:
		power_bochs_exit(vm, false);
		hv_printf("hvmon: halting this CPU\n");
		break;
	}
	cpu_halt_forever();
}
