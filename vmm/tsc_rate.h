/*
 * The TSC rate hvmon's clock runs on (vmm/tick.c): CPUID's word checked
 * against a measurement (pure, host-tested: tests/unit/test_tsc_rate.c).
 *
 * CPUID 0x15 (crystal x ratio) and 0x16 (base MHz) are what the CPU claims;
 * nothing guarantees them: Bochs's corei7_skylake_x says 3.5 GHz in 0x16 while
 * its TSC runs at the emulated instruction rate (200 MHz with ips=200M), and a
 * BIOS/microcode or another hypervisor can get 0x15/0x16 wrong on hardware. A
 * wrong rate makes every hvmon period wrong (hang timeouts, heartbeats,
 * keylogger windows), so the rate is measured against PIT channel 2 at boot
 * and the measurement wins when the two disagree by more than the tolerance.
 */
#ifndef HVMON_VMM_TSC_RATE_H
#define HVMON_VMM_TSC_RATE_H

#include <stdint.h>

/* CPUID 0x16 base frequency vs the TSC: equal on every CPU with an invariant
 * TSC we know of within 0.5% (e.g. 2600 MHz base, 2592 MHz TSC); a 50 ms PIT
 * measurement is good to ~0.01%; 2% leaves room for an SMI in the window. */
#define TSC_RATE_TOLERANCE_PERMILLE 20

enum tsc_rate_src {
	TSC_RATE_CPUID,         /* CPUID's rate (agrees with the measurement, or nothing measured) */
	TSC_RATE_MEASURED,      /* the measurement: no CPUID rate */
	TSC_RATE_MEASURED_OVER, /* the measurement: CPUID disagreed beyond the tolerance */
	TSC_RATE_FALLBACK,      /* neither: 1 GHz assumed */
};

/* The rate to use from CPUID's claim and a measurement (0 = none for either).
 * *off_permille (if non-NULL): |cpuid - measured| / measured in 1/1000 when both
 * are known, else 0. */
uint64_t tsc_rate_choose(uint64_t cpuid_hz, uint64_t measured_hz, enum tsc_rate_src *src,
			 uint64_t *off_permille);

/* CPUID leaf 0x15 (EAX denominator, EBX numerator, ECX crystal Hz) and 0x16
 * (EAX[15:0] base MHz) to a rate: 0x15 when complete, else 0x16, else 0.
 * SDM Vol. 2A CPUID leaves 15H and 16H. *which: "CPUID 0x15"/"CPUID 0x16"/"". */
uint64_t tsc_rate_from_cpuid(uint32_t max_leaf, const uint32_t l15[3], uint32_t l16_eax,
			     const char **which);

#endif
