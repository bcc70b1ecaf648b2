/* libFuzzer target: hvmon option parser + summary formatter. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_options o;
	struct hv_opt_errors errs;
	char buf[1024];
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	hv_options_defaults(&o);
	int n = hv_options_parse(s, size + 1, &o, &errs);
	if (n < 0 || (uint32_t)n != errs.count + errs.dropped || errs.count > HV_OPT_MAX_ERRORS)
		abort();
	for (uint32_t i = 0; i < errs.count; i++)
		if (strlen(errs.e[i].word) >= HV_OPT_WORD_MAX || strlen(errs.e[i].why) == 0)
			abort();
	if (o.nr_keylogger_allow > HV_OPT_ALLOW_MAX || o.key_len > HV_OPT_KEY_MAX ||
	    o.hang_timeout_s == 0 || o.hang_timeout_s > 3600 || o.keylogger_k == 0 ||
	    o.log_level > HV_LOG_DEBUG || (o.monitors & ~HV_MON_ALL) || o.ip_prefix > 32)
		abort();
	size_t len = hv_options_format(&o, buf, sizeof(buf));
	if (len != strlen(buf))
		abort();
	/* not NUL-terminated input within max_len must be safe too */
	hv_options_defaults(&o);
	hv_options_parse((const char *)s, size, &o, NULL);
	free(s);
	return 0;
}
