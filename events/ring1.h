/*
 * events/ring1 — the event core wired into hvmon's ring -1: the per-CPU rings in
 * hvmon's heap, the TSC clock, the JSON console sink, and the drain off the
 * hot path (docs/EVENTS.md "Delivery"). The core calls hv_events_setup() once
 * before any monitor records and hv_events_start() once the tick runs; the
 * network sink registers itself later (vmm/netdev.c).
 */
#ifndef HVMON_EVENTS_RING1_H
#define HVMON_EVENTS_RING1_H

#include <stdbool.h>

struct hv_options;

/* Rings for @ncpus CPUs (vCPU ids 0..ncpus-1; clamped to 1..the event core's
 * limit), clock, console sink (console_events= from @opt). 0, or -1 (heap too
 * small, sink table full). Monitors may record from now on. */
int hv_events_setup(const struct hv_options *opt, unsigned ncpus);
/* After tick_init(): the drain tick and the console pump. 0 or -1. */
int hv_events_start(void);
/* true once hv_events_setup() succeeded */
bool hv_events_ready(void);
/* After recording on @cpu's ring: drain at once only when that ring passed its
 * high-water mark (3/4); otherwise the events wait for the drain tick. Cheap:
 * call it at the end of any exit that records events. */
void hv_events_ring1_kick(unsigned cpu);
/* Hand every event recorded so far to the sinks (not from a hot path). */
void hv_events_ring1_drain(void);
/* Final drain, then the committed/delivered/dropped counters on the console. */
void hv_events_print_stats(void);

#endif
