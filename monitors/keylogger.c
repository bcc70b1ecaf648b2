/*
 * keylogger — ring -1 side of the keylogger detector (monitors/keylogger.h,
 * docs/MONITORS.md): the port-0x60 hook (vmm/io.c), the syscall-exit probe
 * (vmm/probe.h) armed only for a window after keystrokes, closed by hvmon's tick
 * (vmm/tick.h), and the `keylogger` event.
 */
#include <string.h>
#include "monitors/keylogger.h"
#include "events/event.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/monitor.h"
#include "vmm/intercept.h"
#include "vmm/tick.h"
#include "vmm/probe.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "lib/spinlock.h"
#include "lib/tickhist.h"

#define KEYLOGGER_TICK_MS       100    /* window check period */
#define KEYLOGGER_WINDOW_MIN_MS 100    /* close when every keystroke was consumed and this long passed */
#define KEYLOGGER_WINDOW_MAX_MS 1000   /* close this long after the last keystroke in any case */
#define KEYLOGGER_READ_MAX      1536   /* bytes of a read buffer inspected (64 input events) */
#define KEYLOGGER_REPLY_MS      500    /* a keyboard's reply to a command comes within this time */

#define NR_READ    0
#define NR_PREAD64 17
#define NR_READV   19
#define NR_PREADV  295

/* per vCPU (allocated by the core: hv_vcpu_state): the read buffer inspected */
struct keylogger_vcpu {
	uint8_t buf[KEYLOGGER_READ_MAX];
};

/* Every CPU may read port 0x60 (the i8042 interrupt lands on any CPU) and any CPU
 * may read the keystrokes (the consumer runs wherever the scheduler puts it):
 * the keystroke history, the consumer table, the window and the statistics
 * below are VM-wide and kl_lock serialises them. Order: kl_lock, then the probe
 * table's lock (arm/disarm place the probe); no guest-memory read and no
 * console output is done under it. */
static hv_spinlock_t kl_lock = HV_SPINLOCK_INIT;
static struct vm *kvm;                 /* the guest (set up once) */
static struct keylogger_state ks;             /* keystrokes and consumers of the whole guest */
static uint64_t site, dsc;             /* probe site, do_syscall_64 */
static bool site_ok, placed, have_tick;   /* placed: the window's probe is in (kl_lock) */
static uint64_t last_key_tsc, window_open_tsc, window_seq;
/* statistics */
static uint64_t io_in, io_out, io_other, io_ticks;
static uint64_t windows, window_tsc, place_fail, arm_ticks, disarm_ticks;
static uint64_t hits, hit_ticks, read_fail;
static struct tickhist hit_hist;      /* ticks per exit-site hit, for the median (atomic adds) */
static uint64_t first_key_tsc, first_key_exits, last_key_exits, last_key_hits;   /* typing phase */

static int site_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	return guest_read(ctx, va, buf, len, false);
}

static void on_sysexit(struct vcpu *v, struct probe_hit *hit, void *ctx);

/* The window's probe: kl_lock records what is wanted (want_placed); the probe
 * is placed or removed WITHOUT kl_lock, because that ends in an EPT shootdown
 * that waits for every other CPU's next exit, and a CPU spinning on kl_lock
 * would never take it. One CPU at a time does it (kl_busy); it re-checks the
 * wish afterwards, so a change made meanwhile on another CPU is not lost. */
static bool want_placed, kl_busy;
static uint64_t want_open_tsc, want_seq;

/* under kl_lock */
static void arm(uint64_t now)
{
	if (!site_ok || want_placed)
		return;
	want_placed = true;
	want_open_tsc = now;
	want_seq = ks.next_seq - 2;       /* keystrokes of this window: seq > window_seq */
}

/* under kl_lock */
static void disarm(uint64_t now)
{
	want_placed = false;
}

