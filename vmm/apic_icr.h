/*
 * vmm/apic_icr.h — pure rules of the guest's local-APIC writes that hvmon
 * intercepts (issue 11; ring -1 side: vmm/smp_apic.c). Host-tested
 * (tests/unit/test_apic_icr.c) and fuzzed (tests/fuzz/fuzz_apic_icr.c).
 */
#ifndef HVMON_VMM_APIC_ICR_H
#define HVMON_VMM_APIC_ICR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum icr_action {
	ICR_PASS = 0,       /* not INIT/STARTUP: performed on the hardware */
	ICR_DROP,           /* INIT/STARTUP hvmon ignores (self, logical, level de-assert) */
	ICR_INIT,           /* INIT to dest (or all others) */
	ICR_SIPI,           /* STARTUP with vector to dest (or all others) */
};

struct icr_req {
	enum icr_action act;
	uint32_t dest;       /* physical APIC id */
	bool all;            /* every vCPU but the sender */
	uint8_t vector;      /* ICR_SIPI */
	const char *why;     /* ICR_DROP: what was dropped */
};

/* An ICR write: low 32 bits @lo, destination @dest (xAPIC: ICR high >> 24;
 * x2APIC: bits 63:32). SDM Vol. 3A 11.6.1. INIT and STARTUP never reach the
 * hardware: the answer is never ICR_PASS for them. */
struct icr_req icr_classify(uint32_t lo, uint32_t dest, bool x2apic);

/* A guest store to the xAPIC page, decoded: MOV r32/imm32 -> m32, or XCHG
 * r32, m32 (the only forms Linux uses, SDM Vol. 2). */
struct apic_store {
	uint8_t len;         /* instruction length */
	bool xchg;           /* XCHG: the register receives the old value */
	int8_t reg;          /* source register as exit-qualification numbering (0 RAX .. 15 R15), or -1 */
	uint32_t imm;        /* source immediate when reg < 0 */
};

/* Decode @n bytes at the guest's RIP; @mode_bits 16, 32 or 64 (CS.L/D).
 * 0, or -1 with a reason in *why (not a 32-bit MOV/XCHG store from a general
 * register or an immediate: the guest then gets #GP). */
int apic_store_decode(const uint8_t *b, size_t n, unsigned mode_bits, struct apic_store *out,
		      const char **why);

#endif
