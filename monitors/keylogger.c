/*
 * keylogger — ring -1 side of the keylogger detector (monitors/keylogger.h,
 * docs/MONITORS.md): the port-0x60 hook (vmm/io.c), the syscall-exit probe
 * (vmm/probe.h) armed only for a window after keystrokes, closed by hvmon's tick
 * (vmm/tick.h), and the `keylogger` event.
 */
#include <stdio.h>
#include <string.h>
#include "monitors/keylogger.h"
#include "events/event.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/gmem.h"
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
#define KEYLOGGER_WINDOW_LATE_MS 10000 /* an input reader that lags keeps the window open this long at most */
#define KEYLOGGER_IOV_MAX       8      /* iovecs of a readv/preadv/preadv2 inspected */

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
static uint64_t site, dsc;             /* the call (or tail jump) in do_syscall_64, do_syscall_64 */
static bool site_tail;                 /* the site is a tail jump (5.10) */
static uint64_t ret64;                 /* at the exit function's entry, the return address of a 64-bit
					* syscall (keylogger_find_exit: after the site, or after the entry's
					* call to do_syscall_64 when the site is a tail jump) */
static uint64_t probe_va;              /* what the window probes: syscall_exit_to_user_mode (every ABI) or @site;
					* 0: no exit probe (reduced mode: the copy points only) */
static bool probe_entry;               /* probe_va is the callee's entry: the return address tells the ABI */
static bool site_ok, placed, have_tick;   /* placed: the window's probe is in (kl_lock) */
static uint64_t last_key_tsc, window_open_tsc, window_seq;
/* statistics */
static uint64_t io_in, io_out, io_ticks, io_cmd, io_status, io64_ticks;
static uint64_t windows, window_tsc, place_fail, arm_ticks, disarm_ticks;
static uint64_t hits, hit_ticks, read_fail, hits_compat, late_windows, io_raw, io_raw_keys;
static struct tickhist hit_hist;      /* ticks per exit-site hit, for the median (atomic adds) */
static uint64_t first_key_tsc, first_key_exits, last_key_exits, last_key_hits;   /* typing phase */

static int site_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	return guest_read(ctx, va, buf, len, false);
}

static void on_sysexit(struct vcpu *v, struct probe_hit *hit, void *ctx);
static void on_evdev(struct vcpu *v, struct probe_hit *hit, void *ctx);
/* issue 15: input_event_to_user (inferred, 0: unknown or not probe-able), probed with the
 * window's exit probe: every evdev read path copies each event there (io_uring's workers
 * too, which never pass the syscall exit) */
static uint64_t evdev_va;
static bool evdev_placed;                  /* kl_lock */
static uint64_t evdev_hits, evdev_fail, evdev_ticks;
/* issue 15 item 5 gaps A, B: the tty copy point (the call to _copy_to_iter in tty_read, found
 * from the inferred tty_read; 0: unknown or not probe-able), probed with the window's exit
 * probe: every read path of a tty hands the reader its chunks there (io_uring's workers too),
 * and the tty it reads is at hand (tty_site.tty) */
static void on_ttycopy(struct vcpu *v, struct probe_hit *hit, void *ctx);
static struct keylogger_tty_site tty_site;
static uint64_t tty_va;
static bool tty_placed;                    /* kl_lock */
static uint64_t tty_hits, tty_fail, tty_ticks, tty_unread, tty_not_own;
static uint64_t tty_opened_other;          /* chunks of a tty that is not the reader's controlling terminal */

/* without kl_lock: place (@want) or remove the window's probes; 0 when the exit probe
 * followed (the copy probes are additions: *evdev_ok / *tty_ok say whether they are in) */
static int kl_place(bool want, bool *evdev_ok, bool *tty_ok)
{
	int rc;
	if (want) {
		/* the copy points first: no read returns between the placements uncounted */
		*evdev_ok = evdev_va && !probe_place_quiet(kvm, evdev_va, on_evdev, NULL, "keylogger");
		*tty_ok = tty_va && !probe_place_quiet(kvm, tty_va, on_ttycopy, NULL, "keylogger");
		/* reduced mode (no exit probe): the window is the copy points alone */
		rc = probe_va ? probe_place_quiet(kvm, probe_va, on_sysexit, NULL, "keylogger") :
				(*evdev_ok || *tty_ok) ? 0 : -1;
		if (!rc)
			return 0;
	} else {
		rc = probe_va ? probe_unplace(kvm, probe_va, on_sysexit, NULL) : 0;
	}
	if (*evdev_ok)
		probe_unplace(kvm, evdev_va, on_evdev, NULL);
	if (*tty_ok)
		probe_unplace(kvm, tty_va, on_ttycopy, NULL);
	*evdev_ok = *tty_ok = false;
	return rc;
}

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
		bool want = want_placed, ev = evdev_placed, tt = tty_placed;
		uint64_t open_tsc = want_open_tsc, seq_at = want_seq;
		hv_spin_unlock(&kl_lock);
		uint64_t t0 = rdtsc();
		int rc = kl_place(want, &ev, &tt);
		uint64_t t1 = rdtsc();
		hv_spin_lock(&kl_lock);
		kl_busy = false;
		evdev_placed = ev;
		tty_placed = tt;
		ks.tty_at_copy = tt;              /* tty chunks counted at the copy, not at the return */
		ks.input_at_copy = ev;            /* input records counted at the copy, not at the return */
		if (want && evdev_va && !ev && !rc)
			evdev_fail++;
		if (want && tty_va && !tt && !rc)
			tty_fail++;
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

static void report(struct vcpu *v, const struct keylogger_proc *p, uint64_t key_tsc, uint64_t now);
static uint64_t reader_ident(struct vcpu *v, uint64_t task);
static enum keylogger_term reader_term(struct vcpu *v, uint64_t task, uint64_t *ctty);

/* ---- port 0x60 ------------------------------------------------------------ */

