/* Unit tests for the event core: rings, drops, sinks, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <cmocka.h>

#include "events/event.h"
#include "events/echo.h"

static uint64_t fake_tsc;
static uint64_t fake_clock(void) { return ++fake_tsc; }

static _Alignas(8) char ringmem[HV_EVENT_MAX_CPUS * HV_EVENT_RING_SLOTS * sizeof(struct hv_event)];

#define MAXREC 4096
struct rec_sink {
	struct hv_event_sink sink;
	unsigned n, flushes;
	struct hv_event ev[MAXREC];
};
static struct rec_sink rec;

static void rec_emit(struct hv_event_sink *s, const struct hv_event *ev)
{
	struct rec_sink *r = s->ctx;
	if (r->n < MAXREC)
		r->ev[r->n] = *ev;
	r->n++;
}
static void rec_flush(struct hv_event_sink *s) { ((struct rec_sink *)s->ctx)->flushes++; }

static int setup(void **state)
{
	fake_tsc = 1000;
	hv_event_set_clock(fake_clock);
	assert_int_equal(hv_event_init(2, ringmem, sizeof(ringmem)), 0);
	memset(&rec, 0, sizeof(rec));
	rec.sink.name = "rec";
	rec.sink.emit = rec_emit;
	rec.sink.flush = rec_flush;
	rec.sink.ctx = &rec;
	assert_int_equal(hv_event_sink_register(&rec.sink), 0);
	return 0;
}

static void test_names(void **state)
{
	assert_string_equal(hv_event_type_name(HV_EV_EXEC), "exec");
	assert_string_equal(hv_event_type_name(HV_EV_HANG_RECOVERED), "hang_recovered");
	assert_string_equal(hv_event_type_name(HV_EV_MONITOR_STATE), "monitor_state");
	assert_null(hv_event_type_name(HV_EV__COUNT));
	assert_null(hv_event_type_name(0));
	for (unsigned t = 1; t < HV_EV__COUNT; t++)
		assert_int_equal(hv_event_type_from_name(hv_event_type_name(t)), (int)t);
	assert_int_equal(hv_event_type_from_name("nope"), -1);
	assert_string_equal(hv_monitor_name(HV_EMON_TRACER), "proctrace");
	assert_null(hv_monitor_name(99));
}

static void test_init_rejects(void **state)
{
	assert_int_equal(hv_event_init(0, ringmem, sizeof(ringmem)), -1);
	assert_int_equal(hv_event_init(HV_EVENT_MAX_CPUS + 1, ringmem, sizeof(ringmem)), -1);
	assert_int_equal(hv_event_init(2, ringmem, 100), -1);
	assert_int_equal(hv_event_init(2, ringmem + 1, sizeof(ringmem) - 8), -1);
}

static void test_fill_drop_drain(void **state)
{
	unsigned i;

	for (i = 0; i < HV_EVENT_RING_SLOTS; i++) {
		struct hv_event *ev = hv_event_reserve(0, HV_EV_EXIT, HV_EMON_TRACER);
		assert_non_null(ev);
		ev->u.exit.code = (int)i;
		hv_event_commit(0);
	}
	/* full: producer is refused, never blocks, drop counted */
	for (i = 0; i < 5; i++)
		assert_null(hv_event_reserve(0, HV_EV_EXIT, HV_EMON_TRACER));
	assert_int_equal(hv_event_ring_drops(0), 5);
	assert_null(hv_event_reserve(7, HV_EV_EXIT, HV_EMON_TRACER));   /* bad cpu */

	assert_int_equal(hv_event_drain(10), 10);
	assert_int_equal(rec.flushes, 1);
	assert_int_equal(rec.ev[0].u.exit.code, 0);
	assert_int_equal(rec.ev[9].u.exit.code, 9);
	/* the drops event came after the 10 events */
	assert_int_equal(rec.n, 11);
	assert_int_equal(rec.ev[10].hdr.type, HV_EV_DROPS);
	assert_int_equal(rec.ev[10].u.drops.count, 5);
	assert_int_equal(rec.ev[10].u.drops.total, 5);

	assert_int_equal(hv_event_drain(0), HV_EVENT_RING_SLOTS - 10);
	assert_int_equal(rec.n, HV_EVENT_RING_SLOTS + 1);   /* no new drops event */
	for (i = 11; i < rec.n; i++)
		assert_int_equal(rec.ev[i].u.exit.code, (int)i - 1);

	/* room again; next drop reports only the new count */
	assert_non_null(hv_event_reserve(0, HV_EV_EXIT, HV_EMON_TRACER));
	hv_event_commit(0);
	struct hv_event_stats st;
	hv_event_get_stats(&st);
	assert_int_equal(st.committed, HV_EVENT_RING_SLOTS + 1);
	assert_int_equal(st.dropped, 5);
}

