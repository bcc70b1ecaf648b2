/* Unit tests: infer_run merge rules, the parameter table, JSON output, and
 * the frame's helpers (infer/infer.c, infer/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <sys/mman.h>

#include "tests/unit/synth_btf.h"
#include "tests/unit/synth_kallsyms.h"

static void test_param_table(void **state)
{
	(void)state;
	assert_string_equal(infer_param_name(INFER_P_ENTRY_SYSCALL_64), "entry_SYSCALL_64");
	assert_string_equal(infer_param_group(INFER_P_TASK_PID), "task_struct");
	assert_string_equal(infer_param_name(INFER_P_MM_PGD), "pgd");
	assert_int_equal(infer_param_kind(INFER_P_SC_READ), INFER_K_SYSCALL);
	assert_int_equal(infer_param_kind(INFER_P_PCPU_CURRENT_TASK), INFER_K_PERCPU);
	assert_string_equal(infer_param_name(INFER_NPARAMS), "?");
	/* names are unique (they are JSON keys) */
	for (int i = 0; i < INFER_NPARAMS; i++)
		for (int j = i + 1; j < INFER_NPARAMS; j++)
			assert_true(strcmp(infer_param_name(i), infer_param_name(j)) ||
				    strcmp(infer_param_group(i), infer_param_group(j)));
}

static void test_fmt(void **state)
{
	(void)state;
	char b[64];
	assert_int_equal(infer_fmt(b, sizeof(b), "%s=%d 0x%llx %u%%", "a", -5, 0xffffffff81000000ull, 7u), 26);
	assert_string_equal(b, "a=-5 0xffffffff81000000 7%");
	/* truncation is NUL-terminated and reports the needed length */
	assert_int_equal(infer_fmt(b, 4, "abcdef"), 6);
	assert_string_equal(b, "abc");
	infer_fmt(b, sizeof(b), "%08x|%5s|%zu", 0xbeefu, "ab", (size_t)42);
	assert_string_equal(b, "0000beef|   ab|42");
}

static void test_arena_alloc(void **state)
{
	(void)state;
	struct infer_arena a = test_arena(256);
	void *p = infer_alloc(&a, 100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p & 15, 0);
	assert_non_null(infer_alloc(&a, 100));
	assert_null(infer_alloc(&a, 100)); /* full: NULL, no abort */
	assert_null(infer_alloc(&a, (size_t)-8)); /* no overflow */
	free(a.base);
}

static bool count_hit(void *ctx, uint64_t va)
{
	uint64_t *c = ctx;
	c[c[0] + 1] = va;
	c[0]++;
	return true;
}

static void test_scan_across_chunks(void **state)
{
	(void)state;
	struct memimg m = { 0x1000000, calloc(1, 3 * 4096), 3 * 4096 };
	memcpy(m.buf + 4096 - 3, "NEEDLE", 6);  /* straddles a chunk border */
	memcpy(m.buf + 2 * 4096 + 10, "NEEDLE", 6);
	struct infer_reader rd = memimg_reader(&m);
	uint64_t hits[8] = { 0 };
	assert_int_equal(infer_scan(&rd, m.va, m.va + m.len, "NEEDLE", 6, 8, count_hit, hits), 2);
	assert_int_equal(hits[1], m.va + 4096 - 3);
	assert_int_equal(hits[2], m.va + 2 * 4096 + 10);
	/* end bound respected */
	hits[0] = 0;
	assert_int_equal(infer_scan(&rd, m.va, m.va + 4096 + 3, "NEEDLE", 6, 8, count_hit, hits), 1);
	free(m.buf);
}

/* Differential test of the scan against the documented chunk rule, done byte
 * by byte: long needles take the pair-skip path, short ones the word path;
 * self-similar needles, dense partial matches, holes, odd bounds, hit limits. */
struct holeimg {
	struct memimg m;
	uint64_t hole_lo, hole_hi;   /* unreadable [lo, hi) */
};

static bool holeimg_read(void *ctx, uint64_t va, void *out, size_t len)
{
	const struct holeimg *h = ctx;
	if (va < h->hole_hi && va + len > h->hole_lo)
		return false;
	return memimg_read((void *)&h->m, va, out, len);
}

/* A view hands out a copy that ends at a PROT_NONE page: a scan reading one
 * byte past the view faults. Views are refused for some ranges a read would
 * accept (a view is optional), never accepted where a read fails. */
