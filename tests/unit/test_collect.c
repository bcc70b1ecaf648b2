/* Unit tests of hvmon-collect's own logic (tools/hvmon-collect.c, included
 * for its statics like the fuzz target does): the syslog size rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#define main hvmon_collect_main
#include "tools/hvmon-collect.c"
#undef main

/* the largest exec: every byte of filename and arguments needs a \u00XX
 * escape in JSON (6 bytes each), ~6.4 KB of JSON */
static void big_exec(struct hv_event *ev)
{
	char arg[HV_ARG_LEN];
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = HV_EV_EXEC;
	ev->u.exec.flags = HV_EXECF_OK;
	memset(ev->u.exec.filename, 1, HV_PATH_LEN - 1);
	memset(arg, 2, sizeof(arg));
	for (int i = 0; i < HV_ARGV_MAX; i++)
		hv_exec_add_arg(ev, arg, sizeof(arg));
}

static void test_syslog_size_rule(void **state)
{
	static struct hv_event ev;
	static char js[HV_EVENT_JSON_MAX + 256];
	const char *hdr = "<134>1 2026-12-04T22:00:00.000000Z hvmon-00000051 hvmon 81 exec [hvmon@32473 boot=\"000000000000000000000000\" seq=\"1\"";
	bool trimmed;
	big_exec(&ev);
	size_t jl = hv_event_to_json(&ev, "\"sender_id\":81", js, sizeof(js));
	assert_true(jl > 4000);
	size_t m = syslog_format(&ev, hdr, strlen(hdr), js, jl - 1, &trimmed);
	assert_true(trimmed);
	assert_true(m > 0 && m <= SYSLOG_MAX);
	sysmsg[m] = 0;
	assert_non_null(strstr(sysmsg, " trimmed=\"1\"] {\"event\":\"exec\""));
	assert_int_equal(sysmsg[m - 1], '}');         /* JSON closed, not cut */
	/* a small event is passed whole */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_FORK;
	jl = hv_event_to_json(&ev, NULL, js, sizeof(js));
	m = syslog_format(&ev, hdr, strlen(hdr), js, jl - 1, &trimmed);
	assert_false(trimmed);
	assert_int_equal(m, strlen(hdr) + 2 + jl - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_size_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
