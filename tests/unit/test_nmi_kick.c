/*
 * test_nmi_kick — hvmon's kick NMIs told apart from the guest's
 * (arch/x86/nmi.h, issue 11). A model of one target CPU's NMI logic (one
 * NMI in service blocks NMIs, one more is latched, a third merges: SDM Vol.
 * 3A 10.5.1) receives guest NMIs and kicks in random orders; the bookkeeping
 * must give the guest every one of its NMIs and none of hvmon's, except for
 * the hardware's own merge, and every kick must be followed by an NMI the
 * target takes (it polls the requests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "arch/x86/nmi.h"

struct cpu_model {
	volatile uint32_t kick;       /* percpu->nmi_kick */
	bool blocked, latched;
	unsigned owed;                /* NMIs handed to the guest */
	unsigned kicks_taken;         /* NMIs consumed as kicks */
	unsigned merged;              /* NMIs lost to the latch (hardware) */
	bool must_poll;               /* a kick was posted and no NMI taken since */
};

static void take(struct cpu_model *c)
{
	c->blocked = true;
	c->must_poll = false;
	if (nmi_kick_take(&c->kick))
		c->kicks_taken++;
	else
		c->owed++;
}

static void arrive(struct cpu_model *c)
{
	if (!c->blocked)
		take(c);
	else if (!c->latched)
		c->latched = true;
	else
		c->merged++;
}

/* the IRET after an NMI exit (nmi_unblock) or ring -1's handler's IRET */
static void unblock(struct cpu_model *c)
{
	c->blocked = false;
	if (c->latched) {
		c->latched = false;
		take(c);
	}
}

static unsigned post_kick(struct cpu_model *c)
{
	c->must_poll = true;
	if (nmi_kick_post(&c->kick)) {
		arrive(c);
		return 1;
	}
	return 0;
}

static void test_single(void **state)
{
	(void)state;
	struct cpu_model c = { 0 };
	/* a kick alone: consumed, nothing for the guest */
	assert_int_equal(post_kick(&c), 1);
	unblock(&c);
	assert_int_equal(c.kicks_taken, 1);
	assert_int_equal(c.owed, 0);
	/* a guest NMI alone: the guest's */
	arrive(&c);
	unblock(&c);
	assert_int_equal(c.owed, 1);
	/* a second kick while one is in flight sends nothing */
	c.blocked = true;                     /* an NMI in service: the kick stays latched */
	assert_int_equal(post_kick(&c), 1);
	assert_int_equal(post_kick(&c), 0);
	unblock(&c);
	assert_int_equal(c.kicks_taken, 2);
	assert_int_equal(c.kick, 0);
	/* the guest's NMI arrives before the kick NMI: it takes the flag, the kick
	 * NMI goes to the guest: still exactly one NMI for the guest */
	c.kick = 1;                           /* posted, NMI not yet arrived */
	arrive(&c);                           /* the guest's */
	unblock(&c);
	arrive(&c);                           /* the kick's */
	unblock(&c);
	assert_int_equal(c.owed, 2);
	assert_int_equal(c.kicks_taken, 3);
	assert_false(nmi_kick_take(&c.kick));
}

static void test_random_orders(void **state)
{
	(void)state;
	srand(11);
	for (int run = 0; run < 2000; run++) {
		struct cpu_model c = { 0 };
		unsigned guest = 0, sent = 0;
		int steps = 1 + rand() % 60;
		for (int i = 0; i < steps; i++) {
			switch (rand() % 4) {
			case 0: guest++; arrive(&c); break;
			case 1: sent += post_kick(&c); break;
			default: unblock(&c); break;
			}
		}
		while (c.blocked || c.latched)
			unblock(&c);
		/* every NMI that arrived was taken once, or merged by the hardware */
		assert_int_equal(c.owed + c.kicks_taken + c.merged, guest + sent);
		/* every kick made the CPU take an NMI after it (it polled) */
		assert_false(c.must_poll);
		assert_int_equal(c.kick, 0);
		/* the guest never gets more NMIs than it was sent, and loses some
		 * only where the hardware merged two */
		assert_true(c.owed <= guest);
		assert_true(c.owed + c.merged >= guest);
		if (!c.merged)
			assert_int_equal(c.owed, guest);
		assert_true(c.kicks_taken <= sent);
	}
}

static void test_decide(void **state)
{
	(void)state;
	assert_int_equal(nmi_decide(0, true, true), NMI_ACT_NONE);
	assert_int_equal(nmi_decide(0, false, false), NMI_ACT_NONE);
	assert_int_equal(nmi_decide(1, true, true), NMI_ACT_INJECT);
	assert_int_equal(nmi_decide(3, true, false), NMI_ACT_INJECT);
	assert_int_equal(nmi_decide(1, false, true), NMI_ACT_WINDOW);
	assert_int_equal(nmi_decide(2, false, false), NMI_ACT_LATER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_random_orders),
		cmocka_unit_test(test_decide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
