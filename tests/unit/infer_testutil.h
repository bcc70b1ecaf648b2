/* tests/unit/infer_testutil.h — a flat in-memory "kernel image" for the
 * infer unit tests: bytes at [va, va + len), everything else unreadable. */
#ifndef INFER_TESTUTIL_H
#define INFER_TESTUTIL_H

#include <stdlib.h>
#include <string.h>
#include "infer/strategy.h"

struct memimg {
	uint64_t va;
	uint8_t *buf;
	size_t len;
};

static bool memimg_read(void *ctx, uint64_t va, void *out, size_t len)
{
	const struct memimg *m = ctx;
	if (va < m->va || va - m->va > m->len || len > m->len - (va - m->va))
		return false;
	memcpy(out, m->buf + (va - m->va), len);
	return true;
}

__attribute__((unused)) static struct infer_reader memimg_reader(struct memimg *m)
{
	struct infer_reader rd = { memimg_read, m, 0, 0, m->va, m->va + m->len, NULL, 0, NULL };
	return rd;
}

__attribute__((unused)) static struct infer_arena test_arena(size_t size)
{
	struct infer_arena a = { calloc(1, size), size, 0 };
	return a;
}

__attribute__((unused)) static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
__attribute__((unused)) static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
__attribute__((unused)) static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

#endif