/* without kl_lock: make the probe follow want_placed */
static void kl_apply(void)
{
	for (int round = 0; round < 4; round++) {      /* bounded: the wish may change meanwhile */
		hv_spin_lock(&kl_lock);
		if (kl_busy || placed == want_placed) {
			hv_spin_unlock(&kl_lock);
			return;
		}
		kl_busy = true;
		bool want = want_placed;
		uint64_t open_tsc = want_open_tsc, seq_at = want_seq;
		hv_spin_unlock(&kl_lock);
		uint64_t t0 = rdtsc();
		int rc = want ? probe_place_quiet(kvm, site, on_sysexit, NULL, "keylogger")
			      : probe_unplace(kvm, site, on_sysexit, NULL);
		uint64_t t1 = rdtsc();
		hv_spin_lock(&kl_lock);
		kl_busy = false;
		if (!want) {
			disarm_ticks += t1 - t0;
			placed = false;
			window_tsc += t1 - window_open_tsc;
		} else {
			arm_ticks += t1 - t0;
			if (rc) {
				place_fail++;
				want_placed = false;
			} else {
				placed = true;
				windows++;
				window_open_tsc = open_tsc;
				window_seq = seq_at;
			}
		}
		hv_spin_unlock(&kl_lock);
	}
}

/* ---- port 0x60 ------------------------------------------------------------ */

/* I/O subscriber (vmm/intercept.h) of port 0x60: performs the access itself */
static int keylogger_io(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	uint16_t port = x->io.port;
	unsigned size = x->io.size;
	bool in = x->io.in;
	uint32_t *val = &x->io.value;
	uint64_t t0 = rdtsc();
	hv_spin_lock(&kl_lock);
	if (!in) {
		io_out++;                          /* keyboard command or controller parameter */
		if (size == 1) {
			outb(port, (uint8_t)*val);
			keylogger_feed_out(&ks, (uint8_t)*val, t0, tick_tsc_hz() / 1000 * KEYLOGGER_REPLY_MS);
		} else if (size == 2) {
			outw(port, (uint16_t)*val);
		} else {
			outl(port, *val);
		}
	} else if (size != 1) {
		io_other++;                        /* not the i8042 driver's access: pass through */
		*val = size == 2 ? inw(port) : inl(port);
	} else {
		io_in++;
		uint8_t st = inb(KEYLOGGER_I8042_STATUS);
		uint8_t b = inb(KEYLOGGER_I8042_DATA);
		*val = b;                          /* the guest gets the byte unchanged */
		if (keylogger_feed_byte(&ks, st, b, t0, NULL)) {
			if (!first_key_tsc) {
				first_key_tsc = t0;
				first_key_exits = v->nr_exits;
			}
			last_key_exits = v->nr_exits;
			last_key_hits = hits;
			last_key_tsc = t0;
			arm(t0);
		}
	}
	hv_spin_unlock(&kl_lock);
	kl_apply();
	__atomic_fetch_add(&io_ticks, rdtsc() - t0, __ATOMIC_RELAXED);
	return HV_ICPT_DONE;
}

/* ---- the window ------------------------------------------------------------ */

static void keylogger_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	if (!__atomic_load_n(&placed, __ATOMIC_RELAXED))
		return;                        /* no window: no lock (every CPU ticks) */
	hv_spin_lock(&kl_lock);
	uint64_t idle = tick_tsc_to_ms(now - last_key_tsc);
	if (placed && want_placed && (idle >= KEYLOGGER_WINDOW_MAX_MS ||
		       (idle >= KEYLOGGER_WINDOW_MIN_MS && !keylogger_unconsumed(&ks, window_seq))))
		disarm(now);
	hv_spin_unlock(&kl_lock);
	kl_apply();
}

/* ---- the syscall exit probe ------------------------------------------------- */

/* @p: a copy of the consumer's entry taken under kl_lock; @key_tsc: when its
 * K-th keystroke was read (0: left the history). Runs without the lock. */
