/* Unit tests: kallsyms strategy on synthetic kallsyms tables, in the three
 * layouts scripts/kallsyms.c has produced (infer/kallsyms.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "tests/unit/infer_testutil.h"

#include "tests/unit/synth_kallsyms.h"

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