/* The i8042 is an 8-bit device: a 16/32-bit access that covers port 0x60 (`in ax,0x60`,
 * `inw` at 0x5f, `in eax` at 0x5d..0x60) reaches it on the LPC bus as byte cycles, so
 * hvmon performs it as such (Bochs refuses wide accesses to byte-only ports with 0xff.. and
 * leaves the byte in the controller; hardware splits them). Byte @i of the access is
 * port + i. The byte at 0x60 is read right after the status (0x64), as for `in al`. */
static uint32_t io_in_bytes(uint16_t port, unsigned size, uint8_t *st, uint8_t *data)
{
	uint32_t val = 0;
	for (unsigned i = 0; i < size && i < 4; i++) {
		uint16_t p = (uint16_t)(port + i);
		uint8_t b;
		if (p == KEYLOGGER_I8042_DATA) {
			*st = inb(KEYLOGGER_I8042_STATUS);
			b = inb(p);
			*data = b;
		} else {
			b = inb(p);
		}
		val |= (uint32_t)b << (8 * i);
	}
	return val;
}

/* OUT: byte @i to port + i. A byte to 0x60 is a keyboard command or a controller
 * command's parameter (the status is read before it: the fallback when no 0x64 write
 * was seen); a byte to 0x64 is a controller command (issue 15: the keyboard bytes read
 * later are its replies only while one is pending). Under kl_lock. */
static void io_out_bytes(uint16_t port, unsigned size, uint32_t val, uint64_t tsc)
{
	uint64_t ttl = tick_tsc_hz() / 1000 * KEYLOGGER_REPLY_MS;
	for (unsigned i = 0; i < size && i < 4; i++) {
		uint16_t p = (uint16_t)(port + i);
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (p == KEYLOGGER_I8042_DATA) {
			uint8_t st = inb(KEYLOGGER_I8042_STATUS);
			outb(p, b);
			keylogger_feed_data_out(&ks, st, b, tsc, ttl);
		} else if (p == KEYLOGGER_I8042_STATUS) {
			outb(p, b);
			keylogger_feed_cmd(&ks, b, tsc, ttl);
		} else {
			outb(p, b);
		}
	}
}

/* I/O subscriber (vmm/intercept.h) of every access that covers port 0x60 (any width,
 * either port: the core calls it for an access overlapping the port): performs the
 * access itself. The driver's access is `in al,0x60` at CPL 0; any other (a user
 * process with ioperm/iopl at CPL 3, or a wide access) reads keystrokes past the
 * kernel: the keystroke is attributed to the task that read it (device "port"). */
static int keylogger_io(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	uint16_t port = x->io.port;
	unsigned size = x->io.size;
	bool in = x->io.in;
	uint32_t *val = &x->io.value;
	uint64_t t0 = rdtsc();
	/* does the access cover the data port (else only the command/status port 0x64) */
	bool data = port <= KEYLOGGER_I8042_DATA && port + size > KEYLOGGER_I8042_DATA;
	bool raw = size != 1 || port != KEYLOGGER_I8042_DATA || vcpu_cpl(v) != 0;
	uint64_t raw_seq = 0;
	if (in && !data) {
		/* a status read (0x64): performed and passed on, only counted — no shared state,
		 * so no kl_lock (the driver polls it once per keyboard byte) */
		uint8_t st = 0, b = 0;
		*val = io_in_bytes(port, size, &st, &b);
		__atomic_fetch_add(&io_status, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&io64_ticks, rdtsc() - t0, __ATOMIC_RELAXED);
		return HV_ICPT_DONE;
	}
	hv_spin_lock(&kl_lock);
	if (!in) {
		if (data)
			io_out++;                  /* keyboard command or controller parameter */
		else
			io_cmd++;                  /* controller command */
		io_out_bytes(port, size, *val, t0);
	} else {
		uint8_t st = 0, b = 0;
		*val = io_in_bytes(port, size, &st, &b);   /* the guest gets the bytes unchanged */
		if (raw)
			io_raw++;
		else
			io_in++;
		if (keylogger_feed_byte(&ks, st, b, t0, NULL)) {
			if (!first_key_tsc) {
				first_key_tsc = t0;
				first_key_exits = v->nr_exits;
			}
			last_key_exits = v->nr_exits;
			last_key_hits = hits;
			last_key_tsc = t0;
			if (raw) {
				raw_seq = ks.next_seq - 1;
				io_raw_keys++;
			} else {
				/* only the driver's bytes open a window: a key read past the driver never
				 * reaches a read() (and a CPL-3 reader's exit runs on its user CR3, which
				 * under PTI does not map the probe sites: placing failed once per key) */
				arm(t0);
			}
		}
	}
	hv_spin_unlock(&kl_lock);
	kl_apply();
	if (raw_seq) {
		/* who read it past the kernel: the current task (no guest read under kl_lock) */
		struct guest_task t;
		if (!guest_task_of(v, GUEST_TASK_CURRENT, &t)) {
			struct keylogger_proc proc;
			uint64_t ident = reader_ident(v, t.ptr);
			uint64_t ctty;
			enum keylogger_term term = reader_term(v, t.ptr, &ctty);   /* for the event only: never allowed */
			hv_spin_lock(&kl_lock);
			struct keylogger_verdict vd = keylogger_consume_port(&ks, t.pid, t.tgid, ident, t.comm, raw_seq, term, t0);
			if (vd.proc)
				proc = *vd.proc;
			hv_spin_unlock(&kl_lock);
			if (vd.report && vd.proc)
				report(v, &proc, t0, t0);
		}
	}
	__atomic_fetch_add(data ? &io_ticks : &io64_ticks, rdtsc() - t0, __ATOMIC_RELAXED);
	return HV_ICPT_DONE;
}

/* ---- the window ------------------------------------------------------------ */

