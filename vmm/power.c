/*
 * The guest's end of a run: its ACPI power-off (PM1a/PM1b SLP_EN with the S5
 * sleep type), Bochs's 0x8900 "Shutdown" port, and its final halt. Each ends
 * the run through hv_stop(HV_STOP_POWER_OFF) (vmm/stop.c), which performs the
 * request. Any other sleep state (S1-S4) is refused (issue 17): the chipset
 * would power the CPU context down, VMX with it, and the guest would resume
 * without hvmon. The write is performed without SLP_EN, a `denied` event is
 * reported, and PM1_STS.WAK_STS reads 1 until the guest clears it, so that
 * Linux's wait for the wake-up (ACPICA acpi_hw_legacy_sleep) ends and it
 * resumes as from a wake-up that came at once: it keeps running, monitored.
 */
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/tick.h"
#include "vmm/acpi_sleep.h"
#include "vmm/deny.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include <string.h>

#define BOCHS_SHUTDOWN_PORT 0x8900

void vm_power_off(struct vcpu *v, uint16_t port, uint32_t value, unsigned int size)
{
	hv_printf("\nhvmon: guest powered off (write %#x to port %#x)\n", value, port);
	v->vm->power_req.port = port;
	v->vm->power_req.value = value;
	v->vm->power_req.size = (uint8_t)size;
	hv_stop(HV_STOP_POWER_OFF, v, "guest powered off");
}

/* What a sleep-register write becomes (PM1_CNT and SLEEP_CONTROL_REG alike): the \_S5
 * type powers off; another sleep is refused (`denied`, WAK_STS faked until the guest
 * clears it) and @performed, the write without SLP_EN, goes to the hardware. */
static int sleep_verdict(struct vcpu *v, struct hv_icpt *x, enum pm1_verdict vd, uint32_t performed)
{
	switch (vd) {
	case PM1_POWER_OFF:
		vm_power_off(v, x->io.port, x->io.value, x->io.size);       /* does not return */
	case PM1_REFUSE:
		__atomic_store_n(&v->vm->wake_pending, 1, __ATOMIC_RELEASE);
		hv_deny(v, HV_DENY_SLEEP, x->io.port, x->io.value);
		x->io.value = performed;
		return HV_ICPT_PASS;
	case PM1_PASS:
		break;
	}
	return HV_ICPT_PASS;
}

/* PM1a (ctx 0) / PM1b (ctx 1) control, any write that touches it (byte,
 * word or dword, at its base or overlapping it): SLP_EN with the S5 type is
 * the guest powering off; with another type it is refused; anything else
 * goes to the hardware. */
static int pm1_cnt_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = v->vm;
	unsigned i = (unsigned)(uintptr_t)ctx, typ;
	uint16_t base = i ? vm->pm1b_cnt_port : vm->pm1a_cnt_port;
	uint32_t masked;
	if (x->io.in)
		return HV_ICPT_PASS;
	enum pm1_verdict vd = pm1_cnt_classify(base, x->io.port, x->io.size, x->io.value, vm->s5_typ[i], &masked, &typ);
	return sleep_verdict(v, x, vd, masked);
}

/* PM1a/PM1b status: after a refused sleep WAK_STS reads 1 (the guest's wait
 * for its wake-up ends) until the guest clears it (write 1 to clear). */
static int pm1_sts_access(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = v->vm;
	uint16_t base = vm->pm1_sts_port[(uintptr_t)ctx];
	uint32_t wak = pm1_sts_wak_mask(base, x->io.port, x->io.size);
	if (!wak)
		return HV_ICPT_PASS;
	if (!x->io.in) {
		if (x->io.value & wak)
			__atomic_store_n(&vm->wake_pending, 0, __ATOMIC_RELEASE);
		return HV_ICPT_PASS;
	}
	if (!__atomic_load_n(&vm->wake_pending, __ATOMIC_ACQUIRE))
		return HV_ICPT_PASS;
	x->io.value = port_in(x->io.port, x->io.size) | wak;
	return HV_ICPT_DONE;
}

/* Hardware-reduced ACPI (ACPI 6.5, 4.8.3.7): SLEEP_CONTROL_REG, one byte,
 * judged as PM1_CNT is (only the \_S5 type powers off, any other sleep is
 * refused: written without SLP_EN, `denied`, WAK_STS faked). */
