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

/* ---- Hardware-reduced ACPI sleep (ACPI 6.5, 4.8.3.7): the FADT's
 * SLEEP_CONTROL_REG (8 bits: SLP_TYP 4:2, SLP_EN 5) and SLEEP_STATUS_REG
 * (WAK_STS bit 7) replace PM1 on platforms without the fixed hardware. */
#define SLEEP_CTL_SLP_TYP_SHIFT 2
#define SLEEP_CTL_SLP_EN        (1u << 5)
#define SLEEP_STS_WAK           (1u << 7)

#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO     1

struct acpi_gas {               /* Generic Address Structure (ACPI 6.5, 5.2.3.2) */
	uint8_t space, width, offset, access;
	uint64_t addr;          /* 0: absent */
};

struct fadt_sleep {
	int hw_reduced;         /* FADT Flags bit 20 HW_REDUCED_ACPI */
	struct acpi_gas sleep_ctl, sleep_sts;   /* FADT offsets 244, 256 (revision 5+) */
	uint16_t plvl2_lat, plvl3_lat;          /* offsets 96, 98: > 100 / > 1000 = no C2 / C3 */
};

/* The FADT's sleep and C-state fields, bounded by len (a short FADT leaves
 * what it lacks 0). -1 if fadt is NULL or shorter than its header. */
int fadt_sleep_parse(const uint8_t *fadt, uint32_t len, struct fadt_sleep *out);

/* A byte written to SLEEP_CONTROL_REG: verdict as for PM1_CNT (s5_typ: the
 * \_S5 type, -1 unknown: every sleep refused); *masked: SLP_EN cleared. */
enum pm1_verdict sleep_ctl_classify(uint8_t value, int s5_typ, uint8_t *masked, unsigned *typ);

/* ---- ACPI SystemIO C-states (ACPI 6.5, 8.1.2-8.1.4, 4.8.3.5.1): reading
 * P_LVL2 (P_BLK + 4) or P_LVL3 (P_BLK + 5) puts the CPU into C2/C3, where the
 * VMX-preemption timer may stop (SDM Vol. 3C 26.5.1: it counts in C-states up
 * to C2 only). The P_BLK of each processor is in its AML Processor() object:
 * ProcessorOp (0x5B 0x83) PkgLength NameString ProcID PblkAddr(4) PblkLen(1).
 * The distinct P_BLK addresses of 6-byte blocks (1..0xfffa) found in `aml`
 * are stored in pblk[0..max) (up to max); the number stored is returned. */
unsigned acpi_pblk_find(const uint8_t *aml, size_t len, uint16_t *pblk, unsigned max);

/* ---- _CST C-state registers (ACPI 6.5, 8.4.1.1): _CST is a package (often
 * returned by a method, or named elsewhere and returned by reference) of
 * Count followed by one 4-element package per C-state:
 *   Package { Register (Buffer: a Generic Register Descriptor), Type (1-3),
 *             Latency, Power }.
 * No AML is run: every 4-element package of that shape anywhere in `aml` is
 * taken (its Buffer holds exactly a GRD, 0x82 0x0C 0x00 ..., and an End Tag;
 * its Type is an integer 1..3), so a _CST built from conditionals or returned
 * by name is found as well. Bounded by len; corrupt AML finds nothing. The
 * distinct registers are stored in out[0..max); the number stored is returned. */
#define ACPI_SPACE_SYSTEM_IO 1
#define ACPI_SPACE_FFH       0x7f     /* Functional Fixed Hardware: MWAIT hints on Intel */
struct acpi_cst_reg {
	uint8_t  space;                 /* GRD Address Space ID */
	uint8_t  type;                  /* C-state type 1..3 (C1..C3) */
	uint8_t  width, access;         /* GRD bit width, access size */
	uint64_t addr;
};
unsigned acpi_cst_find(const uint8_t *aml, size_t len, struct acpi_cst_reg *out, unsigned max);

#endif
