/* Unit tests: BTF strategy on hand-built BTF blobs (infer/btf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "infer/btf.h"
#include "tests/unit/infer_testutil.h"

/* ---- a tiny BTF writer ---- */
struct bw {
	uint8_t types[8192];
	size_t tlen;
	char strs[4096];
	size_t slen;
	uint32_t next_id;
};

static uint32_t bw_str(struct bw *w, const char *s)
{
	if (!s || !*s)
		return 0;
	uint32_t off = (uint32_t)w->slen;
	strcpy(w->strs + w->slen, s);
	w->slen += strlen(s) + 1;
	return off;
}

static void bw_init(struct bw *w)
{
	memset(w, 0, sizeof(*w));
	w->slen = 1; /* strs[0] = "" */
	w->next_id = 1;
}

static uint32_t bw_type(struct bw *w, const char *name, uint32_t kind, uint32_t vlen, bool kflag,
			uint32_t size_or_type)
{
	uint8_t *p = w->types + w->tlen;
	put32(p, bw_str(w, name));
	put32(p + 4, kind << 24 | vlen | (kflag ? 1u << 31 : 0));
	put32(p + 8, size_or_type);
	w->tlen += 12;
	return w->next_id++;
}

static void bw_u32(struct bw *w, uint32_t v)
{
	put32(w->types + w->tlen, v);
	w->tlen += 4;
}

static void bw_member(struct bw *w, const char *name, uint32_t type, uint32_t bitoff)
{
	bw_u32(w, bw_str(w, name));
	bw_u32(w, type);
	bw_u32(w, bitoff);
}

static size_t bw_blob(struct bw *w, uint8_t *out)
{
	put16(out, 0xeB9F);
	out[2] = 1;
	out[3] = 0;
	put32(out + 4, 24);
	put32(out + 8, 0);
	put32(out + 12, (uint32_t)w->tlen);
	put32(out + 16, (uint32_t)w->tlen);
	put32(out + 20, (uint32_t)w->slen);
	memcpy(out + 24, w->types, w->tlen);
	memcpy(out + 24 + w->tlen, w->strs, w->slen);
	return 24 + w->tlen + w->slen;
}

/*
 * Types: int; struct cred { int pad; int pad2; int uid@8; int gid@12; ... euid@24 };
 * struct mm_struct { struct { ...; void *pgd @72 }; } (anonymous)
 * struct task_struct { ... union { int pid @2416 } anonymous; tgid; comm ...}
 * per-CPU: VAR current_task, VAR cpu_current_top_of_stack in DATASEC .data..percpu
 */
static size_t build_kernel_btf(uint8_t *out, bool with_percpu, uint32_t cur_off, bool hot)
{
	struct bw w;
	bw_init(&w);
	uint32_t t_int = bw_type(&w, "int", 1, 0, false, 4);
	bw_u32(&w, 32);
	uint32_t t_ptr = bw_type(&w, NULL, 2, 0, false, 0);
	uint32_t t_kuid = bw_type(&w, "kuid_t", 8, 0, false, t_int); /* typedef */

	bw_type(&w, "cred", 4, 4, false, 64);
	bw_member(&w, "usage", t_int, 0);
	bw_member(&w, "uid", t_kuid, 8 * 8);
	bw_member(&w, "gid", t_kuid, 12 * 8);
	bw_member(&w, "euid", t_kuid, 24 * 8);

	uint32_t anon = bw_type(&w, NULL, 4, 2, false, 80);
	bw_member(&w, "mmap_base", t_int, 0);
	bw_member(&w, "pgd", t_ptr, 72 * 8);
	bw_type(&w, "mm_struct", 4, 1, false, 128);
	bw_member(&w, NULL, anon, 0);

	uint32_t u = bw_type(&w, NULL, 5, 1, false, 4);
	bw_member(&w, "pid", t_int, 0);
	uint32_t t_arr = bw_type(&w, NULL, 3, 0, false, 0);
	bw_u32(&w, t_int);
	bw_u32(&w, t_int);
	bw_u32(&w, 16);
	bw_type(&w, "task_struct", 4, 11, true, 4096);
	bw_member(&w, "flags", t_int, 3u << 24 | 0); /* a 3-bit bitfield at 0 */
	bw_member(&w, NULL, u, 2416 * 8);
	bw_member(&w, "tgid", t_int, 2420 * 8);
	bw_member(&w, "real_parent", t_ptr, 2432 * 8);
	bw_member(&w, "parent", t_ptr, 2440 * 8);
	bw_member(&w, "group_leader", t_ptr, 2480 * 8);
	bw_member(&w, "mm", t_ptr, 2272 * 8);
	bw_member(&w, "tasks", t_ptr, 2192 * 8);
	bw_member(&w, "real_cred", t_ptr, 2952 * 8);
	bw_member(&w, "cred", t_ptr, 2960 * 8);
	bw_member(&w, "comm", t_arr, 2976 * 8);
	/* a forward declaration of the same name must be ignored */
	bw_type(&w, "task_struct", 7, 0, false, 0);

	if (hot) {
		uint32_t s = bw_type(&w, NULL, 4, 2, false, 64);
		bw_member(&w, "current_task", t_ptr, 0);
		bw_member(&w, "top_of_stack", t_ptr, 24 * 8);
		uint32_t un = bw_type(&w, NULL, 5, 1, false, 64);
		bw_member(&w, NULL, s, 0);
		uint32_t ph = bw_type(&w, "pcpu_hot", 4, 1, false, 64);
		bw_member(&w, NULL, un, 0);
		uint32_t v = bw_type(&w, "pcpu_hot", 14, 0, false, ph);
		bw_u32(&w, 1);
		bw_type(&w, ".data..percpu", 15, 1, false, 0x40000);
		bw_u32(&w, v);
		bw_u32(&w, cur_off);
		bw_u32(&w, 64);
	} else if (with_percpu) {
		uint32_t v1 = bw_type(&w, "current_task", 14, 0, false, t_ptr);
		bw_u32(&w, 1);
		uint32_t v2 = bw_type(&w, "cpu_current_top_of_stack", 14, 0, false, t_ptr);
		bw_u32(&w, 1);
		bw_type(&w, ".data..percpu", 15, 2, false, 0x30000);
		bw_u32(&w, v2);
		bw_u32(&w, cur_off - 48);
		bw_u32(&w, 8);
		bw_u32(&w, v1);
		bw_u32(&w, cur_off);
		bw_u32(&w, 8);
	}
	return bw_blob(&w, out);
}

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
		cmocka_unit_test(test_parse_and_offsets),
		cmocka_unit_test(test_rejects_corrupt),
		cmocka_unit_test(test_strategy_scan),
		cmocka_unit_test(test_strategy_pcpu_hot),
		cmocka_unit_test(test_no_btf),
	};
	return cmocka_run_group_tests_name("infer_btf", tests, NULL, NULL);
}
