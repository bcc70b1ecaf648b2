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
	[TR_KERNEL_CLONE]  = { INFER_P_KERNEL_CLONE, "kernel_clone" },
	[TR_DO_EXECVEAT]   = { INFER_P_DO_EXECVEAT_COMMON, "do_execveat_common" },
	[TR_KERNEL_EXECVE] = { INFER_P_KERNEL_EXECVE, "kernel_execve" },
};
/* The x86-64 syscall numbers of the handlers probed without meeting points
 * (the ABI those probes see: the __x64_sys_* handlers are 64-bit only). */
static const int16_t x64_nr[TR__COUNT] = {
	[TR_EXECVE] = 59, [TR_EXECVEAT] = 322, [TR_CLONE] = 56, [TR_CLONE3] = 435, [TR_FORK] = 57,
	[TR_VFORK] = 58, [TR_EXIT] = 60, [TR_EXIT_GROUP] = 231,
};

static struct vm *tvm;          /* the guest (set up once) */
/* the profile's offsets a hit reads, looked up once when the probes are placed
 * (the profile does not change after the inference; issue 16: a hit asked for
 * each through introspect_value) */
static struct {
	uint64_t mm, top_of_stack, kca_exit_signal, real_parent, tgid, cred, uid;
	uint64_t ti_status;      /* thread_info.status (optional): 0 = not inferred */
} toff;
/* Pending returns are VM-wide, not per vCPU: a task may be preempted inside the
 * syscall and return on another CPU. pend_lock serialises claiming a slot
 * and the lookup (pending_lookup); a claimed slot belongs to the one task
 * whose return it waits for (that task runs on one CPU at a time), so its
 * fields are filled and read without the lock. */
static struct tracer_pending pend[TRACER_MAX_PENDING];
static hv_spinlock_t pend_lock = HV_SPINLOCK_INIT;
static uint64_t lost_returns, events_made;     /* atomic: every CPU counts */

#define COUNT(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

static uint32_t pend_used;      /* slots claimed and not yet put: atomic */

/* A hit's one locked pass (issue 16): the slot waiting for this return, else,
 * with @claim (an entry that waits for its result), a fresh slot claimed in
 * *fresh (NULL when the table is full). While no slot is in use — most
 * entries — there is nothing to scan: pend_used counts claims not yet put,
 * and a put clears its slot before it decrements, so 0 means every slot is
 * free (claims are serialised with this look-up by pend_lock). */
static struct tracer_pending *pending_lookup(uint64_t task, uint64_t rsp, uint64_t site, bool claim,
					     struct tracer_pending **fresh)
{
	struct tracer_pending *p = NULL, *free = &pend[0];
	hv_spin_lock(&pend_lock);
	if (__atomic_load_n(&pend_used, __ATOMIC_ACQUIRE))
		p = tracer_pending_match(pend, TRACER_MAX_PENDING, task, rsp, site, &free);
	*fresh = NULL;
	if (!p && claim && free) {
		tracer_pending_claim(free);
		__atomic_fetch_add(&pend_used, 1, __ATOMIC_RELAXED);
		*fresh = free;
	}
	hv_spin_unlock(&pend_lock);
	return p;
}

/* Frees a slot: the release store publishes every field written before it. */
static void pending_put(struct tracer_pending *p)
{
	__atomic_store_n(&p->used, false, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&pend_used, 1, __ATOMIC_RELEASE);
}

static int rd_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	return guest_read(ctx, va, buf, len, true);
}

static int rd_str(void *ctx, uint64_t va, char *buf, uint32_t max)
{
	return guest_read_str(ctx, va, buf, max, true);
}

