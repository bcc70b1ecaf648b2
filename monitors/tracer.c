/*
 * tracer — the process tracer in ring -1 (monitors/tracer.h, docs/TRACER.md).
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/monitor.h"
#include "lib/console.h"
#include "vmm/probe.h"
#include "events/ring1.h"
#include "vmm/introspect.h"
#include "monitors/tracer.h"
#include "arch/x86/cpu.h"
#include "lib/spinlock.h"

static const struct { enum infer_param p; const char *name; } sc_param[TR__COUNT] = {
	[TR_EXECVE]     = { INFER_P_SC_EXECVE, "execve" },
	[TR_EXECVEAT]   = { INFER_P_SC_EXECVEAT, "execveat" },
	[TR_CLONE]      = { INFER_P_SC_CLONE, "clone" },
	[TR_CLONE3]     = { INFER_P_SC_CLONE3, "clone3" },
	[TR_FORK]       = { INFER_P_SC_FORK, "fork" },
	[TR_VFORK]      = { INFER_P_SC_VFORK, "vfork" },
	[TR_EXIT]       = { INFER_P_SC_EXIT, "exit" },
	[TR_EXIT_GROUP] = { INFER_P_SC_EXIT_GROUP, "exit_group" },
	[TR_DO_EXIT]    = { INFER_P_DO_EXIT, "do_exit" },
};

static struct vm *tvm;          /* the guest (set up once) */
/* Pending returns are VM-wide, not per vCPU: a task may be preempted inside the
 * syscall and return on another CPU. pend_lock serialises claiming a slot
 * (tracer_pending_get) and the lookup; a claimed slot belongs to the one task
 * whose return it waits for (that task runs on one CPU at a time), so its
 * fields are filled and read without the lock. */
static struct tracer_pending pend[TRACER_MAX_PENDING];
static hv_spinlock_t pend_lock = HV_SPINLOCK_INIT;
static uint64_t lost_returns, events_made;     /* atomic: every CPU counts */

#define COUNT(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

static struct tracer_pending *pending_get(void)
{
	hv_spin_lock(&pend_lock);
	struct tracer_pending *p = tracer_pending_get(pend, TRACER_MAX_PENDING);
	hv_spin_unlock(&pend_lock);
	return p;
}

static struct tracer_pending *pending_find(uint64_t task, uint64_t rsp, uint64_t site)
{
	hv_spin_lock(&pend_lock);
	struct tracer_pending *p = tracer_pending_find(pend, TRACER_MAX_PENDING, task, rsp, site);
	hv_spin_unlock(&pend_lock);
	return p;
}

/* Frees a slot: the release store publishes every field written before it. */
static void pending_put(struct tracer_pending *p)
{
	__atomic_store_n(&p->used, false, __ATOMIC_RELEASE);
}

static int rd_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	return guest_read(ctx, va, buf, len, true);
}

static int rd_str(void *ctx, uint64_t va, char *buf, uint32_t max)
{
	return guest_read_str(ctx, va, buf, max, true);
}

/* Clears the header and the first @body bytes of the union: the event core
 * copies only the header and the type's member into the ring. */
static void ev_init(struct hv_event *ev, unsigned type, struct vcpu *v, size_t body)
{
	memset(ev, 0, offsetof(struct hv_event, u) + body);
	ev->hdr.tsc = rdtsc();
	ev->hdr.type = (uint16_t)type;
	ev->hdr.cpu = (uint16_t)v->id;
	ev->hdr.monitor = HV_EMON_TRACER;
}

static void set_task(struct vcpu *v, struct hv_event *ev, uint64_t task)
{
	struct guest_task t;
	if (!guest_task_of(v, task, &t))
		hv_event_set_task(ev, t.pid, t.tgid, t.comm, sizeof(t.comm));
}

static void emit(struct vcpu *v, struct hv_event *ev)
{
	ev->hdr.tsc = rdtsc();
	hv_event_emit(v->id, ev);
	COUNT(events_made);
}

static void exec_finish(struct vcpu *v, struct hv_event *ev, uint64_t task, bool known, int64_t rax)
{
	struct hv_ev_exec *x = &ev->u.exec;
	set_task(v, ev, task);
	uint64_t rp, cred;
	int32_t ppid;
	uint32_t uid;
	if (!guest_read_kobj(v, task + introspect_value(tvm, INFER_P_TASK_REAL_PARENT), &rp, 8) &&
	    !guest_read_kobj(v, rp + introspect_value(tvm, INFER_P_TASK_TGID), &ppid, 4))
		x->ppid = ppid;
	else
		x->flags |= HV_EXECF_READ_FAIL;
	if (!guest_read_kobj(v, task + introspect_value(tvm, INFER_P_TASK_CRED), &cred, 8) &&
	    !guest_read_kobj(v, cred + introspect_value(tvm, INFER_P_CRED_UID), &uid, 4))
		x->uid = uid;
	else
		x->flags |= HV_EXECF_READ_FAIL;
	if (known) {
		if (rax == 0)
			x->flags |= HV_EXECF_OK;
		else
			x->err = (int32_t)rax;
	} else {
		x->flags |= HV_EXECF_READ_FAIL;        /* result unknown */
	}
	emit(v, ev);
}

