/* Unit tests for monitors/integrity_core.c: MSR baselines, CR0.WP, IDTR/GDTR samples, report rate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "monitors/integrity.h"

#define WP INTEG_CR0_WP
#define PG INTEG_CR0_PG
#define PE 1ULL

static void test_msr_index(void **st)
{
	(void)st;
	assert_int_equal(integ_msr_index(0xc0000082), INTEG_LSTAR);
	assert_int_equal(integ_msr_index(0x174), INTEG_SYSENTER_CS);
	assert_int_equal(integ_msr_index(0x175), INTEG_SYSENTER_ESP);
	assert_int_equal(integ_msr_index(0x176), INTEG_SYSENTER_EIP);
	assert_int_equal(integ_msr_index(0xc0000081), -1);      /* STAR: not watched */
	assert_int_equal(integ_msr_index(0xc0000083), -1);
	for (unsigned i = 0; i < INTEG_NREG; i++)
		assert_int_equal(integ_msr_index(integ_msr_of(i)), (int)i);
	assert_string_equal(integ_reg_name(INTEG_LSTAR), "lstar");
	assert_string_equal(integ_reg_name(INTEG_SYSENTER_EIP), "sysenter_eip");
	assert_true(integ_reg_per_vcpu(INTEG_SYSENTER_ESP));
	assert_false(integ_reg_per_vcpu(INTEG_LSTAR));
}

/* The boot CPU sets the baseline; APs and S3 resume write it again; a hook
 * is another value; restoring the original is not a change. */
static void test_baseline(void **st)
{
	(void)st;
	struct integ_baseline b = { 0 };
	uint64_t entry = 0xffffffff81a00080ull;
	assert_int_equal(integ_check_write(&b, entry), INTEG_FIRST);
	assert_int_equal(integ_check_write(&b, entry), INTEG_SAME);          /* AP's syscall_init */
	assert_int_equal(integ_check_write(&b, 0xffffffffc0a01000ull), INTEG_CHANGED);   /* hook */
	assert_int_equal(integ_check_write(&b, entry), INTEG_SAME);          /* rootkit restores */
	assert_int_equal(integ_check_write(&b, 0), INTEG_CHANGED);
	assert_int_equal(b.value, entry);                                    /* never moved */
}

static struct integ_baseline race;
static int race_first;
static void *racer(void *arg)
{
	if (integ_check_write(&race, (uint64_t)(uintptr_t)arg) == INTEG_FIRST)
		__atomic_fetch_add(&race_first, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Several vCPUs writing first at once: exactly one baseline. */
static void test_baseline_race(void **st)
{
	(void)st;
	for (int round = 0; round < 200; round++) {
		pthread_t t[4];
		memset(&race, 0, sizeof(race));
		race_first = 0;
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, racer, (void *)(uintptr_t)(0x1000 + i));
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		assert_int_equal(race_first, 1);
		assert_int_equal(race.set, 1);
		assert_true(race.value >= 0x1000 && race.value < 0x1004);
	}
}

static void test_cr0_wp(void **st)
{
	(void)st;
	uint64_t on = PE | PG | WP | 0x33;
	assert_true(integ_cr0_clears_wp(on, on & ~WP));             /* the rootkit's write */
	assert_false(integ_cr0_clears_wp(on, on));                   /* same value (S3 restore) */
	assert_false(integ_cr0_clears_wp(on & ~WP, on));             /* setting WP */
	assert_false(integ_cr0_clears_wp(on & ~WP, on & ~WP));       /* already clear */
	assert_false(integ_cr0_clears_wp(on, PE | 0x10));            /* leaving paging (real-mode reboot) */
	assert_false(integ_cr0_clears_wp(0x10, PE | 0x10));          /* AP trampoline: WP never set */
}

static void test_dtr(void **st)
{
	(void)st;
	struct integ_dtr d = { 0 };
	uint64_t idt = 0xfffffe0000000000ull, copy = 0xffff888003a4c000ull;
	/* an AP in its bring-up: real-mode and early tables, kernel mode: no baseline yet */
	assert_false(integ_dtr_sample(&d, 0, 0xffff, false));
	assert_false(integ_dtr_sample(&d, 0xffff888001a3c000ull, 0xfff, false));
	assert_false(d.set);
	assert_false(integ_dtr_sample(&d, idt, 0xfff, true));    /* first user-mode sample: baseline */
	assert_true(d.set);
	assert_false(integ_dtr_sample(&d, idt, 0xfff, false));
	assert_true(integ_dtr_sample(&d, copy, 0xfff, false));   /* lidt of a copy (kernel mode): once */
	assert_false(integ_dtr_sample(&d, copy, 0xfff, true));
	assert_true(integ_dtr_sample(&d, copy, 0x7ff, false));   /* another deviation */
	assert_false(integ_dtr_sample(&d, idt, 0xfff, false));   /* restored: nothing, re-armed */
	assert_true(integ_dtr_sample(&d, copy, 0xfff, true));    /* the same copy again: reported again */
	assert_int_equal(d.base, idt);
	assert_int_equal(d.limit, 0xfff);
}

static void test_rate(void **st)
{
	(void)st;
	assert_false(integ_should_report(0));
	for (uint64_t n = 1; n <= 16; n++)
		assert_true(integ_should_report(n));
	assert_false(integ_should_report(17));
	assert_false(integ_should_report(31));
	assert_true(integ_should_report(32));
	assert_false(integ_should_report(33));
	assert_true(integ_should_report(1ull << 40));
	unsigned reported = 0;
	for (uint64_t n = 1; n <= 100000; n++)
		reported += integ_should_report(n);
	assert_int_equal(reported, 16 + 12);      /* 1..16, then 32, 64, ..., 65536 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msr_index),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_baseline_race),
		cmocka_unit_test(test_cr0_wp),
		cmocka_unit_test(test_dtr),
		cmocka_unit_test(test_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