static const void *rd_view(void *ctx, uint64_t va, uint32_t len)
{
	return guest_view(ctx, va, len);
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

/* Slots in use (a trace_lost event says how full the table was). */
static unsigned pending_in_use(void)
{
	unsigned n = 0;
	hv_spin_lock(&pend_lock);
	for (unsigned i = 0; i < TRACER_MAX_PENDING; i++)
		n += pend[i].used;
	hv_spin_unlock(&pend_lock);
	return n;
}

/* A result the tracer cannot wait for (issue 15 item 6): counted, and reported
 * as a trace_lost event at the 1st, 2nd, 4th... loss (tracer_lost_reported). */
static void lost(struct vcpu *v, uint64_t task, const char *what, bool full)
{
	uint64_t n = __atomic_add_fetch(&lost_returns, 1, __ATOMIC_RELAXED);
	if (!tracer_lost_reported(n))
		return;
	struct hv_event ev;
	ev_init(&ev, HV_EV_TRACE_LOST, v, sizeof(ev.u.trace_lost));
	set_task(v, &ev, task);
	ev.u.trace_lost.count = n;
	ev.u.trace_lost.pending = pending_in_use();
	hv_strlcpy_bounded(ev.u.trace_lost.what, sizeof(ev.u.trace_lost.what), what, HV_KIND_LEN);
	hv_strlcpy_bounded(ev.u.trace_lost.reason, sizeof(ev.u.trace_lost.reason),
			   full ? "pending_full" : "stack_unwritable", HV_KIND_LEN);
	emit(v, &ev);
}

static void exec_finish(struct vcpu *v, struct hv_event *ev, uint64_t task, bool known, int64_t rax)
{
	struct hv_ev_exec *x = &ev->u.exec;
	set_task(v, ev, task);
	uint64_t rp, cred;
	int32_t ppid;
	uint32_t uid;
	if (!guest_read_kobj(v, task + toff.real_parent, &rp, 8) &&
	    !guest_read_kobj(v, rp + toff.tgid, &ppid, 4))
		x->ppid = ppid;
	else
		x->flags |= HV_EXECF_READ_FAIL;
	if (!guest_read_kobj(v, task + toff.cred, &cred, 8) &&
	    !guest_read_kobj(v, cred + toff.uid, &uid, 4))
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
	/* the meeting points return int/pid_t: the upper half of RAX is undefined
	 * (the syscall handlers sign-extend it themselves, cltq) */
	if (p->sc == TR_KERNEL_CLONE || p->sc == TR_DO_EXECVEAT || p->sc == TR_KERNEL_EXECVE)
		rax = (int32_t)r->rax;
	hit->redirect_rip = p->ret_rip;           /* resume where the handler returned to */
	hit->redirect_rsp = hit->rsp;
	if (p->sc == TR_EXECVE || p->sc == TR_EXECVEAT || p->sc == TR_DO_EXECVEAT ||
	    p->sc == TR_KERNEL_EXECVE) {
		struct tracer_reader rd = { .ctx = v, .read = rd_read, .read_str = rd_str, .view = rd_view };
		struct hv_ev_exec *x = &p->ev.u.exec;
		/* filename and argv are read once, here at the return (nothing at the
		 * entry): the exec's result says where they are */
		uint64_t cs_sp[3];                    /* pt_regs cs, flags, sp */
		_Static_assert(PTREGS_SP == PTREGS_CS + 16, "pt_regs layout");
		if (rax == 0) {
			/* the new image's stack holds what the kernel really used; its
			 * layout follows the new image (start_thread set CS: 0x23 for a
			 * 32-bit ELF), not the caller's ABI */
			if (!p->ptregs || guest_read_kstack(v, p->ptregs + PTREGS_CS, cs_sp, sizeof(cs_sp)) ||
			    ((cs_sp[0] & 0xffff) == USER_CS_32 ?
			     tracer_exec_from_stack32(&p->ev, &rd, cs_sp[2]) :
			     tracer_exec_from_stack(&p->ev, &rd, cs_sp[2])))
				x->flags |= HV_EXECF_READ_FAIL;
		} else {
			/* failed: the caller's memory is still there, and the kernel's own
			 * copy_from_user has faulted the pages in by now */
			tracer_fill_exec_ptrs(&p->ev, &rd, p->filename, p->argv, p->ptr_size);
		}
		x->abi = p->abi;
		x->syscall = p->syscall;
		exec_finish(v, &p->ev, task, true, rax);
	} else if (rax > 0) {                     /* fork-like: child pid in the parent */
		struct hv_event ev;
		ev_init(&ev, HV_EV_FORK, v, sizeof(ev.u.fork));
		set_task(v, &ev, task);
		ev.u.fork.parent_pid = ev.hdr.tgid;
		ev.u.fork.child_pid = (int32_t)rax;
		ev.u.fork.kind = (p->flags & CLONE_THREAD_FLAG) ? HV_FORK_THREAD : HV_FORK_PROCESS;
		ev.u.fork.clone_flags = p->flags;
		ev.u.fork.abi = p->abi;
		ev.u.fork.syscall = p->syscall;
		emit(v, &ev);
	}
	pending_put(p);
}

/* Swap the handler's return address for the probe site: the ret comes back here. */
static bool arm_return(struct vcpu *v, struct probe_hit *hit, struct tracer_pending *p)
{
	uint64_t ret;
	if (guest_kstack_swap_u64(v, hit->rsp, hit->va, &ret))
		return false;
	if (!(ret >> 63)) {                       /* not a kernel return address: put it back */
		guest_write_u64(v, hit->rsp, ret);
		return false;
	}
	p->ret_rip = ret;
	p->ret_rsp = hit->rsp + 8;
	p->site = hit->va;
	return true;
}

/* do_exit(long code): RDI = the exit status, current = the task that ends.
 * Exactly one hit per task (do_exit does not return). A task without an mm is
 * a kernel thread (a user task still has its mm here: exit_mm runs later). */
/* The ABI of the current task's call (issue 15, docs/TRACER.md "ABI"): its
 * user registers are the pt_regs right below the per-CPU top of stack, trusted
 * only when the hit's own RSP (hardware state, from the VMCS) lies on that
 * stack. A task without an mm is a kernel thread: no user registers. The
 * registers are read only when @need_regs or the task is not a kernel thread. */
struct call_abi {
	uint64_t mm;          /* task->mm; 1 when unreadable (never claimed a kthread) */
	uint64_t uregs;       /* the user pt_regs, 0 when not trusted */
	struct tracer_uregs u;   /* with @args: the argument registers saved there */
	int32_t  syscall;
	uint8_t  abi;
};

/* pt_regs from bx (40) to cs (136): one read on the stack's top page (pt_regs
 * sit in its last 168 bytes, never across a page) */
#define PTREGS_BX 40
#define PTREGS_CX 88
#define UREGS_WORDS ((PTREGS_CS + 8 - PTREGS_BX) / 8)
#define UREG(r, off) ((r)[((off) - PTREGS_BX) / 8])

/* The saved user registers at @uregs into r[] (indexed by UREG): with @args
 * bx..cs (exec needs the argument registers), else only orig_ax..cs, the
 * 24 bytes the ABI itself needs (issue 16: fork and exit read no more). */
static int read_uregs(struct vcpu *v, uint64_t uregs, bool args, uint64_t r[UREGS_WORDS])
{
	if (args)
		return guest_read_kstack(v, uregs + PTREGS_BX, r, UREGS_WORDS * 8);
	return guest_read_kstack(v, uregs + PTREGS_ORIG_AX, &UREG(r, PTREGS_ORIG_AX),
				 PTREGS_CS + 8 - PTREGS_ORIG_AX);
}

static void call_abi(struct vcpu *v, struct probe_hit *hit, uint64_t task, bool need_regs,
		     struct call_abi *c)
{
	uint64_t tos, r[UREGS_WORDS];
	bool ok = false;
	memset(r, 0, sizeof(r));
	c->uregs = 0;
	if (guest_read_kobj(v, task + toff.mm, &c->mm, 8))
		c->mm = 1;
	bool kthread = c->mm == 0;
	if ((!kthread || need_regs) &&
	    !guest_read_percpu(v, toff.top_of_stack, &tos, 8) &&
	    hit->rsp < tos && tos - hit->rsp <= TRACER_KSTACK_MAX) {
		c->uregs = tos - PTREGS_SIZE;
		ok = kthread || !read_uregs(v, c->uregs, need_regs, r);
	}
	c->u.bx = UREG(r, PTREGS_BX);
	c->u.cx = UREG(r, PTREGS_CX);
	c->u.si = UREG(r, PTREGS_SI);
	c->u.di = UREG(r, PTREGS_DI);
	c->abi = tracer_abi(kthread, ok, UREG(r, PTREGS_CS), UREG(r, PTREGS_ORIG_AX), &c->syscall);
}

static void on_do_exit(struct vcpu *v, struct probe_hit *hit, uint64_t task)
{
	union guest_regs *r = hit->regs;
	struct hv_event ev;
	struct call_abi c;
	ev_init(&ev, HV_EV_EXIT, v, sizeof(ev.u.exit));
	set_task(v, &ev, task);
	call_abi(v, hit, task, false, &c);
	tracer_exit_status(&ev.u.exit, r->rdi, c.mm == 0);
	/* int $0x80 from 64-bit code: the registers say x64; TS_COMPAT says i386 (read only
	 * when it can change the answer; one bounded, checked 4-byte read of the task) */
	if (toff.ti_status && (c.abi == HV_ABI_X64 || c.abi == HV_ABI_X32)) {
		uint32_t st = 0;
		bool ok = !guest_read_kobj(v, task + toff.ti_status, &st, 4);
		c.abi = tracer_abi_exit(c.abi, ok, st);
		if (c.abi == HV_ABI_UNKNOWN)
			c.syscall = -1;      /* as tracer_abi gives it (docs/EVENTS.md) */
	}
	ev.u.exit.abi = c.abi;
	ev.u.exit.syscall = c.syscall;
	emit(v, &ev);
}

/* The meeting points (issue 15): kernel_clone, do_execveat_common and
 * kernel_execve, reached by every ABI's fork/exec and by the kernel's own. */
static void on_meet_clone(struct vcpu *v, struct probe_hit *hit, uint64_t task,
			  struct tracer_pending *p)
{
	union guest_regs *r = hit->regs;
	struct call_abi c;
	call_abi(v, hit, task, false, &c);
	/* struct kernel_clone_args { u64 flags; ...; int exit_signal; ... } on the
	 * caller's stack: the clone flags with the exit signal in CSIGNAL, as
	 * clone(2) takes them (fork: 0x11, vfork: 0x4111) */
	uint64_t off = toff.kca_exit_signal, flags = 0;
	uint8_t a[72];
	if (off >= 8 && off <= sizeof(a) - 4 && !guest_read_kstack(v, r->rdi, a, (uint32_t)off + 4)) {
		uint32_t sig;
		__builtin_memcpy(&flags, a, 8);
		__builtin_memcpy(&sig, a + off, 4);
		flags |= sig & 0xff;
	}
	if (!p || !arm_return(v, hit, p)) {
		if (p)
			pending_put(p);
		lost(v, task, "fork", !p);
		return;
	}
	p->sc = TR_KERNEL_CLONE;
	p->task = task;
	p->flags = flags;
	p->abi = tracer_abi_fork(c.abi, c.syscall);
	p->syscall = c.syscall;
}

static void on_meet_exec(struct vcpu *v, struct probe_hit *hit, enum tracer_sc sc, uint64_t task,
			 struct tracer_pending *p)
{
	union guest_regs *r = hit->regs;
	struct tracer_reader rd = { .ctx = v, .read = rd_read, .read_str = rd_str };
	struct call_abi c;
	call_abi(v, hit, task, true, &c);
	uint64_t fn, av;
	unsigned psz = 8;
	if (sc == TR_DO_EXECVEAT) {
		/* (int fd, struct filename *filename, struct user_arg_ptr argv, ...):
		 * the 16-byte argv struct { bool is_compat; ptr } is passed in RDX:RCX.
		 * The file name: the user pointer the call passed (the saved registers,
		 * read already), else struct filename { const char *name; const char
		 * __user *uptr; } — the user pointer stays valid after the call, the
		 * kernel copy is freed */
		bool compat = (r->rdx & 0xff) != 0;
		av = r->rcx;
		psz = compat ? 4 : 8;
		c.abi = tracer_abi_check_compat(c.abi, compat);
		if (tracer_exec_uptr(c.abi, c.syscall, &c.u, &fn)) {
			uint64_t f[2] = { 0, 0 };
			if (guest_read_kobj(v, r->rsi, f, sizeof(f)))
				f[0] = f[1] = 0;
			fn = f[1] ? f[1] : f[0];
		}
	} else {
		fn = r->rdi;                          /* kernel_execve: kernel pointers */
		av = r->rsi;
	}
	struct hv_event tmp, *ev = p ? &p->ev : &tmp;
	ev_init(ev, HV_EV_EXEC, v, sizeof(ev->u));
	if (!p || !arm_return(v, hit, p)) {
		if (p)
			pending_put(p);
		lost(v, task, "exec", !p);
		tracer_fill_exec_ptrs(ev, &rd, fn, av, psz);   /* no return to wait for: now */
		ev->u.exec.abi = c.abi;
		ev->u.exec.syscall = c.syscall;
		exec_finish(v, ev, task, false, 0);
		return;
	}
	p->sc = (uint8_t)sc;
	p->task = task;
	p->ptregs = c.uregs;
	p->filename = fn;
	p->argv = av;
	p->ptr_size = (uint8_t)psz;
	p->abi = c.abi;
	p->syscall = c.syscall;
}

static void on_syscall_entry(struct vcpu *v, struct probe_hit *hit, enum tracer_sc sc, uint64_t task,
			     struct tracer_pending *p);

static void on_hit(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	enum tracer_sc sc = (enum tracer_sc)(uintptr_t)ctx;
	uint64_t task;
	if (guest_current_task(v, &task))
		return;
	if (hit->ret_only) {
		/* the site is suspended (the guest's int3 or a rewrite on the entry,
		 * issue 15): take a return armed here, never an entry — a return
		 * given back to the guest would run the function again */
		struct tracer_pending *none;
		struct tracer_pending *p = sc == TR_DO_EXIT ? NULL :
			pending_lookup(task, hit->rsp, hit->va, false, &none);
		if (p)
			on_return(v, hit, p, task);
		return;
	}
	if (sc == TR_DO_EXIT) {
		on_do_exit(v, hit, task);
		return;
	}
	/* every other site is an entry that waits for its result, or its return */
	struct tracer_pending *fresh;
	struct tracer_pending *p = pending_lookup(task, hit->rsp, hit->va,
						  sc != TR_EXIT && sc != TR_EXIT_GROUP, &fresh);
	if (p) {
		on_return(v, hit, p, task);
		return;
	}
	if (sc == TR_KERNEL_CLONE) {
		on_meet_clone(v, hit, task, fresh);
		return;
	}
	if (sc == TR_DO_EXECVEAT || sc == TR_KERNEL_EXECVE) {
		on_meet_exec(v, hit, sc, task, fresh);
		return;
	}
	on_syscall_entry(v, hit, sc, task, fresh);
}

/* Without meeting points: the __x64_sys_* handler entries (RDI = pt_regs). */
static void on_syscall_entry(struct vcpu *v, struct probe_hit *hit, enum tracer_sc sc, uint64_t task,
			     struct tracer_pending *p)
{
	union guest_regs *r = hit->regs;
	uint64_t regs = r->rdi;                   /* struct pt_regs * */
	uint64_t a[3] = { 0, 0, 0 };              /* pt_regs dx, si, di: adjacent */
	struct tracer_reader rd = { .ctx = v, .read = rd_read, .read_str = rd_str };
	_Static_assert(PTREGS_SI == PTREGS_DX + 8 && PTREGS_DI == PTREGS_DX + 16, "pt_regs layout");
	/* read only the arguments the call needs: fork/vfork none, clone(3) the
	 * first, exit(_group) the first, exec(at) two of the three */
	int bad = 0;
	if (sc == TR_EXECVE || sc == TR_EXECVEAT)
		bad = guest_read_kstack(v, regs + PTREGS_DX, a, sizeof(a));
	else if (sc != TR_FORK && sc != TR_VFORK)
		bad = guest_read_kstack(v, regs + PTREGS_DI, &a[2], 8);
	if (bad) {
		if (p)
			pending_put(p);
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
		ev.u.exit.abi = HV_ABI_X64;
		ev.u.exit.syscall = x64_nr[sc];
		emit(v, &ev);
		return;
	}
	case TR_EXECVE:
	case TR_EXECVEAT: {
		struct hv_event tmp, *ev = p ? &p->ev : &tmp;
		ev_init(ev, HV_EV_EXEC, v, sizeof(ev->u));
		uint64_t fn = sc == TR_EXECVE ? di : si, av = sc == TR_EXECVE ? si : dx;
		if (!p || !arm_return(v, hit, p)) {
			if (p)
				pending_put(p);
			lost(v, task, "exec", !p);
			tracer_fill_exec(ev, &rd, fn, av);   /* no return to wait for: now */
			ev->u.exec.abi = HV_ABI_X64;
			ev->u.exec.syscall = x64_nr[sc];
			exec_finish(v, ev, task, false, 0);
			return;
		}
		p->sc = (uint8_t)sc;
		p->task = task;
		p->ptregs = regs;
		p->ptr_size = 8;
		p->abi = HV_ABI_X64;
		p->syscall = x64_nr[sc];
		p->filename = fn;
		p->argv = av;
		return;
	}
	default: {
		uint64_t flags = 0;
		if (tracer_clone_flags(sc, &rd, di, &flags))
			flags = 0;
		if (!p || !arm_return(v, hit, p)) {
			if (p)
				pending_put(p);
			lost(v, task, "fork", !p);
			return;
		}
		p->sc = (uint8_t)sc;
		p->task = task;
		p->flags = flags;
		p->abi = HV_ABI_X64;
		p->syscall = x64_nr[sc];
		return;
	}
	}
}

