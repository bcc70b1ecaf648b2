/*
 * events/echo — what the console sink echoes under console_events=N (docs/OPTIONS.md):
 * pure, host-tested in tests/unit/test_event.c, used by events/ring1.c.
 *
 * Process events are the bulk and take a token from a bucket of N lines per second of
 * guest time; alarms bypass the bucket (as they bypass the bulk queue: they go in the
 * priority queue), so a rate limit never hides a hang or an attack from the console.
 */
#ifndef HVMON_EVENTS_ECHO_H
#define HVMON_EVENTS_ECHO_H

#include <stdbool.h>
#include <stdint.h>
#include "events/event.h"

/* An alarm: every event of a monitor other than the tracer and the core (hang,
 * ret2usr, keylogger, and monitors appended later), and, whoever reports them, the
 * reports of an attack or a loss: trace_lost, probe_tamper, denied, dma_fault,
 * drops, and monitor_state with enabled 0 (a monitor or a probe lost). Not alarms:
 * process events, heartbeat, inference, boot_config, monitor_state with enabled 1
 * (status, and the network benchmark's synthetic load). */
bool hv_event_is_alarm(const struct hv_event *ev);

/* Token bucket in TSC time: one line per hz/rate ticks, bursts up to one second
 * (hz ticks). @full_tsc: the TSC at which the bucket was full (starts at 0). */
struct hv_echo_bucket {
	uint64_t full_tsc;
};
/* Takes a token at @now if there is one. */
bool hv_echo_bucket_take(struct hv_echo_bucket *b, uint64_t now, uint64_t hz, uint32_t rate);

#endif
