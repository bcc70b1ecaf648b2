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
#include "vmm/policy.h"
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
 * stops (as with MWAIT, hidden for that reason). The read is completed without
 * touching the port: it returns 0 as the register does (ACPI 6.5, 4.8.3.5.2),
 * and the vCPU waits in the HLT activity state until an interrupt, as the
 * C-state would (vmm/cstate_vmx.c; at once when the rules of vmm/cstate.h do
 * not allow the wait). docs/SECURITY.md "C-states through ACPI I/O ports".
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
			pr_info("C-state: vCPU%u read P_LVL%u (port %#x): not performed (C2/C3 would stop "
				"the VMX-preemption timer); the vCPU waits in HLT for an interrupt\n",
				v->id, 2 + k, lvl2 + k);
	}
	x->io.value = 0;
	cstate_wait_begin(v);
	return HV_ICPT_DONE;
}

/* A _CST SystemIO register or an I/O MWAIT port (their reads enter a C-state as
 * P_LVLx reads do): not performed, read 0, then the same HLT-like wait. */
static int cst_port_read(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct vm *vm = v->vm;
	uint16_t port = (uint16_t)(uintptr_t)ctx;
	unsigned bit = port & 31;
	if (!x->io.in)
		return HV_ICPT_PASS;
	__atomic_add_fetch(&vm->cst_reads, 1, __ATOMIC_RELAXED);
	if (!(__atomic_fetch_or(&vm->cst_seen, 1u << bit, __ATOMIC_RELAXED) & (1u << bit)))
		pr_info("C-state: vCPU%u read C-state register port %#x: not performed; the vCPU waits in "
			"HLT for an interrupt\n", v->id, port);
	x->io.value = 0;
	cstate_wait_begin(v);
	return HV_ICPT_DONE;
}

/* The AML of the DSDT (k = 0) and of the SSDTs (k = 1..16): NULL past the last. */
static const uint8_t *aml_block(struct vm *vm, const struct acpi_sleep_regs *r, unsigned k, uint32_t *len)
{
	if (k == 0) {
		*len = r->aml ? (uint32_t)r->aml_len : 0;
		return r->aml;
	}
	const uint8_t *t = k <= 16 ? acpi_find_table_nth(vm->bi->acpi_rsdp, "SSDT", k - 1) : NULL;
	if (!t)
		return NULL;
	memcpy(len, t + 4, 4);
	if (*len < 36)
		return NULL;
	*len -= 36;
	return t + 36;
}

static void trap_cstate_port(struct vm *vm, uint16_t port, unsigned n, const char *what)
{
	for (unsigned i = 0; i < n; i++)
		if (io_port_intercepted(vm, (uint16_t)(port + i))) {
			pr_warn("C-states: %s port %#x is already intercepted (not a C-state port here)\n", what,
				port + i);
			return;
		}
	if (hv_intercept_io(vm, port, n, cst_port_read, (void *)(uintptr_t)port))
		pr_err("C-states: cannot intercept %s port %#x\n", what, port);
	else
		pr_info("C-states: %s port %#x (%u byte%s): reads become HLT-like waits\n", what, port, n,
			n > 1 ? "s" : "");
}

/* _CST registers (ACPI 6.5, 8.4.1.1) from every DSDT/SSDT: SystemIO ones are
 * trapped like P_LVLx (unless they are a P_BLK's); FFH ones are MWAIT hints,
 * and MWAIT is hidden (#UD). */
