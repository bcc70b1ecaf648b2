/* Unit tests for monitors/hang_core.c: the hang detector's decisions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "monitors/hang.h"

#define HZ   1000ULL         /* 1 TSC tick = 1 ms in these tests */
#define T    (5 * HZ)
#define STEP 100ULL          /* 10 Hz sampling */

struct sim {
	struct hang_state s;
	uint64_t now;
	int reports, recoveries;
	struct hang_verdict last;
	uint64_t first_report_at;
};

static void sim_init(struct sim *m)
{
	memset(m, 0, sizeof(*m));
	hang_state_init(&m->s, T);
}

static void step(struct sim *m, struct hang_sample x)
{
	m->now += STEP;
	x.tsc = m->now;
	struct hang_verdict vd;
	if (hang_step(&m->s, &x, &vd)) {
		m->last = vd;
		if (vd.recovered)
			m->recoveries++;
		else {
			m->reports++;
			if (!m->first_report_at)
				m->first_report_at = m->now;
		}
	}
}

/* feed @ms milliseconds of identical samples */
static void run(struct sim *m, uint64_t ms, bool idle, bool kernel, bool if_on, uint64_t task,
		uint64_t switches)
{
	for (uint64_t t = 0; t < ms; t += STEP)
		step(m, (struct hang_sample){ .idle = idle, .kernel = kernel, .if_on = if_on, .task_valid = true,
					      .task = task, .switches = switches, .rip = 1 });
}

/* every test starts with two fresh simulated vCPUs (the one-CPU tests use the first) */
static int sim_setup(void **st)
{
	static struct sim m[2];
	sim_init(&m[0]);
	sim_init(&m[1]);
	*st = m;
	return 0;
}

static void test_idle_never_hangs(void **st)
{
	struct sim *m = *st;
	run(m, 60 * HZ, true, true, true, 0x1000, 0);          /* HLT for a minute */
	assert_int_equal(m->reports, 0);
}

static void test_hard_lockup(void **st)
{
	struct sim *m = *st;
	run(m, 2 * HZ, true, true, true, 0xa, 0);              /* idle */
	uint64_t start = m->now;
	run(m, 8 * HZ, false, true, false, 0xb, 1);            /* task b switched in, IRQs off */
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->last.kind, HANG_HARD);
	assert_true(m->first_report_at - start >= T);
	assert_true(m->first_report_at - start <= T + 2 * STEP);
	run(m, 1 * HZ, true, true, true, 0xa, 2);              /* back to idle: recovered */
	assert_int_equal(m->recoveries, 1);
	assert_int_equal(m->last.kind, HANG_HARD);
	assert_true(m->last.recovered);
}

static void test_soft_lockup(void **st)
{
	struct sim *m = *st;
	run(m, 1 * HZ, false, false, true, 0xb, 0);            /* user mode */
	uint64_t start = m->now;
	run(m, 7 * HZ, false, true, true, 0xb, 0);             /* same task stuck in kernel, IF=1 */
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->last.kind, HANG_SOFT);
	assert_true(m->first_report_at - start <= T + 2 * STEP);
	run(m, 1 * HZ, false, true, true, 0xc, 0);             /* another task: switch */
	assert_int_equal(m->recoveries, 1);
}

/* kernel streak starts with IF=1 for a moment, then IF=0: reported as hard, not soft */
static void test_irqoff_after_kernel_entry_is_hard(void **st)
{
	struct sim *m = *st;
	run(m, 1 * HZ, false, false, true, 0xb, 0);
	run(m, 300, false, true, true, 0xb, 0);                /* syscall entry, IF=1 */
	run(m, 8 * HZ, false, true, false, 0xb, 0);            /* cli; spin */
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->last.kind, HANG_HARD);
}

static void test_no_switch_user(void **st)
{
	struct sim *m = *st;
	run(m, 7 * HZ, false, false, true, 0xb, 0);            /* user mode, never a switch */
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->last.kind, HANG_NO_SWITCH);
}

/* a busy system: user and kernel time interleaved, switches counted by the probe */
static void test_busy_no_false_positive(void **st)
{
	struct sim *m = *st;
	uint64_t sw = 0;
	for (int i = 0; i < 600; i++) {                          /* 60 s */
		run(m, STEP, false, i & 1, (i % 3) != 0, 0xb + (i % 7 == 0), sw);
		if (i % 20 == 0)
			sw++;                                     /* a switch every 2 s */
	}
	assert_int_equal(m->reports, 0);
}

