/*
 * hvmon event core — per-CPU single-producer/single-consumer rings and sinks.
 *
 * Each CPU owns one ring: only that CPU produces into it (monitor handlers in
 * VM-exit context), so the producer needs no lock; it never waits — a full
 * ring counts a drop and the caller carries on. The consumer is hvmon's
 * periodic tick (hv_event_drain), serialised by a try-lock.
 */
#include "events/event.h"

struct ring {
	uint32_t head;           /* next slot to produce (producer writes) */
	uint32_t tail;           /* next slot to consume (consumer writes) */
	uint64_t drops;          /* total refused reservations */
	uint64_t drops_reported; /* drops already reported in a drops event */
	uint64_t committed;
	struct hv_event *slots;  /* HV_EVENT_RING_SLOTS */
};

static struct ring rings[HV_EVENT_MAX_CPUS];
static unsigned nr_cpus;
static struct hv_event_sink *sinks[HV_EVENT_MAX_SINKS];
static uint64_t delivered;
static uint32_t drain_lock;
static uint64_t (*clock_fn)(void);

#define LOAD_ACQ(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static void zero(void *p, size_t n)
{
	volatile uint64_t *q = p;     /* volatile: no memset call emitted */

	for (size_t i = 0; i < n / 8; i++)
		q[i] = 0;
}

static void copy(void *dst, const void *src, size_t n)
{
#if defined(HV_RING1) && defined(__x86_64__)
	/* ring -1 (hvmon, the net self-test): one REP MOVSQ, general registers
	 * only (-mgeneral-regs-only), no libc. Issue 16 (x16): an exec record is
	 * ~1.1 KiB; the loop below took ~6 instructions per word (~840 Bochs ticks
	 * per exec event in the recording exit), REP MOVSQ one iteration per word
	 * (fast strings on hardware). DF is clear (the SysV ABI in hvmon's C). */
	size_t words = n / 8;
	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
#else
	volatile uint64_t *d = dst;   /* volatile: no memcpy call emitted */
	const uint64_t *s = src;

	for (size_t i = 0; i < n / 8; i++)
		d[i] = s[i];
#endif
}

void hv_event_set_clock(uint64_t (*clock)(void))
{
	clock_fn = clock;
}

size_t hv_event_mem_size(unsigned ncpus)
{
	return (size_t)ncpus * HV_EVENT_RING_SLOTS * sizeof(struct hv_event);
}

int hv_event_init(unsigned ncpus, void *mem, size_t size)
{
	char *p = mem;

	if (ncpus == 0 || ncpus > HV_EVENT_MAX_CPUS || !mem ||
	    ((uintptr_t)mem & 7) || size < hv_event_mem_size(ncpus))
		return -1;
	for (unsigned i = 0; i < HV_EVENT_MAX_CPUS; i++) {
		rings[i].head = rings[i].tail = 0;
		rings[i].drops = rings[i].drops_reported = rings[i].committed = 0;
		rings[i].slots = NULL;
	}
	for (unsigned i = 0; i < ncpus; i++) {
		rings[i].slots = (struct hv_event *)(void *)p;
		p += HV_EVENT_RING_SLOTS * sizeof(struct hv_event);
	}
	for (unsigned i = 0; i < HV_EVENT_MAX_SINKS; i++)
		sinks[i] = NULL;
	delivered = 0;
	drain_lock = 0;
	nr_cpus = ncpus;
	return 0;
}

/* Bytes of a record of @type that carry data: the header and the type's union
 * member. Every consumer (JSON, wire) reads only those, so a reservation clears
 * and hv_event_emit copies only them: a fork or exit costs ~100 bytes, not the
 * ~1.1 KiB of an exec. Unknown types: the whole record. */
static size_t ev_size(unsigned type)
{
	size_t m;
	switch (type) {
	case HV_EV_EXEC:           m = sizeof(struct hv_ev_exec); break;
	case HV_EV_FORK:           m = sizeof(struct hv_ev_fork); break;
	case HV_EV_EXIT:           m = sizeof(struct hv_ev_exit); break;
	case HV_EV_HANG:
	case HV_EV_HANG_RECOVERED: m = sizeof(struct hv_ev_hang); break;
	case HV_EV_RET2USR:        m = sizeof(struct hv_ev_ret2usr); break;
	case HV_EV_CR4_TAMPER:     m = sizeof(struct hv_ev_cr4); break;
	case HV_EV_KEYLOGGER:      m = sizeof(struct hv_ev_keylogger); break;
	case HV_EV_HEARTBEAT:      m = sizeof(struct hv_ev_heartbeat); break;
	case HV_EV_DROPS:          m = sizeof(struct hv_ev_drops); break;
	case HV_EV_INFERENCE:      m = sizeof(struct hv_ev_inference); break;
	case HV_EV_MONITOR_STATE:  m = sizeof(struct hv_ev_monitor_state); break;
	case HV_EV_BOOT_CONFIG:    m = sizeof(struct hv_ev_boot_config); break;
	case HV_EV_DMA_FAULT:      m = sizeof(struct hv_ev_dma_fault); break;
	case HV_EV_DENIED:         m = sizeof(struct hv_ev_denied); break;
	default:                   return sizeof(struct hv_event);
	}
	return (offsetof(struct hv_event, u) + m + 7) & ~(size_t)7;
}

/* The next free slot of @cpu's ring, not cleared; NULL (and a drop counted) when full. */
static struct hv_event *slot(unsigned cpu)
{
	struct ring *r;
	uint32_t head, tail;

