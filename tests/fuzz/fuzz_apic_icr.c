/* libFuzzer target: vmm/apic_icr.c (issue 11) — the decoder of guest stores to the xAPIC page
 * on arbitrary bytes (a buffer of exactly their size: ASan catches over-reads) and the ICR
 * rules on arbitrary values. Invariants: a decoded store fits in the bytes given and names a
 * general register or an immediate; INIT/STARTUP are never passed to the hardware. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/apic_icr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	uint32_t lo, dest;
	memcpy(&lo, data, 4);
	memcpy(&dest, data + 4, 4);
	unsigned mode = (data[8] % 3 == 0) ? 16 : (data[8] % 3 == 1) ? 32 : 64;
	struct icr_req r = icr_classify(lo, dest, data[8] & 0x80);
	uint32_t dm = lo & 0x700;
	if ((dm == 0x500 || dm == 0x600) != (r.act != ICR_PASS))
		abort();
	if (r.act == ICR_DROP && !r.why)
		abort();
	size_t n = size - 9;
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return 0;
	memcpy(b, data + 9, n);
	struct apic_store s;
	const char *why = NULL;
	if (apic_store_decode(b, n, mode, &s, &why) == 0) {
		if (s.len == 0 || s.len > n || s.reg > 15 || s.reg < -1 || (s.xchg && s.reg < 0))
			abort();
	} else if (!why) {
		abort();
	}
	free(b);
	return 0;
}
