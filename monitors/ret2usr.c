/*
 * ret2usr — ring -1 side of the ret2usr detector (monitors/ret2usr.h,
 * docs/MONITORS.md): CR4.SMEP/SMAP pinning, hvmon-owned SMEP, #PF filter.
 */
#include <string.h>
#include "monitors/ret2usr.h"
#include "events/event.h"
#include "vmm/vcpu.h"
#include "vmm/probe.h"
#include "events/ring1.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

static struct r2u_pin pin[HV_MAX_CPUS];
static bool enabled;
static uint64_t nr_pf_exits, nr_reflected, nr_detected, nr_tamper;
static uint64_t pf_ticks;

static void task_of(struct vcpu *v, int32_t *pid, int32_t *tgid, char comm[16], bool *ok)
{
	uint64_t task;
	*ok = !guest_current_task(v, &task) && !guest_task_ids(v, task, pid, tgid, comm);
	if (!*ok) {
		*pid = *tgid = -1;
		comm[0] = 0;
	}
}

/* From the guest's first LSTAR write on: SMEP in the real CR4 (the guest's own
 * view stays in the read shadow). */
static void r2u_ready(struct vm *vm, void *ctx)
{
	(void)ctx;
	struct vcpu *v = this_cpu()->vcpu;
	if (!v || v->id >= HV_MAX_CPUS)
		return;
	pin[v->id].force_smep = true;
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | X86_CR4_SMEP);
	pr_info("ret2usr: on (action %s): SMEP held in the real CR4 (guest view: SMEP %s), #PF filter "
		"mask %#x match %#x\n", hv_ret2usr_action_name(vm->opt.ret2usr_action),
		(vmread(VMCS_CR4_SHADOW) & X86_CR4_SMEP) ? "on" : "off", R2U_PFEC_MASK, R2U_PFEC_MATCH);
}

int ret2usr_setup(struct vm *vm)
{
	if (!(vm->opt.monitors & HV_MON_RET2USR))
		return 0;
	struct x86_cpuid r;
	cpuid_count(7, 0, &r);
	if (!(r.ebx & (1u << 7))) {
		pr_warn("ret2usr: off: the CPU has no SMEP (CPUID.7.0:EBX[7])\n");
		return -1;
	}
	enabled = true;
	return introspect_on_ready(vm, r2u_ready, NULL);
}

void ret2usr_vcpu_start(struct vcpu *v)
{
	if (!enabled)
		return;
	vmwrite(VMCS_CR4_MASK, vmread(VMCS_CR4_MASK) | X86_CR4_SMEP | X86_CR4_SMAP);
	vmwrite(VMCS_PF_ERR_MASK, R2U_PFEC_MASK);
	vmwrite(VMCS_PF_ERR_MATCH, R2U_PFEC_MATCH);
	vmwrite(VMCS_EXCEPTION_BITMAP, vmread(VMCS_EXCEPTION_BITMAP) | (1u << X86_VEC_PF));
}

uint64_t ret2usr_cr4_write(struct vcpu *v, uint64_t old, uint64_t *val)
{
	if (!enabled || v->id >= HV_MAX_CPUS)
		return 0;
	struct r2u_cr4_result res;
	uint64_t want = *val;
	r2u_cr4_write(&pin[v->id], old, want, &res);
	*val = res.shadow;
	if (res.tamper) {
		nr_tamper++;
		uint64_t rip = vmread(VMCS_GUEST_RIP);
		int32_t pid, tgid;
		char comm[16];
		bool ok;
		task_of(v, &pid, &tgid, comm, &ok);
		pr_warn("ret2usr: cr4_tamper: MOV CR4 %#lx -> %#lx at RIP %#lx by %d (%s): blocked, CR4 stays %#lx\n",
			(unsigned long)old, (unsigned long)want, (unsigned long)rip, pid, ok ? comm : "?",
			(unsigned long)res.shadow);
		struct hv_event *ev = hv_event_reserve(v->id, HV_EV_CR4_TAMPER, HV_EMON_RET2USR);
		if (ev) {
			if (ok)
				hv_event_set_task(ev, pid, tgid, comm, 16);
			ev->u.cr4.old_cr4 = old;
			ev->u.cr4.new_cr4 = want;
			ev->u.cr4.rip = rip;
			ev->u.cr4.blocked = 1;
			hv_event_commit(v->id);
			hv_events_ring1_drain();
		}
	}
	return res.real_extra;
}

