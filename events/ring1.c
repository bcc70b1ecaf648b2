/*
 * events/ring1 — the event core in ring -1 (events/ring1.h): rings in hvmon's
 * heap, TSC timestamps, the console sink and the drain off the hot path.
 *
 * A monitor's exit only records into its CPU's ring (hv_event_reserve/commit, a
 * few hundred cycles). The sinks run from hvmon's tick: every EV_TICK_MS the
 * "events" tick client drains at most EV_TICK_BUDGET events (a lazy client: no
 * timer exit while the rings are empty, the first drain one period after an
 * event is recorded); a ring that passes
 * EV_HIGH_WATER is drained at once down to EV_LOW_WATER by the exit that filled
 * it (hv_events_ring1_kick), so bursts reach the sinks instead of the drop
 * counter. A full ring drops and counts (a `drops` event follows); nothing in
 * here waits for a device.
 *
 * The console sink formats the events that console_events= lets through and
 * queues the line (lib/console.h: byte queues the UART takes from as its FIFO
 * allows, pumped by a lazy 1 ms tick only while bytes wait): process events in
 * the bulk queue, every other monitor's (rare alarms: hang, ret2usr, keylogger,
 * hvmon's own) in a small priority queue sent first, so an alarm never waits
 * behind a backlog. Under console_events=N the alarms (events/echo.h) bypass the
 * rate limit too. A line that does not fit is skipped and counted; the count
 * is reported on the console.
 */
#include <stddef.h>
#include <stdio.h>
#include "events/ring1.h"
#include "events/event.h"
#include "events/echo.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/vcpu.h"
#include "vmm/tick.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"

#define EV_CPUS (HV_MAX_CPUS < HV_EVENT_MAX_CPUS ? HV_MAX_CPUS : HV_EVENT_MAX_CPUS)

#define EV_TICK_MS        10                            /* drain period */
#define EV_TICK_BUDGET    64                            /* events per drain tick */
#define EV_HIGH_WATER     (HV_EVENT_RING_SLOTS * 3 / 4) /* drain from the exit above this */
#define EV_LOW_WATER      (HV_EVENT_RING_SLOTS / 4)     /* ... down to this */
#define CON_PUMP_MS       1       /* 16 bytes per ms > 115 200 baud: the UART never idles */
#define CON_QUEUE_BYTES   (512u << 10)                  /* a power of two */
#define CON_PRIO_BYTES    (16u << 10)   /* alarms (every monitor but the tracer), sent first */
#define CON_MIN_ROOM      1024    /* below this, skip without formatting (most lines are shorter) */
#define CON_NOTE_MS       1000    /* at most one "skipped" note per second */

static bool events_ready;
static unsigned echo_mode;            /* enum hv_console_events, resolved */
static uint32_t echo_rate;            /* lines per second (HV_CEV_RATE) */

static struct {
	uint64_t echoed;              /* lines queued for the UART */
	uint64_t skipped;             /* lines that did not fit the queue */
	uint64_t suppressed;          /* not echoed by console_events= (none / over the rate) */
	uint64_t skipped_noted;       /* skipped count in the last note */
	uint64_t note_tsc;
	struct hv_echo_bucket bucket; /* console_events=N: the bulk's rate limit */
} con;

static struct {
	uint64_t ticks, tick_events, tick_tsc;   /* drain ticks */
	uint64_t kicks, kick_events, kick_tsc;   /* high-water drains from exits */
} st;

#define ST_ADD(c, n) __atomic_fetch_add(&(c), (n), __ATOMIC_RELAXED)

static char line[HV_EVENT_JSON_MAX];   /* console_emit's: runs only inside hv_event_drain (one consumer) */

static uint64_t ev_clock(void)
{
	return rdtsc();
}

static void console_emit(struct hv_event_sink *s, const struct hv_event *ev)
{
	(void)s;
	/* console_events=N limits the bulk; alarms bypass the bucket (events/echo.h) */
	if (echo_mode == HV_CEV_NONE || (echo_mode == HV_CEV_RATE && !hv_event_is_alarm(ev) &&
					 !hv_echo_bucket_take(&con.bucket, rdtsc(), tick_tsc_hz(), echo_rate))) {
		con.suppressed++;
		return;
	}
	/* process events are the bulk; every other monitor's event is a rare alarm
	 * that must not wait behind (or be skipped for) a backlog of them */
	bool prio = ev->hdr.monitor != HV_EMON_TRACER;
	if (console_evq_room(prio) < CON_MIN_ROOM) {
		con.skipped++;
		return;
	}
	size_t n = hv_event_to_json(ev, NULL, line, sizeof(line));
	if (n && console_evq_put(line, n, prio))
		con.echoed++;
	else
		con.skipped++;
}

static struct hv_event_sink console_sink = { .name = "console", .emit = console_emit };

/* "skipped" note: queued like an event line (never waits), at most once per second. */
static void console_note(uint64_t now)
{
	char note[128];                       /* not line[]: that one is the drain holder's */
	if (con.skipped == con.skipped_noted || now - con.note_tsc < tick_tsc_hz() / 1000 * CON_NOTE_MS)
		return;
	int n = snprintf(note, sizeof(note), "hvmon: console: %lu event lines skipped (queue full), "
			 "%lu in total\n", (unsigned long)(con.skipped - con.skipped_noted),
			 (unsigned long)con.skipped);
	if (n > 0 && (size_t)n < sizeof(note) && console_evq_put(note, (size_t)n, true)) {
		con.skipped_noted = con.skipped;
		con.note_tsc = now;
	}
}

