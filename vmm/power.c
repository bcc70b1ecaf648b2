/*
 * The guest's end of a run: its ACPI power-off (PM1a/PM1b SLP_EN), Bochs's
 * 0x8900 "Shutdown" port, and its final halt. Each ends the run through
 * hv_stop(HV_STOP_POWER_OFF) (vmm/stop.c), which performs the request.
 */
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/tick.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

#define BOCHS_SHUTDOWN_PORT 0x8900
#define PM1_SLP_EN (1u << 13)        /* ACPI 6.5, 4.8.3.2.1 PM1 control: sleep enable */

void vm_power_off(struct vcpu *v, uint16_t port, uint32_t value, unsigned int size)
{
	hv_printf("\nhvmon: guest powered off (write %#x to port %#x)\n", value, port);
	v->vm->power_req.port = port;
	v->vm->power_req.value = value;
	v->vm->power_req.size = (uint8_t)size;
	hv_stop(HV_STOP_POWER_OFF, v, "guest powered off");
}

/* PM1a/PM1b control: a write with SLP_EN is the guest powering off; anything
 * else goes to the hardware. */
static int pm1_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	if (!x->io.in && x->io.size >= 2 && (x->io.value & PM1_SLP_EN))
		vm_power_off(v, x->io.port, x->io.value, x->io.size);
	return HV_ICPT_PASS;
}

/* Bochs's "Shutdown" port: the bytes of the word, in order, end the run. */
static int bochs_port(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	static const char magic[] = "Shutdown";
	struct vm *vm = v->vm;
	(void)ctx;
	if (x->io.in || x->io.size != 1)
		return HV_ICPT_PASS;
	uint8_t s = vm->bochs_shutdown_state;
	s = ((char)x->io.value == magic[s]) ? s + 1 : ((char)x->io.value == magic[0]);
	vm->bochs_shutdown_state = s;
	if (s == 8)
		vm_power_off(v, x->io.port, x->io.value, x->io.size);
	return HV_ICPT_PASS;
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

/* cold, out of line: halt_watch's common path then needs no saved register */
static void __attribute__((noinline, noreturn, cold)) halt_end(struct vcpu *v)
{
	hv_printf("\nhvmon: guest halted with interrupts disabled for %u ms (its final halt; "
		  "no ACPI power-off was seen): ending the run\n", v->halted_ms);
	v->vm->power_req.port = 0;      /* no guest request: port 0x8900 only with bochs_exit=on */
	hv_stop(HV_STOP_POWER_OFF, v, "guest halted for good");
}

static void halt_watch(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)ctx;
	if (!vcpu_halted(v) || vcpu_if(v)) {
		v->halted_ms = 0;
		return;
	}
	v->halted_ms += HALT_WATCH_MS;
	if (v->halted_ms >= HALT_END_MS)
		halt_end(v);
}

int power_setup(struct vm *vm)
{
	if (acpi_find_pm1_cnt(vm->bi->acpi_rsdp, &vm->pm1a_cnt_port, &vm->pm1b_cnt_port) == 0) {
		if (hv_intercept_io(vm, vm->pm1a_cnt_port, 2, pm1_write, NULL) ||
		    (vm->pm1b_cnt_port && hv_intercept_io(vm, vm->pm1b_cnt_port, 2, pm1_write, NULL)))
			pr_err("ACPI power-off: cannot intercept the PM1 control ports\n");
		pr_info("ACPI power-off: PM1a_CNT port %#x, PM1b_CNT port %#x\n",
			vm->pm1a_cnt_port, vm->pm1b_cnt_port);
	} else {
		pr_warn("no ACPI FADT found (RSDP %#lx): guest ACPI power-off will not be seen\n",
			(unsigned long)vm->bi->acpi_rsdp);
	}
	if (hv_intercept_io(vm, BOCHS_SHUTDOWN_PORT, 1, bochs_port, NULL))
		pr_err("cannot intercept port %#x\n", BOCHS_SHUTDOWN_PORT);
	return tick_register("halt-watch", HALT_WATCH_MS, halt_watch, NULL);
}
