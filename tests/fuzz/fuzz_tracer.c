/* libFuzzer: the tracer's parsers of guest-controlled memory (monitors/tracer_core.c):
 * tracer_exec_from_stack over an arbitrary "user stack" and tracer_fill_exec over
 * arbitrary argv arrays/strings. Invariants: no crash/UB, bounded output; the stack
 * read through a view (in place, as ring -1 reads it since issue 16) gives the same
 * result and the same event as through copies. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "monitors/tracer.h"

#define BASE 0x10000ULL
static const uint8_t *D;
static size_t N;

static int f_read(void *c, uint64_t va, void *buf, uint32_t len)
{
	if (va < BASE || va - BASE > N || len > N - (va - BASE)) return -1;
	memcpy(buf, D + (va - BASE), len);
	return 0;
}
static int f_str(void *c, uint64_t va, char *buf, uint32_t max)
{
	for (uint32_t i = 0; i < max; i++) {
		if (va + i < BASE || va + i - BASE >= N) { buf[0] = 0; return -1; }
		buf[i] = (char)D[va + i - BASE];
		if (!buf[i]) return 0;
	}
	buf[max - 1] = 0;
	return 1;
}

/* in place, on one page (as guest_view), with the bounds of f_read */
static const void *f_view(void *c, uint64_t va, uint32_t len)
{
	if (va < BASE || va - BASE > N || len > N - (va - BASE) || !len || len > 0x1000 - (va & 0xfff))
		return NULL;
	return D + (va - BASE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tracer_reader rd = { .read = f_read, .read_str = f_str };
	static const struct tracer_reader rdv = { .read = f_read, .read_str = f_str, .view = f_view };
	D = data;
	N = size;
	struct hv_event ev, evv;
	memset(&ev, 0, sizeof(ev));
	memset(&evv, 0, sizeof(evv));
	int rc = tracer_exec_from_stack(&ev, &rd, BASE);
	if (rc != tracer_exec_from_stack(&evv, &rdv, BASE) ||
	    memcmp(&ev.u.exec, &evv.u.exec, sizeof(ev.u.exec)))
		__builtin_trap();
	if (rc == 0) {
		if (ev.u.exec.argc > HV_ARGV_MAX || ev.u.exec.argv_len > HV_ARGV_BYTES ||
		    memchr(ev.u.exec.filename, 0, HV_PATH_LEN) == NULL)
			__builtin_trap();
	}
	memset(&ev, 0, sizeof(ev));
	uint64_t fn = size >= 8 ? BASE + (data[0] % (size ? size : 1)) : 0;
	tracer_fill_exec(&ev, &rd, fn, BASE + (size > 1 ? data[1] : 0));
	if (ev.u.exec.argc > HV_ARGV_MAX || ev.u.exec.argv_len > HV_ARGV_BYTES)
		__builtin_trap();
	return 0;
}
