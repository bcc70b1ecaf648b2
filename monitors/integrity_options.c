/* integrity's keys (docs/OPTIONS.md), parsed by vmm/options.c into struct integrity_config. */
#include <stddef.h>
#include "monitors/integrity.h"
#include "vmm/options.h"

static const char *const actions[] = { "report", "block", NULL };
static const char *const onoff[] = { "off", "on", NULL };

static const struct hv_opt_desc opts[] = {
	{ .key = "integrity_action", .type = HV_OPT_ENUM, .off = offsetof(struct integrity_config, action),
	  .names = actions, .def = HV_INTEG_REPORT, .why = "expected report|block" },
	{ .key = "integrity_ept", .type = HV_OPT_ENUM, .off = offsetof(struct integrity_config, ept),
	  .names = onoff, .def = 1, .why = "expected on|off" },   /* on since issue 15 item 3 A (docs/OPTIONS.md) */
};

const struct hv_opt_owner integrity_options = {
	.name = "integrity", .opts = opts, .nr_opts = sizeof(opts) / sizeof(opts[0]),
	.config_size = sizeof(struct integrity_config),
};

const char *hv_integrity_action_name(unsigned a)
{
	return a < 2 ? actions[a] : "?";
}
