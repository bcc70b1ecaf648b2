/* ret2usr's keys (docs/OPTIONS.md), parsed by vmm/options.c into struct r2u_config. */
#include <stddef.h>
#include "monitors/ret2usr.h"
#include "vmm/options.h"

static const char *const actions[] = { "report", "kill", "halt", NULL };

static const struct hv_opt_desc opts[] = {
	{ .key = "ret2usr_action", .type = HV_OPT_ENUM, .off = offsetof(struct r2u_config, action),
	  .names = actions, .def = HV_R2U_REPORT, .why = "expected report|kill|halt" },
};

const struct hv_opt_owner ret2usr_options = {
	.name = "ret2usr", .opts = opts, .nr_opts = sizeof(opts) / sizeof(opts[0]),
	.config_size = sizeof(struct r2u_config),
};

const char *hv_ret2usr_action_name(unsigned a)
{
	return a < 3 ? actions[a] : "?";
}
