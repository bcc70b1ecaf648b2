/*
 * events/ring1 — the event core in ring -1 (events/ring1.h): rings in hvmon's
 * heap, TSC timestamps, the JSON console sink and the drain point.
 */
#include <stddef.h>
#include "events/ring1.h"
#include "events/event.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/vcpu.h"
#include "arch/x86/cpu.h"

#define EV_CPUS (HV_MAX_CPUS < HV_EVENT_MAX_CPUS ? HV_MAX_CPUS : HV_EVENT_MAX_CPUS)

static struct hv_console_sink console_sink;
static bool events_ready;

static void console_sink_write(void *ctx, const char *s, size_t len)
{
	console_write(s, len);
}

static uint64_t ev_clock(void)
{
	return rdtsc();
}

int hv_events_setup(void)
{
	size_t sz = hv_event_mem_size(EV_CPUS);
	void *mem = pages_alloc((sz + 4095) / 4096);
	if (!mem || hv_event_init(EV_CPUS, mem, sz))
		return -1;
	hv_event_set_clock(ev_clock);
	hv_console_sink_init(&console_sink, console_sink_write, NULL);
	if (hv_event_sink_register(&console_sink.sink))
		return -1;
	events_ready = true;
	pr_info("events: %u per-CPU rings of %u slots (%lu KiB), console sink\n",
		(unsigned)EV_CPUS, HV_EVENT_RING_SLOTS, (unsigned long)(sz / 1024));
	return 0;
}

bool hv_events_ready(void)
{
	return events_ready;
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
	struct hv_event_stats st;
	hv_event_get_stats(&st);
	hv_printf("hvmon: events: %lu committed, %lu delivered, %lu dropped\n",
		  (unsigned long)st.committed, (unsigned long)st.delivered, (unsigned long)st.dropped);
}
