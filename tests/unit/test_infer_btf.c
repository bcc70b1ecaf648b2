/* Unit tests: BTF strategy on hand-built BTF blobs (infer/btf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "infer/btf.h"
#include "tests/unit/infer_testutil.h"

#include "tests/unit/synth_btf.h"

static void test_parse_and_offsets(void **state)
{
	(void)state;
	uint8_t blob[16384];
	size_t n = build_kernel_btf(blob, true, 0x1fb80, false);
	struct infer_arena a = test_arena(1 << 20);
	const char *why = NULL;
	struct infer_btf *b = infer_btf_parse(blob, n, &a, &why);
	assert_non_null(b);
	uint64_t off = 0;
	assert_true(infer_btf_offset(b, "cred", "uid", &off, &why));
	assert_int_equal(off, 8);
	assert_true(infer_btf_offset(b, "cred", "euid", &off, &why));
	assert_int_equal(off, 24);
	/* through an anonymous struct */
	assert_true(infer_btf_offset(b, "mm_struct", "pgd", &off, &why));
	assert_int_equal(off, 72);
	/* through an anonymous union at a nonzero offset */
	assert_true(infer_btf_offset(b, "task_struct", "pid", &off, &why));
	assert_int_equal(off, 2416);
	assert_true(infer_btf_offset(b, "task_struct", "comm", &off, &why));
	assert_int_equal(off, 2976);
	/* bitfields are refused, absent members reported */
	assert_false(infer_btf_offset(b, "task_struct", "flags", &off, &why));
	assert_non_null(why);
	assert_false(infer_btf_offset(b, "task_struct", "no_such", &off, &why));
	assert_false(infer_btf_offset(b, "no_such_struct", "pid", &off, &why));
	assert_true(infer_btf_percpu_var(b, "current_task", &off, &why));
	assert_int_equal(off, 0x1fb80);
	assert_false(infer_btf_percpu_var(b, "nope", &off, &why));
	free(a.base);
}

static void test_rejects_corrupt(void **state)
{
	(void)state;
	uint8_t blob[16384];
	size_t n = build_kernel_btf(blob, true, 0x1fb80, false);
	struct infer_arena a = test_arena(1 << 20);
	const char *why = NULL;
	uint8_t bad[16384];

	/* truncated */
	assert_null(infer_btf_parse(blob, n / 2, &a, &why));
	assert_non_null(why);
	/* bad magic */
	memcpy(bad, blob, n);
	bad[0] ^= 0xff;
	assert_null(infer_btf_parse(bad, n, &a, &why));
	/* unknown kind in the first type */
	memcpy(bad, blob, n);
	bad[24 + 7] = 31;
	assert_null(infer_btf_parse(bad, n, &a, &why));
	/* type length not covering a member list */
	memcpy(bad, blob, n);
	put32(bad + 12, 12 + 4 + 12 + 12 + 12 + 4); /* cuts inside struct cred */
	assert_null(infer_btf_parse(bad, n, &a, &why));
	/* a member's type id out of range must not crash lookups */
	memcpy(bad, blob, n);
	for (size_t i = 24; i + 4 <= n; i += 4)
		if (bad[i] == 1 && bad[i + 1] == 0 && bad[i + 2] == 0 && bad[i + 3] == 0)
			put32(bad + i, 0x7fffffff);
	struct infer_btf *b = infer_btf_parse(bad, n, &a, &why);
	if (b) {
		uint64_t off;
		infer_btf_offset(b, "mm_struct", "pgd", &off, &why);
	}
	/* tiny arena */
	struct infer_arena small = test_arena(64);
	assert_null(infer_btf_parse(blob, n, &small, &why));
	free(small.base);
	free(a.base);
}

/* The strategy finds the blob by scanning an image with no section list. */
static void test_strategy_scan(void **state)
{
	(void)state;
	struct memimg m = { 0xffffffff82000000ull, calloc(1, 1 << 20), 1 << 20 };
	uint8_t blob[16384];
	size_t n = build_kernel_btf(blob, true, 0x1fb80, false);
	memcpy(m.buf + 0x43210, blob, n);
	memcpy(m.buf + 0x100, "Linux version 6.1.0-test (x@y) #1 SMP\n", 39);
	/* a decoy: a valid-looking, larger header over zeros, before the real blob */
	memcpy(m.buf + 0x400, blob, 24);
	put32(m.buf + 0x400 + 12, 0x10000);
	put32(m.buf + 0x400 + 16, 0x10000);
	put32(m.buf + 0x400 + 20, 0x100);
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(4 << 20);
	struct infer_profile *out = calloc(1, sizeof(*out));
	int found = infer_strategy_btf(&rd, NULL, &a, out);
	assert_int_equal(found, 16);
	assert_true(out->p[INFER_P_TASK_PID].found);
	assert_int_equal(out->p[INFER_P_TASK_PID].value, 2416);
	assert_int_equal(out->p[INFER_P_TASK_TGID].value, 2420);
	assert_int_equal(out->p[INFER_P_CRED_GID].value, 12);
	assert_int_equal(out->p[INFER_P_MM_PGD].value, 72);
	assert_int_equal(out->p[INFER_P_PCPU_CURRENT_TASK].value, 0x1fb80);
	assert_int_equal(out->p[INFER_P_PCPU_TOP_OF_STACK].value, 0x1fb80 - 48);
	/* BTF does not answer addresses */
	assert_false(out->p[INFER_P_INIT_TASK].found);
	assert_string_equal(out->banner, "Linux version 6.1.0-test (x@y) #1 SMP");
	free(out);
	free(a.base);
	free(m.buf);
}