#define VIEW_MAX (128u * 1024)
static uint8_t *view_area;           /* VIEW_MAX bytes, then the guard page */
static unsigned views_given;

static const uint8_t *holeimg_view(void *ctx, uint64_t va, size_t len)
{
	if (len > VIEW_MAX || (va / 4096) % 3 == 0)
		return NULL;
	uint8_t *p = view_area + VIEW_MAX - len;
	if (!holeimg_read(ctx, va, p, len))
		return NULL;
	views_given++;
	return p;
}

#define HITS_CAP (1u << 18)   /* >= the positions of a 200 KiB image */

static bool collect_hit(void *ctx, uint64_t va)
{
	uint64_t *c = ctx;
	if (c[0] < HITS_CAP)
		c[++c[0]] = va;
	return true;
}

static size_t ref_scan(const struct infer_reader *rd, uint64_t start, uint64_t end,
		       const uint8_t *n, size_t nlen, size_t max, uint64_t *out)
{
	static uint8_t buf[4096 + 64];
	size_t hits = 0;
	for (uint64_t va = start; va < end; va += 4096) {
		size_t len = 4096 + nlen - 1;
		if (end - va < len)
			len = (size_t)(end - va);
		if (len < nlen)
			break;
		if (!rd->read(rd->ctx, va, buf, len)) {
			size_t l2 = end - va < 4096 ? (size_t)(end - va) : 4096;
			if (l2 < nlen || !rd->read(rd->ctx, va, buf, l2))
				continue;
			len = l2;
		}
		size_t lim = len - nlen + 1 < 4096 ? len - nlen + 1 : 4096;
		for (size_t i = 0; i < lim; i++)
			if (!memcmp(buf + i, n, nlen)) {
				if (out[0] < HITS_CAP)
					out[++out[0]] = va + i;
				if (++hits >= max)
					return hits;
			}
	}
	return hits;
}

static void test_scan_differential(void **state)
{
	(void)state;
	uint32_t seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, seed >> 8)
	const size_t max = 200 * 1024;  /* several 64 KiB reads, and single pieces */
	struct holeimg h = { { 0xffffffff81000000ull, malloc(max), max }, 0, 0 };
	uint64_t *got = calloc(HITS_CAP + 1, 8), *want = calloc(HITS_CAP + 1, 8);
	view_area = mmap(NULL, VIEW_MAX + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(view_area != MAP_FAILED);
	assert_int_equal(mprotect(view_area + VIEW_MAX, 4096, PROT_NONE), 0);
	views_given = 0;
	for (int round = 0; round < 300; round++) {
		const size_t size = round & 1 ? max : 48 * 1024;
		h.m.len = size;
		uint8_t n[64];
		size_t nlen = round % 3 == 0 ? 3 + RND() % 9 : 12 + RND() % 40;
		/* alphabets of 2..5 letters: many partial and overlapping matches */
		unsigned alpha = 2 + RND() % 4;
		for (size_t i = 0; i < nlen; i++)
			n[i] = round % 5 == 0 ? (uint8_t)('a' + i % 2) : (uint8_t)RND() % alpha;
		for (size_t i = 0; i < size; i++)
			h.m.buf[i] = (uint8_t)(RND() % (alpha + 1));
		for (int k = 0; k < 40; k++) {          /* planted copies, some overlapping */
			size_t at = RND() % (size - nlen);
			memcpy(h.m.buf + at, n, nlen);
		}
		h.hole_lo = h.hole_hi = 0;
		if (round % 4 == 1 || round % 4 == 2) {
			h.hole_lo = h.m.va + (RND() % size);
			h.hole_hi = h.hole_lo + 1 + RND() % 9000;
		}
		struct infer_reader rd = { holeimg_read, &h, 0, 0, 0, 0, NULL, 0,
					   round % 3 == 1 ? holeimg_view : NULL };
		uint64_t start = h.m.va + RND() % 5000, end = h.m.va + size - RND() % 5000;
		size_t maxh = round % 7 == 0 ? 1 + RND() % 5 : 100000;
		got[0] = want[0] = 0;
		size_t a = infer_scan(&rd, start, end, n, nlen, maxh, collect_hit, got);
		size_t b = ref_scan(&rd, start, end, n, nlen, maxh, want);
		assert_int_equal(a, b);
		assert_int_equal(got[0], want[0]);
		assert_memory_equal(got + 1, want + 1, 8 * got[0]);
	}
#undef RND
	print_message("%u views\n", views_given);
	assert_true(views_given > 100);       /* the view path ran (and read no byte past a view) */
	munmap(view_area, VIEW_MAX + 4096);
	free(got);
	free(want);
	free(h.m.buf);
}

