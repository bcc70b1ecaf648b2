/* The keylogger detector's keys (docs/OPTIONS.md), parsed by vmm/options.c into
 * struct keylogger_config. */
#include <stddef.h>
#include "monitors/keylogger.h"
#include "vmm/options.h"

static const struct hv_opt_desc opts[] = {
	{ .key = "keylogger_allow", .type = HV_OPT_NAMES, .off = offsetof(struct keylogger_config, nr_allow),
	  .list_off = offsetof(struct keylogger_config, allow), .max = KEYLOGGER_MAX_ALLOW,
	  .def_list = "Xorg" },   /* issue 15: input-device readers only (was sh,ash,bash,getty,agetty,login) */
	{ .key = "keylogger_k", .type = HV_OPT_UINT, .off = offsetof(struct keylogger_config, k),
	  .min = 1, .max = 100000, .def = 8, .why = "expected a keystroke count 1..100000" },
};

const struct hv_opt_owner keylogger_options = {
	.name = "keylogger", .opts = opts, .nr_opts = sizeof(opts) / sizeof(opts[0]),
	.config_size = sizeof(struct keylogger_config),
};