static void report(struct vcpu *v, const struct keylogger_proc *p, uint64_t key_tsc, uint64_t now)
{
	uint64_t delay = key_tsc ? tick_tsc_to_ms(now - key_tsc) : 0;
	pr_warn("keylogger: process %d (%s, tgid %d) consumed %lu keystrokes from %s (K=%u): reported; "
		"%lu ms after keystroke #%lu (its K-th) was read from port 0x60; tsc=%lu\n", p->pid, p->comm, p->tgid,
		(unsigned long)p->count, keylogger_dev_name(p->report_dev), ks.k, (unsigned long)delay,
		(unsigned long)p->report_seq, (unsigned long)now);
	struct hv_event *ev = hv_event_reserve(v->id, HV_EV_KEYLOGGER, HV_EMON_KEYLOGGER);
	if (!ev)
		return;                            /* drop counted by the event core */
	hv_event_set_task(ev, p->pid, p->tgid, p->comm, sizeof(p->comm));
	hv_strlcpy_bounded(ev->u.keylogger.device, sizeof(ev->u.keylogger.device),
			   keylogger_dev_name(p->report_dev), 8);
	ev->u.keylogger.keystrokes = p->count;
	hv_event_commit(v->id);
}

static void on_sysexit(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	uint64_t t0 = rdtsc();
	union guest_regs *r = hit->regs;
	uint64_t regs = r->rdi, nr, ax, buf, len;
	uint64_t pr[6];                           /* pt_regs ax, cx, dx, si, di, orig_ax: one read */
	_Static_assert(KEYLOGGER_PTREGS_ORIG_AX == KEYLOGGER_PTREGS_AX + 40 &&
		       KEYLOGGER_PTREGS_SI == KEYLOGGER_PTREGS_AX + 24, "pt_regs layout");
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
	if (guest_read_kstack(v, regs + KEYLOGGER_PTREGS_AX, pr, sizeof(pr)))
		goto out;
	ax = pr[0];
	nr = pr[5];
	if ((int64_t)ax <= 0)
		goto out;
	if (nr == NR_READ || nr == NR_PREAD64) {
		buf = pr[3];
		len = ax;
	} else if (nr == NR_READV || nr == NR_PREADV) {
		uint64_t iov = pr[3], iov0[2];      /* first iovec only: { base, len } */
		if (guest_read(v, iov, iov0, sizeof(iov0), true))
			goto out;
		buf = iov0[0];
		len = ax < iov0[1] ? ax : iov0[1];
	} else {
		goto out;
	}
	uint32_t have = len < KEYLOGGER_READ_MAX ? (uint32_t)len : KEYLOGGER_READ_MAX;
	uint8_t *kbuf = ((struct keylogger_vcpu *)hv_vcpu_state(v, &keylogger_ops))->buf;
	if (buf >> 47 || guest_read(v, buf, kbuf, have, true)) {
		__atomic_fetch_add(&read_fail, 1, __ATOMIC_RELAXED);   /* not a user pointer, or not readable */
		goto out;
	}
	struct guest_task t;
	if (guest_task_of(v, GUEST_TASK_CURRENT, &t))
		goto out;
	/* the history is VM-wide: a keystroke read from port 0x60 on one CPU is
	 * attributed to the reader whichever CPU it runs on */
	struct keylogger_proc proc;
	uint64_t key_tsc = 0;
	hv_spin_lock(&kl_lock);
	struct keylogger_verdict vd = keylogger_consume(&ks, t.pid, t.tgid, t.comm, kbuf, have, len, t0);
	if (vd.proc) {
		proc = *vd.proc;
		const struct keylogger_keystroke *k = vd.report ? keylogger_find_key(&ks, proc.report_seq) : NULL;
		key_tsc = k ? k->tsc : 0;
	}
	hv_spin_unlock(&kl_lock);
	if (vd.report && vd.proc)
		report(v, &proc, key_tsc, t0);
	else if (vd.allowed_at_k && vd.proc)
		pr_info("keylogger: allowed consumer %d (%s, tgid %d) reached %lu keystrokes from %s: "
			"not reported\n", proc.pid, proc.comm, proc.tgid,
			(unsigned long)proc.count, keylogger_dev_name(vd.dev));
out:;
	uint64_t dt = rdtsc() - t0;
	__atomic_fetch_add(&hit_ticks, dt, __ATOMIC_RELAXED);
	tickhist_add(&hit_hist, dt);
}

