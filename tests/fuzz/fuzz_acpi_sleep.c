/* libFuzzer target: vmm/acpi_sleep.c's AML scan for \_Sx packages on
 * arbitrary DSDT bytes (the firmware's, but bounded like guest data), in a
 * buffer of exactly the input's size so ASan catches any over-read; and the
 * PM1_CNT classifier on the first bytes as a port write; the Processor()
 * P_BLK scan on the same bytes as AML, the FADT sleep fields on them as a
 * FADT, the SLEEP_CONTROL_REG classifier and the _CST register scan (issue 17). */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/acpi_sleep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t a = 0xee, b = 0xee;
	for (unsigned s = 0; s <= 5; s++)
		if (acpi_sleep_type(data, size, s, &a, &b) == 0 && (a > 7 || b > 7))
			abort();
	if (size >= 8) {
		uint16_t base, port;
		uint32_t v, m;
		unsigned typ;
		memcpy(&base, data, 2);
		memcpy(&port, data + 2, 2);
		memcpy(&v, data + 4, 4);
		unsigned sz = 1u << (data[0] % 3);
		enum pm1_verdict r = pm1_cnt_classify(base, port, sz, v, (int)(data[1] % 9) - 1, &m, &typ);
		if (r != PM1_REFUSE && m != v)
			abort();
		if (r == PM1_REFUSE && (m == v || (m | v) != v))
			abort();                /* refused: exactly SLP_EN cleared */
		if (typ > 7)
			abort();
	}
	uint16_t pb[8];
	unsigned n = acpi_pblk_find(data, size, pb, 8);
	if (n > 8)
		abort();
	for (unsigned i = 0; i < n; i++) {
		if (pb[i] == 0 || pb[i] > 0xfffa)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (pb[i] == pb[j])
				abort();        /* distinct */
	}
	struct acpi_cst_reg c[8];
	unsigned nc = acpi_cst_find(data, size, c, 8);
	if (nc > 8)
		abort();
	for (unsigned i = 0; i < nc; i++) {
		if (c[i].type < 1 || c[i].type > 3)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (c[i].space == c[j].space && c[i].addr == c[j].addr)
				abort();        /* distinct */
	}
	if (size < 31 && nc)
		abort();                /* a C-state package takes 30 bytes at least */
	struct fadt_sleep fs;
	if (fadt_sleep_parse(data, (uint32_t)size, &fs) != (size >= 36 ? 0 : -1))
		abort();
	if (size < 268 && fs.sleep_sts.addr)
		abort();                /* nothing read beyond the table */
	if (size >= 1) {
		uint8_t m;
		unsigned typ;
		enum pm1_verdict r = sleep_ctl_classify(data[0], (int)(data[size - 1] % 9) - 1, &m, &typ);
		if ((r == PM1_REFUSE) != (m != data[0]) || typ > 7 || (r == PM1_PASS && (data[0] & 0x20)))
			abort();
	}
	return 0;
}
