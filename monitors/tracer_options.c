/* The process tracer has no keys of its own: only its monitors= word. */
#include <stddef.h>
#include "monitors/tracer.h"
#include "vmm/options.h"

const struct hv_opt_owner tracer_options = {
	.name = "tracer", .opts = NULL, .nr_opts = 0, .config_size = 0,
};