/* An image with both BTF (per-CPU vars) and nothing else: BTF answers, the
 * kallsyms strategy reports why it could not. */
static void test_run_reasons_and_json(void **state)
{
	(void)state;
	struct memimg m = { 0xffffffff82000000ull, calloc(1, 1 << 16), 1 << 16 };
	static const char ban[] = "Linux version 9.9.9-\"q\" (x@y) #1 SMP\n";
	memcpy(m.buf + 64, ban, sizeof(ban));
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(1 << 20);
	struct infer_profile *p = calloc(1, sizeof(*p));
	int n = infer_run(&rd, NULL, INFER_S_KALLSYMS | INFER_S_BTF, &a, p);
	assert_int_equal(n, 0);
	assert_int_equal(a.used, 0); /* arena released */
	assert_int_equal(p->strategies, INFER_S_KALLSYMS | INFER_S_BTF);
	assert_string_equal(p->banner, "Linux version 9.9.9-\"q\" (x@y) #1 SMP");
	assert_false(p->p[INFER_P_INIT_TASK].found);
	assert_non_null(strstr(p->p[INFER_P_INIT_TASK].why, "kallsyms"));
	assert_non_null(strstr(p->p[INFER_P_TASK_PID].why, "btf"));

	char buf[16384];
	size_t len = infer_profile_json(p, buf, sizeof(buf));
	assert_true(len < sizeof(buf));
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "\"banner\": \"Linux version 9.9.9-\\\"q\\\" (x@y) #1 SMP\""));
	assert_non_null(strstr(buf, "\"strategy\": \"kallsyms+btf\""));
	assert_non_null(strstr(buf, "\"init_task\": null"));
	assert_non_null(strstr(buf, "\"syscalls\": {\"execve\": null"));
	assert_non_null(strstr(buf, "\"task_struct\": {\"pid\": null"));
	assert_non_null(strstr(buf, "\"missing\": {\"entry_SYSCALL_64\": \""));
	/* snprintf-like: a short buffer is NUL-terminated and the length is the same */
	char small[32];
	assert_int_equal(infer_profile_json(p, small, sizeof(small)), len);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	free(p);
	free(a.base);
	free(m.buf);
}

static void test_run_without_arena(void **state)
{
	(void)state;
	struct memimg m = { 0xffffffff82000000ull, calloc(1, 4096), 4096 };
	struct infer_reader rd = memimg_reader(&m);
	struct infer_profile *p = calloc(1, sizeof(*p));
	assert_int_equal(infer_run(&rd, NULL, INFER_S_KALLSYMS | INFER_S_BTF, NULL, p), 0);
	assert_non_null(strstr(p->p[INFER_P_TASK_PID].why, "arena"));
	/* room for the per-strategy profiles only: BTF cannot copy its blob */
	struct infer_arena a = test_arena(3 * sizeof(struct infer_profile));
	assert_int_equal(infer_run(&rd, NULL, INFER_S_ALL, &a, p), 0);
	assert_true(p->p[INFER_P_TASK_PID].why[0] != 0);
	assert_int_equal(a.used, 0);
	free(a.base);
	free(p);
	free(m.buf);
}

static void test_json_values(void **state)
{
	(void)state;
	struct infer_profile *p = calloc(1, sizeof(*p));
	p->strategies = INFER_S_ALL;
	for (int i = 0; i < INFER_NPARAMS; i++) {
		p->p[i].found = true;
		p->p[i].found_by = INFER_S_PATTERNS | INFER_S_KALLSYMS;
		p->p[i].value = 1000 + i;
	}
	p->p[INFER_P_ENTRY_SYSCALL_64].value = 0xffffffff81a00000ull;
	p->p[INFER_P_PCPU_CURRENT_TASK].value = 85568;
	p->p[INFER_P_TASK_COMM].value = 1840;
	/* a hostile banner byte stays valid JSON */
	strcpy(p->banner, "Linux\x01\x7f\\");
	char buf[16384];
	infer_profile_json(p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"banner\": \"Linux\\u0001\\u007f\\\\\""));
	assert_non_null(strstr(buf, "\"strategy\": \"all\""));
	assert_non_null(strstr(buf, "\"entry_SYSCALL_64\": \"0xffffffff81a00000\""));
	assert_non_null(strstr(buf, "\"percpu\": {\"current_task\": 85568"));
	assert_non_null(strstr(buf, "\"comm\": 1840"));
	assert_non_null(strstr(buf, "\"cred\": {\"uid\": "));
	assert_non_null(strstr(buf, "\"mm_struct\": {\"pgd\": "));
	assert_non_null(strstr(buf, "\"missing\": {}"));
	assert_non_null(strstr(buf, "\"pgd\": \"patterns+kallsyms\""));
	free(p);
}

