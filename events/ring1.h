/*
 * events/ring1 — the event core wired into hvmon's ring -1: the per-CPU rings in
 * hvmon's heap, the TSC clock, the JSON console sink, and the drain point
 * (docs/EVENTS.md). The core calls hv_events_setup() once before any monitor
 * records; the network sink registers itself later (vmm/netdev.c).
 */
#ifndef HVMON_EVENTS_RING1_H
#define HVMON_EVENTS_RING1_H

#include <stdbool.h>

/* Rings, clock and console sink. 0, or -1 (heap too small, sink table full). */
int hv_events_setup(void);
/* true once hv_events_setup() succeeded */
bool hv_events_ready(void);
/* Hand the events recorded so far to the sinks (drain point of ring -1). */
void hv_events_ring1_drain(void);
/* Final drain, then the committed/delivered/dropped counters on the console. */
void hv_events_print_stats(void);

#endif
