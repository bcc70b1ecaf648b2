/*
 * XCR0 rules for the guest's XSETBV (pure, host-tested: tests/unit/test_xcr0.c).
 * SDM Vol. 1 13.3 "Enabling the XSAVE feature set and XSAVE-enabled features":
 * XSETBV #GPs on a value that breaks one, and a #GP in ring -1 would halt hvmon
 * (issue 17), so hvmon checks every rule before executing it.
 */
#ifndef HVMON_VMM_XCR0_H
#define HVMON_VMM_XCR0_H

#include <stdint.h>

#define XCR0_X87       (1ULL << 0)
#define XCR0_SSE       (1ULL << 1)
#define XCR0_AVX       (1ULL << 2)
#define XCR0_BNDREGS   (1ULL << 3)
#define XCR0_BNDCSR    (1ULL << 4)
#define XCR0_OPMASK    (1ULL << 5)
#define XCR0_ZMM_HI256 (1ULL << 6)
#define XCR0_HI16_ZMM  (1ULL << 7)
#define XCR0_PKRU      (1ULL << 9)
#define XCR0_XTILECFG  (1ULL << 17)
#define XCR0_XTILEDATA (1ULL << 18)
#define XCR0_AVX512    (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

/* 0 if XSETBV(xcr, val) is valid on a CPU whose CPUID.(EAX=0DH,ECX=0)
 * EDX:EAX is `supported`; else a static string naming the broken rule. */
const char *xcr0_check(uint32_t xcr, uint64_t val, uint64_t supported);

/* One XSAVE state component as CPUID.(EAX=0DH,ECX=i) describes it: EAX its
 * size, ECX[1] "64-byte aligned in the compacted format". size 0: unknown. */
struct xsave_comp {
	uint32_t size;
	int align64;
};

/* The size of a compacted XSAVE area (XSAVEC/XSAVES) holding the components
 * in `mask` (normally XCR0 | IA32_XSS), SDM Vol. 1 13.4.3: the legacy region
 * and header (576 bytes) hold components 0-1; each further component i in
 * `mask` follows the previous one, its offset rounded up to 64 when its
 * align64 is set. comp[i] for i < nr; 0 if a component of `mask` is unknown
 * (no entry or size 0: the size cannot be known). This is what CPUID.(EAX=0DH,
 * ECX=1):EBX must report (SDM Vol. 2A, CPUID leaf 0DH: "the size in bytes of
 * the XSAVE area containing all states enabled by XCR0 | IA32_XSS"). */
uint32_t xsave_compacted_size(uint64_t mask, const struct xsave_comp *comp, unsigned nr);

#endif