static void reflect_pf(uint64_t addr, uint32_t pfec)
{
	write_cr2(addr);                 /* the guest's CR2 is the real CR2 in ring -1 */
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_ERR |
		X86_VEC_PF);
	vmwrite(VMCS_ENTRY_EXC_ERROR, pfec);
}

int ret2usr_exception_exit(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	if (!(info & INTR_INFO_VALID) || (info & 0xff) != X86_VEC_PF)
		return probe_exception_exit(v);
	uint64_t t0 = rdtsc();
	nr_pf_exits++;
	uint32_t pfec = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
	uint64_t addr = v->exit_qual;
	enum r2u_pf_verdict vd = r2u_classify_pf(pfec, addr);
	/* A #PF raised while delivering another event: deliver the #PF; the guest
	 * re-raises the original (SDM 27.2.4 IDT-vectoring information). */
	if (vd == R2U_PF_REFLECT) {
		nr_reflected++;
		reflect_pf(addr, pfec);
		pf_ticks += rdtsc() - t0;
		return HV_RESUME;
	}
	nr_detected++;
	uint64_t rip = vmread(VMCS_GUEST_RIP), rsp = vmread(VMCS_GUEST_RSP), ret = 0;
	/* the kernel code that jumped: the return address of a call, when on the stack */
	if (guest_read(v, rsp, &ret, 8, false) || !(ret >> 63))
		ret = 0;
	int32_t pid, tgid;
	char comm[16];
	bool ok;
	task_of(v, &pid, &tgid, comm, &ok);
	bool guest_smep = (vmread(VMCS_CR4_SHADOW) & X86_CR4_SMEP) != 0;
	unsigned act = v->vm->opt.ret2usr_action;
	pr_warn("ret2usr: kernel executed user address %#lx (RIP %#lx, caller %#lx) in task %d (%s): %s, "
		"caught by %s; action %s\n", (unsigned long)addr, (unsigned long)rip, (unsigned long)ret,
		pid, ok ? comm : "?", r2u_pf_verdict_name(vd),
		guest_smep ? "the guest's SMEP (#PF filter)" : "hvmon's SMEP (guest runs without SMEP; #PF filter)",
		hv_ret2usr_action_name(act));
	struct hv_event *ev = hv_event_reserve(v->id, HV_EV_RET2USR, HV_EMON_RET2USR);
	if (ev) {
		if (ok)
			hv_event_set_task(ev, pid, tgid, comm, 16);
		ev->u.ret2usr.rip = ret ? ret : rip;
		ev->u.ret2usr.user_addr = addr;
		ev->u.ret2usr.how = HV_R2U_EXEC;
		hv_event_commit(v->id);
	}
	hv_events_ring1_drain();
	if (act == HV_R2U_HALT) {
		vcpu_dump_state(v, "ret2usr (ret2usr_action=halt)");
		vm_print_exit_stats(v->vm);
		hv_printf("hvmon: ret2usr: guest halted (ret2usr_action=halt): the faulting fetch was not "
			  "delivered, the guest never runs again\n");
		/* With bochs_exit=on (tests) Bochs's shutdown port ends the emulator, so the run
		 * ends by itself; otherwise the CPU stays halted with the report on the console. */
		power_bochs_exit(v->vm, false);
		cpu_halt_forever();
	}
	/* report / kill: the fault the CPU raised reaches the guest kernel; its oops
	 * ends the offending task (the user code never runs in kernel mode). */
	if (act == HV_R2U_KILL)
		pr_warn("ret2usr: kill: #PF (error %#x) delivered to task %d: the guest kernel ends it\n",
			pfec, pid);
	reflect_pf(addr, pfec);
	pf_ticks += rdtsc() - t0;
	return HV_RESUME;
}

void ret2usr_print_stats(void)
{
	hv_printf("hvmon: ret2usr: %lu #PF exits (%lu TSC ticks/exit), %lu reflected, %lu ret2usr detected, "
		  "%lu cr4_tamper\n", (unsigned long)nr_pf_exits,
		  (unsigned long)(nr_pf_exits ? pf_ticks / nr_pf_exits : 0), (unsigned long)nr_reflected,
		  (unsigned long)nr_detected, (unsigned long)nr_tamper);
}
