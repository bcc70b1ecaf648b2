/* Unit tests for vmm/cstate.c: when a C-state port read may become an HLT-like
 * wait (SDM Vol. 3C 26.3.1.5's HLT rules), and the IRR look that ends a wait. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmm/cstate.h"

/* Linux's acpi_idle entry: CPL 0 (SS AR 0xc093), IF = 0, nothing blocked or
 * injected, a CPU with the HLT activity state and external-interrupt exiting. */
static struct cstate_guest idle_entry(void)
{
	struct cstate_guest g = {
		.ss_ar = 0xc093, .rflags = 0x2, .interruptibility = 0, .entry_intr_info = 0,
		.vmx_misc = 0x7004c1e7,              /* Bochs 2.7's IA32_VMX_MISC (bit 6 set) */
		.pin_allowed1 = 0x7f, .irq_pending = false,
	};
	return g;
}

static void test_wait(void **st)
{
	(void)st;
	struct cstate_guest g = idle_entry();
	assert_int_equal(cstate_decide(&g), CSTATE_WAIT);
	g.rflags |= 1u << 9;                         /* IF = 1 waits too (an interrupt ends it either way) */
	assert_int_equal(cstate_decide(&g), CSTATE_WAIT);
	assert_string_equal(cstate_verdict_name(CSTATE_WAIT), "wait");
}

static void test_at_once(void **st)
{
	(void)st;
	struct cstate_guest g;
	g = idle_entry(); g.ss_ar = 0xc0f3;          /* SS.DPL 3: an IOPL-3 process read the port */
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_CPL);
	g = idle_entry(); g.ss_ar = 0xc0b3;          /* DPL 1 */
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_CPL);
	g = idle_entry(); g.rflags |= 1u << 8;       /* TF */
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_TF);
	g = idle_entry(); g.interruptibility = 1;    /* STI blocking */
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_BLOCKING);
	g = idle_entry(); g.interruptibility = 2;    /* MOV-SS blocking */
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_BLOCKING);
	g = idle_entry(); g.interruptibility = 8;    /* NMI blocking alone does not forbid HLT */
	assert_int_equal(cstate_decide(&g), CSTATE_WAIT);
	g = idle_entry(); g.entry_intr_info = 0x80000b0d;   /* #GP being injected */
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_EVENT);
	g = idle_entry(); g.entry_intr_info = 0x0000030d;   /* not valid: ignored */
	assert_int_equal(cstate_decide(&g), CSTATE_WAIT);
	g = idle_entry(); g.vmx_misc &= ~(1ull << 6);
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_NO_HLT);
	g = idle_entry(); g.pin_allowed1 &= ~1u;
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_NO_EXIT);
	g = idle_entry(); g.irq_pending = true;
	assert_int_equal(cstate_decide(&g), CSTATE_NOW_IRQ);
	for (int v = 0; v <= CSTATE__COUNT; v++)
		assert_non_null(cstate_verdict_name((enum cstate_verdict)v));
	assert_string_equal(cstate_verdict_name(CSTATE__COUNT), "?");
	assert_string_equal(cstate_verdict_name(CSTATE_NOW_CPL), "read at CPL > 0");
}

static void test_irr(void **st)
{
	(void)st;
	uint32_t irr[8];
	memset(irr, 0, sizeof(irr));
	assert_false(cstate_irr_pending(irr));
	irr[0] = 0xffff;                             /* vectors 0-15: reserved, never requested */
	assert_false(cstate_irr_pending(irr));
	irr[0] = 1u << 16;                           /* vector 16 */
	assert_true(cstate_irr_pending(irr));
	memset(irr, 0, sizeof(irr));
	irr[7] = 1u << 31;                           /* vector 255 */
	assert_true(cstate_irr_pending(irr));
	memset(irr, 0, sizeof(irr));
	irr[1] = 1u << 17;                           /* vector 0x31: Linux's local timer is 0xec */
	assert_true(cstate_irr_pending(irr));
	memset(irr, 0, sizeof(irr));
	irr[0xec / 32] = 1u << (0xec % 32);          /* LOCAL_TIMER_VECTOR */
	assert_true(cstate_irr_pending(irr));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_at_once),
		cmocka_unit_test(test_irr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
