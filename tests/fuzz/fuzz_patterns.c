/*
 * libFuzzer target for the design-patterns strategy alone: a small synthetic
 * kernel (entry -> do_syscall_64 -> compare-tree dispatcher, handlers with
 * %gs current loads, a sys_call_table, a per-CPU view) is built, then the
 * fuzz input overwrites bytes of it at input-chosen offsets and picks the
 * reader/hint mode. The strategy must never crash, hang or read outside what
 * the reader returns, and every parameter it does not find carries a reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "infer/infer.h"
#include "infer/strategy.h"

#define BASE 0xffffffff81000000ull
#define SIZE 0x8000u
#define CUR  0x1fb80u

static uint8_t img[SIZE];
static uint8_t percpu[0x100];
static size_t pc;
static unsigned fail_mod;               /* make every fail_mod-th read fail (0 = never) */
static unsigned nreads;

static bool rd_fn(void *ctx, uint64_t va, void *buf, size_t len)
{
	(void)ctx;
	if (fail_mod && ++nreads % fail_mod == 0)
		return false;
	if (va >= CUR && va - CUR <= sizeof(percpu) && len <= sizeof(percpu) - (va - CUR)) {
		memcpy(buf, percpu + (va - CUR), len);
		return true;
	}
	if (va < BASE || va - BASE > SIZE || len > SIZE - (va - BASE))
		return false;
	memcpy(buf, img + (va - BASE), len);
	return true;
}

static uint64_t here(void) { return BASE + pc; }
static void b(const uint8_t *p, size_t n) { if (pc + n <= SIZE) memcpy(img + pc, p, n); pc += n; }
#define B(...) do { const uint8_t _x[] = { __VA_ARGS__ }; b(_x, sizeof(_x)); } while (0)
static void u32(uint32_t v) { b((const uint8_t *)&v, 4); }
static void rel32(uint64_t t) { u32((uint32_t)(t - (here() + 4))); }
static void call(uint64_t t) { B(0xe8); rel32(t); }
static void je(uint64_t t) { B(0x0f, 0x84); rel32(t); }
#define A(off) (BASE + (off))

static void build(void)
{
	memset(img, 0xcc, sizeof(img));
	memset(percpu, 0, sizeof(percpu));
	pc = 0x100;
	B(0xb9, 0x82, 0x00, 0x00, 0xc0, 0x48, 0xc7, 0xc0); u32((uint32_t)A(0x1000));
	B(0x48, 0x89, 0xc2, 0x48, 0xc1, 0xea, 0x20, 0x0f, 0x30, 0xc3);
	pc = 0x1000;
	B(0x0f, 0x01, 0xf8, 0x65, 0x48, 0x89, 0x24, 0x25, 0x14, 0x60, 0x00, 0x00);
	B(0x65, 0x48, 0x8b, 0x24, 0x25, 0x50, 0xfb, 0x01, 0x00, 0x48, 0x89, 0xe7);
	call(A(0x1100)); B(0x0f, 0x0b);
	pc = 0x1100;
	B(0x55, 0x48, 0x89, 0xfb, 0x3d, 0xc2, 0x01, 0x00, 0x00, 0x77, 0x0b, 0x89, 0xc6);
	call(A(0x1200)); B(0x48, 0x89, 0x43, 0x50, 0x5d, 0xc3);
	pc = 0x1200;
	call(A(0x1300));
	static const unsigned cases[] = { 0, 12, 56, 57, 102, 104, 105, 107, 110 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		B(0x81, 0xfe); u32(cases[i]);
		je(A(0x1400 + 0x40 * i));
	}
	B(0xe9); rel32(A(0x1380));
	pc = 0x1300; B(0xc3);
	pc = 0x1380; call(A(0x1300)); B(0xc3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pc = 0x1400 + 0x40 * i;
		call(A(0x1300));
		B(0x65, 0x48, 0x8b, 0x04, 0x25); u32(CUR);            /* mov %gs:CUR,%rax */
		B(0x48, 0x8b, 0x80); u32(0xb90 + 8 * (uint32_t)(i & 1)); /* mov X(%rax),%rax */
		B(0x8b, 0x70, (uint8_t)(8 + 4 * i), 0xc3);              /* mov N(%rax),%esi; ret */
	}
	for (unsigned n = 0; n < 451; n++) {
		uint64_t h = A(0x1380);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (cases[i] == n) h = A(0x1400 + 0x40 * i);
		memcpy(img + 0x4000 + 8 * n, &h, 8);
	}
	uint64_t it = A(0x7000);
	memcpy(percpu, &it, 8);
	memcpy(img + 0x7000 + 0x980, &it, 8);
	memcpy(img + 0x7000 + 0xba0, "swapper", 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *arena;
	enum { ARENA = 2u << 20 };
	if (!arena && !(arena = malloc(ARENA)))
		return 0;
	if (size < 4)
		return 0;
	build();
	uint8_t mode = data[0];
	fail_mod = data[1] & 0x0f ? (data[1] & 0x0f) + 7u : 0; /* 0 or 8..22 */
	nreads = 0;
	/* patches: [u16 offset][u8 len][len bytes] ... */
	size_t i = 2;
	for (int k = 0; k < 64 && i + 3 <= size; k++) {
		size_t off = (size_t)(data[i] | data[i + 1] << 8) % SIZE;
		size_t len = data[i + 2] & 0x1f;
		i += 3;
		if (len > size - i) len = size - i;
		if (len > SIZE - off) len = SIZE - off;
		memcpy(img + off, data + i, len);
		i += len;
	}
	struct infer_reader rd = { .read = rd_fn };
	if (mode & 1) {
		rd.text_start = BASE; rd.text_end = BASE + 0x4000;
		rd.image_start = BASE; rd.image_end = BASE + SIZE;
	}
	struct infer_hints h = { 0 };
	if (mode & 2) { h.have_lstar = true; h.lstar = (mode & 4) ? A(0x1000) : A(data[2] * 16u); }
	if (mode & 8) { h.have_gs_base = true; h.gs_base = 0; }
	struct infer_arena a = { arena, (mode & 0x10) ? 200000u : ARENA, 0 };
	struct infer_profile p;
	memset(&p, 0, sizeof(p));
	int n = infer_strategy_patterns(&rd, (mode & 2) ? &h : NULL, &a, &p);
	if (a.used > a.size)
		abort();
	for (int k = 0; k < INFER_NPARAMS; k++)
		if (!p.p[k].found && p.p[k].why[0] == 0)
			abort();                     /* missing without a reason */
	(void)n;
	return 0;
}
