/*
 * ret2usr — ring -1 side of the ret2usr detector (monitors/ret2usr.h,
 * docs/MONITORS.md): CR4.SMEP/SMAP pinning, hvmon-owned SMEP, #PF filter.
 * Subscribes to MOV to CR4 and to #PF (vmm/intercept.h).
 */
#include <string.h>
#include "monitors/ret2usr.h"
#include "events/event.h"
#include "events/ring1.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/monitor.h"
#include "vmm/intercept.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

static bool smep_held;          /* ready() ran: every vCPU keeps SMEP in its real CR4 */
/* statistics of every vCPU (atomic adds: any CPU counts) */
static uint64_t nr_pf_exits, nr_reflected, nr_detected, nr_tamper;
static uint64_t pf_ticks;
#define COUNT(c, n) __atomic_fetch_add(&(c), (n), __ATOMIC_RELAXED)

static struct r2u_pin *pin_of(struct vcpu *v)
{
	return hv_vcpu_state(v, &ret2usr_ops);
}

static unsigned action(const struct vm *vm)
{
	return ((const struct r2u_config *)hv_monitor_config(vm, &ret2usr_ops))->action;
}

/* From the guest's first LSTAR write on: SMEP in the real CR4 (the guest's own
 * view stays in the read shadow). Runs in that exit, on its vCPU. */
static void r2u_ready(struct vm *vm)
{
	struct vcpu *v = hv_current_vcpu();
	struct r2u_pin *p = v ? pin_of(v) : NULL;
	if (!p)
		return;
	/* every vCPU holds SMEP from now on. Only this vCPU's VMCS is loaded here:
	 * the others get SMEP in their real CR4 at their next MOV to CR4 (the
	 * subscription forces it: Linux's AP bring-up writes CR4 before it runs any
	 * task) and vCPUs started later at their vcpu_start. */
	for (unsigned i = 0; i < vm->nr_vcpus && i < HV_MAX_CPUS; i++) {
		struct r2u_pin *o = vm->vcpus[i] ? pin_of(vm->vcpus[i]) : NULL;
		if (o)
			o->force_smep = true;
	}
	__atomic_store_n(&smep_held, true, __ATOMIC_RELEASE);
	p->force_smep = true;
	vcpu_force_cr4(v, X86_CR4_SMEP);
	pr_info("ret2usr: on (action %s): SMEP held in the real CR4 (guest view: SMEP %s), #PF filter "
		"mask %#x match %#x\n", hv_ret2usr_action_name(action(vm)),
		(vcpu_guest_cr4(v) & X86_CR4_SMEP) ? "on" : "off", R2U_PFEC_MASK, R2U_PFEC_MATCH);
}

/* MOV to CR4 (after the core's own #GP checks): keeps the pinned bits in the
 * value the guest reads back, forces SMEP into the real CR4. */
static int r2u_cr4(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	struct r2u_pin *p = pin_of(v);
	if (!p)
		return HV_ICPT_PASS;
	struct r2u_cr4_result res;
	uint64_t old = x->cr4.old, want = x->cr4.val;
	r2u_cr4_write(p, old, want, &res);
	x->cr4.val = res.shadow;
	x->cr4.force |= res.real_extra;
	if (res.tamper) {
		COUNT(nr_tamper, 1);
		uint64_t rip = vcpu_rip(v);
		struct guest_task t;
		bool ok = guest_task_of(v, GUEST_TASK_CURRENT, &t) == 0;
		pr_warn_queued("ret2usr: cr4_tamper: MOV CR4 %#lx -> %#lx at RIP %#lx by %d (%s): blocked, CR4 stays %#lx\n",
			(unsigned long)old, (unsigned long)want, (unsigned long)rip, t.pid, ok ? t.comm : "?",
			(unsigned long)res.shadow);
		struct hv_event *ev = hv_event_reserve_task(v, HV_EV_CR4_TAMPER, HV_EMON_RET2USR, &t);
		if (ev) {
			ev->u.cr4.old_cr4 = old;
			ev->u.cr4.new_cr4 = want;
			ev->u.cr4.rip = rip;
			ev->u.cr4.blocked = 1;
			hv_event_commit(v->id);
			hv_events_ring1_kick(v->id);
		}
	}
	return HV_ICPT_PASS;
}

/* #PF of a supervisor instruction fetch (the filter). A ret2usr is reported;
 * report/kill: the fault the CPU raised reaches the guest kernel (its oops ends
 * the offending task: the user code never runs in kernel mode), through the
 * core's reflection; halt: the run ends here. */