static void test_tsc_order_across_cpus(void **state)
{
	/* interleave: cpu1 gets older events than cpu0 for some */
	struct hv_event e;
	memset(&e, 0, sizeof(e));
	e.hdr.type = HV_EV_EXIT;
	e.hdr.monitor = HV_EMON_TRACER;
	uint64_t tscs0[] = { 5, 9, 20 }, tscs1[] = { 1, 10, 11 };
	for (int i = 0; i < 3; i++) {
		e.hdr.tsc = tscs0[i]; e.u.exit.code = (int)tscs0[i];
		assert_true(hv_event_emit(0, &e));
		e.hdr.tsc = tscs1[i]; e.u.exit.code = (int)tscs1[i];
		assert_true(hv_event_emit(1, &e));
	}
	assert_int_equal(hv_event_drain(0), 6);
	int want[] = { 1, 5, 9, 10, 11, 20 };
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rec.ev[i].u.exit.code, want[i]);
		assert_int_equal(rec.ev[i].hdr.cpu, want[i] == 1 || want[i] == 10 || want[i] == 11);
	}
}

static char out[HV_EVENT_JSON_MAX];
static void cap_write(void *ctx, const char *s, size_t n)
{
	size_t *len = ctx;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = 0;
}

static struct hv_event *mk_exec(struct hv_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = HV_EV_EXEC;
	ev->hdr.monitor = HV_EMON_TRACER;
	ev->hdr.tsc = 77;
	hv_event_set_task(ev, 412, 412, "sh", 16);
	ev->u.exec.ppid = 1;
	ev->u.exec.uid = 0;
	ev->u.exec.flags = HV_EXECF_OK;
	hv_strlcpy_bounded(ev->u.exec.filename, HV_PATH_LEN, "/bin/ls", 100);
	hv_exec_add_arg(ev, "ls", 100);
	hv_exec_add_arg(ev, "-l", 100);
	return ev;
}

static void test_console_sink_exec(void **state)
{
	static struct hv_console_sink cs;
	struct hv_event ev;
	size_t len = 0;

	hv_console_sink_init(&cs, cap_write, &len);
	assert_int_equal(hv_event_sink_register(&cs.sink), 0);
	assert_true(hv_event_emit(0, mk_exec(&ev)));
	assert_int_equal(hv_event_drain(0), 1);
	assert_string_equal(out,
		"{\"event\":\"exec\",\"cpu\":0,\"tsc\":77,\"monitor\":\"proctrace\","
		"\"pid\":412,\"tgid\":412,\"comm\":\"sh\",\"ppid\":1,\"uid\":0,"
		"\"filename\":\"/bin/ls\",\"argv\":[\"ls\",\"-l\"],\"ok\":true,\"err\":0}\n");
	hv_event_sink_unregister(&cs.sink);
}

/* Decode one JSON string literal at *p (our escape subset + generic ones). */
static size_t json_unstr(const char **p, char *dst, size_t cap)
{
	const char *s = *p;
	size_t n = 0;
	assert_true(*s == '"');
	s++;
	while (*s != '"') {
		unsigned char c = (unsigned char)*s;
		assert_true(c >= 0x20 && c < 0x7f);   /* raw output is printable ASCII */
		if (c == '\\') {
			s++;
			switch (*s) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case 'u': {
				char h[5] = { s[1], s[2], s[3], s[4], 0 };
				c = (unsigned char)strtoul(h, NULL, 16);
				s += 4;
				break;
			}
			default: fail_msg("bad escape %c", *s);
			}
		}
		assert_true(n < cap);
		dst[n++] = (char)c;
		s++;
	}
	*p = s + 1;
	return n;
}