/* switches seen by the probe count as progress even when the sampled task is the same */
static void test_switch_count_is_progress(void **st)
{
	struct sim *m = *st;
	for (int i = 0; i < 100; i++)
		run(m, 1 * HZ, false, false, true, 0xb, (uint64_t)i);
	assert_int_equal(m->reports, 0);
	run(m, 6 * HZ, false, false, true, 0xb, 99);           /* now it stops */
	assert_int_equal(m->reports, 1);
}

static void comm16(char out[16], const char *s)
{
	memset(out, 0, 16);
	memcpy(out, s, strlen(s) < 16 ? strlen(s) : 16);
}

static void test_stopper_comm(void **st)
{
	(void)st;
	char c[16];
	comm16(c, "migration/0");   assert_true(hang_comm_is_stopper(c));
	comm16(c, "migration/127"); assert_true(hang_comm_is_stopper(c));
	comm16(c, "migration/");    assert_false(hang_comm_is_stopper(c));   /* no CPU number */
	comm16(c, "migration/1a");  assert_false(hang_comm_is_stopper(c));
	comm16(c, "migration");     assert_false(hang_comm_is_stopper(c));
	comm16(c, "ksoftirqd/0");   assert_false(hang_comm_is_stopper(c));
	comm16(c, "rtspin");        assert_false(hang_comm_is_stopper(c));
	/* 16 bytes without a NUL: not a valid comm */
	memcpy(c, "migration/012345", 16);
	assert_false(hang_comm_is_stopper(c));
}

static void test_one_report_per_episode(void **st)
{
	struct sim *m = *st;
	run(m, 60 * HZ, false, true, true, 0xb, 0);
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->recoveries, 0);
	assert_true(m->last.duration >= T);
	assert_string_equal(hang_kind_name(HANG_SOFT), "soft");
	assert_string_equal(hang_kind_name(HANG_HARD), "hard");
	assert_string_equal(hang_kind_name(HANG_NO_SWITCH), "no_switch");
}

/* ---- issue 15 item 4: a hostile kernel fakes liveness in guest memory ---- */

#define IDLE_TASK 0x1000        /* init_task (pid 0) */
#define TASK_A    0xa000
#define TASK_B    0xb000

/* @ms of a kernel spin at CPL 0 (IF = @if_on) that rewrites `current` between the
 * idle task and two tasks (each sample sees another one: the old rules took every
 * sample as idle or as a task change); the probe's switch count stays @sw */
static void fake(struct sim *m, uint64_t ms, bool if_on, bool probe, uint64_t sw)
{
	static const uint64_t cycle[3] = { IDLE_TASK, TASK_A, TASK_B };
	for (uint64_t t = 0; t < ms; t += STEP) {
		uint64_t task = cycle[(m->now / STEP) % 3];
		step(m, (struct hang_sample){ .kernel = true, .if_on = if_on, .switches = sw,
					      .switch_probe = probe, .rip = 0xffffffffc0001234ull,
					      .task_valid = true, .task = task,
					      .idle_task = task == IDLE_TASK });
	}
}

/* IRQs off at every sample: a hard hang whatever `current` says, with or without the
 * __switch_to probe; no recovery while the spin goes on; recovered at the first
 * sample with IF=1 */
static void test_fake_liveness_irqoff(void **st)
{
	struct sim *m = *st;
	for (int probe = 0; probe < 2; probe++) {
		sim_init(m);
		run(m, 2 * HZ, false, false, true, TASK_A, 3);  /* user mode */
		uint64_t start = m->now;
		fake(m, 12 * HZ, false, probe, 3);
		assert_int_equal(m->reports, 1);
		assert_int_equal(m->last.kind, HANG_HARD);
		assert_true(m->first_report_at - start >= T);
		assert_true(m->first_report_at - start <= T + 2 * STEP);
		assert_int_equal(m->recoveries, 0);
		assert_true(m->s.idle_claims >= 12 * HZ / STEP / 3 - 1);
		if (probe)
			assert_true(m->s.task_claims >= 12 * HZ / STEP - 2);
		step(m, (struct hang_sample){ .kernel = true, .if_on = true, .switches = 3,
					       .switch_probe = probe, .task_valid = true, .task = TASK_A });
		assert_int_equal(m->recoveries, 1);
		assert_int_equal(m->last.kind, HANG_HARD);
		assert_true(m->last.duration >= 12 * HZ - STEP);
	}
}