/* A BTF blob with ntypes types: int, ntypes - 2 pointers, and
 * struct task_struct { int pid @pid_off }. */
static size_t big_btf(uint8_t *out, uint32_t ntypes, uint32_t pid_off)
{
	static const char strs[] = "\0int\0task_struct\0pid";
	uint8_t *t = out + 24, *p = t;
	put32(p, 1); put32(p + 4, 1u << 24); put32(p + 8, 4); put32(p + 12, 32); p += 16;
	for (uint32_t i = 0; i + 2 < ntypes; i++, p += 12) {
		put32(p, 0); put32(p + 4, 2u << 24); put32(p + 8, 1);
	}
	put32(p, 5); put32(p + 4, 4u << 24 | 1); put32(p + 8, 4096);
	put32(p + 12, 17); put32(p + 16, 1); put32(p + 20, pid_off * 8); p += 24;
	uint32_t tlen = (uint32_t)(p - t);
	put16(out, 0xeB9F); out[2] = 1; out[3] = 0;
	put32(out + 4, 24); put32(out + 8, 0); put32(out + 12, tlen);
	put32(out + 16, tlen); put32(out + 20, sizeof(strs));
	memcpy(p, strs, sizeof(strs));
	return 24 + tlen + sizeof(strs);
}

/* Scanning memory: the first blob (address order) that parses with >= 1000
 * types is the kernel's BTF and ends the scan; smaller ones before it do not
 * (an embedded BPF object's BTF); a larger one after it is never looked at. */
static void test_scan_stops_at_kernel_btf(void **state)
{
	(void)state;
	struct memimg m = { 0xffffffff82000000ull, calloc(1, 1 << 20), 1 << 20 };
	static uint8_t blob[64 * 1024];
	size_t n = build_kernel_btf(blob, true, 0x1fb80, false);   /* small, pid 2416 */
	memcpy(m.buf + 0x1000, blob, n);
	n = big_btf(blob, 1000, 100);
	memcpy(m.buf + 0x10000, blob, n);
	n = big_btf(blob, 3000, 200);                               /* larger, later */
	memcpy(m.buf + 0x40000, blob, n);
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(4 << 20);
	const char *why = NULL;
	struct infer_btf *b = infer_btf_load(&rd, NULL, &a, &why);
	assert_non_null(b);
	assert_int_equal(b->va, m.va + 0x10000);
	uint64_t off = 0;
	assert_true(infer_btf_offset(b, "task_struct", "pid", &off, &why));
	assert_int_equal(off, 100);
	/* with 999 types it is not taken early: largest first, as before */
	a.used = 0;
	n = big_btf(blob, 999, 100);
	memcpy(m.buf + 0x10000, blob, n);
	memset(m.buf + 0x40000, 0, 64 * 1024);
	n = big_btf(blob, 999, 300);
	memcpy(m.buf + 0x40000, blob, n);
	put32(m.buf + 0x40000 + 20, 0x2000);   /* larger: trailing NULs in the strings */
	b = infer_btf_load(&rd, NULL, &a, &why);
	assert_non_null(b);
	assert_int_equal(b->va, m.va + 0x40000);
	free(a.base);
	free(m.buf);
}

/* 6.2+: current_task/top_of_stack are pcpu_hot members. */
static void test_strategy_pcpu_hot(void **state)
{
	(void)state;
	struct memimg m = { 0xffffffff82000000ull, calloc(1, 1 << 20), 1 << 20 };
	uint8_t blob[16384];
	size_t n = build_kernel_btf(blob, false, 0x35000, true);
	memcpy(m.buf + 0x1000, blob, n);
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(4 << 20);
	struct infer_profile *out = calloc(1, sizeof(*out));
	infer_strategy_btf(&rd, NULL, &a, out);
	assert_true(out->p[INFER_P_PCPU_CURRENT_TASK].found);
	assert_int_equal(out->p[INFER_P_PCPU_CURRENT_TASK].value, 0x35000);
	assert_int_equal(out->p[INFER_P_PCPU_TOP_OF_STACK].value, 0x35000 + 24);
	free(out);
	free(a.base);
	free(m.buf);
}

static void test_no_btf(void **state)
{
	(void)state;
	struct memimg m = { 0xffffffff82000000ull, calloc(1, 1 << 16), 1 << 16 };
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(1 << 20);
	struct infer_profile *out = calloc(1, sizeof(*out));
	assert_true(infer_strategy_btf(&rd, NULL, &a, out) < 0);
	assert_false(out->p[INFER_P_TASK_PID].found);
	assert_non_null(strstr(out->p[INFER_P_TASK_PID].why, "no BTF"));
	free(out);
	free(a.base);
	free(m.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_stops_at_kernel_btf),
		cmocka_unit_test(test_parse_and_offsets),
		cmocka_unit_test(test_rejects_corrupt),
		cmocka_unit_test(test_strategy_scan),
		cmocka_unit_test(test_strategy_pcpu_hot),
		cmocka_unit_test(test_no_btf),
	};
	return cmocka_run_group_tests_name("infer_btf", tests, NULL, NULL);
}