static void test_hostile_strings_roundtrip(void **state)
{
	struct hv_event ev;
	char filename[HV_PATH_LEN], got[HV_PATH_LEN * 2];
	size_t n;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_EXEC;
	ev.hdr.flags = HV_EVF_TASK;
	for (int i = 0; i < HV_PATH_LEN - 1; i++)
		filename[i] = (char)(i + 1);          /* every byte 0x01..0xff */
	filename[HV_PATH_LEN - 1] = 0;
	memcpy(ev.u.exec.filename, filename, HV_PATH_LEN);
	memcpy(ev.hdr.comm, "a\"b\\c\n}{,", 10);
	hv_exec_add_arg(&ev, "\"],\"evil\":1", 64);
	n = hv_event_to_json(&ev, NULL, out, sizeof(out));
	assert_true(n > 0);
	const char *p = strstr(out, "\"filename\":");
	assert_non_null(p);
	p += strlen("\"filename\":");
	size_t m = json_unstr(&p, got, sizeof(got));
	assert_int_equal(m, HV_PATH_LEN - 1);
	assert_memory_equal(got, filename, m);
	p = strstr(out, "\"comm\":") + strlen("\"comm\":");
	m = json_unstr(&p, got, sizeof(got));
	assert_int_equal(m, 9);
	assert_memory_equal(got, "a\"b\\c\n}{,", 9);
	assert_null(strstr(out, ",\"evil\":1"));   /* injection stayed inside a string */
	/* exactly one line */
	assert_ptr_equal(strchr(out, '\n'), out + n - 1);
}

static void test_worst_case_fits(void **state)
{
	struct hv_event ev;
	char arg[HV_ARG_LEN + 10];
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_EXEC;
	ev.hdr.flags = HV_EVF_TASK;
	ev.hdr.pid = ev.hdr.tgid = INT32_MIN;
	memset(ev.hdr.comm, 1, HV_COMM_LEN);      /* even without NUL: bounded */
	memset(ev.u.exec.filename, 1, HV_PATH_LEN);
	ev.u.exec.ppid = INT32_MIN;
	ev.u.exec.err = INT32_MIN;
	ev.u.exec.uid = UINT32_MAX;
	ev.u.exec.flags = 0xff;
	memset(arg, 1, sizeof(arg));
	for (int i = 0; i < 20; i++)
		hv_exec_add_arg(&ev, arg, sizeof(arg));
	assert_int_equal(ev.u.exec.argc, 6);   /* 6*128=768 bytes budget */
	assert_true(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);
	assert_int_equal(ev.u.exec.argv_len, HV_ARGV_BYTES);
	size_t n = hv_event_to_json(&ev, "\"sender\":\"0123456789abcdef01234567\",\"seq\":18446744073709551615", out, sizeof(out));
	assert_true(n > 5 * 1000);
	assert_true(n < HV_EVENT_JSON_MAX);
	/* a too-small buffer is reported, never overrun */
	char small[64];
	memset(small, 'X', sizeof(small));
	assert_int_equal(hv_event_to_json(&ev, NULL, small, 40), 0);
	assert_int_equal(small[40], 'X');
}

static void test_argv_bounds(void **state)
{
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	for (int i = 0; i < 20; i++) {
		char a[8];
		snprintf(a, sizeof(a), "a%d", i);
		hv_exec_add_arg(&ev, a, sizeof(a));
	}
	assert_int_equal(ev.u.exec.argc, HV_ARGV_MAX);
	assert_true(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);
	assert_string_equal(hv_exec_arg(&ev, 0), "a0");
	assert_string_equal(hv_exec_arg(&ev, 15), "a15");
	assert_null(hv_exec_arg(&ev, 16));
	/* a single long argument is cut to HV_ARG_LEN-1 bytes */
	memset(&ev, 0, sizeof(ev));
	char big[300];
	memset(big, 'z', sizeof(big));
	hv_exec_add_arg(&ev, big, sizeof(big));
	assert_int_equal(strlen(hv_exec_arg(&ev, 0)), HV_ARG_LEN - 1);
	assert_true(ev.u.exec.flags & HV_EXECF_ARGV_TRUNC);
	/* bounded copy without NUL in source */
	char d[4];
	assert_true(hv_strlcpy_bounded(d, sizeof(d), "abcdef", 6));
	assert_string_equal(d, "abc");
	assert_false(hv_strlcpy_bounded(d, sizeof(d), "abcdef", 2));
	assert_string_equal(d, "ab");
}

