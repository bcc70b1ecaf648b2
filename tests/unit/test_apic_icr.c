/* Unit tests for vmm/apic_icr.c: which guest ICR writes hvmon takes (INIT/STARTUP) and the
 * decoding of the guest's stores to the xAPIC page (issue 11). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/apic_icr.h"

/* Linux 6.1 wakeup_secondary_cpu_via_init(): INIT assert, INIT de-assert, 2 x STARTUP */
static void test_linux_init_sipi_sipi(void **st)
{
	(void)st;
	struct icr_req r = icr_classify(0x0000c500, 1, false);     /* level | assert | INIT */
	assert_int_equal(r.act, ICR_INIT);
	assert_int_equal(r.dest, 1);
	assert_false(r.all);
	r = icr_classify(0x00008500, 1, false);                    /* level de-assert */
	assert_int_equal(r.act, ICR_DROP);
	r = icr_classify(0x0000069a, 1, false);                    /* STARTUP vector 0x9a */
	assert_int_equal(r.act, ICR_SIPI);
	assert_int_equal(r.vector, 0x9a);
	assert_int_equal(r.dest, 1);
	r = icr_classify(0x0000069a, 3, true);                     /* x2APIC */
	assert_int_equal(r.act, ICR_SIPI);
	assert_int_equal(r.dest, 3);
}

static void test_other_ipis_pass(void **st)
{
	(void)st;
	assert_int_equal(icr_classify(0x000000fd, 1, false).act, ICR_PASS);   /* fixed vector */
	assert_int_equal(icr_classify(0x000c00fb, 0, false).act, ICR_PASS);   /* all-but-self fixed */
	assert_int_equal(icr_classify(0x00000400, 1, false).act, ICR_PASS);   /* NMI */
	for (uint32_t dm = 0; dm < 8; dm++) {                                 /* INIT/STARTUP never pass */
		struct icr_req r = icr_classify(dm << 8, 1, false);
		assert_true((dm == 5 || dm == 6) ? r.act != ICR_PASS : r.act == ICR_PASS);
	}
}

static void test_shorthands_and_broadcast(void **st)
{
	(void)st;
	struct icr_req r = icr_classify(0x000c4500, 0, false);     /* INIT all excluding self */
	assert_int_equal(r.act, ICR_INIT);
	assert_true(r.all);
	r = icr_classify(0x00084600, 0, false);                    /* STARTUP all including self */
	assert_true(r.all);
	r = icr_classify(0x00044500, 0, false);                    /* self */
	assert_int_equal(r.act, ICR_DROP);
	r = icr_classify(0x00004500, 0xff, false);                 /* physical broadcast */
	assert_true(r.all);
	r = icr_classify(0x00004500, 0xffffffff, true);
	assert_true(r.all);
	r = icr_classify(0x00004500, 0xff, true);                  /* x2APIC id 0xff is one CPU */
	assert_false(r.all);
	r = icr_classify(0x00004d00, 2, false);                    /* logical destination */
	assert_int_equal(r.act, ICR_DROP);
	assert_non_null(r.why);
}

static void test_decode_linux_stores(void **st)
{
	(void)st;
	struct apic_store s;
	const char *why;
	/* mov %eax,0xffffffffff5fd0b0 (native_apic_mem_write, EOI) */
	const uint8_t a[] = { 0x89, 0x04, 0x25, 0xb0, 0xd0, 0x5f, 0xff };
	assert_int_equal(apic_store_decode(a, sizeof(a), 64, &s, &why), 0);
	assert_int_equal(s.len, 7);
	assert_int_equal(s.reg, 0);
	assert_false(s.xchg);
	/* mov %r13d,0x300(%rbx) */
	const uint8_t b[] = { 0x44, 0x89, 0xab, 0x00, 0x03, 0x00, 0x00, 0x90, 0x90 };
	assert_int_equal(apic_store_decode(b, sizeof(b), 64, &s, &why), 0);
	assert_int_equal(s.len, 7);
	assert_int_equal(s.reg, 13);
	/* movl $0x0,0xb0(%rax) */
	const uint8_t c[] = { 0xc7, 0x80, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	assert_int_equal(apic_store_decode(c, sizeof(c), 64, &s, &why), 0);
	assert_int_equal(s.reg, -1);
	assert_int_equal(s.imm, 0);
	assert_int_equal(s.len, 10);
	/* xchg %esp,(%rdi) and xchg (%rdi),%ecx */
	const uint8_t d[] = { 0x87, 0x27 };
	assert_int_equal(apic_store_decode(d, sizeof(d), 64, &s, &why), 0);
	assert_true(s.xchg);
	assert_int_equal(s.reg, 4);
	/* 32-bit mode: mov %edx,0xfee000b0 */
	const uint8_t e[] = { 0x89, 0x15, 0xb0, 0x00, 0xe0, 0xfe };
	assert_int_equal(apic_store_decode(e, sizeof(e), 32, &s, &why), 0);
	assert_int_equal(s.reg, 2);
	assert_int_equal(s.len, 6);
}

static void test_decode_refusals(void **st)
{
	(void)st;
	struct apic_store s;
	const char *why = NULL;
	const uint8_t byte_store[] = { 0x88, 0x07 };                 /* mov %al,(%rdi) */
	assert_int_equal(apic_store_decode(byte_store, 2, 64, &s, &why), -1);
	assert_non_null(why);
	const uint8_t q_store[] = { 0x48, 0x89, 0x07 };              /* mov %rax,(%rdi) */
	assert_int_equal(apic_store_decode(q_store, 3, 64, &s, &why), -1);
	const uint8_t movs[] = { 0xa5 };                             /* movsl */
	assert_int_equal(apic_store_decode(movs, 1, 64, &s, &why), -1);
	const uint8_t add[] = { 0x01, 0x07 };                        /* add %eax,(%rdi) */
	assert_int_equal(apic_store_decode(add, 2, 64, &s, &why), -1);
	const uint8_t load[] = { 0x8b, 0x07 };                       /* mov (%rdi),%eax: not a store */
	assert_int_equal(apic_store_decode(load, 2, 64, &s, &why), -1);
	const uint8_t trunc[] = { 0x89, 0x04 };                      /* cut short */
	assert_int_equal(apic_store_decode(trunc, 2, 64, &s, &why), -1);
	assert_int_equal(apic_store_decode(NULL, 0, 64, &s, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_init_sipi_sipi),
		cmocka_unit_test(test_other_ipis_pass),
		cmocka_unit_test(test_shorthands_and_broadcast),
		cmocka_unit_test(test_decode_linux_stores),
		cmocka_unit_test(test_decode_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
