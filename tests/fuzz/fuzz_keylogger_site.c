/*
 * fuzz_keylogger_site — the keylogger's code finders (monitors/keylogger_site.c) on arbitrary
 * "guest code": the syscall exit site and the tty copy point (issue 15 item 5) decode what a
 * hostile kernel puts at the inferred addresses; and the io-wq owner walk over a hostile process
 * list (issue 15 item 5 B). Both must stay bounded, never read outside what
 * the reader serves, and what they return must be inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "monitors/keylogger.h"

#define BASE 0xffffffff81000000ull
struct mem { const uint8_t *b; size_t n; };

static int mem_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	const struct mem *m = ctx;
	if (va < BASE || va - BASE > m->n || len > m->n - (va - BASE))
		return -1;
	memcpy(buf, m->b + (va - BASE), len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct mem m = { data + 2, size - 2 };
	struct keylogger_site_reader rd = { .ctx = &m, .read = mem_read };
	uint64_t start = BASE + data[0] % (m.n ? m.n : 1);
	struct keylogger_tty_site ts;
	char why[96];
	if (!keylogger_find_tty_copy(&rd, start, &ts, why, sizeof(why))) {
		if (ts.site < BASE || ts.site >= BASE + m.n || ts.ldisc_call < BASE || ts.ldisc_call >= BASE + m.n ||
		    ts.tty.kind == KEYLOGGER_LOC_NONE || ts.file.kind == KEYLOGGER_LOC_NONE ||
		    (ts.tty.kind == KEYLOGGER_LOC_REG && ts.tty.reg > 15))
			abort();
	}
	/* issue 15 item 5: with a table, the 5.10 shapes (thunk dispatch, tail jump) are tried too; a
	 * tail jump's target was decoded, so it is inside what the reader serves */
	struct keylogger_exit ex;
	if (!keylogger_find_exit(&rd, start, data[1] & 1 ? BASE + data[1] : 0, data[1] & 2 ? BASE : 0, &ex, why,
				 sizeof(why)) &&
	    (ex.site < BASE || ex.site >= BASE + m.n || (ex.tail && (ex.exit_fn < BASE || ex.exit_fn >= BASE + m.n))))
		abort();
	/* issue 15 item 5 B: the io-wq owner walk over a hostile process list (the same bytes as task
	 * structs at BASE, offsets from the input): bounded, and an owner found is inside the memory */
	if (m.n >= 16) {
		struct keylogger_task_layout l = { BASE, data[0] & 0x78, (data[1] & 0x78) + 8, 0x40, 0x44, 0x48 };
		struct keylogger_owner o;
		uint64_t mm = 0;
		memcpy(&mm, m.b + (m.n - 8), 8);
		if (keylogger_kthread_reader(&rd, &l, BASE, &mm) < -1)
			abort();
		if (!keylogger_mm_owner(&rd, &l, mm | 1, BASE + 8, &o) &&
		    (o.task < BASE - 0x100 || o.task >= BASE + m.n || o.steps > KEYLOGGER_OWNER_WALK))
			abort();
		if (o.steps > KEYLOGGER_OWNER_WALK)
			abort();
	}
	return 0;
}