/* kallsyms + BTF in one image: agreement and disagreement on per-CPU offsets. */
/* INFER_KIMAGE_SEEDS=DIR: write the synthetic image as a vmlinux-like ELF
 * (one PT_LOAD at RO) for the fuzz seed corpus. */
static void save_elf_seed(const char *name, size_t len)
{
	const char *dir = getenv("INFER_KIMAGE_SEEDS");
	if (!dir)
		return;
	static uint8_t e[0x1000];
	memset(e, 0, sizeof(e));
	memcpy(e, "\x7f" "ELF", 4);
	e[4] = 2; e[5] = 1; e[6] = 1;
	put16(e + 16, 2); put16(e + 18, 62); put32(e + 20, 1);
	put64(e + 24, RO); put64(e + 32, 64);
	put16(e + 52, 64); put16(e + 54, 56); put16(e + 56, 1);
	uint8_t *ph = e + 64;
	put32(ph, 1); put32(ph + 4, 5);
	put64(ph + 8, sizeof(e)); put64(ph + 16, RO); put64(ph + 24, 0x2000000);
	put64(ph + 32, len); put64(ph + 40, len); put64(ph + 48, 0x1000);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(e, 1, sizeof(e), f);
		fwrite(img, 1, len, f);
		fclose(f);
	}
}

static struct infer_profile *run_both(uint32_t btf_current)
{
	make_syms(false, false);
	size_t end = build(L_OLD);
	uint8_t blob[16384];
	size_t n = build_kernel_btf(blob, true, btf_current, false);
	end = (end + 4096) & ~(size_t)4095;
	memcpy(img + end, blob, n);
	save_elf_seed(btf_current == 0x1fb80 ? "synthetic-elf" : "synthetic-elf-disagree", end + n);
	static struct memimg m;
	m = (struct memimg){ RO, img, sizeof(img) };
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(16 << 20);
	struct infer_profile *p = calloc(1, sizeof(*p));
	infer_run(&rd, NULL, INFER_S_KALLSYMS | INFER_S_BTF, &a, p);
	free(a.base);
	return p;
}

static void test_merge_agree(void **state)
{
	(void)state;
	struct infer_profile *p = run_both(0x1fb80);
	assert_true(p->p[INFER_P_PCPU_CURRENT_TASK].found);
	assert_int_equal(p->p[INFER_P_PCPU_CURRENT_TASK].value, 0x1fb80);
	assert_int_equal(p->p[INFER_P_PCPU_CURRENT_TASK].found_by, INFER_S_KALLSYMS | INFER_S_BTF);
	assert_int_equal(p->p[INFER_P_PCPU_CURRENT_TASK].disagree, 0);
	/* one strategy alone is enough when nobody contradicts it */
	assert_true(p->p[INFER_P_TASK_PID].found);
	assert_int_equal(p->p[INFER_P_TASK_PID].found_by, INFER_S_BTF);
	assert_true(p->p[INFER_P_INIT_TASK].found);
	assert_int_equal(p->p[INFER_P_INIT_TASK].found_by, INFER_S_KALLSYMS);
	free(p);
}

static void test_merge_disagree(void **state)
{
	(void)state;
	struct infer_profile *p = run_both(0x1fb88);
	const struct infer_value *v = &p->p[INFER_P_PCPU_CURRENT_TASK];
	assert_false(v->found);
	assert_int_equal(v->disagree, INFER_S_KALLSYMS | INFER_S_BTF);
	assert_non_null(strstr(v->why, "kallsyms: 0x1fb80"));
	assert_non_null(strstr(v->why, "btf: 0x1fb88"));
	char buf[16384];
	infer_profile_json(p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"current_task\": null"));
	assert_non_null(strstr(buf, "\"current_task\": \"kallsyms: 0x1fb80; btf: 0x1fb88\""));
	free(p);
}