#define CST_MAX 16
static void cst_setup(struct vm *vm, const struct acpi_sleep_regs *r, const uint16_t *pb, unsigned npb)
{
	struct acpi_cst_reg c[CST_MAX];
	unsigned n = 0, ffh = 0, io = 0;
	uint32_t len;
	const uint8_t *aml;
	for (unsigned k = 0; n < CST_MAX && (aml = aml_block(vm, r, k, &len)) != NULL; k++) {
		struct acpi_cst_reg more[CST_MAX];
		unsigned m = acpi_cst_find(aml, len, more, CST_MAX);
		for (unsigned j = 0; j < m && n < CST_MAX; j++) {
			unsigned q;
			for (q = 0; q < n && !(c[q].space == more[j].space && c[q].addr == more[j].addr); q++)
				;
			if (q == n)
				c[n++] = more[j];
		}
	}
	for (unsigned j = 0; j < n; j++) {
		if (c[j].space == ACPI_SPACE_FFH) {
			ffh++;
			continue;
		}
		if (c[j].space != ACPI_SPACE_SYSTEM_IO || !c[j].addr || c[j].addr > 0xffff) {
			pr_warn("C-states: _CST C%u register in address space %u at %#lx: not intercepted\n",
				c[j].type, c[j].space, (unsigned long)c[j].addr);
			continue;
		}
		uint16_t port = (uint16_t)c[j].addr;
		unsigned q;
		for (q = 0; q < npb && (port < pb[q] + 4 || port > pb[q] + 5); q++)
			;
		io++;
		if (q < npb)
			continue;                       /* a P_LVLx, trapped already */
		unsigned w = c[j].access >= 1 && c[j].access <= 3 ? 1u << (c[j].access - 1) : 1;
		if (w > 0x10000u - port)
			w = 0x10000u - port;
		trap_cstate_port(vm, port, w, "_CST");
	}
	pr_info("C-states: %u _CST register(s) in the DSDT/SSDTs: %u SystemIO, %u FFH (MWAIT: hidden)\n",
		n, io, ffh);
}

/* I/O MWAIT redirection left on by the firmware (MSR_PKG_CST_CONFIG_CONTROL[10]):
 * reads of MSR_PMG_IO_CAPTURE_BASE's ports would become MWAITs. An I/O exit comes
 * first (the I/O bitmap), so trapping the range keeps them out of the C-states;
 * the guest cannot turn it on or move it (vmm/policy.c). */
static void io_mwait_setup(struct vm *vm)
{
	uint64_t cfg, cap;
	uint16_t base;
	if (rdmsr_safe(0xe2, &cfg))
		return;
	if (!(cfg & (1ULL << 10)))
		return;
	unsigned n = rdmsr_safe(0xe4, &cap) ? 0 : msr_io_mwait_ports(cfg, cap, &base);
	if (!n) {
		pr_warn("C-states: I/O MWAIT redirection is on but MSR_PMG_IO_CAPTURE_BASE names no port\n");
		return;
	}
	trap_cstate_port(vm, base, n, "I/O MWAIT");
}

#define PBLK_MAX 4
static void cstate_setup(struct vm *vm, const struct acpi_sleep_regs *r, const struct fadt_sleep *fs)
{
	uint16_t pb[PBLK_MAX];
	unsigned n = 0;
	uint32_t len;
	const uint8_t *aml;
	/* Processor() objects are often in SSDTs */
	for (unsigned k = 0; n < PBLK_MAX && (aml = aml_block(vm, r, k, &len)) != NULL; k++) {
		uint16_t more[PBLK_MAX];
		unsigned m = acpi_pblk_find(aml, len, more, PBLK_MAX);
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
			pr_info("C-states: P_BLK %#x: reads of P_LVL2 %#x and P_LVL3 %#x become HLT-like waits "
				"(FADT P_LVL2_LAT %u, P_LVL3_LAT %u)\n", pb[j], pb[j] + 4, pb[j] + 5,
				fs->plvl2_lat, fs->plvl3_lat);
	}
	if (!n)
		pr_info("C-states: no Processor() P_BLK in the DSDT/SSDTs\n");
	cst_setup(vm, r, pb, n);
	io_mwait_setup(vm);
}

void power_print_stats(struct vm *vm)
{
	uint64_t n = __atomic_load_n(&vm->plvl_reads, __ATOMIC_RELAXED);
	uint64_t c = __atomic_load_n(&vm->cst_reads, __ATOMIC_RELAXED);
	if (n || c)
		hv_printf("hvmon: C-state: %lu P_LVL2/P_LVL3 reads, %lu _CST/I/O MWAIT port reads\n",
			  (unsigned long)n, (unsigned long)c);
	cstate_print_stats();
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
	if (!vcpu_halted(v) || vcpu_if(v) || v->cstate_wait) {   /* a C-state wait is not a final halt */
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
	if (cstate_wait_setup())
		pr_err("C-states: no wake-up poll: a wait ends only on an external-interrupt exit\n");
	return tick_register("halt-watch", HALT_WATCH_MS, halt_watch, NULL);
}