static void test_all_types_format(void **state)
{
	struct hv_event ev;
	for (unsigned t = 1; t < HV_EV__COUNT; t++) {
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = (uint16_t)t;
		size_t n = hv_event_to_json(&ev, NULL, out, sizeof(out));
		assert_true(n > 0);
		char pre[64];
		snprintf(pre, sizeof(pre), "{\"event\":\"%s\",", hv_event_type_name(t));
		assert_memory_equal(out, pre, strlen(pre));
	}
	ev.hdr.type = 200;
	assert_true(hv_event_to_json(&ev, NULL, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"event\":\"unknown\""));
	assert_non_null(strstr(out, "\"type\":200"));
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_FORK;
	ev.u.fork.kind = HV_FORK_THREAD;
	ev.u.fork.clone_flags = 0x3d0f00;
	hv_event_to_json(&ev, NULL, out, sizeof(out));
	assert_non_null(strstr(out, "\"kind\":\"thread\",\"clone_flags\":\"0x3d0f00\""));
	/* probe_tamper (issue 15): exact members, bytes as hex, a hostile probe name escaped */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_PROBE_TAMPER;
	ev.hdr.monitor = HV_EMON_CORE;
	ev.u.probe_tamper.va = 0xffffffff8108c9a0ull;
	ev.u.probe_tamper.gpa = 0x208c9a0;
	ev.u.probe_tamper.nbytes = 5;
	memcpy(ev.u.probe_tamper.bytes, "\xcc\x1f\x44\x00\x00", 5);
	ev.u.probe_tamper.ms = 600;
	strcpy(ev.u.probe_tamper.what, "int3");
	strcpy(ev.u.probe_tamper.probe, "p\"x");
	hv_event_to_json(&ev, NULL, out, sizeof(out));
	assert_string_equal(out, "{\"event\":\"probe_tamper\",\"cpu\":0,\"tsc\":0,\"monitor\":\"hvmon\","
			    "\"what\":\"int3\",\"probe\":\"p\\\"x\",\"va\":\"0xffffffff8108c9a0\",\"gpa\":\"0x208c9a0\","
			    "\"new_gpa\":\"0x0\",\"bytes\":\"cc1f440000\",\"rip\":\"0x0\",\"ms\":600,\"new_mm\":0,"
			    "\"rearmed\":false}\n");
}

/* One producer thread, one draining thread: nothing lost silently. */
static volatile int producing;
static void *producer(void *arg)
{
	for (int i = 0; i < 200000; i++) {
		struct hv_event *ev = hv_event_reserve(1, HV_EV_EXIT, HV_EMON_TRACER);
		if (ev) {
			ev->u.exit.code = i;
			hv_event_commit(1);
		}
		if ((i & 63) == 0)
			sched_yield();   /* let the drainer run too */
	}
	producing = 0;
	return NULL;
}

static unsigned seen;
static int last_code;
static bool in_order = true;
static uint64_t drops_reported;
static void cnt_emit(struct hv_event_sink *s, const struct hv_event *ev)
{
	if (ev->hdr.type == HV_EV_DROPS) {
		drops_reported += ev->u.drops.count;
		return;
	}
	if (ev->u.exit.code <= last_code)
		in_order = false;
	last_code = ev->u.exit.code;
	seen++;
}

static void test_concurrent(void **state)
{
	struct hv_event_sink s = { .name = "cnt", .emit = cnt_emit };
	pthread_t th;
	hv_event_sink_unregister(&rec.sink);
	hv_event_sink_register(&s);
	last_code = -1;
	producing = 1;
	pthread_create(&th, NULL, producer, NULL);
	while (producing)
		hv_event_drain(0);
	pthread_join(th, NULL);
	hv_event_drain(0);
	struct hv_event_stats st;
	hv_event_get_stats(&st);
	assert_int_equal(st.committed + st.dropped, 200000);
	assert_int_equal(seen, st.committed);
	assert_int_equal(drops_reported, st.dropped);
	assert_true(in_order);
	assert_true(st.committed > 4 * HV_EVENT_RING_SLOTS);
	printf("# concurrent: committed %llu dropped %llu\n",
	       (unsigned long long)st.committed, (unsigned long long)st.dropped);
}

/* console_events=N (events/echo.h): process events take a token, alarms never do */
static struct hv_event mk(unsigned type, unsigned monitor, uint8_t enabled)
{
	struct hv_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = (uint16_t)type;
	ev.hdr.monitor = (uint16_t)monitor;
	ev.u.monitor_state.enabled = enabled;
	return ev;
}