static void keylogger_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	if (!__atomic_load_n(&placed, __ATOMIC_RELAXED))
		return;                        /* no window: no lock (every CPU ticks) */
	hv_spin_lock(&kl_lock);
	uint64_t idle = tick_tsc_to_ms(now - last_key_tsc);
	/* by sequence, not time: while an input reader has not read the newest keystroke
	 * yet the window stays (up to KEYLOGGER_WINDOW_LATE_MS), so its late read is seen
	 * and attributed by the keystrokes' sequence numbers */
	bool lag = keylogger_lagging(&ks, now, tick_tsc_hz() / 1000 * KEYLOGGER_WINDOW_LATE_MS) != 0;
	if (placed && want_placed && (idle >= KEYLOGGER_WINDOW_LATE_MS || (!lag && (idle >= KEYLOGGER_WINDOW_MAX_MS ||
		       (idle >= KEYLOGGER_WINDOW_MIN_MS && !keylogger_unconsumed(&ks, window_seq)))))) {
		if (idle >= KEYLOGGER_WINDOW_MAX_MS && lag)
			late_windows++;
		disarm(now);
	}
	hv_spin_unlock(&kl_lock);
	kl_apply();
}

/* ---- the syscall exit probe ------------------------------------------------- */

/* @p: a copy of the consumer's entry taken under kl_lock; @key_tsc: when its
 * K-th keystroke was read (0: left the history). Runs without the lock. */
static uint64_t rep_n, rep_ticks, note_n, note_ticks;   /* report()s and allowed-consumer notes: ring -1 ticks */

static void report(struct vcpu *v, const struct keylogger_proc *p, uint64_t key_tsc, uint64_t now)
{
	uint64_t t0 = rdtsc();
	uint64_t delay = key_tsc ? tick_tsc_to_ms(now - key_tsc) : 0;
	pr_warn_queued("keylogger: process %d (%s, tgid %d) consumed %lu keystrokes from %s (K=%u): reported; "
		"%lu ms after keystroke #%lu (its K-th) was read from port 0x60; terminal %s; tsc=%lu\n", p->pid, p->comm,
		p->tgid, (unsigned long)p->count, keylogger_dev_name(p->report_dev), ks.k, (unsigned long)delay,
		(unsigned long)p->report_seq, p->report_term == KEYLOGGER_TERM_FG ? "foreground" :
		p->report_term == KEYLOGGER_TERM_OTHER ? "other" : "unknown", (unsigned long)now);
	struct hv_event *ev = hv_event_reserve(v->id, HV_EV_KEYLOGGER, HV_EMON_KEYLOGGER);
	if (!ev)
		goto out;                          /* drop counted by the event core */
	hv_event_set_task(ev, p->pid, p->tgid, p->comm, sizeof(p->comm));
	hv_strlcpy_bounded(ev->u.keylogger.device, sizeof(ev->u.keylogger.device),
			   keylogger_dev_name(p->report_dev), 8);
	ev->u.keylogger.keystrokes = p->count;
	/* appended (issue 15): how its terminal was judged; "unknown" without the tty structures */
	ev->u.keylogger.terminal = p->report_term == KEYLOGGER_TERM_FG ? HV_KL_TERM_FOREGROUND :
				   p->report_term == KEYLOGGER_TERM_OTHER ? HV_KL_TERM_OTHER : HV_KL_TERM_UNKNOWN;
	hv_event_commit(v->id);
out:
	__atomic_fetch_add(&rep_n, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&rep_ticks, rdtsc() - t0, __ATOMIC_RELAXED);
}

/* Read the bytes a read returned into @kbuf (up to KEYLOGGER_READ_MAX): the buffer,
 * or the non-empty iovecs in order. Every pointer is checked to be a user-half address
 * for the paging mode (gmem_user_va: 2^47, or 2^56 with LA57) and read with user
 * permission. Returns the bytes copied (0: nothing readable). */
static uint32_t read_user_data(struct vcpu *v, const struct keylogger_read_args *a, uint64_t ax, uint8_t *kbuf)
{
	bool la57 = vcpu_la57(v);
	struct keylogger_span sp[KEYLOGGER_IOV_MAX];
	size_t nsp = 1;
	if (!a->iov) {
		sp[0].base = a->ptr;
		sp[0].len = ax;
	} else {
		uint8_t iov[KEYLOGGER_IOV_MAX * 16];
		uint64_t n = a->cnt < KEYLOGGER_IOV_MAX ? a->cnt : KEYLOGGER_IOV_MAX;
		uint32_t es = a->iov32 ? 8 : 16;
		if (!n || !gmem_user_va(a->ptr, la57) || guest_read(v, a->ptr, iov, (uint32_t)(n * es), true))
			return 0;
		nsp = keylogger_iov_gather(iov, n, a->iov32, ax, sp, KEYLOGGER_IOV_MAX);
	}
	uint32_t have = 0;
	for (size_t i = 0; i < nsp && have < KEYLOGGER_READ_MAX; i++) {
		uint64_t len = sp[i].len;
		if (len > KEYLOGGER_READ_MAX - have)
			len = KEYLOGGER_READ_MAX - have;
		if (!gmem_user_va(sp[i].base, la57) || !gmem_user_va(sp[i].base + len - 1, la57) ||
		    guest_read(v, sp[i].base, kbuf + have, (uint32_t)len, true))
			return have;
		have += (uint32_t)len;
	}
	return have;
}

/* The reader's terminal (monitors/keylogger.h enum keylogger_term), from the guest's
 * tty structures: task->signal->tty (its controlling terminal), that tty's foreground
 * group tty->ctrl.pgrp (->pgrp before 5.11) against the task's own group
 * task->signal->pids[PIDTYPE_PGID] (struct pid pointers: compared, never followed),
 * and the tty's name (a virtual console "ttyN" is where the keyboard's keys go).
 * Offsets inferred (BTF, docs/INFER.md); every pointer is read with a checked guest
 * read, so a hostile kernel can lie about its terminals but not crash ring -1. */
#define PIDTYPE_PGID 2
static bool have_term;
static uint64_t fgc_va;                /* fg_console (inferred; 0: unknown, any console counts) */
static uint64_t term_fg, term_other, term_unknown;