/* Issue 15: exec/fork where every path meets (64-bit, 32-bit, x32, kernel-
 * internal) and exits at do_exit. Returns false (nothing placed) when the
 * profile lacks one of them: then the 64-bit syscall handlers are probed. */
static bool place_meeting_points(struct vm *vm)
{
	static const enum infer_param meet[] = {
		INFER_P_KERNEL_CLONE, INFER_P_DO_EXECVEAT_COMMON, INFER_P_KERNEL_EXECVE,
		INFER_P_KCA_EXIT_SIGNAL, INFER_P_PCPU_TOP_OF_STACK, INFER_P_DO_EXIT,
	};
	static const enum tracer_sc sites[] = {
		TR_KERNEL_CLONE, TR_DO_EXECVEAT, TR_KERNEL_EXECVE, TR_DO_EXIT,
	};
	for (size_t i = 0; i < sizeof(meet) / sizeof(meet[0]); i++)
		if (!introspect_have(vm, meet[i])) {
			pr_warn("proctrace: %s unknown (%s): only 64-bit syscalls traced (32-bit and "
				"kernel-internal exec/fork are not)\n", infer_param_name(meet[i]),
				vm->profile.p.p[meet[i]].why);
			return false;
		}
	int placed = 0;
	/* named for probe_tamper reports; every fork and exec passes the first
	 * three: they must fire when new address spaces appear (issue 15) */
	static const char *const names[] = { "kernel_clone", "do_execveat_common", "kernel_execve", "do_exit" };
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
		if (!probe_place_as(vm, introspect_value(vm, sc_param[sites[i]].p), on_hit,
				    (void *)(uintptr_t)sites[i], "proctrace", names[i],
				    sites[i] == TR_DO_EXIT ? 0 : PROBE_F_EXPECT_NEWMM | PROBE_F_RETURNS))
			placed++;
	pr_info("proctrace: %d of 4 probes placed (exit events from do_exit; exec/fork at "
		"kernel_clone, do_execveat_common, kernel_execve: every ABI)\n", placed);
	return true;
}