/* ---- setup ------------------------------------------------------------------ */

static void keylogger_ready(struct vm *vm)
{
	static const enum infer_param need[] = {
		INFER_P_ENTRY_SYSCALL_64, INFER_P_PCPU_CURRENT_TASK, INFER_P_TASK_PID, INFER_P_TASK_TGID,
		INFER_P_TASK_COMM,
	};
	if (!introspect_require(vm, HV_EMON_KEYLOGGER, need, sizeof(need) / sizeof(need[0])) || !have_tick) {
		pr_warn("keylogger: keystrokes are counted, consumers are not attributed\n");
		return;
	}
	struct keylogger_site_reader rd = { .ctx = vm->vcpus[0], .read = site_read };
	char why[96];
	if (keylogger_find_exit_site(&rd, introspect_value(vm, INFER_P_ENTRY_SYSCALL_64),
			      introspect_value(vm, INFER_P_X64_SYS_CALL),
			      introspect_value(vm, INFER_P_SYS_CALL_TABLE), &site, &dsc, why, sizeof(why))) {
		pr_warn("keylogger: no syscall exit site: %s; consumers are not attributed\n", why);
		return;
	}
	/* check once that the site can be probed; then it is armed per window only */
	if (probe_place(vm, site, on_sysexit, NULL, "keylogger")) {
		pr_warn("keylogger: the syscall exit site %#lx cannot be probed; consumers are not "
			"attributed\n", (unsigned long)site);
		return;
	}
	probe_unplace(vm, site, on_sysexit, NULL);
	site_ok = true;
	pr_info("keylogger: syscall exit site %#lx (do_syscall_64 %#lx): probed for %u-%u ms after "
		"keystrokes; K=%u, %u allowed names\n", (unsigned long)site, (unsigned long)dsc,
		KEYLOGGER_WINDOW_MIN_MS, KEYLOGGER_WINDOW_MAX_MS, ks.k, ks.nallow);
}

static void keylogger_disabled(struct vm *vm)
{
	pr_info("monitor keylogger: off (monitors= option): port 0x60 intercepted: %s\n",
		io_port_intercepted(vm, KEYLOGGER_I8042_DATA) ? "yes" : "no");
}

static int keylogger_setup(struct vm *vm)
{
	const struct keylogger_config *cfg = hv_monitor_config(vm, &keylogger_ops);
	kvm = vm;
	keylogger_init(&ks, cfg->k, (const char (*)[KEYLOGGER_COMM_LEN])cfg->allow, cfg->nr_allow);
	if (hv_intercept_io(vm, KEYLOGGER_I8042_DATA, 1, keylogger_io, NULL)) {
		pr_err("keylogger: cannot hook port 0x60\n");
		return -1;
	}
	if (tick_register("keylogger", KEYLOGGER_TICK_MS, keylogger_tick, NULL))
		pr_warn("keylogger: no tick (table full): a window could not be closed, so consumers will not "
			"be attributed; keystrokes are still counted\n");
	else
		have_tick = true;
	pr_info("keylogger: i8042 data port 0x60 intercepted: %s\n",
		io_port_intercepted(vm, KEYLOGGER_I8042_DATA) ? "yes" : "no");
	return 0;
}