static enum keylogger_term reader_term(struct vcpu *v, uint64_t task, uint64_t *ctty)
{
	*ctty = 0;
	if (!have_term || !task)
		return KEYLOGGER_TERM_UNKNOWN;
	uint64_t sig, tty, pgrp, fg;
	char name[8];
	if (guest_read_kobj(v, task + introspect_value(kvm, INFER_P_TASK_SIGNAL), &sig, 8) || !sig ||
	    guest_read_kobj(v, sig + introspect_value(kvm, INFER_P_SIGNAL_TTY), &tty, 8) ||
	    guest_read_kobj(v, sig + introspect_value(kvm, INFER_P_SIGNAL_PIDS) + 8 * PIDTYPE_PGID, &pgrp, 8))
		return KEYLOGGER_TERM_UNKNOWN;
	*ctty = tty;
	if (!tty)
		return KEYLOGGER_TERM_OTHER;              /* no controlling terminal */
	if (guest_read_kobj(v, tty + introspect_value(kvm, INFER_P_TTY_PGRP), &fg, 8) ||
	    guest_read_kobj(v, tty + introspect_value(kvm, INFER_P_TTY_NAME), name, sizeof(name)))
		return KEYLOGGER_TERM_UNKNOWN;
	/* the active VT (issue 15: keys typed go to the foreground console only; another
	 * session's console is not where they were typed): fg_console, 0 = tty1 */
	int32_t fgc = -1;
	if (fgc_va && (guest_read_kobj(v, fgc_va, &fgc, sizeof(fgc)) || fgc < 0 || fgc > 62))
		return KEYLOGGER_TERM_UNKNOWN;
	return keylogger_judge_term(tty, fg, pgrp, name, sizeof(name), fgc);
}

/* Who the reader is, beyond its tgid (issue 15 item 5: a rename must not restart its
 * count): the process's signal_struct (shared by its threads, io_uring's workers
 * included, kept across exec; inferred from BTF), else its group leader's task_struct.
 * A value, compared, never followed; 0 when unreadable (then the tgid alone). */
static uint64_t reader_ident(struct vcpu *v, uint64_t task)
{
	uint64_t id = 0;
	enum infer_param p = introspect_have(kvm, INFER_P_TASK_SIGNAL) ? INFER_P_TASK_SIGNAL : INFER_P_TASK_GROUP_LEADER;
	if (!task || !introspect_have(kvm, p) || guest_read_kobj(v, task + introspect_value(kvm, p), &id, 8))
		return 0;
	return id;
}

/* The reader's identity and terminal verdict (both for the consumer's judgement),
 * counted by verdict for the statistics. */
static enum keylogger_term reader_judge(struct vcpu *v, uint64_t task, uint64_t opened, uint64_t *ident)
{
	uint64_t ctty;
	enum keylogger_term term = reader_term(v, task, &ctty);
	*ident = reader_ident(v, task);
	/* issue 15 item 5 gap B: the tty it reads (0: unknown, a read seen at its return) must be
	 * its own terminal for it to be the keyboard's consumer */
	if (opened && opened != ctty)
		__atomic_fetch_add(&tty_opened_other, 1, __ATOMIC_RELAXED);   /* whatever the verdict */
	enum keylogger_term by_opened = keylogger_judge_opened(term, opened, ctty);
	if (by_opened != term) {
		__atomic_fetch_add(&tty_not_own, 1, __ATOMIC_RELAXED);
		term = by_opened;
	}
	__atomic_fetch_add(term == KEYLOGGER_TERM_FG ? &term_fg : term == KEYLOGGER_TERM_OTHER ? &term_other : &term_unknown,
			   1, __ATOMIC_RELAXED);
	return term;
}

/* issue 15 item 5 B: an io-wq worker of 5.10 (a kernel thread borrowing the submitter's mm) reads
 * for the process that owns that mm (keylogger_mm_owner: a bounded, cross-checked walk of the
 * process list); the last answer is cached and re-checked (its mm and tgid still the same) before
 * it is used again. Without the offsets, or when no single owner is found, the worker itself is
 * the reader (a `kthread` reader, counted). */
static bool have_owner;
static struct keylogger_task_layout owner_l;
static hv_spinlock_t owner_lock = HV_SPINLOCK_INIT;      /* the cache below; no guest read under it */
static uint64_t owner_mm, owner_task;
static int32_t owner_tgid;
static uint64_t kt_readers, kt_attributed, kt_unattributed, kt_walks, kt_steps_max;

static int owner_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	return guest_read_kobj(ctx, va, buf, len);
}

static void reader_owner(struct vcpu *v, struct guest_task *t)
{
	struct keylogger_site_reader rd = { .ctx = v, .read = owner_read };
	uint64_t mm, task = 0;
	if (!have_owner || keylogger_kthread_reader(&rd, &owner_l, t->ptr, &mm) != 1)
		return;
	__atomic_fetch_add(&kt_readers, 1, __ATOMIC_RELAXED);
	hv_spin_lock(&owner_lock);
	uint64_t cmm = owner_mm, ctask = owner_task;
	int32_t ctgid = owner_tgid;
	hv_spin_unlock(&owner_lock);
	if (cmm == mm && ctask) {                 /* re-check the cached owner: still that mm's */
		uint64_t m2;
		int32_t tg;
		if (!guest_read_kobj(v, ctask + owner_l.mm, &m2, 8) && m2 == mm &&
		    !guest_read_kobj(v, ctask + owner_l.tgid, &tg, 4) && tg == ctgid)
			task = ctask;
	}
	if (!task) {
		struct keylogger_owner o;
		int rc = keylogger_mm_owner(&rd, &owner_l, mm, t->ptr, &o);
		__atomic_fetch_add(&kt_walks, 1, __ATOMIC_RELAXED);
		if (o.steps > __atomic_load_n(&kt_steps_max, __ATOMIC_RELAXED))
			__atomic_store_n(&kt_steps_max, o.steps, __ATOMIC_RELAXED);
		if (!rc) {
			task = o.task;
			hv_spin_lock(&owner_lock);
			owner_mm = mm;
			owner_task = o.task;
			owner_tgid = o.tgid;
			hv_spin_unlock(&owner_lock);
		}
	}
	struct guest_task owner;
	if (!task || guest_task_of(v, task, &owner)) {
		__atomic_fetch_add(&kt_unattributed, 1, __ATOMIC_RELAXED);
		return;                               /* a `kthread` reader: the worker itself */
	}
	__atomic_fetch_add(&kt_attributed, 1, __ATOMIC_RELAXED);
	*t = owner;
}