static int sleep_ctl_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = v->vm;
	unsigned b = (uint16_t)(vm->sleep_ctl_port - x->io.port), typ;
	uint8_t masked;
	(void)ctx;
	if (x->io.in || b >= x->io.size)
		return HV_ICPT_PASS;
	uint8_t byte = (uint8_t)(x->io.value >> (8 * b));
	enum pm1_verdict vd = sleep_ctl_classify(byte, vm->s5_typ[0], &masked, &typ);
	return sleep_verdict(v, x, vd, (x->io.value & ~(0xffu << (8 * b))) | ((uint32_t)masked << (8 * b)));
}

/* SLEEP_STATUS_REG: WAK_STS (bit 7) reads 1 after a refused sleep until cleared. */
static int sleep_sts_access(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = v->vm;
	unsigned b = (uint16_t)(vm->sleep_sts_port - x->io.port);
	(void)ctx;
	if (b >= x->io.size)
		return HV_ICPT_PASS;
	uint32_t wak = SLEEP_STS_WAK << (8 * b);
	if (!x->io.in) {
		if (x->io.value & wak)
			__atomic_store_n(&vm->wake_pending, 0, __ATOMIC_RELEASE);
		return HV_ICPT_PASS;
	}
	if (!__atomic_load_n(&vm->wake_pending, __ATOMIC_ACQUIRE))
		return HV_ICPT_PASS;
	x->io.value = port_in(x->io.port, x->io.size) | wak;
	return HV_ICPT_DONE;
}

static uint16_t gas_port(const struct acpi_gas *g)
{
	return g->space == GAS_SYSTEM_IO && g->addr && g->addr <= 0xffff ? (uint16_t)g->addr : 0;
}

static void hw_reduced_setup(struct vm *vm, const struct fadt_sleep *fs)
{
	if (fs->sleep_ctl.addr) {
		vm->sleep_ctl_port = gas_port(&fs->sleep_ctl);
		if (!vm->sleep_ctl_port)
			pr_warn("ACPI sleep: SLEEP_CONTROL_REG in address space %u at %#lx: not intercepted "
				"(hardware-reduced sleep through memory is not covered)\n", fs->sleep_ctl.space,
				(unsigned long)fs->sleep_ctl.addr);
		else if (hv_intercept_io(vm, vm->sleep_ctl_port, 1, sleep_ctl_write, NULL))
			pr_err("ACPI sleep: cannot intercept SLEEP_CONTROL_REG %#x\n", vm->sleep_ctl_port);
		else
			pr_info("ACPI sleep: SLEEP_CONTROL_REG port %#x (hardware-reduced%s): sleep requests refused\n",
				vm->sleep_ctl_port, fs->hw_reduced ? "" : " fields in a FADT with PM1");
	}
	if (fs->sleep_sts.addr && (vm->sleep_sts_port = gas_port(&fs->sleep_sts)) &&
	    hv_intercept_io(vm, vm->sleep_sts_port, 1, sleep_sts_access, NULL))
		pr_err("ACPI sleep: cannot intercept SLEEP_STATUS_REG %#x: a refused sleep hangs the guest\n",
		       vm->sleep_sts_port);
}

/*
 * ACPI SystemIO C-states: reading P_LVL2/P_LVL3 (P_BLK + 4/+5 of a Processor()
 * object) enters C2/C3; deeper than C2 the VMX-preemption timer, hvmon's tick,
 * stops (as with MWAIT, hidden for that reason). The read is completed at once
 * without touching the port: it returns 0 as the register does (ACPI 6.5,
 * 4.8.3.5.2) and the guest sees a C-state it left at once, as on an interrupt.
 * Its idle loop stays correct; it saves no power that way (docs/SECURITY.md).
 */
static int plvl_read(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = v->vm;
	uint16_t lvl2 = (uint16_t)(uintptr_t)ctx;   /* P_BLK + 4; P_LVL3 follows */
	if (!x->io.in)
		return HV_ICPT_PASS;                /* writes have no effect on the hardware either */
	__atomic_add_fetch(&vm->plvl_reads, 1, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < 2; k++) {
		unsigned b = (uint16_t)(lvl2 + k - x->io.port), bit = (lvl2 + k) & 31;
		if (b < x->io.size && !(__atomic_fetch_or(&vm->plvl_seen, 1u << bit, __ATOMIC_RELAXED) & (1u << bit)))
			pr_info("C-state: vCPU%u read P_LVL%u (port %#x): completed at once, not performed "
				"(C2/C3 would stop the VMX-preemption timer)\n", v->id, 2 + k, lvl2 + k);
	}
	x->io.value = 0;
	return HV_ICPT_DONE;
}