/* IRQs on: with the probe, task changes it never saw are no progress: soft */
static void test_fake_liveness_irqon_probe(void **st)
{
	struct sim *m = *st;
	run(m, 2 * HZ, false, false, true, TASK_A, 7);
	uint64_t start = m->now;
	fake(m, 8 * HZ, true, true, 7);
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->last.kind, HANG_SOFT);
	assert_true(m->first_report_at - start <= T + 2 * STEP);
	run(m, 1 * HZ, false, false, true, TASK_A, 8);          /* a probed switch: recovered */
	assert_int_equal(m->recoveries, 1);
	/* the same fake seen as progress by the old rules (no probe: each task change
	 * counts): the idle task alone still is not idle */
	sim_init(m);
	for (int i = 0; i < 80; i++)
		step(m, (struct hang_sample){ .kernel = true, .if_on = true, .switch_probe = true,
					       .task_valid = true, .task = IDLE_TASK, .idle_task = true });
	assert_int_equal(m->reports, 1);
	assert_int_equal(m->last.kind, HANG_SOFT);
}

/* idle is the hardware's word: HLT with IF=1 (NOHZ idle) or IF=0 (an offline CPU's
 * play_dead loop) is never a hang; a real idle loop seen between its HLTs (the idle
 * task running, IRQs on or off) is no report either */
static void test_hw_idle(void **st)
{
	struct sim *m = *st;
	run(m, 60 * HZ, true, true, false, IDLE_TASK, 0);      /* offline: HLT, IF=0 */
	for (int i = 0; i < 600; i++) {                          /* 60 s of a mostly idle CPU */
		bool halted = i % 4 != 0;
		step(m, (struct hang_sample){ .idle = halted, .kernel = true, .if_on = i % 8 != 0,
					       .switch_probe = true, .switches = (uint64_t)i / 50,
					       .task_valid = true, .task = IDLE_TASK, .idle_task = true });
	}
	assert_int_equal(m->reports, 0);
	assert_int_equal(m->s.idle_claims, 150);
	assert_int_equal(m->s.task_claims, 0);
}

/* ---- SMP (issue 11): one hang_state per vCPU, stepped in lock-step ---- */

/* @kinds per CPU: 'b' busy (user/kernel, switching), 'i' idle (HLT), 'h' kernel IF=0
 * spin, 's' kernel IF=1 spin, 'f' SCHED_FIFO user spinner (no switch) */
static void run2(struct sim *m, unsigned n, uint64_t ms, const char *kinds)
{
	for (uint64_t t = 0; t < ms; t += STEP)
		for (unsigned c = 0; c < n; c++) {
			char k = kinds[c];
			uint64_t sw = m[c].now / 700;          /* busy: a switch every 0.7 s */
			bool idle = k == 'i', kernel = k == 'h' || k == 's' || (k == 'b' && (m[c].now / STEP) & 1);
			bool if_on = k != 'h';
			run(&m[c], STEP, idle, kernel, if_on, 0xb0 + c, k == 'b' ? sw : 0);
		}
}

static enum hang_scope scope2(struct sim *m, unsigned n, unsigned *hung)
{
	const struct hang_state *st[4];
	for (unsigned c = 0; c < n; c++)
		st[c] = &m[c].s;
	return hang_scope_of(st, n, hung);
}

static void sims(struct sim *m, unsigned n)
{
	for (unsigned c = 0; c < n; c++)
		sim_init(&m[c]);
}

/* CPU 1 spins with IRQs off while CPU 0 stays busy: a partial hard hang on CPU 1
 * only, within T + 2 samples; CPU 0 never reports */
static void test_smp_partial_hard(void **st)
{
	struct sim *m = *st;
	unsigned hung;
	run2(m, 2, 2 * HZ, "bb");
	uint64_t start = m[1].now;
	run2(m, 2, 8 * HZ, "bh");
	assert_int_equal(m[0].reports, 0);
	assert_int_equal(m[1].reports, 1);
	assert_int_equal(m[1].last.kind, HANG_HARD);
	assert_true(m[1].first_report_at - start <= T + 2 * STEP);
	assert_int_equal(scope2(m, 2, &hung), HANG_SCOPE_PARTIAL);
	assert_int_equal(hung, 1);
	run2(m, 2, 1 * HZ, "bb");
	assert_int_equal(m[1].recoveries, 1);
	assert_int_equal(scope2(m, 2, &hung), HANG_SCOPE_UNKNOWN);
	assert_int_equal(hung, 0);
}