/* Under kl_lock: copy what the verdict names (the table entry may be reused once the
 * lock is dropped) and the TSC of the keystroke a report is about. */
static void verdict_take(const struct keylogger_verdict *vd, struct keylogger_proc *proc, uint64_t *key_tsc)
{
	if (!vd->proc)
		return;
	*proc = *vd->proc;
	const struct keylogger_keystroke *k = vd->report ? keylogger_find_key(&ks, proc->report_seq) : NULL;
	*key_tsc = k ? k->tsc : 0;
}

/* After kl_lock: the event, or the one line for an allowed consumer reaching K. */
static void verdict_act(struct vcpu *v, const struct keylogger_verdict *vd, const struct keylogger_proc *proc,
			uint64_t key_tsc, uint64_t t0)
{
	if (vd->report && vd->proc) {
		report(v, proc, key_tsc, t0);
	} else if (vd->allowed_at_k && vd->proc) {
		uint64_t n0 = rdtsc();
		pr_info_queued("keylogger: allowed consumer %d (%s, tgid %d) reached %lu keystrokes from %s: "
			"not reported\n", proc->pid, proc->comm, proc->tgid,
			(unsigned long)proc->count, keylogger_dev_name(vd->dev));
		__atomic_fetch_add(&note_n, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&note_ticks, rdtsc() - n0, __ATOMIC_RELAXED);
	}
}

static void on_sysexit(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	uint64_t t0 = rdtsc();
	union guest_regs *r = hit->regs;
	uint64_t regs = r->rdi, ax;
	uint64_t pr[13];                          /* pt_regs bx .. cs: one read */
	_Static_assert(KEYLOGGER_PTREGS_AX == 40 + 5 * 8 && KEYLOGGER_PTREGS_ORIG_AX == 40 + 10 * 8, "pt_regs layout");
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
	/* the ABI: at syscall_exit_to_user_mode's entry the return address says who
	 * called it: do_syscall_64 (64-bit and x32), else the compat entries (int $0x80,
	 * sysenter, compat syscall) or a new task's first return (result 0, skipped) */
	bool compat = false;
	if (probe_entry) {
		uint64_t ret;
		if (guest_read_kstack(v, hit->rsp, &ret, sizeof(ret)))
			goto out;
		compat = ret != ret64;
	}
	if (guest_read_kstack(v, regs + 40, pr, sizeof(pr)))
		goto out;
	ax = pr[5];
	if (compat) {
		ax = (uint32_t)ax;                /* a compat result is 32 bits */
		if ((int32_t)ax <= 0)
			goto out;
	} else if ((int64_t)ax <= 0) {
		goto out;
	}
	struct keylogger_read_args a;
	if (!keylogger_read_call(pr, compat, &a))
		goto out;
	if (compat)
		__atomic_fetch_add(&hits_compat, 1, __ATOMIC_RELAXED);
	uint8_t *kbuf = ((struct keylogger_vcpu *)hv_vcpu_state(v, &keylogger_ops))->buf;
	uint32_t have = read_user_data(v, &a, ax, kbuf);
	if (!have) {
		__atomic_fetch_add(&read_fail, 1, __ATOMIC_RELAXED);   /* not a user pointer, or not readable */
		goto out;
	}
	uint64_t len = ax;
	struct guest_task t;
	if (guest_task_of(v, GUEST_TASK_CURRENT, &t))
		goto out;
	/* the history is VM-wide: a keystroke read from port 0x60 on one CPU is
	 * attributed to the reader whichever CPU it runs on */
	struct keylogger_proc proc;
	uint64_t key_tsc = 0;
	/* who it is, not its name (five checked guest reads; only reads that returned
	 * data while the window is open get here) */
	uint64_t ident;
	enum keylogger_term term = reader_judge(v, t.ptr, 0, &ident);
	hv_spin_lock(&kl_lock);
	struct keylogger_verdict vd = keylogger_consume_rec(&ks, t.pid, t.tgid, ident, t.comm, kbuf, have, len, a.rec, term, t0);
	verdict_take(&vd, &proc, &key_tsc);
	hv_spin_unlock(&kl_lock);
	verdict_act(v, &vd, &proc, key_tsc, t0);
out:;
	uint64_t dt = rdtsc() - t0;
	__atomic_fetch_add(&hit_ticks, dt, __ATOMIC_RELAXED);
	tickhist_add(&hit_hist, dt);
}

/* input_event_to_user(char __user *buffer, const struct input_event *event) entry:
 * the kernel copies one event of an evdev read to the reader (RSI: the kernel's
 * struct input_event, 24 bytes on x86-64 whatever the reader's ABI: 16-byte time,
 * u16 type, u16 code, s32 value). The reader is the current task: the reading thread,
 * or the io_uring worker thread of its process (5.12+). */
static void on_evdev(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	uint64_t t0 = rdtsc();
	union guest_regs *r = hit->regs;
	uint8_t e[KEYLOGGER_INPUT_EVENT_SIZE];
	__atomic_fetch_add(&evdev_hits, 1, __ATOMIC_RELAXED);
	/* the event is evdev_read's local: on the reader's (vmalloc'd) kernel stack */
	if (!(r->rsi >> 63) || guest_read_kstack(v, r->rsi, e, sizeof(e))) {
		__atomic_fetch_add(&read_fail, 1, __ATOMIC_RELAXED);
		goto out;
	}
	uint16_t type, code;
	int32_t value;
	memcpy(&type, e + 16, 2);
	memcpy(&code, e + 18, 2);
	memcpy(&value, e + 20, 4);
	struct guest_task t;
	if (type != 1 || guest_task_of(v, GUEST_TASK_CURRENT, &t)) {
		if (type != 1) {
			hv_spin_lock(&kl_lock);
			ks.events_seen++;          /* SYN, MSC, ...: no key, no task look-up */
			hv_spin_unlock(&kl_lock);
		}
		goto out;
	}
	reader_owner(v, &t);                       /* 5.10's io-wq worker: its mm's owner */
	uint64_t ident;
	enum keylogger_term term = reader_judge(v, t.ptr, 0, &ident);
	struct keylogger_proc proc;
	uint64_t key_tsc = 0;
	hv_spin_lock(&kl_lock);
	struct keylogger_verdict vd = keylogger_consume_event(&ks, t.pid, t.tgid, ident, t.comm, type, code, value, term, t0);
	verdict_take(&vd, &proc, &key_tsc);
	hv_spin_unlock(&kl_lock);
	verdict_act(v, &vd, &proc, key_tsc, t0);
out:
	__atomic_fetch_add(&evdev_ticks, rdtsc() - t0, __ATOMIC_RELAXED);
}

