/* hang's keys (docs/OPTIONS.md), parsed by vmm/options.c into struct hang_config. */
#include <stddef.h>
#include "monitors/hang.h"
#include "vmm/options.h"

static const struct hv_opt_desc opts[] = {
	{ .key = "hang_timeout", .type = HV_OPT_UINT, .suffix = 's',
	  .off = offsetof(struct hang_config, timeout_s), .min = 1, .max = 3600, .def = 5,
	  .why = "expected seconds 1..3600" },
};

const struct hv_opt_owner hang_options = {
	.name = "hang", .opts = opts, .nr_opts = sizeof(opts) / sizeof(opts[0]),
	.config_size = sizeof(struct hang_config),
};