static void on_return(struct vcpu *v, struct probe_hit *hit, struct tracer_pending *p, uint64_t task)
{
	union guest_regs *r = hit->regs;
	int64_t rax = (int64_t)r->rax;
	hit->redirect_rip = p->ret_rip;           /* resume where the handler returned to */
	hit->redirect_rsp = hit->rsp;
	if (p->sc == TR_EXECVE || p->sc == TR_EXECVEAT) {
		struct tracer_reader rd = { .ctx = v, .read = rd_read, .read_str = rd_str };
		struct hv_ev_exec *x = &p->ev.u.exec;
		uint64_t sp;
		/* filename and argv are read once, here at the return (nothing at the
		 * entry): the exec's result says where they are */
		if (rax == 0) {
			/* the new image's stack holds what the kernel really used */
			if (guest_read_kstack(v, p->ptregs + PTREGS_SP, &sp, 8) ||
			    tracer_exec_from_stack(&p->ev, &rd, sp))
				x->flags |= HV_EXECF_READ_FAIL;
		} else {
			/* failed: the caller's memory is still there, and the kernel's own
			 * copy_from_user has faulted the pages in by now */
			tracer_fill_exec(&p->ev, &rd, p->filename, p->argv);
		}
		exec_finish(v, &p->ev, task, true, rax);
	} else if (rax > 0) {                     /* fork-like: child pid in the parent */
		struct hv_event ev;
		ev_init(&ev, HV_EV_FORK, v, sizeof(ev.u.fork));
		set_task(v, &ev, task);
		ev.u.fork.parent_pid = ev.hdr.tgid;
		ev.u.fork.child_pid = (int32_t)rax;
		ev.u.fork.kind = (p->flags & CLONE_THREAD_FLAG) ? HV_FORK_THREAD : HV_FORK_PROCESS;
		ev.u.fork.clone_flags = p->flags;
		emit(v, &ev);
	}
	pending_put(p);
}

/* Swap the handler's return address for the probe site: the ret comes back here. */
static bool arm_return(struct vcpu *v, struct probe_hit *hit, struct tracer_pending *p)
{
	uint64_t ret;
	if (guest_read_kstack(v, hit->rsp, &ret, 8) || !(ret >> 63) ||
	    guest_write_u64(v, hit->rsp, hit->va))
		return false;
	p->ret_rip = ret;
	p->ret_rsp = hit->rsp + 8;
	p->site = hit->va;
	return true;
}

/* do_exit(long code): RDI = the exit status, current = the task that ends.
 * Exactly one hit per task (do_exit does not return). A task without an mm is
 * a kernel thread (a user task still has its mm here: exit_mm runs later). */
static void on_do_exit(struct vcpu *v, struct probe_hit *hit, uint64_t task)
{
	union guest_regs *r = hit->regs;
	struct hv_event ev;
	uint64_t mm = 1;
	ev_init(&ev, HV_EV_EXIT, v, sizeof(ev.u.exit));
	set_task(v, &ev, task);
	if (guest_read_kobj(v, task + introspect_value(tvm, INFER_P_TASK_MM), &mm, 8))
		mm = 1;                               /* unreadable: not claimed a kthread */
	tracer_exit_status(&ev.u.exit, r->rdi, mm == 0);
	emit(v, &ev);
}