/* The tty copy point (keylogger_find_tty_copy): `call _copy_to_iter` in tty_read with RDI =
 * kernel_buf (tty_read's local: the reader's kernel stack), RSI = the chunk's length (<= 64),
 * the tty in a callee-saved register or a frame slot. The reader is the current task: the
 * reading thread, or the io_uring worker thread of its process. */
static void on_ttycopy(struct vcpu *v, struct probe_hit *hit, void *ctx)
{
	uint64_t t0 = rdtsc();
	union guest_regs *r = hit->regs;
	uint8_t b[KEYLOGGER_TTY_CHUNK_MAX];
	uint64_t n = r->rsi, tty = 0;
	__atomic_fetch_add(&tty_hits, 1, __ATOMIC_RELAXED);
	if (!n || n > sizeof(b) || !(r->rdi >> 63) || guest_read_kstack(v, r->rdi, b, (uint32_t)n)) {
		__atomic_fetch_add(&tty_unread, 1, __ATOMIC_RELAXED);
		goto out;
	}
	/* the tty it reads: a value compared with its controlling terminal, never followed */
	if (tty_site.tty.kind == KEYLOGGER_LOC_REG)
		tty = r->by_index[tty_site.tty.reg & 15];
	else if (guest_read_kstack(v, hit->rsp + (uint64_t)tty_site.tty.disp, &tty, sizeof(tty)))
		tty = 0;
	if (!(tty >> 63))
		tty = 0;                           /* not a kernel pointer: unknown */
	struct guest_task t;
	if (guest_task_of(v, GUEST_TASK_CURRENT, &t))
		goto out;
	reader_owner(v, &t);                       /* 5.10's io-wq worker: its mm's owner */
	uint64_t ident;
	enum keylogger_term term = reader_judge(v, t.ptr, tty, &ident);
	struct keylogger_proc proc;
	uint64_t key_tsc = 0;
	hv_spin_lock(&kl_lock);
	struct keylogger_verdict vd = keylogger_consume_tty(&ks, t.pid, t.tgid, ident, t.comm, b, n, term, t0);
	verdict_take(&vd, &proc, &key_tsc);
	hv_spin_unlock(&kl_lock);
	verdict_act(v, &vd, &proc, key_tsc, t0);
out:
	__atomic_fetch_add(&tty_ticks, rdtsc() - t0, __ATOMIC_RELAXED);
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
	struct keylogger_exit ex;
	if (keylogger_find_exit(&rd, introspect_value(vm, INFER_P_ENTRY_SYSCALL_64),
				introspect_value(vm, INFER_P_X64_SYS_CALL),
				introspect_value(vm, INFER_P_SYS_CALL_TABLE), &ex, why, sizeof(why))) {
		pr_warn("keylogger: no syscall exit site: %s; reduced mode: reads are seen at the evdev and tty "
			"copy points only (not at their return)\n", why);
	} else {
		site = ex.site;
		dsc = ex.dsc;
		ret64 = ex.ret64;
		site_tail = ex.tail;
		/* The site is `call syscall_exit_to_user_mode` (6.x) or a tail jump to it (5.10);
		 * probing the target's entry sees the compat entries' returns too (int $0x80,
		 * sysenter, compat syscall reach it with the same pt_regs), and the return address
		 * there tells the ABI (ret64). Check once that it can be probed (else fall back to
		 * a call site: 64-bit reads only; a tail jump is not emulated by the probe engine);
		 * then it is armed per window only. */
		if (!probe_place(vm, ex.exit_fn, on_sysexit, NULL, "keylogger")) {
			probe_unplace(vm, ex.exit_fn, on_sysexit, NULL);
			probe_va = ex.exit_fn;
			probe_entry = true;
		} else if (!ex.tail && !probe_place(vm, site, on_sysexit, NULL, "keylogger")) {
			probe_unplace(vm, site, on_sysexit, NULL);
			probe_va = site;
			pr_warn("keylogger: syscall_exit_to_user_mode cannot be probed: only 64-bit reads are seen\n");
		} else {
			pr_warn("keylogger: the syscall exit %#lx (%s %#lx) cannot be probed; reduced mode: reads are "
				"seen at the evdev and tty copy points only (not at their return)\n",
				(unsigned long)ex.exit_fn, ex.tail ? "tail jump" : "call", (unsigned long)site);
		}
	}
	/* issue 15: the evdev copy point (io_uring and every other read path of an input
	 * device), checked once like the exit probe; without it input records are counted
	 * at the read's return (read, readv, preadv, preadv2, compat: not io_uring) */
	if (introspect_have(vm, INFER_P_INPUT_EVENT_TO_USER)) {
		uint64_t va = introspect_value(vm, INFER_P_INPUT_EVENT_TO_USER);
		if (!probe_place(vm, va, on_evdev, NULL, "keylogger")) {
			probe_unplace(vm, va, on_evdev, NULL);
			evdev_va = va;
		}
	}
	if (!evdev_va)
		pr_warn("keylogger: input_event_to_user unknown or not probe-able: evdev reads are seen at the "
			"syscall return only (io_uring reads of an input device are not seen)\n");
	/* issue 15 item 5 gap A: the tty copy point (every read path of a tty), checked once */
	char twhy[96] = "no tty_read (inference)";
	if (introspect_have(vm, INFER_P_TTY_READ) &&
	    !keylogger_find_tty_copy(&rd, introspect_value(vm, INFER_P_TTY_READ), &tty_site, twhy, sizeof(twhy))) {
		if (!probe_place(vm, tty_site.site, on_ttycopy, NULL, "keylogger")) {
			probe_unplace(vm, tty_site.site, on_ttycopy, NULL);
			tty_va = tty_site.site;
		} else {
			snprintf(twhy, sizeof(twhy), "the copy call %#lx cannot be probed", (unsigned long)tty_site.site);
		}
	}
	if (tty_va)
		pr_info("keylogger: tty chunks counted at tty_read's copy %#lx (tty_read %#lx; every read path, io_uring "
			"included); the tty read is in %s %#x\n", (unsigned long)tty_va,
			(unsigned long)introspect_value(vm, INFER_P_TTY_READ),
			tty_site.tty.kind == KEYLOGGER_LOC_REG ? "register" : "the frame at rsp +",
			tty_site.tty.kind == KEYLOGGER_LOC_REG ? (unsigned)tty_site.tty.reg : (unsigned)tty_site.tty.disp);
	else
		pr_warn("keylogger: no tty copy point (%s): tty reads are seen at the syscall return only (io_uring "
			"reads of a tty are not seen; which tty a reader opened is not known)\n", twhy);
	/* a window needs one probe at least: the exit probe or a copy point (reduced mode) */
	site_ok = probe_va || evdev_va || tty_va;
	if (!site_ok) {
		pr_warn("keylogger: no syscall exit probe and no copy point: keystrokes are counted, consumers are "
			"not attributed\n");
		return;
	}
	fgc_va = introspect_value(vm, INFER_P_FG_CONSOLE);
	have_owner = introspect_have(vm, INFER_P_INIT_TASK) && introspect_have(vm, INFER_P_TASK_TASKS) &&
		     introspect_have(vm, INFER_P_TASK_MM) && introspect_have(vm, INFER_P_TASK_REAL_PARENT);
	owner_l = (struct keylogger_task_layout){
		introspect_value(vm, INFER_P_INIT_TASK), (uint32_t)introspect_value(vm, INFER_P_TASK_TASKS),
		(uint32_t)introspect_value(vm, INFER_P_TASK_MM), (uint32_t)introspect_value(vm, INFER_P_TASK_PID),
		(uint32_t)introspect_value(vm, INFER_P_TASK_TGID), (uint32_t)introspect_value(vm, INFER_P_TASK_REAL_PARENT) };
	if (!have_owner)
		pr_warn("keylogger: init_task/task_struct.tasks/mm/real_parent unknown: a kernel thread reading for a "
			"process (5.10's io_uring workers) is reported as itself\n");
	if (!fgc_va)
		pr_warn("keylogger: fg_console unknown: the foreground of any virtual console counts as the "
			"keyboard's consumer, not only the active one's\n");
	have_term = introspect_have(vm, INFER_P_TASK_SIGNAL) && introspect_have(vm, INFER_P_SIGNAL_TTY) &&
		    introspect_have(vm, INFER_P_SIGNAL_PIDS) && introspect_have(vm, INFER_P_TTY_PGRP) &&
		    introspect_have(vm, INFER_P_TTY_NAME);
	if (!have_term)
		pr_warn("keylogger: the tty structures are unknown (inference: task_struct.signal, signal_struct.tty/pids, "
			"tty_struct.pgrp/name): no reader can be judged the foreground of its terminal, every reader "
			"of K keystrokes is reported (events: terminal \"unknown\")\n");
	if (probe_va) {
		pr_info("keylogger: syscall exit site %#lx (do_syscall_64 %#lx, %s): probed for %u-%u ms after "
			"keystrokes; K=%u, %u allowed names\n", (unsigned long)site, (unsigned long)dsc,
			site_tail ? "tail jump" : "call",
			KEYLOGGER_WINDOW_MIN_MS, KEYLOGGER_WINDOW_MAX_MS, ks.k, ks.nallow);
		pr_info("keylogger: probe at %#lx (%s): 64-bit, x32 and i386 reads\n", (unsigned long)probe_va,
			probe_entry ? "syscall_exit_to_user_mode, every ABI" : "the site, 64-bit only");
	} else {
		pr_info("keylogger: reduced mode: no syscall exit probe; evdev and tty copy points probed for %u-%u ms "
			"after keystrokes; K=%u, %u allowed names\n", KEYLOGGER_WINDOW_MIN_MS, KEYLOGGER_WINDOW_MAX_MS,
			ks.k, ks.nallow);
	}
	if (evdev_va)
		pr_info("keylogger: evdev events counted at input_event_to_user %#lx (every read path, io_uring "
			"included); active console from fg_console %#lx\n", (unsigned long)evdev_va,
			(unsigned long)fgc_va);
}