static void test_echo_alarms(void **state)
{
	(void)state;
	struct hv_event e;
	e = mk(HV_EV_EXEC, HV_EMON_TRACER, 0);          assert_false(hv_event_is_alarm(&e));
	e = mk(HV_EV_FORK, HV_EMON_TRACER, 0);          assert_false(hv_event_is_alarm(&e));
	e = mk(HV_EV_TRACE_LOST, HV_EMON_TRACER, 0);    assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_PROBE_TAMPER, HV_EMON_CORE, 0);    assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_PROBE_TAMPER, HV_EMON_TRACER, 0);  assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_MONITOR_STATE, HV_EMON_TRACER, 0); assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_HANG, HV_EMON_HANG, 0);            assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_HANG_RECOVERED, HV_EMON_HANG, 0);  assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_RET2USR, HV_EMON_RET2USR, 0);      assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_CR4_TAMPER, HV_EMON_RET2USR, 0);   assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_KEYLOGGER, HV_EMON_KEYLOGGER, 0);  assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_MONITOR_STATE, HV_EMON__COUNT, 1); assert_true(hv_event_is_alarm(&e));  /* a later monitor */
	e = mk(HV_EV_DENIED, HV_EMON_CORE, 0);          assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_DMA_FAULT, HV_EMON_CORE, 0);       assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_DROPS, HV_EMON_CORE, 0);           assert_true(hv_event_is_alarm(&e));
	e = mk(HV_EV_MONITOR_STATE, HV_EMON_CORE, 0);   assert_true(hv_event_is_alarm(&e));  /* probe dropped */
	e = mk(HV_EV_MONITOR_STATE, HV_EMON_CORE, 1);   assert_false(hv_event_is_alarm(&e)); /* status, net_burst */
	e = mk(HV_EV_HEARTBEAT, HV_EMON_CORE, 0);       assert_false(hv_event_is_alarm(&e));
	e = mk(HV_EV_INFERENCE, HV_EMON_CORE, 0);       assert_false(hv_event_is_alarm(&e));
	e = mk(HV_EV_BOOT_CONFIG, HV_EMON_CORE, 0);     assert_false(hv_event_is_alarm(&e));
}

/* the bucket: N lines per second, a burst of at most one second's worth; an alarm
 * storm in the middle of a tracer flood gets every line through as ring1.c decides */
static void test_echo_bucket(void **state)
{
	(void)state;
	const uint64_t hz = 1000000;
	struct hv_echo_bucket b = { 0 };
	uint64_t now = 50 * hz;
	unsigned ok = 0;
	for (int i = 0; i < 1000; i++)                   /* 1000 lines at once: one second's burst */
		ok += hv_echo_bucket_take(&b, now, hz, 40);
	assert_int_equal(ok, 40);
	assert_false(hv_echo_bucket_take(&b, now + hz / 40 - 1, hz, 40));
	assert_true(hv_echo_bucket_take(&b, now + hz / 40, hz, 40));
	/* 10 s at 200 process lines/s plus one alarm per second: 40/s + every alarm echoed */
	struct hv_event bulk = mk(HV_EV_EXEC, HV_EMON_TRACER, 0), alarm = mk(HV_EV_HANG, HV_EMON_HANG, 0);
	unsigned bulk_ok = 0, alarm_ok = 0;
	now += 10 * hz;
	for (uint64_t t = 0; t < 10 * hz; t += hz / 200) {
		const struct hv_event *ev = (t % hz) == 0 ? &alarm : &bulk;
		bool echo = hv_event_is_alarm(ev) || hv_echo_bucket_take(&b, now + t, hz, 40);
		if (echo)
			*(ev == &alarm ? &alarm_ok : &bulk_ok) += 1;
	}
	assert_int_equal(alarm_ok, 10);
	assert_in_range(bulk_ok, 10 * 40, 10 * 40 + 40);     /* the rate, plus at most the first burst */
	/* early TSC (below one second) and a TSC that went back: no underflow, no stall */
	struct hv_echo_bucket c = { 0 };
	assert_true(hv_echo_bucket_take(&c, 10, hz, 40) || hv_echo_bucket_take(&c, hz / 40 + 10, hz, 40));
	c.full_tsc = 100 * hz;
	assert_true(hv_echo_bucket_take(&c, 5 * hz, hz, 40));
	/* rate above the clock rate: one line per tick at most */
	struct hv_echo_bucket d = { 0 };
	assert_true(hv_echo_bucket_take(&d, 3 * hz, 10, 100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_init_rejects, setup),
		cmocka_unit_test_setup(test_fill_drop_drain, setup),
		cmocka_unit_test_setup(test_tsc_order_across_cpus, setup),
		cmocka_unit_test_setup(test_console_sink_exec, setup),
		cmocka_unit_test_setup(test_hostile_strings_roundtrip, setup),
		cmocka_unit_test_setup(test_worst_case_fits, setup),
		cmocka_unit_test_setup(test_argv_bounds, setup),
		cmocka_unit_test_setup(test_all_types_format, setup),
		cmocka_unit_test_setup(test_concurrent, setup),
		cmocka_unit_test(test_echo_alarms),
		cmocka_unit_test(test_echo_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