static void on_hit(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	enum tracer_sc sc = (enum tracer_sc)(uintptr_t)ctx;
	uint64_t task;
	if (guest_current_task(v, &task))
		return;
	if (sc == TR_DO_EXIT) {
		on_do_exit(v, hit, task);
		return;
	}
	struct tracer_pending *p = pending_find(task, hit->rsp, hit->va);
	if (p) {
		on_return(v, hit, p, task);
		return;
	}
	union guest_regs *r = hit->regs;
	uint64_t regs = r->rdi;                   /* struct pt_regs * */
	uint64_t a[3] = { 0, 0, 0 };              /* pt_regs dx, si, di: adjacent */
	struct tracer_reader rd = { .ctx = v, .read = rd_read, .read_str = rd_str };
	_Static_assert(PTREGS_SI == PTREGS_DX + 8 && PTREGS_DI == PTREGS_DX + 16, "pt_regs layout");
	/* read only the arguments the call needs: fork/vfork none, clone(3) the
	 * first, exit(_group) the first, exec(at) two of the three */
	if (sc == TR_EXECVE || sc == TR_EXECVEAT) {
		if (guest_read_kstack(v, regs + PTREGS_DX, a, sizeof(a)))
			return;
	} else if (sc != TR_FORK && sc != TR_VFORK) {
		if (guest_read_kstack(v, regs + PTREGS_DI, &a[2], 8))
			return;
	}
	uint64_t dx = a[0], si = a[1], di = a[2];
	switch (sc) {
	case TR_EXIT:
	case TR_EXIT_GROUP: {
		struct hv_event ev;
		ev_init(&ev, HV_EV_EXIT, v, sizeof(ev.u.exit));
		set_task(v, &ev, task);
		tracer_exit_status(&ev.u.exit, (di & 0xff) << 8, false);   /* as the kernel encodes it */
		emit(v, &ev);
		return;
	}
	case TR_EXECVE:
	case TR_EXECVEAT: {
		p = pending_get();
		struct hv_event tmp, *ev = p ? &p->ev : &tmp;
		ev_init(ev, HV_EV_EXEC, v, sizeof(ev->u));
		uint64_t fn = sc == TR_EXECVE ? di : si, av = sc == TR_EXECVE ? si : dx;
		if (!p || !arm_return(v, hit, p)) {
			COUNT(lost_returns);
			if (p)
				pending_put(p);
			tracer_fill_exec(ev, &rd, fn, av);   /* no return to wait for: now */
			exec_finish(v, ev, task, false, 0);
			return;
		}
		p->sc = (uint8_t)sc;
		p->task = task;
		p->ptregs = regs;
		p->filename = fn;
		p->argv = av;
		return;
	}
	default: {
		uint64_t flags = 0;
		if (tracer_clone_flags(sc, &rd, di, &flags))
			flags = 0;
		p = pending_get();
		if (!p || !arm_return(v, hit, p)) {
			COUNT(lost_returns);
			if (p)
				pending_put(p);
			return;
		}
		p->sc = (uint8_t)sc;
		p->task = task;
		p->flags = flags;
		return;
	}
	}
}

static void tracer_ready(struct vm *vm)
{
	static const enum infer_param need[] = {
		INFER_P_SC_EXECVE, INFER_P_SC_EXECVEAT, INFER_P_SC_CLONE, INFER_P_SC_CLONE3,
		INFER_P_SC_FORK, INFER_P_SC_VFORK,
		INFER_P_PCPU_CURRENT_TASK, INFER_P_TASK_PID, INFER_P_TASK_TGID, INFER_P_TASK_COMM,
		INFER_P_TASK_REAL_PARENT, INFER_P_TASK_CRED, INFER_P_CRED_UID, INFER_P_TASK_MM,
	};
	static const enum infer_param need_exit_sc[] = { INFER_P_SC_EXIT, INFER_P_SC_EXIT_GROUP };
	if (!introspect_require(vm, HV_EMON_TRACER, need, sizeof(need) / sizeof(need[0])))
		return;
	/* exit events: do_exit (every task's end), else the exit/exit_group entries */
	bool do_exit = introspect_have(vm, INFER_P_DO_EXIT);
	if (!do_exit) {
		pr_warn("proctrace: do_exit unknown (%s): exit events only for tasks calling "
			"exit/exit_group\n", vm->profile.p.p[INFER_P_DO_EXIT].why);
		if (!introspect_require(vm, HV_EMON_TRACER, need_exit_sc, 2))
			return;
	}
	int placed = 0, want = 0;
	for (int i = 0; i < TR__COUNT; i++) {
		bool exit_sc = i == TR_EXIT || i == TR_EXIT_GROUP;
		if (i == TR_DO_EXIT ? !do_exit : (exit_sc && do_exit))
			continue;
		want++;
		if (!probe_place(vm, introspect_value(vm, sc_param[i].p), on_hit, (void *)(uintptr_t)i,
				 "proctrace"))
			placed++;
	}
	pr_info("proctrace: %d of %d probes placed (exit events from %s)\n", placed, want,
		do_exit ? "do_exit" : "exit/exit_group");
}

static int tracer_setup(struct vm *vm)
{
	tvm = vm;
	if (!hv_events_ready()) {           /* probes report through the event rings */
		pr_err("proctrace: off: no event rings\n");
		return -1;
	}
	return 0;
}

static void tracer_disabled(struct vm *vm)
{
	pr_info("monitor proctrace: off (monitors= option)\n");
}

static void tracer_print_stats(struct vm *vm)
{
	hv_printf("hvmon: proctrace: %lu events, %lu syscall results lost (pending table full or "
		  "stack unwritable)\n", (unsigned long)events_made, (unsigned long)lost_returns);
}

struct hv_monitor_ops tracer_ops = {
	.setup = tracer_setup,
	.disabled = tracer_disabled,
	.ready = tracer_ready,
	.print_stats = tracer_print_stats,
};
