/*
 * ACPI sleep requests, pure logic (host-tested: tests/unit/test_acpi_sleep.c,
 * fuzzed: tests/fuzz/fuzz_acpi_sleep.c). Ring -1 use: vmm/power.c.
 *
 * A guest that sets SLP_EN in PM1_CNT asks the chipset to enter the sleep
 * state SLP_TYP. Only the firmware's S5 type (soft-off) may reach the
 * hardware: any other state (S1-S4) would power down the CPU context, VMX
 * included, and the guest would wake up without hvmon (issue 17). The S5 type
 * is the first/second element of the DSDT's \_S5 package (ACPI 6.5, 7.4.2).
 */
#ifndef HVMON_VMM_ACPI_SLEEP_H
#define HVMON_VMM_ACPI_SLEEP_H

#include <stdint.h>
#include <stddef.h>

#define PM1_CNT_SLP_TYP_SHIFT 10          /* ACPI 6.5, 4.8.3.2.1: bits 12:10 */
#define PM1_CNT_SLP_EN        (1u << 13)
#define PM1_STS_WAK           (1u << 15)  /* ACPI 6.5, 4.8.3.1.1: wake status */

/* Name(_Sx_, Package(){ SLP_TYPa, SLP_TYPb, ... }) in AML: 0 and the two
 * types, or -1 when absent or not in the simple constant form. Bounded by len. */
int acpi_sleep_type(const uint8_t *aml, size_t len, unsigned state, uint8_t *typa, uint8_t *typb);

enum pm1_verdict {
	PM1_PASS,        /* no SLP_EN in the write: perform it */
	PM1_POWER_OFF,   /* SLP_EN with the S5 type: the guest powers off */
	PM1_REFUSE,      /* SLP_EN with any other type: perform *masked (SLP_EN cleared) */
};

/* A write of `size` bytes of `value` to `port` touching the 16-bit PM1_CNT at
 * `base` (also a write that starts below it or only covers its high byte).
 * s5_typ: the S5 sleep type for this register, -1 if unknown (then every
 * sleep request is refused). *typ gets the requested type. */
enum pm1_verdict pm1_cnt_classify(uint16_t base, uint16_t port, unsigned size, uint32_t value,
				  int s5_typ, uint32_t *masked, unsigned *typ);

/* The WAK_STS bit inside a PM1_STS access of `size` bytes at `port`
 * (status register at `base`): the mask of that bit in the access's value,
 * 0 when the access does not cover it. */
uint32_t pm1_sts_wak_mask(uint16_t base, uint16_t port, unsigned size);

#endif
