/*
 * Every CPU under hvmon (issue 11; vmm/smp.h, docs/ARCHITECTURE.md "Several
 * CPUs").
 *
 * Bring-up: the boot CPU reads the ACPI MADT (vmm/madt.c), then starts the
 * APs one at a time with INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4) on a trampoline
 * (arch/x86/ap_boot.S). Each AP loads its own GDT/TSS/IDT/GS base, enters VMX
 * root (its own VMXON region), builds its own VMCS and reports back; the boot
 * CPU waits for that answer before the next AP (the rendezvous: an error on
 * any AP is seen by the boot CPU, which refuses to boot the guest). Then the
 * AP waits in ring -1, as a real AP waits for SIPI.
 *
 * The guest starts its CPUs itself: its ICR writes are intercepted (xAPIC page
 * read-only in EPT, x2APIC MSR 0x830 in the MSR bitmap: vmm/smp_apic.c). INIT
 * and STARTUP never reach the hardware: INIT parks the target vCPU in ring -1
 * (at its next exit), STARTUP restarts it in real mode at CS = vector << 8
 * (unrestricted guest), which is what the hardware does, without relying on
 * INIT/SIPI VM exits (broken in Bochs 2.7: docs/ARCHITECTURE.md). Because
 * nothing else can start a CPU, no CPU ever runs the guest outside VMX.
 */
#include <string.h>
#include "vmm/smp.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/madt.h"
#include "vmm/cr0.h"
#include "vmm/tick.h"
#include "vmm/monitor.h"
#include "vmm/policy.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "lib/spinlock.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/nmi.h"
#include "arch/x86/ap_boot.h"
#include "arch/x86/layout.h"

#define SMP_SIPI_INIT   (1u << 31)     /* INIT seen: wait for STARTUP */
#define SMP_SIPI_VALID  (1u << 30)     /* STARTUP seen; vector in bits 7:0 */

enum { SMP_VCPU_PARKED = 0, SMP_VCPU_RUNNING, SMP_VCPU_STOPPED };
enum { AP_NONE = 0, AP_ALIVE, AP_READY, AP_FAILED };

int smp_icpt_setup(struct vm *vm);              /* vmm/smp_apic.c */
extern void vmx_launch(union guest_regs *regs) __attribute__((noreturn));

static struct vm *svm;
static volatile uint32_t stop_req;
static hv_spinlock_t call_lock = HV_SPINLOCK_INIT;
static volatile uint32_t call_gen;
static smp_call_fn call_fn;
static void *call_arg;

/* bring-up rendezvous (one AP at a time) */
static volatile uint32_t ap_status;
static const char *volatile ap_err;
static uint64_t ap_tsc_ready;                 /* AP side: TSC ticks from its entry to VMX root + VMCS */

/* statistics (docs/BENCHMARKS.md) */
static uint64_t start_ticks_max, start_ticks_sum;   /* boot CPU: INIT sent .. AP ready */
static uint64_t ap_ticks_sum;
static uint64_t calls, call_ticks_sum, call_ticks_max;
/* rounds by where the other CPUs were when they answered (docs/BENCHMARKS.md
 * "Several CPUs"): all in the guest and one running / all in the guest in
 * HLT / one waiting in ring -1 (for the guest's SIPI, or the caller alone) */
enum { ROUND_BUSY, ROUND_HLT, ROUND_PARKED, ROUND__N };
static uint64_t round_n[ROUND__N], round_sum[ROUND__N], round_max[ROUND__N];
static uint64_t kicks_sent;
#define ACTIVITY_PARKED 0xffu           /* call_activity: answered while waiting in ring -1 */
static uint64_t guest_inits, guest_sipis, guest_ignored;

uint32_t smp_nr_vcpus(void)
{
	return svm ? svm->nr_vcpus : 1;
}

static void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + tick_tsc_hz() / 1000000 * us;
	while (rdtsc() < end)
		cpu_relax();
}

static void kick(struct vcpu *u);

/* ---- stop ---------------------------------------------------------------- */

