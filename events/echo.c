/* events/echo — console echo rules under console_events=N (events/echo.h). */
#include "events/echo.h"

bool hv_event_is_alarm(const struct hv_event *ev)
{
	switch (ev->hdr.type) {
	case HV_EV_TRACE_LOST:
	case HV_EV_PROBE_TAMPER:
	case HV_EV_DENIED:
	case HV_EV_DMA_FAULT:
	case HV_EV_DROPS:
		return true;            /* an attack or a loss, whoever reports it */
	case HV_EV_MONITOR_STATE:
		if (!ev->u.monitor_state.enabled)
			return true;    /* a monitor or a probe lost */
		break;
	default:
		break;
	}
	return ev->hdr.monitor != HV_EMON_TRACER && ev->hdr.monitor != HV_EMON_CORE;
}

bool hv_echo_bucket_take(struct hv_echo_bucket *b, uint64_t now, uint64_t hz, uint32_t rate)
{
	uint64_t per = rate ? hz / rate : hz;
	uint64_t floor = now > hz ? now - hz : 0;
	if (!per)
		per = 1;
	if (b->full_tsc < floor || b->full_tsc > now)
		b->full_tsc = floor;
	if (b->full_tsc + per > now)
		return false;
	b->full_tsc += per;
	return true;
}
