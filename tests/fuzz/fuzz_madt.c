/* libFuzzer target: the pure MADT parser (vmm/madt.c, issue 11) on arbitrary
 * tables, in a buffer of exactly their size (ASan catches any over-read).
 * Invariants: every refusal says why; on success the CPU list is bounded,
 * without duplicate APIC ids. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/madt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct madt_info m;
	char err[MADT_ERR_LEN];
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* fix the checksum half of the time, so that the entries get parsed */
	if (size >= 44 && (data[0] & 1)) {
		memcpy(buf, "APIC", 4);
		uint32_t n = (uint32_t)size;
		memcpy(buf + 4, &n, 4);
		buf[9] = 0;
		uint8_t s = 0;
		for (size_t i = 0; i < size; i++)
			s = (uint8_t)(s + buf[i]);
		buf[9] = (uint8_t)-s;
	}
	int rc = madt_parse(buf, size, &m, err);
	if (!memchr(err, 0, sizeof(err)))
		abort();
	if (rc) {
		if (!err[0])
			abort();
	} else {
		if (m.nr_cpus > MADT_MAX_CPUS)
			abort();
		for (uint32_t i = 0; i < m.nr_cpus; i++)
			for (uint32_t j = i + 1; j < m.nr_cpus; j++)
				if (m.cpus[i].apic_id == m.cpus[j].apic_id)
					abort();
	}
	free(buf);
	return 0;
}