static void __attribute__((noreturn)) stop_this_cpu(struct vcpu *v)
{
	if (v)
		__atomic_store_n(&v->run_state, SMP_VCPU_STOPPED, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

uint32_t smp_stop_others(void)
{
	__atomic_store_n(&stop_req, 1, __ATOMIC_SEQ_CST);
	if (!svm)
		return 0;
	struct percpu *p = (struct percpu *)rdmsr(IA32_GS_BASE);
	struct vcpu *self = p ? p->vcpu : NULL;
	for (uint32_t i = 0; i < svm->nr_vcpus; i++)    /* in the guest: exit now, see stop_req */
		if (svm->vcpus[i] && svm->vcpus[i] != self)
			kick(svm->vcpus[i]);
	uint64_t end = rdtsc() + tick_tsc_hz() / 2;        /* 500 ms: > one tick period */
	uint32_t late = 0;
	for (uint32_t i = 0; i < svm->nr_vcpus; i++) {
		struct vcpu *u = svm->vcpus[i];
		if (!u || u == self)
			continue;
		while (__atomic_load_n(&u->run_state, __ATOMIC_ACQUIRE) != SMP_VCPU_STOPPED && rdtsc() < end)
			cpu_relax();
		if (u->run_state != SMP_VCPU_STOPPED)
			late++;
	}
	if (late)
		hv_printf("hvmon: %u CPU(s) did not answer the stop within 500 ms\n", late);
	return late;
}

/* ---- cross-CPU calls ------------------------------------------------------- */

/*
 * Make @u's CPU exit now (arch/x86/nmi.h): an NMI IPI to a CPU that runs the
 * guest, unless a kick is already in flight to it. Without NMI exiting (a CPU
 * without virtual NMIs) nothing is sent: the request waits for its next exit.
 */
static void kick(struct vcpu *u)
{
	if (!(svm->caps.pin & PIN_NMI_EXIT) ||
	    __atomic_load_n(&u->run_state, __ATOMIC_ACQUIRE) != SMP_VCPU_RUNNING)
		return;
	if (nmi_kick_post(&u->cpu->nmi_kick)) {
		lapic_send_ipi(u->apic_id, APIC_DM_NMI | APIC_ICR_ASSERT);
		__atomic_fetch_add(&kicks_sent, 1, __ATOMIC_RELAXED);
	}
}

static void run_call(struct vcpu *v)
{
	uint32_t g = __atomic_load_n(&call_gen, __ATOMIC_ACQUIRE);
	if (v->call_done == g)
		return;
	call_fn(v, call_arg);
	__atomic_store_n(&v->call_done, g, __ATOMIC_RELEASE);
}

void smp_call_all(struct vm *vm, smp_call_fn fn, void *arg)
{
	struct percpu *p = this_cpu();
	struct vcpu *self = p ? p->vcpu : NULL;
	uint64_t t0 = rdtsc();
	/* one request at a time; a CPU waiting for the lock answers the others' */
	while (!hv_spin_trylock(&call_lock)) {
		if (stop_req)
			stop_this_cpu(self);
		if (self)
			run_call(self);
		cpu_relax();
	}
	call_fn = fn;
	call_arg = arg;
	uint32_t gen = call_gen + 1;
	__atomic_store_n(&call_gen, gen, __ATOMIC_RELEASE);
	/* every other CPU in the guest exits now (NMI kick), not at its next tick */
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i] && vm->vcpus[i] != self)
			kick(vm->vcpus[i]);
	if (self) {
		fn(self, arg);
		__atomic_store_n(&self->call_done, gen, __ATOMIC_RELEASE);
	}
	uint32_t cls = ROUND_BUSY, nguest = 0, nhlt = 0;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *u = vm->vcpus[i];
		if (!u || u == self)
			continue;
		uint64_t now = rdtsc(), warn = now + tick_tsc_hz() * 10, rekick = now + tick_tsc_hz() / 1000;
		while (__atomic_load_n(&u->call_done, __ATOMIC_ACQUIRE) != gen) {
			if (stop_req)
				stop_this_cpu(self);
			if (u->run_state == SMP_VCPU_STOPPED)
				break;
			now = rdtsc();
			if (now > rekick) {     /* it was parked when kicked, or re-entered the guest: again */
				kick(u);
				rekick = now + tick_tsc_hz() / 1000;
			}
			if (warn && now > warn) {
				pr_err("smp: vCPU %u has not answered a cross-CPU call for 10 s; still waiting\n", u->id);
				warn = 0;
			}
			cpu_relax();
		}
		uint32_t a = __atomic_load_n(&u->call_activity, __ATOMIC_ACQUIRE);
		if (a == ACTIVITY_PARKED || u->run_state != SMP_VCPU_RUNNING) {
			cls = ROUND_PARKED;
		} else {
			nguest++;
			nhlt += a == 1;         /* activity state 1: HLT (SDM Vol. 3C 24.4.2) */
		}
	}
	hv_spin_unlock(&call_lock);
	uint64_t dt = rdtsc() - t0;
	if (cls != ROUND_PARKED && (!nguest || nhlt == nguest))
		cls = nguest ? ROUND_HLT : ROUND_PARKED;
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&call_ticks_sum, dt, __ATOMIC_RELAXED);
	if (dt > call_ticks_max)
		call_ticks_max = dt;
	round_n[cls]++;             /* under no lock: statistics, one caller at a time in practice */
	round_sum[cls] += dt;
	if (dt > round_max[cls])
		round_max[cls] = dt;
}