/* Issue 14: not applicable is not missing. A kernel without the BHI switch
 * dispatcher has no x64_sys_call: kallsyms establishes that (the symbol table
 * is complete and has no such name), the merged profile says not applicable
 * with its reason, JSON lists it under "not_applicable" (value null) and not
 * under "missing", and the profile is complete (hvinfer exit status 0). */
static void test_not_applicable_merge(void **state)
{
	(void)state;
	make_syms(false, false);
	for (size_t i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, "Tx64_sys_call"))
			strcpy(syms[i].name, "Tx64_sys_call_gone");   /* same address order */
	build(L_OLD);
	struct memimg m = { RO, img, sizeof(img) };
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(16 << 20);
	struct infer_profile *p = calloc(1, sizeof(*p));
	infer_run(&rd, NULL, INFER_S_KALLSYMS, &a, p);
	const struct infer_value *v = &p->p[INFER_P_X64_SYS_CALL];
	assert_false(v->found);
	assert_true(v->na);
	assert_non_null(strstr(v->why, "kallsyms: absent"));
	assert_true(p->p[INFER_P_SYS_CALL_TABLE].found);
	char buf[16384];
	infer_profile_json(p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"x64_sys_call\": null"));
	assert_non_null(strstr(buf, "\"not_applicable\": {\"x64_sys_call\": \"kallsyms: absent"));
	char *miss = strstr(buf, "\"missing\": {");
	char *na = strstr(buf, "\"not_applicable\"");
	assert_non_null(miss);
	assert_non_null(na);
	*na = 0;
	assert_null(strstr(miss, "x64_sys_call"));      /* not under "missing" */
	/* with x64_sys_call present, kallsyms finds it and nothing is n/a */
	make_syms(false, false);
	build(L_OLD);
	infer_run(&rd, NULL, INFER_S_KALLSYMS, &a, p);
	assert_true(p->p[INFER_P_X64_SYS_CALL].found);
	assert_false(p->p[INFER_P_X64_SYS_CALL].na);
	free(p);
	free(a.base);
}

/* The setters, infer_profile_complete and the JSON key on a built profile. */
static void test_not_applicable_rules(void **state)
{
	(void)state;
	struct infer_profile *p = calloc(1, sizeof(*p));
	p->strategies = INFER_S_PATTERNS;
	for (int i = 0; i < INFER_NPARAMS; i++)
		infer_set_found(p, (enum infer_param)i, 1000 + i);
	assert_true(infer_profile_complete(p));
	infer_set_na(p, INFER_P_X64_SYS_CALL, "no switch dispatcher (%d)", 7);
	assert_true(p->p[INFER_P_X64_SYS_CALL].na);
	assert_false(p->p[INFER_P_X64_SYS_CALL].found);
	assert_string_equal(p->p[INFER_P_X64_SYS_CALL].why, "no switch dispatcher (7)");
	assert_true(infer_profile_complete(p));             /* n/a is not missing */
	char buf[16384];
	infer_profile_json(p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"missing\": {}"));
	assert_non_null(strstr(buf, "\"not_applicable\": {\"x64_sys_call\": \"no switch dispatcher (7)\"}"));
	infer_set_missing(p, INFER_P_TASK_PID, "not found");
	assert_false(infer_profile_complete(p));            /* a missing one is */
	infer_profile_json(p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"missing\": {\"pid\": \"not found\"}"));
	/* found and missing both clear n/a */
	infer_set_found(p, INFER_P_X64_SYS_CALL, 5);
	assert_false(p->p[INFER_P_X64_SYS_CALL].na);
	infer_set_na(p, INFER_P_X64_SYS_CALL, "x");
	infer_set_missing(p, INFER_P_X64_SYS_CALL, "y");
	assert_false(p->p[INFER_P_X64_SYS_CALL].na);
	infer_profile_json(p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"not_applicable\": {}"));
	assert_false(infer_profile_complete(NULL));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_param_table),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_arena_alloc),
		cmocka_unit_test(test_scan_across_chunks),
		cmocka_unit_test(test_scan_differential),
		cmocka_unit_test(test_run_reasons_and_json),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_run_without_arena),
		cmocka_unit_test(test_merge_agree),
		cmocka_unit_test(test_merge_disagree),
		cmocka_unit_test(test_not_applicable_merge),
		cmocka_unit_test(test_not_applicable_rules),
	};
	return cmocka_run_group_tests_name("infer_run", tests, NULL, NULL);
}