#define PBLK_MAX 4
static void cstate_setup(struct vm *vm, const struct acpi_sleep_regs *r, const struct fadt_sleep *fs)
{
	uint16_t pb[PBLK_MAX];
	unsigned n = 0;
	if (r->aml)
		n = acpi_pblk_find(r->aml, r->aml_len, pb, PBLK_MAX);
	for (unsigned k = 0; k < 16 && n < PBLK_MAX; k++) {   /* Processor() objects are often in SSDTs */
		const uint8_t *t = acpi_find_table_nth(vm->bi->acpi_rsdp, "SSDT", k);
		uint32_t len;
		if (!t)
			break;
		memcpy(&len, t + 4, 4);
		uint16_t more[PBLK_MAX];
		unsigned m = acpi_pblk_find(t + 36, len - 36, more, PBLK_MAX);
		for (unsigned j = 0; j < m && n < PBLK_MAX; j++) {
			unsigned q;
			for (q = 0; q < n && pb[q] != more[j]; q++)
				;
			if (q == n)
				pb[n++] = more[j];
		}
	}
	for (unsigned j = 0; j < n; j++) {
		if (hv_intercept_io(vm, pb[j] + 4, 2, plvl_read, (void *)(uintptr_t)(pb[j] + 4)))
			pr_err("C-states: cannot intercept P_LVL2/P_LVL3 of P_BLK %#x\n", pb[j]);
		else
			pr_info("C-states: P_BLK %#x: reads of P_LVL2 %#x and P_LVL3 %#x completed at once "
				"(FADT P_LVL2_LAT %u, P_LVL3_LAT %u)\n", pb[j], pb[j] + 4, pb[j] + 5,
				fs->plvl2_lat, fs->plvl3_lat);
	}
	if (!n)
		pr_info("C-states: no Processor() P_BLK in the DSDT/SSDTs (_CST SystemIO registers are "
			"not read: no AML interpreter)\n");
}

void power_print_stats(struct vm *vm)
{
	uint64_t n = __atomic_load_n(&vm->plvl_reads, __ATOMIC_RELAXED);
	if (n)
		hv_printf("hvmon: C-state: %lu P_LVL2/P_LVL3 reads completed at once\n", (unsigned long)n);
}

/* The S5 type of PM1a/PM1b from the DSDT, and the status ports. */
static void sleep_setup(struct vm *vm)
{
	struct acpi_sleep_regs r;
	uint8_t a, b;
	vm->s5_typ[0] = vm->s5_typ[1] = -1;
	if (acpi_find_sleep_regs(vm->bi->acpi_rsdp, &r))
		return;
	struct fadt_sleep fs;
	const uint8_t *f = acpi_find_table(vm->bi->acpi_rsdp, "FACP");
	uint32_t flen = 0;
	if (f)
		memcpy(&flen, f + 4, 4);
	if (fadt_sleep_parse(f, flen, &fs))
		memset(&fs, 0, sizeof(fs));
	if (r.aml && acpi_sleep_type(r.aml, r.aml_len, 5, &a, &b) == 0) {
		vm->s5_typ[0] = (int8_t)a;
		vm->s5_typ[1] = (int8_t)b;
		pr_info("ACPI sleep: S5 (power-off) is SLP_TYP %u/%u; any other sleep state is refused\n", a, b);
	} else {
		pr_warn("ACPI sleep: no \\_S5 in the DSDT: every sleep request is refused "
			"(a power-off ends by the final-halt watch)\n");
	}
	vm->pm1_sts_port[0] = r.pm1a_evt;
	vm->pm1_sts_port[1] = r.pm1b_evt;
	for (uintptr_t i = 0; i < 2; i++)
		if (r.pm1a_evt && (i == 0 || r.pm1b_evt) &&
		    hv_intercept_io(vm, vm->pm1_sts_port[i], 2, pm1_sts_access, (void *)i))
			pr_err("ACPI sleep: cannot intercept PM1%c_STS: a refused sleep hangs the guest\n",
			       (int)('a' + i));
	hw_reduced_setup(vm, &fs);
	cstate_setup(vm, &r, &fs);
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
	if (v->id != 0)                 /* an AP halts with IF=0 when offline: only the boot CPU's halt ends a run */
		return;
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
	sleep_setup(vm);        /* S5 type, PM1 status, hardware-reduced sleep, C-state ports */
	if (acpi_find_pm1_cnt(vm->bi->acpi_rsdp, &vm->pm1a_cnt_port, &vm->pm1b_cnt_port) == 0) {
		if (hv_intercept_io(vm, vm->pm1a_cnt_port, 2, pm1_cnt_write, (void *)0) ||
		    (vm->pm1b_cnt_port && hv_intercept_io(vm, vm->pm1b_cnt_port, 2, pm1_cnt_write, (void *)1)))
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