static void invept_one(struct vcpu *v, void *arg)
{
	(void)v; (void)arg;
	invept_global();
}

void smp_ept_sync(struct vm *vm)
{
	smp_call_all(vm, invept_one, NULL);
}

/* ---- the guest's INIT/SIPI ------------------------------------------------- */

static bool targets(const struct vcpu *from, const struct vcpu *u, uint32_t dest, bool all)
{
	return all ? u != from : u->apic_id == dest;
}

void smp_guest_init(struct vcpu *from, uint32_t dest, bool all)
{
	struct vm *vm = from->vm;
	bool hit = false;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *u = vm->vcpus[i];
		if (u && targets(from, u, dest, all)) {
			__atomic_store_n(&u->sipi, SMP_SIPI_INIT, __ATOMIC_RELEASE);
			hit = true;
		}
	}
	__atomic_fetch_add(&guest_inits, 1, __ATOMIC_RELAXED);
	if (!hit && __atomic_fetch_add(&guest_ignored, 1, __ATOMIC_RELAXED) < 8)
		pr_warn("smp: the guest sent INIT to APIC id %#x, a CPU hvmon does not run: "
			"dropped (that CPU never runs the guest)\n", dest);
}

void smp_guest_sipi(struct vcpu *from, uint32_t dest, bool all, uint8_t vector)
{
	struct vm *vm = from->vm;
	bool hit = false;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *u = vm->vcpus[i];
		if (!u || !targets(from, u, dest, all))
			continue;
		hit = true;
		/* only a vCPU that saw INIT and no STARTUP yet takes it; the
		 * second SIPI of Linux's INIT-SIPI-SIPI is then ignored, as a
		 * running CPU ignores SIPI (SDM Vol. 3A 9.4.4) */
		uint32_t old = __atomic_load_n(&u->sipi, __ATOMIC_ACQUIRE);
		while ((old & SMP_SIPI_INIT) && !(old & SMP_SIPI_VALID) &&
		       !__atomic_compare_exchange_n(&u->sipi, &old, old | SMP_SIPI_VALID | vector, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			;
	}
	__atomic_fetch_add(&guest_sipis, 1, __ATOMIC_RELAXED);
	if (!hit && __atomic_fetch_add(&guest_ignored, 1, __ATOMIC_RELAXED) < 8)
		pr_warn("smp: the guest sent STARTUP to APIC id %#x, a CPU hvmon does not run: "
			"dropped (that CPU never runs the guest)\n", dest);
}

/* Wait in ring -1 for the guest's STARTUP (after INIT, or at bring-up),
 * answering stop requests and cross-CPU calls meanwhile. Returns the vector. */
static uint8_t park(struct vcpu *v)
{
	__atomic_store_n(&v->run_state, SMP_VCPU_PARKED, __ATOMIC_RELEASE);
	for (;;) {
		if (stop_req)
			stop_this_cpu(v);
		v->call_activity = ACTIVITY_PARKED;
		run_call(v);
		uint32_t s = __atomic_load_n(&v->sipi, __ATOMIC_ACQUIRE);
		if ((s & SMP_SIPI_VALID) &&
		    __atomic_compare_exchange_n(&v->sipi, &s, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&v->run_state, SMP_VCPU_RUNNING, __ATOMIC_RELEASE);
			return (uint8_t)(s & 0xff);
		}
		cpu_relax();
	}
}

static void vw(uint64_t f, uint64_t val)
{
	if (vmwrite(f, val))
		pr_err("smp: VMWRITE %#lx failed\n", (unsigned long)f);
}

static void real_seg(unsigned int i, uint16_t sel, uint32_t ar)
{
	vw(VMCS_GUEST_ES_SEL + 2 * i, sel);
	vw(VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
	vw(VMCS_GUEST_ES_AR + 2 * i, ar);
	vw(VMCS_GUEST_ES_BASE + 2 * i, (uint64_t)sel << 4);
}

/*
 * The state INIT leaves and STARTUP completes (SDM Vol. 3A 9.1.1 Table 9-1,
 * 9.4.4): real mode, CS = vector << 8 (base vector << 12), IP = 0, CR0 =
 * 0x60000010 (CD NW ET), EDX = the processor signature, everything else 0.
 * Unrestricted guest runs real mode directly (SDM Vol. 3C 26.3.1.1).
 */
static void vcpu_sipi_state(struct vcpu *v, uint8_t vector)
{
	const struct vmx_caps *c = &v->vm->caps;
	uint64_t fixed0 = c->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	struct cr0_write w = cr0_guest_write(0x60000010ULL, fixed0, c->cr0_fixed1);
	vw(VMCS_CR0_SHADOW, w.shadow);
	vw(VMCS_GUEST_CR0, w.guest);
	vw(VMCS_CR4_SHADOW, 0);
	vw(VMCS_GUEST_CR4, (c->cr4_fixed0 | X86_CR4_VMXE) & c->cr4_fixed1);
	vw(VMCS_GUEST_CR3, 0);
	vw(VMCS_GUEST_EFER, 0);
	vw(VMCS_ENTRY_CTLS, vmread(VMCS_ENTRY_CTLS) & ~(uint64_t)ENTRY_IA32E_GUEST);
	/* ES CS SS DS FS GS: data 0x93, code 0x9b (accessed, present) */
	for (unsigned int i = 0; i < 6; i++)
		real_seg(i, i == 1 ? (uint16_t)(vector << 8) : 0, i == 1 ? 0x9b : 0x93);
	vw(VMCS_GUEST_LDTR_SEL, 0);
	vw(VMCS_GUEST_LDTR_LIMIT, 0xffff);
	vw(VMCS_GUEST_LDTR_AR, 0x82);
	vw(VMCS_GUEST_LDTR_BASE, 0);
	vw(VMCS_GUEST_TR_SEL, 0);
	vw(VMCS_GUEST_TR_LIMIT, 0xffff);
	vw(VMCS_GUEST_TR_AR, 0x8b);
	vw(VMCS_GUEST_TR_BASE, 0);
	vw(VMCS_GUEST_GDTR_BASE, 0);
	vw(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vw(VMCS_GUEST_IDTR_BASE, 0);
	vw(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vw(VMCS_GUEST_RIP, 0);
	vw(VMCS_GUEST_RSP, 0);
	vcpu_reset_common_state(v);     /* RFLAGS, DR7, PAT, ..., nothing blocked, GPRs 0 */
	struct x86_cpuid r;
	cpuid_count(1, 0, &r);
	v->regs->rdx = r.eax;
	v->cpu->nmi_pending = 0;
	invept_global();                /* EPT changes made while it waited */
	v->nr_starts++;
	pr_debug("smp: vCPU %u started by the guest at vector %#x (%04x:0000)\n", v->id, vector,
		 (unsigned)vector << 8);
}

/* Statistics of a round: was the guest idle in HLT when this exit came? The
 * activity state says so on hardware; Bochs 2.7 wakes a halted CPU before an
 * NMI exit (cpu/event.cc: activity "active", RIP after the HLT), so an HLT
 * byte (0xF4) just before RIP counts too. Only on the answer of a call. */
static uint32_t guest_was_halted(struct vcpu *v)
{
	if (vmread(VMCS_GUEST_ACTIVITY_STATE) == 1)
		return 1;
	uint8_t b = 0;
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_GUEST_CS_BASE);
	return rip && !guest_read(v, rip - 1, &b, 1, false) && b == 0xf4;
}

void smp_exit_poll(struct vcpu *v)
{
	if (__builtin_expect(stop_req, 0))
		stop_this_cpu(v);
	if (__builtin_expect(v->call_done != call_gen, 0)) {
		v->call_activity = guest_was_halted(v);         /* statistics */
		run_call(v);
	}
	if (__builtin_expect(v->icpt_gen != v->vm->icpt_gen, 0))
		hv_intercept_apply(v);      /* a subscription made on another CPU */
	if (__builtin_expect(v->sipi & SMP_SIPI_INIT, 0))
		vcpu_sipi_state(v, park(v));
}

/* ---- bring-up -------------------------------------------------------------- */

static void __attribute__((noreturn)) ap_fail(const char *why)
{
	ap_err = why;
	__atomic_store_n(&ap_status, AP_FAILED, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

/* The AP's first C code (arch/x86/ap_boot.S), on its own ring -1 stack. */
static void __attribute__((noreturn, used)) ap_entry(struct percpu *p)
{
	uint64_t t0 = rdtsc();
	percpu_load(p);
	__atomic_store_n(&ap_status, AP_ALIVE, __ATOMIC_RELEASE);
	struct vcpu *v = p->vcpu;
	if (lapic_id() != v->apic_id)
		ap_fail("it answered with another APIC id");
	if (svm->opt.smp_fail_ap && svm->opt.smp_fail_ap == v->id)     /* tests: the stop policy */
		ap_fail("VMXON failed on it (fault injected by smp_fail_ap=)");
	if (vmx_enable_on_cpu(p, &svm->caps))
		ap_fail("VMXON failed on it (see above)");
	if (vmcs_setup(v))
		ap_fail("its VMCS setup failed");
	p->kick_timer = 1;              /* its VMCS is current from now on */
	tick_vcpu_start(v);
	if (hv_monitors_vcpu_start(v))
		ap_fail("the monitors could not start on it");
	hv_intercept_apply(v);
	v->call_done = call_gen;
	ap_tsc_ready = rdtsc() - t0;
	__atomic_store_n(&ap_status, AP_READY, __ATOMIC_RELEASE);
	vcpu_sipi_state(v, park(v));
	vmx_launch(v->regs);
}

/* A 4 KiB page below 1 MiB in RAM for the trampoline (its content is kept
 * and put back: it may hold anything the boot loader left). */
static uint64_t tramp_page(const struct boot_info *bi)
{
	for (uint64_t pa = 0x8000; pa < 0x9f000; pa += 0x1000)
		for (uint32_t i = 0; i < bi->nr_mem && i < BOOT_MEM_MAX; i++)
			if (bi->mem[i].type == BOOT_MEM_RAM && pa >= bi->mem[i].base &&
			    pa + 0x1000 <= bi->mem[i].base + bi->mem[i].length)
				return pa;
	return 0;
}

static int wait_status(uint64_t ms)
{
	uint64_t end = rdtsc() + tick_tsc_hz() / 1000 * ms;
	uint32_t s;
	while ((s = __atomic_load_n(&ap_status, __ATOMIC_ACQUIRE)) != AP_READY && s != AP_FAILED &&
	       rdtsc() < end)
		cpu_relax();
	return (int)s;
}

static void __attribute__((noreturn)) refuse(const struct madt_cpu *c, uint32_t n, const char *why)
{
	hv_panic("CPU %u (APIC id %#x) cannot be virtualized: %s. hvmon never lets a CPU run the "
		 "guest outside VMX and does not hide CPUs from the guest: refusing to boot "
		 "(docs/BOOT.md \"Several CPUs\")", n, c->apic_id, why);
}

static void start_ap(struct vm *vm, const struct madt_cpu *c, uint64_t page)
{
	uint32_t n = vm->nr_vcpus;
	struct percpu *p = percpu_alloc(n);
	struct vcpu *v = pages_alloc((sizeof(struct vcpu) + 4095) / 4096);
	if (!v)
		refuse(c, n, "no heap memory for its vCPU");
	v->vm = vm;
	v->cpu = p;
	v->id = n;
	v->apic_id = c->apic_id;
	v->sipi = SMP_SIPI_INIT;            /* waits for the guest's STARTUP */
	p->apic_id = c->apic_id;
	p->vcpu = v;

	struct ap_params *ap = (struct ap_params *)hv_phys_to_ptr(page + (ap_tramp_params - ap_tramp_start));
	ap->cr3 = read_cr3();
	ap->cr4 = read_cr4() & ~X86_CR4_VMXE;
	ap->efer = rdmsr(IA32_EFER);
	ap->cr0 = read_cr0();
	ap->stack = percpu_stack_top(p) - 1024;    /* below the guest-register frame */
	ap->entry = (uint64_t)ap_entry;
	ap->arg = (uint64_t)p;
	ap_status = AP_NONE;
	ap_err = NULL;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* SDM Vol. 3A 9.4.4.1: INIT, 10 ms, STARTUP, 200 us, STARTUP */
	uint64_t t0 = rdtsc();
	uint32_t sel = c->apic_id;
	lapic_send_ipi(sel, APIC_DM_INIT | APIC_ICR_ASSERT | APIC_ICR_LEVEL);
	delay_us(10000);
	lapic_send_ipi(sel, APIC_DM_STARTUP | (uint32_t)(page >> 12));
	delay_us(200);
	if (__atomic_load_n(&ap_status, __ATOMIC_ACQUIRE) == AP_NONE)
		lapic_send_ipi(sel, APIC_DM_STARTUP | (uint32_t)(page >> 12));
	int s = wait_status(2000);
	uint64_t dt = rdtsc() - t0;
	if (s == AP_FAILED)
		refuse(c, n, ap_err ? ap_err : "?");
	if (s != AP_READY)
		refuse(c, n, s == AP_ALIVE ? "it started but did not reach VMX root within 2 s"
					   : "it did not answer INIT-SIPI-SIPI within 2 s");
	vm->vcpus[vm->nr_vcpus++] = v;
	start_ticks_sum += dt;
	if (dt > start_ticks_max)
		start_ticks_max = dt;
	ap_ticks_sum += ap_tsc_ready;
	pr_info("smp: CPU%u (APIC id %#x) in VMX root, waiting for the guest's SIPI "
		"(%lu TSC ticks from INIT, %lu on the AP)\n", n, c->apic_id, (unsigned long)dt,
		(unsigned long)ap_tsc_ready);
}

/* smp_bench_ms= (benchmark): one shootdown round from vCPU 0's tick, wherever
 * the other CPUs are; smp_print_stats splits the rounds by where they were. */
static void bench_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)now; (void)ctx;
	if (v->id == 0)
		smp_ept_sync(v->vm);
}

uint32_t smp_boot_aps(struct vm *vm)
{
	svm = vm;
	struct vcpu *bsp = vm->vcpus[0];
	bsp->apic_id = lapic_id();
	bsp->cpu->apic_id = bsp->apic_id;
	bsp->run_state = SMP_VCPU_RUNNING;
	bsp->call_done = call_gen;
	bsp->cpu->kick_timer = 1;       /* vCPU 0's VMCS is current (hv_main) */

	const uint8_t *t = acpi_find_table(vm->bi->acpi_rsdp, "APIC");
	struct madt_info *m = page_alloc();
	char err[MADT_ERR_LEN];
	if (!m)
		hv_panic("smp: no heap memory");
	if (!t) {
		pr_info("smp: no ACPI MADT: one CPU; the guest's INIT/SIPI are intercepted anyway\n");
		if (smp_icpt_setup(vm))
			hv_panic("smp: cannot intercept the guest's INIT/SIPI");
		return 1;
	}
	uint32_t len;
	memcpy(&len, t + 4, 4);
	if (madt_parse(t, len, m, err))
		hv_panic("smp: %s: refusing to boot (the guest would read the same table)", err);
	pr_info("smp: MADT lists %u usable CPU(s) (%u disabled%s), boot CPU APIC id %#x, "
		"local APIC %s at %#lx\n", m->nr_cpus, m->nr_disabled,
		m->nr_dropped ? ", some beyond hvmon's limit of 64" : "", bsp->apic_id,
		lapic_x2apic() ? "x2APIC" : "xAPIC", (unsigned long)lapic_base_pa());
	if (m->nr_dropped)
		hv_panic("smp: the MADT lists more than %u CPUs: refusing to boot", MADT_MAX_CPUS);
	if (madt_find(m, bsp->apic_id) < 0)
		pr_warn("smp: the boot CPU (APIC id %#x) is not in the MADT\n", bsp->apic_id);
	/* Several CPUs on the machine (also disabled ones: a hostile guest may
	 * still send them STARTUP): intercept the guest's INIT/SIPI. One CPU:
	 * nothing to start, and the APIC page stays direct (no exit per EOI). */
	if (m->nr_cpus + m->nr_disabled > 1 && smp_icpt_setup(vm))
		hv_panic("smp: cannot intercept the guest's INIT/SIPI");
	if (m->nr_cpus <= 1)
		return 1;

	uint64_t page = tramp_page(vm->bi);
	if (!page)
		hv_panic("smp: no RAM page below 1 MiB for the AP trampoline");
	size_t tl = (size_t)(ap_tramp_end - ap_tramp_start);
	uint8_t *save = page_alloc();
	if (!save || tl > 4096)
		hv_panic("smp: trampoline");
	memcpy(save, hv_phys_to_ptr(page), 4096);
	memcpy(hv_phys_to_ptr(page), ap_tramp_start, tl);
	for (uint32_t i = 0; i < m->nr_cpus; i++) {
		if (m->cpus[i].apic_id == bsp->apic_id)
			continue;
		if (vm->nr_vcpus >= HV_MAX_CPUS)
			hv_panic("smp: more than %u CPUs", HV_MAX_CPUS);
		start_ap(vm, &m->cpus[i], page);
	}
	memcpy(hv_phys_to_ptr(page), save, 4096);       /* every AP has left it */
	/* One shootdown round now, with every AP waiting in ring -1: no EPT
	 * entry is stale yet, it measures the round itself (docs/BENCHMARKS.md) */
	uint64_t t0 = rdtsc();
	smp_ept_sync(vm);
	pr_info("smp: %u CPUs under hvmon; the guest starts the APs itself (INIT/SIPI intercepted); "
		"one EPT shootdown round with the APs waiting: %lu TSC ticks; cross-CPU requests %s\n",
		vm->nr_vcpus, (unsigned long)(rdtsc() - t0),
		vm->caps.pin & PIN_NMI_EXIT ? "kick the CPUs in the guest with an NMI"
					    : "wait for the next exit (no virtual NMIs: no NMI kick)");
	if (vm->opt.smp_bench_ms &&
	    tick_register("smp_bench", vm->opt.smp_bench_ms, bench_tick, NULL) == 0)
		pr_info("smp: smp_bench_ms=%u: vCPU 0 runs one EPT shootdown round every %u ms\n",
			vm->opt.smp_bench_ms, vm->opt.smp_bench_ms);
	return vm->nr_vcpus;
}

void smp_print_stats(void)
{
	if (!svm)
		return;
	uint32_t aps = svm->nr_vcpus > 1 ? svm->nr_vcpus - 1 : 0;
	hv_printf("hvmon: smp: %u vCPU(s); guest INIT %lu, STARTUP %lu, to unknown CPUs %lu\n",
		  svm->nr_vcpus, (unsigned long)guest_inits, (unsigned long)guest_sipis,
		  (unsigned long)guest_ignored);
	if (aps)
		hv_printf("hvmon: smp: AP bring-up: %lu TSC ticks/AP from INIT to ready (max %lu), "
			  "%lu on the AP itself\n", (unsigned long)(start_ticks_sum / aps),
			  (unsigned long)start_ticks_max, (unsigned long)(ap_ticks_sum / aps));
	hv_printf("hvmon: smp: %lu cross-CPU call(s) (EPT shootdowns included), %lu TSC ticks/call "
		  "(max %lu)\n", (unsigned long)calls, (unsigned long)(calls ? call_ticks_sum / calls : 0),
		  (unsigned long)call_ticks_max);
	static const char *const cls[ROUND__N] = {
		"other CPUs in the guest, running", "other CPUs in the guest, in HLT",
		"a CPU waiting in ring -1",
	};
	for (unsigned c = 0; c < ROUND__N; c++)
		if (round_n[c])
			hv_printf("hvmon: smp: shootdown rounds, %s: %lu, %lu TSC ticks/round (max %lu)\n",
				  cls[c], (unsigned long)round_n[c], (unsigned long)(round_sum[c] / round_n[c]),
				  (unsigned long)round_max[c]);
	hv_printf("hvmon: smp: %lu kick NMI(s) sent\n", (unsigned long)kicks_sent);
	for (uint32_t i = 0; i < svm->nr_vcpus; i++) {
		struct vcpu *v = svm->vcpus[i];
		hv_printf("hvmon: smp: vCPU %u: APIC id %#x, started by the guest %lu time(s), "
			  "%lu emulated xAPIC writes, %lu kick NMI exit(s), %lu kick NMI(s) in ring -1, "
			  "%lu guest NMI(s) re-injected\n", v->id, v->apic_id, (unsigned long)v->nr_starts,
			  (unsigned long)v->nr_apic_writes, (unsigned long)v->nr_kick_exits,
			  (unsigned long)v->cpu->kick_nmi_root, (unsigned long)v->nr_guest_nmis);
	}
}
