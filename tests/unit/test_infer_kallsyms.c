/* Unit tests: kallsyms strategy on synthetic kallsyms tables, in the three
 * layouts scripts/kallsyms.c has produced (infer/kallsyms.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "tests/unit/infer_testutil.h"

#define BASE 0xffffffff81000000ull
#define RO   0xffffffff82000000ull

enum layout { L_OLD, L_SEQS, L_NEW };

struct sym {
	char name[64]; /* with the type letter first */
	uint64_t addr;
	bool percpu;
};

static struct sym syms[1200];
static size_t nsyms;

static void add(char type, const char *name, uint64_t addr, bool percpu)
{
	struct sym *s = &syms[nsyms++];
	snprintf(s->name, sizeof(s->name), "%c%s", type, name);
	s->addr = addr;
	s->percpu = percpu;
}

static const char *const sc[] = { "execve", "execveat", "exit", "exit_group", "clone", "clone3",
				  "fork", "vfork", "kill", "setuid", "setresuid", "init_module",
				  "finit_module", "read" };

/* Symbols sorted by address as kallsyms stores them: per-CPU ones first. */
static void make_syms(bool hot, bool dup_switch)
{
	nsyms = 0;
	if (hot) {
		add('D', "pcpu_hot", 0x35000, true);
	} else {
		add('D', "cpu_current_top_of_stack", 0x1fb50, true);
		add('D', "current_task", 0x1fb80, true);
	}
	add('T', "_stext", BASE, false);
	add('T', "__switch_to", BASE + 0x2f280, false);
	if (dup_switch)
		add('t', "__switch_to", BASE + 0x2f300, false);
	add('T', "x64_sys_call", BASE + 0x3320, false);
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		char n[48];
		snprintf(n, sizeof(n), "__x64_sys_%s", sc[i]);
		add('T', n, BASE + 0x90000 + 0x100 * i, false);
	}
	for (int i = 0; i < 700; i++) {
		char n[48];
		snprintf(n, sizeof(n), "filler_function_%d", i);
		add('t', n, BASE + 0x100000 + 0x40 * i, false);
	}
	add('T', "entry_SYSCALL_64", BASE + 0xc00080, false);
	add('D', "sys_call_table", RO + 0x360, false);
	add('D', "init_task", BASE + 0x1a1aa40, false);
}

/* ---- table writer ---- */
static uint8_t img[1 << 20];
static size_t pos;
static char tok[256][16];

static void align8(void)
{
	while (pos & 7)
		img[pos++] = 0;
}

static void w8(uint8_t v) { img[pos++] = v; }
static void w16(uint16_t v) { put16(img + pos, v); pos += 2; }
static void w32(uint32_t v) { put32(img + pos, v); pos += 4; }
static void w64(uint64_t v) { put64(img + pos, v); pos += 8; }

static void make_tokens(void)
{
	bool used[256] = { 0 };
	for (size_t i = 0; i < nsyms; i++)
		for (const char *p = syms[i].name; *p; p++)
			used[(uint8_t)*p] = true;
	static const char *const multi[] = { "__x64_sys_", "filler_function_", "entry_", "_SYSCALL", "it", "_t" };
	size_t m = 0;
	for (int c = 0; c < 256; c++) {
		if (used[c])
			snprintf(tok[c], sizeof(tok[c]), "%c", c);
		else if (m < sizeof(multi) / sizeof(multi[0]))
			snprintf(tok[c], sizeof(tok[c]), "%s", multi[m++]);
		else
			snprintf(tok[c], sizeof(tok[c]), "q%d", c); /* unused filler token */
	}
}

static size_t compress(const char *s, uint8_t *out)
{
	size_t n = 0;
	while (*s) {
		int best = -1;
		size_t bl = 0;
		for (int t = 0; t < 256; t++) {
			size_t l = strlen(tok[t]);
			if (l > bl && !strncmp(s, tok[t], l) && (l > 1 || (uint8_t)tok[t][0] == t)) {
				best = t;
				bl = l;
			}
		}
		assert_true(best >= 0);
		out[n++] = (uint8_t)best;
		s += bl;
	}
	return n;
}