static void keylogger_disabled(struct vm *vm)
{
	pr_info("monitor keylogger: off (monitors= option): port 0x60 intercepted: %s, port 0x64: %s\n",
		io_port_intercepted(vm, KEYLOGGER_I8042_DATA) ? "yes" : "no",
		io_port_intercepted(vm, KEYLOGGER_I8042_STATUS) ? "yes" : "no");
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
	/* the command port too (issue 15): which commands the guest gave decides which data
	 * bytes are controller replies; without it, status bit 3 decides (a raw reader that
	 * read the command byte then hides its keys under that bit) */
	if (hv_intercept_io(vm, KEYLOGGER_I8042_STATUS, 1, keylogger_io, NULL))
		pr_warn("keylogger: cannot hook port 0x64: controller replies judged by status bit 3\n");
	if (tick_register("keylogger", KEYLOGGER_TICK_MS, keylogger_tick, NULL))
		pr_warn("keylogger: no tick (table full): a window could not be closed, so consumers will not "
			"be attributed; keystrokes are still counted\n");
	else
		have_tick = true;
	pr_info("keylogger: i8042 data port 0x60 intercepted: %s, command port 0x64: %s\n",
		io_port_intercepted(vm, KEYLOGGER_I8042_DATA) ? "yes" : "no",
		io_port_intercepted(vm, KEYLOGGER_I8042_STATUS) ? "yes" : "no");
	return 0;
}

