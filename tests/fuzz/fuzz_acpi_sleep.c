/* libFuzzer target: vmm/acpi_sleep.c's AML scan for \_Sx packages on
 * arbitrary DSDT bytes (the firmware's, but bounded like guest data), in a
 * buffer of exactly the input's size so ASan catches any over-read; and the
 * PM1_CNT classifier on the first bytes as a port write. */
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
	return 0;
}