static uint64_t relbase(void)
{
	return BASE;
}

static void w_offsets(void)
{
	align8();
	for (size_t i = 0; i < nsyms; i++) {
		if (syms[i].percpu)
			w32((uint32_t)syms[i].addr);
		else
			w32((uint32_t)(int32_t)(-(int64_t)(syms[i].addr - relbase()) - 1));
	}
	align8();
	w64(relbase());
}

static uint64_t build(enum layout l)
{
	memset(img, 0, sizeof(img));
	pos = 0x100;
	make_tokens();
	/* a decoy: digits table of another shape before the real one */
	memcpy(img + pos, "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0", 20);
	pos += 64;
	if (l != L_NEW)
		w_offsets();
	align8();
	w32((uint32_t)nsyms);
	align8();
	size_t names = pos;
	uint32_t markers[16];
	for (size_t i = 0; i < nsyms; i++) {
		uint8_t c[64];
		if ((i & 255) == 0)
			markers[i / 256] = (uint32_t)(pos - names);
		size_t n = compress(syms[i].name, c);
		w8((uint8_t)n);
		memcpy(img + pos, c, n);
		pos += n;
	}
	align8();
	for (size_t i = 0; i < (nsyms + 255) / 256; i++)
		w32(markers[i]);
	if (l == L_SEQS) {
		align8();
		for (size_t i = 0; i < nsyms; i++) {
			w8(0);
			w8((uint8_t)(i >> 8));
			w8((uint8_t)i);
		}
	}
	align8();
	size_t tt = pos;
	uint16_t idx[256];
	for (int t = 0; t < 256; t++) {
		idx[t] = (uint16_t)(pos - tt);
		size_t n = strlen(tok[t]) + 1;
		memcpy(img + pos, tok[t], n);
		pos += n;
	}
	align8();
	for (int t = 0; t < 256; t++)
		w16(idx[t]);
	if (l == L_NEW) {
		w_offsets();
		align8();
		for (size_t i = 0; i < nsyms; i++) {
			w8(0);
			w8((uint8_t)(i >> 8));
			w8((uint8_t)i);
		}
	}
	static const char banner[] = "Linux version 6.1.0-synthetic (t@t) #1 SMP\n";
	memcpy(img + pos + 64, banner, sizeof(banner));
	pos += 64 + sizeof(banner);
	return pos;
}

static struct infer_profile *run(enum layout l, int *ret)
{
	static struct memimg m;
	build(l);
	m = (struct memimg){ RO, img, sizeof(img) };
	struct infer_reader rd = memimg_reader(&m);
	struct infer_arena a = test_arena(8 << 20);
	struct infer_profile *out = calloc(1, sizeof(*out));
	*ret = infer_strategy_kallsyms(&rd, NULL, &a, out);
	free(a.base);
	return out;
}

