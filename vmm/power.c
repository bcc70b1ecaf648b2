/* End of a run: guest power-off (stats, then the real power-off), resets. */
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/probe.h"
#include "monitors/tracer.h"
#include "monitors/hang.h"
#include "monitors/ret2usr.h"
#include "monitors/keylogger.h"
#include "vmm/tick.h"
#include "vmm/netdev.h"
#include "arch/x86/cpu.h"

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
	tracer_print_stats();
	tick_print_stats();
	netdev_print_stats();
	hang_print_stats();
	ret2usr_print_stats();
	keylogger_print_stats();
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
	if (!force && !vm->opt.bochs_exit)
		return;
	for (const char *s = "Shutdown"; *s; s++)
		outb(0x8900, (uint8_t)*s);
}

static void __attribute__((noreturn)) machine_power_off(struct vcpu *v, uint16_t port, uint32_t value,
							unsigned int size)
{
	vm_print_exit_stats(v->vm);
	hv_printf("hvmon: powering the machine off\n");
	/* Perform the guest's own request on the hardware... */
	if (port && port != 0x8900) {
		if (size == 2)
			outw(port, (uint16_t)value);
		else
			outl(port, value);
	}
	/* ...and Bochs's shutdown port if the guest asked through it or the tests said so. */
	if (port == 0x8900 || v->vm->opt.bochs_exit)
		power_bochs_exit(v->vm, true);
	hv_printf("hvmon: power-off did not take effect; halting\n");
	cpu_halt_forever();
}

void vm_power_off(struct vcpu *v, uint16_t port, uint32_t value, unsigned int size)
{
	hv_printf("\nhvmon: guest powered off (write %#x to port %#x)\n", value, port);
	machine_power_off(v, port, value, size);
}

/*
 * A guest that halts for good (HLT with interrupts disabled, e.g. Linux's
 * "reboot: System halted" on a machine without ACPI, such as OVMF under Bochs)
 * has ended: nothing but an NMI can wake it, and Linux halts again after one.
 * Sampled from the periodic tick (the preemption timer keeps counting in the
 * HLT activity state); after HALT_END_MS in that state the run ends as a
 * power-off would: exit statistics, then the machine is powered off.
 */
#define HALT_WATCH_MS 100
#define HALT_END_MS   2000

static void halt_watch(struct vcpu *v, uint64_t now, void *ctx)
{
	uint32_t *halted_ms = ctx;
	bool halted = vmread(VMCS_GUEST_ACTIVITY_STATE) == 1 &&
		      !(vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF);
	*halted_ms = halted ? *halted_ms + HALT_WATCH_MS : 0;
	if (*halted_ms < HALT_END_MS)
		return;
	hv_printf("\nhvmon: guest halted with interrupts disabled for %u ms (its final halt; "
		  "no ACPI power-off was seen): ending the run\n", *halted_ms);
	machine_power_off(v, 0, 0, 0);     /* no guest request: port 0x8900 only with bochs_exit=on */
}

int power_setup(struct vm *vm)
{
	static uint32_t halted_ms;      /* one vCPU today; per-vCPU with SMP */
	return tick_register("halt-watch", HALT_WATCH_MS, halt_watch, &halted_ms);
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