static void keylogger_print_stats(struct vm *vm)
{
	uint64_t ios = io_in + io_out + io_raw;   /* port-0x60 accesses (0x64's below) */
	uint64_t io_own = io_ticks - arm_ticks;    /* decoding only; arming counted below */
	if (placed)
		window_tsc += rdtsc() - window_open_tsc;
	hv_printf("hvmon: keylogger: i8042: %lu port-0x60 exits (%lu IN al, %lu OUT, %lu other IN), %lu TSC "
		  "ticks/exit without arming; %lu keyboard bytes, %lu keystrokes (make codes), %lu breaks, %lu ignored, "
		  "%lu controller replies, %lu keyboard replies, %lu aux, %lu empty\n", (unsigned long)ios, (unsigned long)io_in, (unsigned long)io_out,
		  (unsigned long)io_raw, (unsigned long)(ios ? io_own / ios : 0),
		  (unsigned long)ks.kbd_bytes, (unsigned long)ks.makes, (unsigned long)ks.breaks,
		  (unsigned long)ks.ignored, (unsigned long)ks.ctrl_replies, (unsigned long)ks.kbd_replies,
		  (unsigned long)ks.aux_bytes, (unsigned long)ks.empty_reads);
	hv_printf("hvmon: keylogger: i8042 command port 0x64: %lu status reads, %lu commands (%lu parameters "
		  "to 0x60), %lu TSC ticks/exit; controller replies judged by %s\n", (unsigned long)io_status,
		  (unsigned long)io_cmd, (unsigned long)ks.ctrl_params,
		  (unsigned long)(io_status + io_cmd ? io64_ticks / (io_status + io_cmd) : 0),
		  ks.cmd_watch ? "the commands seen" : "status bit 3");
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
	hv_printf("hvmon: keylogger: evdev copy point input_event_to_user: %lu hits (%lu TSC ticks/hit), %lu events "
		  "(%lu key presses), %lu windows without it (placement failed)\n", (unsigned long)evdev_hits,
		  (unsigned long)(evdev_hits ? evdev_ticks / evdev_hits : 0), (unsigned long)ks.events_seen,
		  (unsigned long)ks.events_keys, (unsigned long)evdev_fail);
	hv_printf("hvmon: keylogger: tty copy point: %lu hits (%lu TSC ticks/hit), %lu chunks (%lu typed keys), %lu "
		  "unreadable, %lu windows without it (placement failed); %lu reads of a tty that is not the reader's "
		  "own terminal judged other; %lu chunks read from a tty that is not the reader's controlling terminal\n",
		  (unsigned long)tty_hits,
		  (unsigned long)(tty_hits ? tty_ticks / tty_hits : 0), (unsigned long)ks.tty_chunks,
		  (unsigned long)ks.tty_chunks_keys, (unsigned long)tty_unread, (unsigned long)tty_fail,
		  (unsigned long)tty_not_own, (unsigned long)tty_opened_other);
	hv_printf("hvmon: keylogger: raw i8042 reads (not the driver's `in al` at CPL 0): %lu, %lu keystrokes; "
		  "%lu port keystrokes attributed; %lu compat (i386) reads; %lu windows closed at the cap with a reader "
		  "still lagging (cap %u ms); probe %s; reader terminals: %lu foreground of a console, %lu other, %lu unknown\n",
		  (unsigned long)io_raw, (unsigned long)io_raw_keys,
		  (unsigned long)ks.reads_port, (unsigned long)hits_compat, (unsigned long)late_windows,
		  KEYLOGGER_WINDOW_LATE_MS, probe_entry ? "syscall_exit_to_user_mode (every ABI)" : "do_syscall_64's site",
		  (unsigned long)term_fg, (unsigned long)term_other, (unsigned long)term_unknown);
	hv_printf("hvmon: keylogger: kernel-thread readers with a borrowed mm (5.10 io-wq): %lu reads, %lu attributed "
		  "to the mm's owner, %lu reported as the kernel thread; %lu process-list walks (max %lu entries)\n",
		  (unsigned long)kt_readers, (unsigned long)kt_attributed, (unsigned long)kt_unattributed,
		  (unsigned long)kt_walks, (unsigned long)kt_steps_max);
	/* the console line of a report is queued (hv_log_queued), not written: the UART's
	 * ~17 ms per line is no longer spent in the exit or probe hit that reports */
	hv_printf("hvmon: keylogger: report lines queued, not written: %lu reports (%lu TSC ticks/report: line "
		  "formatted and queued, event recorded), %lu allowed-consumer notes (%lu TSC ticks/note)\n",
		  (unsigned long)rep_n, (unsigned long)(rep_n ? rep_ticks / rep_n : 0), (unsigned long)note_n,
		  (unsigned long)(note_n ? note_ticks / note_n : 0));
	for (unsigned i = 0; i < KEYLOGGER_MAX_PROCS; i++) {
		const struct keylogger_proc *p = &ks.procs[i];
		if (!p->used)
			continue;
		hv_printf("hvmon: keylogger: consumer pid %d tgid %d comm %s: %lu keystrokes (input %lu, tty "
			  "%lu, port %lu): %s\n", p->pid, p->tgid, p->comm, (unsigned long)p->count,
			  (unsigned long)p->by_dev[KEYLOGGER_DEV_INPUT], (unsigned long)p->by_dev[KEYLOGGER_DEV_TTY],
			  (unsigned long)p->by_dev[KEYLOGGER_DEV_PORT],
			  p->reported ? "reported" : keylogger_proc_allowed(p) ? "allowed" : "below K");
	}
}

struct hv_monitor_ops keylogger_ops = {
	.setup = keylogger_setup,
	.disabled = keylogger_disabled,
	.ready = keylogger_ready,
	.print_stats = keylogger_print_stats,
	.vcpu_state_size = sizeof(struct keylogger_vcpu),
};