/* before any probe is placed: a hit only reads toff */
static void tracer_offsets(struct vm *vm)
{
	toff.mm = introspect_value(vm, INFER_P_TASK_MM);
	toff.top_of_stack = introspect_value(vm, INFER_P_PCPU_TOP_OF_STACK);
	toff.kca_exit_signal = introspect_value(vm, INFER_P_KCA_EXIT_SIGNAL);
	toff.real_parent = introspect_value(vm, INFER_P_TASK_REAL_PARENT);
	toff.tgid = introspect_value(vm, INFER_P_TASK_TGID);
	toff.cred = introspect_value(vm, INFER_P_TASK_CRED);
	toff.uid = introspect_value(vm, INFER_P_CRED_UID);
	/* optional (issue 15 item 1): without it an exit's ABI is the registers' */
	toff.ti_status = introspect_have(vm, INFER_P_TI_STATUS) ? introspect_value(vm, INFER_P_TI_STATUS) : 0;
}

static void tracer_ready(struct vm *vm)
{
	static const enum infer_param need_task[] = {
		INFER_P_PCPU_CURRENT_TASK, INFER_P_TASK_PID, INFER_P_TASK_TGID, INFER_P_TASK_COMM,
		INFER_P_TASK_REAL_PARENT, INFER_P_TASK_CRED, INFER_P_CRED_UID, INFER_P_TASK_MM,
	};
	static const enum infer_param need[] = {
		INFER_P_SC_EXECVE, INFER_P_SC_EXECVEAT, INFER_P_SC_CLONE, INFER_P_SC_CLONE3,
		INFER_P_SC_FORK, INFER_P_SC_VFORK,
	};
	static const enum infer_param need_exit_sc[] = { INFER_P_SC_EXIT, INFER_P_SC_EXIT_GROUP };
	if (!introspect_require(vm, HV_EMON_TRACER, need_task, sizeof(need_task) / sizeof(need_task[0])))
		return;
	tracer_offsets(vm);
	if (place_meeting_points(vm))
		return;
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
	for (int i = 0; i <= TR_DO_EXIT; i++) {
		bool exit_sc = i == TR_EXIT || i == TR_EXIT_GROUP;
		if (i == TR_DO_EXIT ? !do_exit : (exit_sc && do_exit))
			continue;
		want++;
		/* every entry but the exits sends its return to the site */
		if (!probe_place_as(vm, introspect_value(vm, sc_param[i].p), on_hit, (void *)(uintptr_t)i,
				    "proctrace", NULL, exit_sc || i == TR_DO_EXIT ? 0 : PROBE_F_RETURNS))
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
