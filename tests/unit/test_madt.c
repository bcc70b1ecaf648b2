/* Unit tests for vmm/madt.c: the ACPI MADT as a CPU list (issue 11). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/madt.h"

struct tb { uint8_t b[512]; uint32_t n; };

static void hdr(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "APIC", 4);
	uint32_t lapic = 0xfee00000;
	memcpy(t->b + 36, &lapic, 4);
	t->n = 44;
}

static void lapic(struct tb *t, uint8_t acpi, uint8_t id, uint32_t flags)
{
	uint8_t *e = t->b + t->n;
	e[0] = 0; e[1] = 8; e[2] = acpi; e[3] = id;
	memcpy(e + 4, &flags, 4);
	t->n += 8;
}

static void x2apic(struct tb *t, uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = t->b + t->n;
	e[0] = 9; e[1] = 16;
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	t->n += 16;
}

static void other(struct tb *t, uint8_t type, uint8_t len)
{
	uint8_t *e = t->b + t->n;
	memset(e, 0xaa, len);
	e[0] = type; e[1] = len;
	t->n += len;
}

static void fin(struct tb *t)
{
	memcpy(t->b + 4, &t->n, 4);
	t->b[9] = 0;
	uint8_t s = 0;
	for (uint32_t i = 0; i < t->n; i++)
		s = (uint8_t)(s + t->b[i]);
	t->b[9] = (uint8_t)-s;
}

/* Bochs 2.7 with cpu: count=2: two enabled local APICs, an I/O APIC and overrides */
static void test_bochs_two_cpus(void **st)
{
	(void)st;
	struct tb t; struct madt_info m; char err[MADT_ERR_LEN];
	hdr(&t);
	lapic(&t, 0, 0, 1);
	lapic(&t, 1, 1, 1);
	other(&t, 1, 12);              /* I/O APIC */
	other(&t, 2, 10);              /* interrupt source override */
	fin(&t);
	assert_int_equal(madt_parse(t.b, t.n, &m, err), 0);
	assert_int_equal(m.nr_cpus, 2);
	assert_int_equal(m.lapic_addr, 0xfee00000);
	assert_int_equal(m.cpus[1].apic_id, 1);
	assert_int_equal(m.cpus[1].acpi_id, 1);
	assert_true(m.cpus[1].enabled);
	assert_int_equal(madt_find(&m, 1), 1);
	assert_int_equal(madt_find(&m, 7), -1);
}

static void test_disabled_online_capable_x2apic(void **st)
{
	(void)st;
	struct tb t; struct madt_info m; char err[MADT_ERR_LEN];
	hdr(&t);
	lapic(&t, 0, 0, 1);
	lapic(&t, 1, 2, 0);            /* disabled: not usable */
	lapic(&t, 2, 4, 2);            /* online capable: the OS may start it */
	x2apic(&t, 0x100, 1, 3);       /* beyond xAPIC ids */
	x2apic(&t, 0, 1, 0);           /* the same CPU as the type-0 entry: once */
	fin(&t);
	assert_int_equal(madt_parse(t.b, t.n, &m, err), 0);
	assert_int_equal(m.nr_cpus, 3);
	assert_int_equal(m.nr_disabled, 1);
	assert_false(m.cpus[1].enabled);
	assert_int_equal(m.cpus[1].apic_id, 4);
	assert_int_equal(m.cpus[2].apic_id, 0x100);
	assert_true(m.cpus[2].x2apic);
}

static void test_refusals(void **st)
{
	(void)st;
	struct tb t; struct madt_info m; char err[MADT_ERR_LEN];
	hdr(&t); lapic(&t, 0, 0, 1); fin(&t);
	assert_int_equal(madt_parse(t.b, 43, &m, err), -1);          /* short */
	assert_true(err[0]);
	assert_int_equal(madt_parse(t.b, t.n - 1, &m, err), -1);     /* length beyond the buffer */
	t.b[20] ^= 1;
	assert_int_equal(madt_parse(t.b, t.n, &m, err), -1);         /* checksum */
	assert_non_null(strstr(err, "checksum"));
	hdr(&t); lapic(&t, 0, 0, 1); t.b[t.n - 7] = 40; fin(&t);      /* entry past the end */
	assert_int_equal(madt_parse(t.b, t.n, &m, err), -1);
	hdr(&t); lapic(&t, 0, 0, 1); t.b[t.n - 7] = 0; fin(&t);       /* zero length: no endless loop */
	assert_int_equal(madt_parse(t.b, t.n, &m, err), -1);
	hdr(&t); other(&t, 9, 12); fin(&t);                           /* short x2APIC entry */
	assert_int_equal(madt_parse(t.b, t.n, &m, err), -1);
	hdr(&t); lapic(&t, 0, 3, 1); lapic(&t, 1, 3, 1); fin(&t);     /* duplicate id */
	assert_int_equal(madt_parse(t.b, t.n, &m, err), -1);
	assert_non_null(strstr(err, "twice"));
	hdr(&t); fin(&t); memcpy(t.b, "FACP", 4);
	assert_int_equal(madt_parse(t.b, t.n, &m, err), -1);
	assert_int_equal(madt_parse(NULL, 100, &m, err), -1);
}

static void test_too_many(void **st)
{
	(void)st;
	struct tb t; struct madt_info m; char err[MADT_ERR_LEN];
	hdr(&t);
	for (int i = 0; i < 58; i++)
		lapic(&t, (uint8_t)i, (uint8_t)i, 1);
	fin(&t);
	assert_true(t.n <= sizeof(t.b));
	assert_int_equal(madt_parse(t.b, t.n, &m, err), 0);
	assert_int_equal(m.nr_cpus, 58);
	assert_int_equal(m.nr_dropped, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bochs_two_cpus),
		cmocka_unit_test(test_disabled_online_capable_x2apic),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_too_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