static void check_all(struct infer_profile *out)
{
	assert_true(out->p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_int_equal(out->p[INFER_P_ENTRY_SYSCALL_64].value, BASE + 0xc00080);
	assert_int_equal(out->p[INFER_P_SYS_CALL_TABLE].value, RO + 0x360);
	assert_int_equal(out->p[INFER_P_X64_SYS_CALL].value, BASE + 0x3320);
	assert_int_equal(out->p[INFER_P_SWITCH_TO].value, BASE + 0x2f280);
	assert_int_equal(out->p[INFER_P_INIT_TASK].value, BASE + 0x1a1aa40);
	assert_int_equal(out->p[INFER_P_SC_EXECVE].value, BASE + 0x90000);
	assert_int_equal(out->p[INFER_P_SC_READ].value, BASE + 0x90000 + 0x100 * 13);
	assert_int_equal(out->p[INFER_P_SC_CLONE3].value, BASE + 0x90000 + 0x100 * 5);
	assert_true(out->p[INFER_P_PCPU_CURRENT_TASK].found);
	assert_int_equal(out->p[INFER_P_PCPU_CURRENT_TASK].value, 0x1fb80);
	assert_int_equal(out->p[INFER_P_PCPU_TOP_OF_STACK].value, 0x1fb50);
	assert_string_equal(out->banner, "Linux version 6.1.0-synthetic (t@t) #1 SMP");
	/* kallsyms does not answer struct offsets */
	assert_false(out->p[INFER_P_TASK_PID].found);
}

static void test_layout_old(void **state)
{
	(void)state;
	int r;
	make_syms(false, false);
	struct infer_profile *out = run(L_OLD, &r);
	assert_int_equal(r, 21);
	check_all(out);
	free(out);
}

static void test_layout_seqs(void **state)
{
	(void)state;
	int r;
	make_syms(false, false);
	struct infer_profile *out = run(L_SEQS, &r);
	assert_int_equal(r, 21);
	check_all(out);
	free(out);
}

static void test_layout_new(void **state)
{
	(void)state;
	int r;
	make_syms(false, false);
	struct infer_profile *out = run(L_NEW, &r);
	assert_int_equal(r, 21);
	check_all(out);
	free(out);
}

/* 6.2+: pcpu_hot without BTF in the image: found symbol, missing offsets. */
static void test_pcpu_hot_without_btf(void **state)
{
	(void)state;
	int r;
	make_syms(true, false);
	struct infer_profile *out = run(L_NEW, &r);
	assert_true(out->p[INFER_P_ENTRY_SYSCALL_64].found);
	assert_false(out->p[INFER_P_PCPU_CURRENT_TASK].found);
	assert_non_null(strstr(out->p[INFER_P_PCPU_CURRENT_TASK].why, "BTF"));
	free(out);
}

/* Two different __switch_to: ambiguous, not a guess. */
static void test_duplicate_is_ambiguous(void **state)
{
	(void)state;
	int r;
	make_syms(false, true);
	struct infer_profile *out = run(L_OLD, &r);
	assert_false(out->p[INFER_P_SWITCH_TO].found);
	assert_non_null(strstr(out->p[INFER_P_SWITCH_TO].why, "different"));
	assert_true(out->p[INFER_P_INIT_TASK].found);
	free(out);
}

/* Damaged tables: a reason, never a wrong answer. */
static void test_corrupt(void **state)
{
	(void)state;
	make_syms(false, false);
	for (int round = 0; round < 3; round++) {
		size_t end = build(L_OLD);
		/* find the token table ("0\0"..."9\0" after the decoy) */
		uint8_t *tt = NULL;
		for (size_t i = 0x200; i + 20 < end; i++)
			if (!memcmp(img + i, "0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0", 20))
				tt = img + i;
		assert_non_null(tt);
		if (round == 0)
			tt[1] = 'x'; /* breaks the token strings */
		else if (round == 1)
			memset(img + 0x100 + 64, 0xff, 64); /* relative_base region and offsets */
		else
			memset(img + 0x100 + 64, 0, end - 0x100 - 64 - 200); /* names gone */
		struct memimg m = { RO, img, sizeof(img) };
		struct infer_reader rd = memimg_reader(&m);
		struct infer_arena a = test_arena(8 << 20);
		struct infer_profile *out = calloc(1, sizeof(*out));
		int r = infer_strategy_kallsyms(&rd, NULL, &a, out);
		if (r >= 0) {
			/* whatever is still found must be right */
			if (out->p[INFER_P_INIT_TASK].found)
				assert_int_equal(out->p[INFER_P_INIT_TASK].value, BASE + 0x1a1aa40);
		} else {
			assert_false(out->p[INFER_P_INIT_TASK].found);
			assert_true(out->p[INFER_P_INIT_TASK].why[0] != 0);
		}
		free(out);
		free(a.base);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_old),
		cmocka_unit_test(test_layout_seqs),
		cmocka_unit_test(test_layout_new),
		cmocka_unit_test(test_pcpu_hot_without_btf),
		cmocka_unit_test(test_duplicate_is_ambiguous),
		cmocka_unit_test(test_corrupt),
	};
	return cmocka_run_group_tests_name("infer_kallsyms", tests, NULL, NULL);
}