	if (cpu >= nr_cpus)
		return NULL;
	r = &rings[cpu];
	head = r->head;
	tail = LOAD_ACQ(&r->tail);
	if (head - tail >= HV_EVENT_RING_SLOTS) {
		__atomic_add_fetch(&r->drops, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return &r->slots[head & (HV_EVENT_RING_SLOTS - 1)];
}

struct hv_event *hv_event_reserve(unsigned cpu, unsigned type, unsigned monitor)
{
	struct hv_event *ev = slot(cpu);

	if (!ev)
		return NULL;
	/* the type's bytes cleared: no stale guest data in what sinks read */
	zero(ev, ev_size(type));
	ev->hdr.tsc = clock_fn ? clock_fn() : 0;
	ev->hdr.type = (uint16_t)type;
	ev->hdr.cpu = (uint16_t)cpu;
	ev->hdr.monitor = (uint16_t)monitor;
	return ev;
}

void hv_event_commit(unsigned cpu)
{
	struct ring *r;

	if (cpu >= nr_cpus)
		return;
	r = &rings[cpu];
	__atomic_add_fetch(&r->committed, 1, __ATOMIC_RELAXED);
	STORE_REL(&r->head, r->head + 1);
}

bool hv_event_emit(unsigned cpu, const struct hv_event *src)
{
	/* the copy covers every byte reserve would clear: no clearing first */
	struct hv_event *ev = slot(cpu);

	if (!ev)
		return false;
	copy(ev, src, ev_size(src->hdr.type));
	ev->hdr.cpu = (uint16_t)cpu;
	if (!src->hdr.tsc)
		ev->hdr.tsc = clock_fn ? clock_fn() : 0;
	hv_event_commit(cpu);
	return true;
}

void hv_event_get_stats(struct hv_event_stats *st)
{
	st->committed = st->dropped = 0;
	for (unsigned i = 0; i < nr_cpus; i++) {
		st->committed += __atomic_load_n(&rings[i].committed, __ATOMIC_RELAXED);
		st->dropped += __atomic_load_n(&rings[i].drops, __ATOMIC_RELAXED);
	}
	st->delivered = delivered;
}

uint64_t hv_event_ring_drops(unsigned cpu)
{
	return cpu < nr_cpus ? __atomic_load_n(&rings[cpu].drops, __ATOMIC_RELAXED) : 0;
}

unsigned hv_event_ring_pending(unsigned cpu)
{
	if (cpu >= nr_cpus)
		return 0;
	return LOAD_ACQ(&rings[cpu].head) - __atomic_load_n(&rings[cpu].tail, __ATOMIC_RELAXED);
}

int hv_event_sink_register(struct hv_event_sink *s)
{
	for (unsigned i = 0; i < HV_EVENT_MAX_SINKS; i++) {
		if (!sinks[i]) {
			sinks[i] = s;
			return 0;
		}
	}
	return -1;
}

void hv_event_sink_unregister(struct hv_event_sink *s)
{
	for (unsigned i = 0; i < HV_EVENT_MAX_SINKS; i++)
		if (sinks[i] == s)
			sinks[i] = NULL;
}

void hv_event_deliver(const struct hv_event *ev)
{
	for (unsigned i = 0; i < HV_EVENT_MAX_SINKS; i++)
		if (sinks[i] && sinks[i]->emit)
			sinks[i]->emit(sinks[i], ev);
	delivered++;
}

static void report_drops(void)
{
	static struct hv_event ev;     /* drain is serialised */

	for (unsigned c = 0; c < nr_cpus; c++) {
		uint64_t total = __atomic_load_n(&rings[c].drops, __ATOMIC_RELAXED);

		if (total == rings[c].drops_reported)
			continue;
		zero(&ev, sizeof(ev));
		ev.hdr.tsc = clock_fn ? clock_fn() : 0;
		ev.hdr.type = HV_EV_DROPS;
		ev.hdr.cpu = (uint16_t)c;
		ev.hdr.monitor = HV_EMON_CORE;
		ev.u.drops.ring_cpu = c;
		ev.u.drops.count = total - rings[c].drops_reported;
		ev.u.drops.total = total;
		rings[c].drops_reported = total;
		hv_event_deliver(&ev);
	}
}

unsigned hv_event_drain(unsigned budget)
{
	unsigned n = 0;

	if (__atomic_exchange_n(&drain_lock, 1, __ATOMIC_ACQUIRE))
		return 0;
	for (;;) {
		int best = -1;
		uint64_t best_tsc = 0;

		if (budget && n >= budget)
			break;
		/* oldest pending event across CPUs */
		for (unsigned c = 0; c < nr_cpus; c++) {
			struct ring *r = &rings[c];
			uint32_t head = LOAD_ACQ(&r->head);
			const struct hv_event *ev;

			if (r->tail == head)
				continue;
			ev = &r->slots[r->tail & (HV_EVENT_RING_SLOTS - 1)];
			if (best < 0 || ev->hdr.tsc < best_tsc) {
				best = (int)c;
				best_tsc = ev->hdr.tsc;
			}
		}
		if (best < 0)
			break;
		{
			struct ring *r = &rings[best];

			hv_event_deliver(&r->slots[r->tail & (HV_EVENT_RING_SLOTS - 1)]);
			STORE_REL(&r->tail, r->tail + 1);
			n++;
		}
	}
	report_drops();
	for (unsigned i = 0; i < HV_EVENT_MAX_SINKS; i++)
		if (sinks[i] && sinks[i]->flush)
			sinks[i]->flush(sinks[i]);
	__atomic_store_n(&drain_lock, 0, __ATOMIC_RELEASE);
	return n;
}