static void test_smp_partial_soft_and_fifo(void **st)
{
	struct sim *m = *st;
	run2(m, 2, 1 * HZ, "bb");
	run2(m, 2, 7 * HZ, "bs");
	assert_int_equal(m[0].reports, 0);
	assert_int_equal(m[1].last.kind, HANG_SOFT);
	sims(m, 2);
	run2(m, 2, 7 * HZ, "fb");                     /* SCHED_FIFO spinner on CPU 0 */
	assert_int_equal(m[0].reports, 1);
	assert_int_equal(m[0].last.kind, HANG_NO_SWITCH);
	assert_int_equal(m[1].reports, 0);
}

/* 60 s busy on both CPUs, 60 s with one idle: no report at all */
static void test_smp_busy_and_idle_no_report(void **st)
{
	struct sim *m = *st;
	run2(m, 2, 60 * HZ, "bb");
	run2(m, 2, 60 * HZ, "bi");
	run2(m, 2, 60 * HZ, "ib");
	assert_int_equal(m[0].reports + m[1].reports, 0);
}

/* both CPUs stuck: each reports; the second to hang sees a machine hang */
static void test_smp_machine_hang(void **st)
{
	struct sim *m = *st;
	unsigned hung;
	run2(m, 2, 1 * HZ, "bb");
	run2(m, 2, 7 * HZ, "hs");
	assert_int_equal(m[0].reports, 1);
	assert_int_equal(m[1].reports, 1);
	assert_int_equal(scope2(m, 2, &hung), HANG_SCOPE_MACHINE);
	assert_int_equal(hung, 2);
	/* one vCPU: every hang is a machine hang; an idle CPU is not hung */
	sims(m, 2);
	run2(m, 2, 7 * HZ, "hi");
	assert_int_equal(scope2(m, 2, &hung), HANG_SCOPE_PARTIAL);
	assert_int_equal(scope2(m, 1, &hung), HANG_SCOPE_MACHINE);
	/* a vCPU that never sampled (not started) does not count */
	struct sim fresh[2];
	sims(fresh, 2);
	run(&fresh[0], 7 * HZ, false, true, false, 0xb, 0);
	assert_int_equal(scope2(fresh, 2, &hung), HANG_SCOPE_MACHINE);
	const struct hang_state *none[2] = { &fresh[0].s, NULL };
	assert_int_equal(hang_scope_of(none, 2, &hung), HANG_SCOPE_MACHINE);
	assert_string_equal(hang_scope_name(HANG_SCOPE_PARTIAL), "partial");
	assert_string_equal(hang_scope_name(HANG_SCOPE_MACHINE), "machine");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_idle_never_hangs, sim_setup),
		cmocka_unit_test_setup(test_hard_lockup, sim_setup),
		cmocka_unit_test_setup(test_soft_lockup, sim_setup),
		cmocka_unit_test_setup(test_irqoff_after_kernel_entry_is_hard, sim_setup),
		cmocka_unit_test_setup(test_no_switch_user, sim_setup),
		cmocka_unit_test_setup(test_busy_no_false_positive, sim_setup),
		cmocka_unit_test_setup(test_switch_count_is_progress, sim_setup),
		cmocka_unit_test_setup(test_one_report_per_episode, sim_setup),
		cmocka_unit_test(test_stopper_comm),
		cmocka_unit_test_setup(test_smp_partial_hard, sim_setup),
		cmocka_unit_test_setup(test_smp_partial_soft_and_fifo, sim_setup),
		cmocka_unit_test_setup(test_smp_busy_and_idle_no_report, sim_setup),
		cmocka_unit_test_setup(test_smp_machine_hang, sim_setup),
		cmocka_unit_test_setup(test_fake_liveness_irqoff, sim_setup),
		cmocka_unit_test_setup(test_fake_liveness_irqon_probe, sim_setup),
		cmocka_unit_test_setup(test_hw_idle, sim_setup),
	};
	return cmocka_run_group_tests_name("hang", tests, NULL, NULL);
}
