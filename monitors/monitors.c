/*
 * The monitors hvmon runs: one line each (docs/ARCHITECTURE.md "Adding a
 * monitor"), like strategies[] in infer/infer.c. The order is their bit in
 * monitors= and the order of their setup, ready hooks and statistics.
 * Pure data: host builds (tests, the UEFI loader) get names and options only.
 */
#include "vmm/monitor.h"
#include "events/event.h"
#include "monitors/tracer.h"
#include "monitors/hang.h"
#include "monitors/ret2usr.h"
#include "monitors/keylogger.h"
#include "monitors/integrity.h"

const struct hv_monitor hv_monitors[] = {
	{ &tracer_options,    HV_EMON_TRACER,    HV_MONITOR_OPS(&tracer_ops) },
	{ &hang_options,      HV_EMON_HANG,    HV_MONITOR_OPS(&hang_ops) },
	{ &ret2usr_options,   HV_EMON_RET2USR, HV_MONITOR_OPS(&ret2usr_ops) },
	{ &keylogger_options, HV_EMON_KEYLOGGER,  HV_MONITOR_OPS(&keylogger_ops) },
	{ &integrity_options, HV_EMON_INTEGRITY, HV_MONITOR_OPS(&integrity_ops) },
};
const unsigned hv_nr_monitors = sizeof(hv_monitors) / sizeof(hv_monitors[0]);

unsigned hv_monitor_owners(const struct hv_opt_owner *out[], unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < hv_nr_monitors && n < max; i++)
		out[n++] = hv_monitors[i].options;
	return n;
}