static void events_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)v;
	(void)ctx;
	uint64_t t0 = rdtsc();
	/* every vCPU ticks; hv_event_drain's try-lock keeps one consumer at a time
	 * (the others return 0 at once), the statistics are added atomically */
	unsigned n = hv_event_drain(EV_TICK_BUDGET);
	ST_ADD(st.ticks, 1);
	if (n) {                              /* cost per event: drains that delivered */
		ST_ADD(st.tick_events, n);
		ST_ADD(st.tick_tsc, rdtsc() - t0);
	}
	console_note(now);
	console_evq_pump();
}

static void console_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	console_evq_pump();
}

static bool console_want(void *ctx)
{
	return console_evq_pending();
}

/* The drain tick is lazy: an idle guest (nothing recorded, nothing to note)
 * costs it no timer exit. Asked after every exit of every vCPU, so it looks at
 * the ring of the CPU asking only (a few loads): each CPU's exits record into
 * its own ring, so that CPU's next exit sees them, and one drain takes every
 * ring's events. */
static bool events_want(void *ctx)
{
	(void)ctx;
	if (con.skipped != con.skipped_noted)
		return true;
	const struct vcpu *v = this_cpu()->vcpu;
	return hv_event_ring_pending(v ? v->id : 0) != 0;
}

int hv_events_setup(const struct hv_options *opt, unsigned ncpus)
{
	/* one ring per CPU hvmon may run the guest on (276 KiB each), not
	 * HV_EVENT_MAX_CPUS of them: 4.3 MiB on a one-CPU machine otherwise */
	if (ncpus < 1)
		ncpus = 1;
	if (ncpus > EV_CPUS)
		ncpus = EV_CPUS;
	size_t sz = hv_event_mem_size(ncpus);
	void *mem = pages_alloc((sz + 4095) / 4096);
	void *q = pages_alloc(CON_QUEUE_BYTES / 4096), *pq = pages_alloc(CON_PRIO_BYTES / 4096);
	if (!mem || !q || !pq || hv_event_init(ncpus, mem, sz))
		return -1;
	hv_event_set_clock(ev_clock);
	console_evq_init(q, CON_QUEUE_BYTES, false);
	console_evq_init(pq, CON_PRIO_BYTES, true);
	echo_mode = hv_console_events_effective(opt);
	echo_rate = opt->console_events_rate ? opt->console_events_rate : 1;
	if (hv_event_sink_register(&console_sink))
		return -1;
	events_ready = true;
	pr_info("events: %u per-CPU rings of %u slots (%lu KiB), console sink (console_events=%s, "
		"%u KiB queue)\n", ncpus, HV_EVENT_RING_SLOTS, (unsigned long)(sz / 1024),
		echo_mode == HV_CEV_ALL ? "all" : echo_mode == HV_CEV_NONE ? "none" : "rate-limited",
		CON_QUEUE_BYTES >> 10);
	if (echo_mode == HV_CEV_RATE)
		pr_info("events: console echo at most %u lines per second\n", echo_rate);
	return 0;
}

int hv_events_start(void)
{
	if (!events_ready)
		return -1;
	if (tick_register_lazy("events", EV_TICK_MS, events_tick, NULL, events_want) ||
	    tick_register_lazy("console", CON_PUMP_MS, console_tick, NULL, console_want)) {
		pr_err("events: no tick slot: events reach the sinks only at high water and power-off\n");
		return -1;
	}
	return 0;
}

bool hv_events_ready(void)
{
	return events_ready;
}

void hv_events_ring1_kick(unsigned cpu)
{
	if (!events_ready)
		return;
	unsigned n = hv_event_ring_pending(cpu);
	if (n < EV_HIGH_WATER)
		return;
	uint64_t t0 = rdtsc();
	ST_ADD(st.kick_events, hv_event_drain(n - EV_LOW_WATER));
	ST_ADD(st.kicks, 1);
	ST_ADD(st.kick_tsc, rdtsc() - t0);
}

void hv_events_ring1_drain(void)
{
	if (events_ready)
		hv_event_drain(0);
}

void hv_events_print_stats(void)
{
	if (!events_ready)
		return;
	hv_event_drain(0);
	console_note(rdtsc() + tick_tsc_hz());
	console_evq_flush();                  /* final flush at power-off */
	struct hv_event_stats es;
	hv_event_get_stats(&es);
	hv_printf("hvmon: events: %lu committed, %lu delivered, %lu dropped\n",
		  (unsigned long)es.committed, (unsigned long)es.delivered, (unsigned long)es.dropped);
	hv_printf("hvmon: events: drain ticks %lu (%lu events, %lu TSC ticks/event), high-water drains %lu "
		  "(%lu events, %lu TSC ticks/event)\n", (unsigned long)st.ticks, (unsigned long)st.tick_events,
		  (unsigned long)(st.tick_events ? st.tick_tsc / st.tick_events : 0), (unsigned long)st.kicks,
		  (unsigned long)st.kick_events, (unsigned long)(st.kick_events ? st.kick_tsc / st.kick_events : 0));
	uint64_t lq, ls;
	console_log_queued_stats(&lq, &ls);
	hv_printf("hvmon: console: %lu event lines written, %lu skipped (queue full), %lu not echoed "
		  "(console_events=%s); monitors' report lines: %lu queued, %lu skipped (queue full)\n",
		  (unsigned long)con.echoed, (unsigned long)con.skipped, (unsigned long)con.suppressed,
		  echo_mode == HV_CEV_ALL ? "all" : echo_mode == HV_CEV_NONE ? "none" : "rate-limited",
		  (unsigned long)lq, (unsigned long)ls);
}
