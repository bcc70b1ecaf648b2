/*
 * Unit tests for the design-patterns strategy on small hand-assembled code:
 * "the OS must program LSTAR" (mov $0xc0000082,%ecx; mov $entry,%rax; wrmsr),
 * the entry shape (swapgs; mov %rsp,%gs:X; mov %gs:Y,%rsp) in both the
 * absolute (65 48 8b 24 25) and RIP-relative (65 48 8b 25) %gs forms, and
 * hostile input (LSTAR hint pointing at garbage, unreadable memory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "infer/infer.h"
#include "infer/strategy.h"

#define BASE 0xffffffff81000000ull
#define SIZE 0x4000u
#define ENTRY (BASE + 0x1000)

static uint8_t img[SIZE];
static uint8_t arena_mem[4 << 20];

static bool rd_fn(void *ctx, uint64_t va, void *buf, size_t len)
{
	(void)ctx;
	if (va < BASE || va - BASE > SIZE || len > SIZE - (va - BASE))
		return false;
	memcpy(buf, img + (va - BASE), len);
	return true;
}

static void put(size_t off, const uint8_t *b, size_t n) { memcpy(img + off, b, n); }

/* syscall_init: mov $0xc0000082,%ecx; mov $ENTRY,%rax; mov %rax,%rdx;
 * shr $32,%rdx; wrmsr; ret */
static void emit_syscall_init(size_t off, uint64_t entry)
{
	uint8_t b[] = { 0xb9, 0x82, 0x00, 0x00, 0xc0,
			0x48, 0xc7, 0xc0, 0, 0, 0, 0,
			0x48, 0x89, 0xc2, 0x48, 0xc1, 0xea, 0x20, 0x0f, 0x30, 0xc3 };
	uint32_t lo = (uint32_t)entry;
	memcpy(b + 8, &lo, 4);
	put(off, b, sizeof(b));
}

/* entry: swapgs; mov %rsp,%gs:0x6014; <stack load>; push $0x2b; ret */
static size_t emit_entry(size_t off, bool riprel, uint64_t top_slot)
{
	uint8_t a[] = { 0x0f, 0x01, 0xf8, 0x65, 0x48, 0x89, 0x24, 0x25, 0x14, 0x60, 0x00, 0x00 };
	put(off, a, sizeof(a));
	off += sizeof(a);
	if (riprel) {
		uint8_t l[] = { 0x65, 0x48, 0x8b, 0x25, 0, 0, 0, 0 };
		uint64_t next = BASE + off + sizeof(l);
		int32_t disp = (int32_t)(top_slot - next);
		memcpy(l + 4, &disp, 4);
		put(off, l, sizeof(l));
		off += sizeof(l);
	} else {
		uint8_t l[] = { 0x65, 0x48, 0x8b, 0x24, 0x25, 0, 0, 0, 0 };
		uint32_t s = (uint32_t)top_slot;
		memcpy(l + 5, &s, 4);
		put(off, l, sizeof(l));
		off += sizeof(l);
	}
	uint8_t t[] = { 0x6a, 0x2b, 0xc3 };
	put(off, t, sizeof(t));
	return off + sizeof(t);
}

/* native form: mov $0xc0000082,%ecx; mov $lo,%eax; mov $hi,%edx; wrmsr; ret */
static void emit_syscall_init_native(size_t off, uint64_t entry)
{
	uint8_t b[] = { 0xb9, 0x82, 0x00, 0x00, 0xc0, 0xb8, 0, 0, 0, 0, 0xba, 0, 0, 0, 0,
			0x0f, 0x30, 0xc3 };
	uint32_t lo = (uint32_t)entry, hi = (uint32_t)(entry >> 32);
	memcpy(b + 6, &lo, 4);
	memcpy(b + 11, &hi, 4);
	put(off, b, sizeof(b));
}

static struct infer_profile prof;

static void run(const struct infer_hints *h)
{
	struct infer_reader rd = { .read = rd_fn, .ctx = NULL, .text_start = BASE,
				   .text_end = BASE + SIZE, .image_start = BASE,
				   .image_end = BASE + SIZE };
	struct infer_arena a = { arena_mem, sizeof(arena_mem), 0 };
	memset(&prof, 0, sizeof(prof));
	int n = infer_strategy_patterns(&rd, h, &a, &prof);
	assert_true(n >= 0);
	assert_true(a.used <= a.size);
}

static void reset(void) { memset(img, 0xcc, sizeof(img)); }