static int r2u_pf(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	uint64_t t0 = rdtsc();
	COUNT(nr_pf_exits, 1);
	uint32_t pfec = x->exc.error;
	uint64_t addr = x->exc.qual;
	enum r2u_pf_verdict vd = r2u_classify_pf(pfec, addr, vcpu_la57(v));
	/* A #PF raised while delivering another event: deliver the #PF; the guest
	 * re-raises the original (SDM 27.2.4 IDT-vectoring information). */
	if (vd == R2U_PF_REFLECT) {
		COUNT(nr_reflected, 1);
		COUNT(pf_ticks, rdtsc() - t0);
		return HV_ICPT_PASS;
	}
	COUNT(nr_detected, 1);
	uint64_t rip = vcpu_rip(v), rsp = vcpu_rsp(v), ret = 0;
	/* the kernel code that jumped: the return address of a call, when on the stack */
	if (guest_read(v, rsp, &ret, 8, false) || !(ret >> 63))
		ret = 0;
	struct guest_task t;
	bool ok = guest_task_of(v, GUEST_TASK_CURRENT, &t) == 0;
	bool guest_smep = (vcpu_guest_cr4(v) & X86_CR4_SMEP) != 0;
	unsigned act = action(v->vm);
	pr_warn_queued("ret2usr: kernel executed user address %#lx (RIP %#lx, caller %#lx) in task %d (%s): %s, "
		"caught by %s; action %s\n", (unsigned long)addr, (unsigned long)rip, (unsigned long)ret,
		t.pid, ok ? t.comm : "?", r2u_pf_verdict_name(vd),
		guest_smep ? "the guest's SMEP (#PF filter)" : "hvmon's SMEP (guest runs without SMEP; #PF filter)",
		hv_ret2usr_action_name(act));
	struct hv_event *ev = hv_event_reserve_task(v, HV_EV_RET2USR, HV_EMON_RET2USR, &t);
	if (ev) {
		ev->u.ret2usr.rip = ret ? ret : rip;
		ev->u.ret2usr.user_addr = addr;
		ev->u.ret2usr.how = HV_R2U_EXEC;
		hv_event_commit(v->id);
	}
	hv_events_ring1_kick(v->id);
	if (act == HV_R2U_HALT) {
		pr_warn_queued("ret2usr: halt: the faulting fetch is not delivered; the run ends\n");
		hv_stop(HV_STOP_MONITOR_HALT, v, "ret2usr (ret2usr_action=halt)");
	}
	if (act == HV_R2U_KILL)
		pr_warn_queued("ret2usr: kill: #PF (error %#x) delivered to task %d: the guest kernel ends it\n",
			pfec, t.pid);
	COUNT(pf_ticks, rdtsc() - t0);
	return HV_ICPT_PASS;
}

static int r2u_setup(struct vm *vm)
{
	struct x86_cpuid r;
	cpuid_count(7, 0, &r);
	if (!(r.ebx & (1u << 7))) {
		pr_warn("ret2usr: off: the CPU has no SMEP (CPUID.7.0:EBX[7])\n");
		return -1;
	}
	if (hv_intercept_cr4(vm, X86_CR4_SMEP | X86_CR4_SMAP, r2u_cr4, NULL) ||
	    hv_intercept_exception(vm, X86_VEC_PF, R2U_PFEC_MASK, R2U_PFEC_MATCH, r2u_pf, NULL)) {
		pr_err("ret2usr: off: cannot subscribe to CR4 writes and #PF\n");
		return -1;
	}
	return 0;
}

/* A vCPU started after ready() (an AP, once there are several) holds SMEP at once. */
static void r2u_vcpu_start(struct vcpu *v)
{
	if (!__atomic_load_n(&smep_held, __ATOMIC_ACQUIRE))
		return;
	pin_of(v)->force_smep = true;
	vcpu_force_cr4(v, X86_CR4_SMEP);
}

static void r2u_print_stats(struct vm *vm)
{
	(void)vm;
	hv_printf("hvmon: ret2usr: %lu #PF exits (%lu TSC ticks/exit), %lu reflected, %lu ret2usr detected, "
		  "%lu cr4_tamper\n", (unsigned long)nr_pf_exits,
		  (unsigned long)(nr_pf_exits ? pf_ticks / nr_pf_exits : 0), (unsigned long)nr_reflected,
		  (unsigned long)nr_detected, (unsigned long)nr_tamper);
}

struct hv_monitor_ops ret2usr_ops = {
	.setup = r2u_setup,
	.vcpu_start = r2u_vcpu_start,
	.ready = r2u_ready,
	.print_stats = r2u_print_stats,
	.vcpu_state_size = sizeof(struct r2u_pin),
};
