/* Unit tests for vmm/acpi_sleep.c: \_Sx packages in AML, PM1_CNT writes
 * (power-off, refused sleep, byte/word/dword and overlapping forms), WAK_STS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/acpi_sleep.h"

/* The \_S3_ \_S4_ \_S5_ packages as they are in Bochs 2.7's BIOS-bochs-latest
 * DSDT and in SeaBIOS 1.16's (Debian's /usr/share/bochs, /usr/share/seabios). */
static const uint8_t bochs_aml[] = {
	0x33, 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00,
	0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x43, 0x50,
};
static const uint8_t seabios_aml[] = {
	0x00, 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00,
	0x08, '_', 'S', '4', '_', 0x12, 0x08, 0x04, 0x0a, 0x02, 0x0a, 0x02, 0x00, 0x00,
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x10, 0x40,
};

static void test_sleep_types(void **st)
{
	(void)st;
	uint8_t a = 9, b = 9;
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 5, &a, &b), 0);
	assert_int_equal(a, 0); assert_int_equal(b, 0);
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 3, &a, &b), 0);
	assert_int_equal(a, 1); assert_int_equal(b, 1);
	assert_int_equal(acpi_sleep_type(seabios_aml, sizeof(seabios_aml), 4, &a, &b), 0);
	assert_int_equal(a, 2); assert_int_equal(b, 2);
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 1, &a, &b), -1);   /* absent */
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 6, &a, &b), -1);
	/* root prefix, word and dword constants, a one-element package */
	static const uint8_t rooted[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x02, 0x0b, 0x07, 0x00,
					  0x0c, 0x05, 0, 0, 0 };
	assert_int_equal(acpi_sleep_type(rooted, sizeof(rooted), 5, &a, &b), 0);
	assert_int_equal(a, 7); assert_int_equal(b, 5);
	static const uint8_t one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x0a, 0x06 };
	assert_int_equal(acpi_sleep_type(one, sizeof(one), 5, &a, &b), 0);
	assert_int_equal(a, 6); assert_int_equal(b, 0);
	/* a name that is not a NameOp'd package (e.g. a method call) is skipped */
	static const uint8_t call[] = { 0x14, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00 };
	assert_int_equal(acpi_sleep_type(call, sizeof(call), 5, &a, &b), -1);
	/* every cut of the Bochs table: never read past len, never a wrong value */
	for (size_t n = 0; n < sizeof(bochs_aml); n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, bochs_aml, n);
		a = b = 9;
		int rc = acpi_sleep_type(cut, n, 5, &a, &b);
		if (rc == 0)
			assert_int_equal(a, 0);
		else
			assert_int_equal(a, 9);
		assert_int_equal(rc == 0, n >= 35);     /* complete once both elements are in */
		free(cut);
	}
	assert_int_equal(acpi_sleep_type(NULL, 10, 5, &a, &b), -1);
}

#define PM1A 0xb004

static void test_pm1_cnt(void **st)
{
	(void)st;
	uint32_t m;
	unsigned typ;
	/* Linux's S5 under Bochs: word 0x2001 (SLP_TYP 0, SLP_EN, SCI_EN): power-off */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2001, 0, &m, &typ), PM1_POWER_OFF);
	/* the S3 of issue 17: word 0x2401 refused, performed as 0x0401 */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2401, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x0401); assert_int_equal(typ, 1);
	/* SLP_TYP written first without SLP_EN (ACPICA's write #1): performed */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x0401, 0, &m, &typ), PM1_PASS);
	assert_int_equal(m, 0x0401);
	/* byte to PM1a_CNT+1 (the unseen write of issue 17) */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A + 1, 1, 0x24, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x04);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A + 1, 1, 0x20, 0, &m, &typ), PM1_POWER_OFF);
	/* byte to the low half: no SLP_EN there */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 1, 0xff, 0, &m, &typ), PM1_PASS);
	/* dword at the base, word/dword starting below it, word at +1 */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 4, 0xffff2c01, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0xffff0c01); assert_int_equal(typ, 3);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A - 2, 4, 0x24010000, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x04010000);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A - 1, 2, 0x2400, 0, &m, &typ), PM1_PASS);   /* low byte only */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A + 1, 2, 0x0024, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x0004);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A - 3, 4, 0x24000000, 0, &m, &typ), PM1_PASS);
	/* S5 unknown: every sleep refused, power-off included */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2001, -1, &m, &typ), PM1_REFUSE);
	/* another S5 type (SeaBIOS on real boards can say 7) */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x3c00, 7, &m, &typ), PM1_POWER_OFF);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2000, 7, &m, &typ), PM1_REFUSE);
	/* port wrap at 0xffff */
	assert_int_equal(pm1_cnt_classify(0xffff, 0xfffe, 4, 0x2400, 0, &m, &typ), PM1_PASS);
	assert_int_equal(pm1_cnt_classify(0xfffe, 0xfffe, 2, 0x2400, 0, &m, &typ), PM1_REFUSE);
	/* exhaustive: every byte write to base+1 is refused iff SLP_EN and type != S5 */
	for (uint32_t v = 0; v < 256; v++) {
		enum pm1_verdict r = pm1_cnt_classify(PM1A, PM1A + 1, 1, v, 5, &m, &typ);
		enum pm1_verdict want = !(v & 0x20) ? PM1_PASS : ((v >> 2) & 7) == 5 ? PM1_POWER_OFF : PM1_REFUSE;
		assert_int_equal(r, want);
		assert_int_equal(m, r == PM1_REFUSE ? (v & ~0x20u) : v);
	}
}

static void test_wak_mask(void **st)
{
	(void)st;
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb000, 2), 0x8000);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb000, 4), 0x8000);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb001, 1), 0x80);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb000, 1), 0);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xafff, 4), 0x800000);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb002, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_types),
		cmocka_unit_test(test_pm1_cnt),
		cmocka_unit_test(test_wak_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