static void test_lstar_wrmsr_absolute_gs(void **st)
{
	(void)st;
	reset();
	emit_syscall_init(0x100, ENTRY);
	emit_entry(0x1000, false, 0x1fb50);
	run(NULL);
	assert_true(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_int_equal(prof.p[INFER_P_ENTRY_SYSCALL_64].value, ENTRY);
	assert_true(prof.p[INFER_P_PCPU_TOP_OF_STACK].found);
	assert_int_equal(prof.p[INFER_P_PCPU_TOP_OF_STACK].value, 0x1fb50);
}

static void test_lstar_wrmsr_riprel_gs(void **st)
{
	(void)st;
	reset();
	emit_syscall_init(0x200, ENTRY);
	emit_entry(0x1000, true, 0x35018);
	run(NULL);
	assert_true(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_int_equal(prof.p[INFER_P_ENTRY_SYSCALL_64].value, ENTRY);
	assert_true(prof.p[INFER_P_PCPU_TOP_OF_STACK].found);
	assert_int_equal(prof.p[INFER_P_PCPU_TOP_OF_STACK].value, 0x35018);
}

static void test_lstar_native_wrmsr_halves(void **st)
{
	(void)st;
	reset();
	emit_syscall_init_native(0x100, ENTRY);
	emit_entry(0x1000, false, 0x1fb50);
	run(NULL);
	assert_true(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_int_equal(prof.p[INFER_P_ENTRY_SYSCALL_64].value, ENTRY);
}

static void test_two_different_lstar_writes_is_ambiguous(void **st)
{
	(void)st;
	reset();
	emit_syscall_init(0x100, ENTRY);
	emit_syscall_init(0x300, ENTRY + 0x800);
	emit_entry(0x1000, false, 0x1fb50);
	emit_entry(0x1800, false, 0x1fb50);
	run(NULL);
	assert_false(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_non_null(strstr(prof.p[INFER_P_ENTRY_SYSCALL_64].why, "2 distinct"));
}

static void test_lstar_hint_used_and_checked(void **st)
{
	(void)st;
	reset();
	emit_entry(0x1000, true, 0x35018);
	struct infer_hints h = { .have_lstar = true, .lstar = ENTRY };
	run(&h);
	assert_true(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_int_equal(prof.p[INFER_P_PCPU_TOP_OF_STACK].value, 0x35018);
	/* a hint at code without the entry shape is rejected with a reason */
	h.lstar = BASE + 0x2000;
	run(&h);
	assert_false(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_true(prof.p[INFER_P_ENTRY_SYSCALL_64].why[0] != 0);
}

static void test_garbage_and_unreadable(void **st)
{
	(void)st;
	for (unsigned seed = 1; seed < 20; seed++) {
		uint32_t x = seed * 2654435761u;
		for (size_t i = 0; i < SIZE; i++) { x = x * 1103515245u + 12345u; img[i] = (uint8_t)(x >> 16); }
		struct infer_hints h = { .have_lstar = true, .lstar = BASE + (x % SIZE) };
		run(seed & 1 ? &h : NULL);
		for (int p = 0; p < INFER_NPARAMS; p++)
			if (!prof.p[p].found)
				assert_true(prof.p[p].why[0] != 0);
	}
	struct infer_hints h = { .have_lstar = true, .lstar = 0x1000 };  /* unreadable */
	run(&h);
	assert_false(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
}

/* a hostile reader claiming the whole address space as text must not make
 * any scan unbounded (the test would time out) */
static void test_huge_text_range_is_bounded(void **st)
{
	(void)st;
	reset();
	emit_entry(0x1000, false, 0x1fb50);
	struct infer_reader rd = { .read = rd_fn, .text_start = 0x1000, .text_end = ~0ull,
				   .image_start = 0x1000, .image_end = ~0ull };
	struct infer_arena a = { arena_mem, sizeof(arena_mem), 0 };
	memset(&prof, 0, sizeof(prof));
	assert_true(infer_strategy_patterns(&rd, NULL, &a, &prof) >= 0);
	assert_false(prof.p[INFER_P_ENTRY_SYSCALL_64].found);
	rd.text_start = ~0ull - 10; rd.text_end = 5;            /* inverted */
	memset(&prof, 0, sizeof(prof)); a.used = 0;
	assert_true(infer_strategy_patterns(&rd, NULL, &a, &prof) >= 0);
	assert_true(prof.p[INFER_P_ENTRY_SYSCALL_64].why[0] != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lstar_wrmsr_absolute_gs),
		cmocka_unit_test(test_lstar_wrmsr_riprel_gs),
		cmocka_unit_test(test_lstar_native_wrmsr_halves),
		cmocka_unit_test(test_two_different_lstar_writes_is_ambiguous),
		cmocka_unit_test(test_lstar_hint_used_and_checked),
		cmocka_unit_test(test_garbage_and_unreadable),
		cmocka_unit_test(test_huge_text_range_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
