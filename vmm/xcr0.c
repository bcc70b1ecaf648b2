/* XCR0 rules: vmm/xcr0.h. */
#include "vmm/xcr0.h"

const char *xcr0_check(uint32_t xcr, uint64_t val, uint64_t supported)
{
	if (xcr != 0)
		return "only XCR0 exists";
	if (!(val & XCR0_X87))
		return "x87 (bit 0) must be set";
	if (val & ~supported)
		return "a bit the CPU does not support (CPUID.0DH:EDX:EAX)";
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return "AVX (bit 2) needs SSE (bit 1)";
	if ((val & XCR0_AVX512) && (val & XCR0_AVX512) != XCR0_AVX512)
		return "AVX-512 bits 5-7 go together";
	if ((val & XCR0_AVX512) && (val & (XCR0_SSE | XCR0_AVX)) != (XCR0_SSE | XCR0_AVX))
		return "AVX-512 (bits 5-7) needs SSE and AVX (bits 1-2)";
	if (!(val & XCR0_BNDREGS) != !(val & XCR0_BNDCSR))
		return "MPX bits 3 and 4 go together";
	if (!(val & XCR0_XTILECFG) != !(val & XCR0_XTILEDATA))
		return "AMX bits 17 and 18 go together";
	return 0;
}

uint32_t xsave_compacted_size(uint64_t mask, const struct xsave_comp *comp, unsigned nr)
{
	uint64_t size = 512 + 64;               /* legacy region (x87, SSE) + XSAVE header */

	for (unsigned i = 2; i < 63; i++) {     /* bit 63 of XCOMP_BV is the format flag */
		if (!(mask & (1ULL << i)))
			continue;
		if (!comp || i >= nr || comp[i].size == 0)
			return 0;
		if (comp[i].align64)
			size = (size + 63) & ~63ULL;
		size += comp[i].size;
	}
	return size > 0xffffffffULL ? 0 : (uint32_t)size;
}
