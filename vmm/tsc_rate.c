/* The TSC rate hvmon's clock runs on: vmm/tsc_rate.h. */
#include "vmm/tsc_rate.h"

uint64_t tsc_rate_from_cpuid(uint32_t max_leaf, const uint32_t l15[3], uint32_t l16_eax,
			     const char **which)
{
	if (which)
		*which = "";
	if (max_leaf >= 0x15 && l15 && l15[0] && l15[1] && l15[2]) {
		if (which)
			*which = "CPUID 0x15";
		return (uint64_t)l15[2] * l15[1] / l15[0];
	}
	if (max_leaf >= 0x16 && (l16_eax & 0xffff)) {
		if (which)
			*which = "CPUID 0x16";
		return (uint64_t)(l16_eax & 0xffff) * 1000000ULL;
	}
	return 0;
}

uint64_t tsc_rate_choose(uint64_t cpuid_hz, uint64_t measured_hz, enum tsc_rate_src *src,
			 uint64_t *off_permille)
{
	enum tsc_rate_src s;
	uint64_t hz, off = 0;

	if (cpuid_hz && measured_hz) {
		uint64_t d = cpuid_hz > measured_hz ? cpuid_hz - measured_hz : measured_hz - cpuid_hz;
		/* d / measured in permille without overflow (capped at 10^9 permille) */
		uint64_t q = d / measured_hz, r = d % measured_hz;
		off = q >= 1000000 ? 1000000000ULL
				   : q * 1000 + (r > ~0ULL / 1000 ? r / (measured_hz / 1000) : r * 1000 / measured_hz);
		if (off <= TSC_RATE_TOLERANCE_PERMILLE) {
			s = TSC_RATE_CPUID;
			hz = cpuid_hz;
		} else {
			s = TSC_RATE_MEASURED_OVER;
			hz = measured_hz;
		}
	} else if (cpuid_hz) {
		s = TSC_RATE_CPUID;
		hz = cpuid_hz;
	} else if (measured_hz) {
		s = TSC_RATE_MEASURED;
		hz = measured_hz;
	} else {
		s = TSC_RATE_FALLBACK;
		hz = 1000000000ULL;
	}
	if (src)
		*src = s;
	if (off_permille)
		*off_permille = off;
	return hz;
}