static void keylogger_print_stats(struct vm *vm)
{
	uint64_t ios = io_in + io_out + io_other;
	uint64_t io_own = io_ticks - arm_ticks;    /* decoding only; arming counted below */
	if (placed)
		window_tsc += rdtsc() - window_open_tsc;
	hv_printf("hvmon: keylogger: i8042: %lu port-0x60 exits (%lu IN al, %lu OUT, %lu other), %lu TSC "
		  "ticks/exit without arming; %lu keyboard bytes, %lu keystrokes (make codes), %lu breaks, %lu ignored, "
		  "%lu controller replies, %lu keyboard replies, %lu aux, %lu empty\n", (unsigned long)ios, (unsigned long)io_in, (unsigned long)io_out,
		  (unsigned long)io_other, (unsigned long)(ios ? io_own / ios : 0),
		  (unsigned long)ks.kbd_bytes, (unsigned long)ks.makes, (unsigned long)ks.breaks,
		  (unsigned long)ks.ignored, (unsigned long)ks.ctrl_replies, (unsigned long)ks.kbd_replies,
		  (unsigned long)ks.aux_bytes, (unsigned long)ks.empty_reads);
	hv_printf("hvmon: keylogger: %lu windows (%lu ms armed; %lu TSC ticks to arm, %lu to disarm), %lu exit-site hits (%lu TSC ticks/hit, median %lu, p90 %lu), "
		  "%lu reads inspected (%lu input, %lu tty, %lu other, %lu unreadable), %lu keystrokes "
		  "consumed, %lu unmatched, %lu reports, %lu evictions, %lu placement failures, %lu keystrokes "
		  "left the history unconsumed\n",
		  (unsigned long)windows, (unsigned long)tick_tsc_to_ms(window_tsc),
		  (unsigned long)(windows ? arm_ticks / windows : 0),
		  (unsigned long)(windows ? disarm_ticks / windows : 0), (unsigned long)hits,
		  (unsigned long)(hits ? hit_ticks / hits : 0), (unsigned long)tickhist_median(&hit_hist),
		  (unsigned long)tickhist_percentile(&hit_hist, 90), (unsigned long)ks.reads_seen,
		  (unsigned long)ks.reads_input, (unsigned long)ks.reads_tty, (unsigned long)ks.reads_other,
		  (unsigned long)read_fail, (unsigned long)ks.consumed, (unsigned long)ks.unmatched,
		  (unsigned long)ks.reports, (unsigned long)ks.proc_evictions, (unsigned long)place_fail,
		  (unsigned long)ks.hist_overwritten);
	if (first_key_tsc && last_key_tsc > first_key_tsc) {
		uint64_t ms = tick_tsc_to_ms(last_key_tsc - first_key_tsc);
		uint64_t ex = last_key_exits - first_key_exits;
		hv_printf("hvmon: keylogger: typing phase (first to last keystroke): %lu ms of guest time, %lu exits "
			  "of vCPU 0 (%lu/s), %lu exit-site hits until the last keystroke\n", (unsigned long)ms, (unsigned long)ex,
			  (unsigned long)(ms ? ex * 1000 / ms : 0), (unsigned long)last_key_hits);
	}
	for (unsigned i = 0; i < KEYLOGGER_MAX_PROCS; i++) {
		const struct keylogger_proc *p = &ks.procs[i];
		if (!p->used)
			continue;
		hv_printf("hvmon: keylogger: consumer pid %d tgid %d comm %s: %lu keystrokes (input %lu, tty "
			  "%lu): %s\n", p->pid, p->tgid, p->comm, (unsigned long)p->count,
			  (unsigned long)p->by_dev[KEYLOGGER_DEV_INPUT], (unsigned long)p->by_dev[KEYLOGGER_DEV_TTY],
			  p->reported ? "reported" : p->allowed ? "allowed" : "below K");
	}
}

struct hv_monitor_ops keylogger_ops = {
	.setup = keylogger_setup,
	.disabled = keylogger_disabled,
	.ready = keylogger_ready,
	.print_stats = keylogger_print_stats,
	.vcpu_state_size = sizeof(struct keylogger_vcpu),
};
