/* libFuzzer target: hvmon option parser + summary formatter. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/options.h"
#include "vmm/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_options o;
	struct hv_opt_errors errs;
	char buf[1024];
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	const struct hv_opt_owner *own[HV_MAX_MONITORS];
	unsigned nown = hv_monitor_owners(own, HV_MAX_MONITORS);
	hv_options_defaults(&o);
	if (hv_options_set_owners(&o, own, nown))
		abort();
	int n = hv_options_parse(s, size + 1, &o, &errs);
	if (n < 0 || (uint32_t)n != errs.count + errs.dropped || errs.count > HV_OPT_MAX_ERRORS)
		abort();
	for (uint32_t i = 0; i < errs.count; i++)
		if (strlen(errs.e[i].word) >= HV_OPT_WORD_MAX || strlen(errs.e[i].why) == 0)
			abort();
	if (o.key_len > HV_OPT_KEY_MAX || o.log_level > HV_LOG_DEBUG ||
	    (o.monitors & ~((1u << o.nr_owners) - 1)) || o.ip_prefix > 32)
		abort();
	/* every monitor key holds a value its descriptor allows */
	for (uint32_t i = 0; i < o.nr_owners; i++) {
		const uint8_t *cfg = hv_options_config(&o, i);
		for (uint32_t k = 0; k < o.owners[i]->nr_opts; k++) {
			const struct hv_opt_desc *d = &o.owners[i]->opts[k];
			uint32_t u;
			memcpy(&u, cfg + d->off, 4);
			if (d->type == HV_OPT_UINT && (u < d->min || u > d->max))
				abort();
			if (d->type == HV_OPT_NAMES && u > d->max)
				abort();
			for (uint32_t j = 0; d->type == HV_OPT_NAMES && j < u; j++) {
				const char *nm = (const char *)cfg + d->list_off + j * HV_OPT_COMM_MAX;
				if (!nm[0] || strnlen(nm, HV_OPT_COMM_MAX) >= HV_OPT_COMM_MAX)
					abort();
			}
		}
	}
	size_t len = hv_options_format(&o, buf, sizeof(buf));
	if (len != strlen(buf))
		abort();
	/* not NUL-terminated input within max_len must be safe too */
	hv_options_defaults(&o);
	hv_options_set_owners(&o, own, nown);
	hv_options_parse((const char *)s, size, &o, NULL);
	free(s);
	return 0;
}
