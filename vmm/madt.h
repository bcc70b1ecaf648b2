/*
 * vmm/madt.h — the ACPI MADT ("APIC" table) as a list of CPUs: pure, host-tested
 * (tests/unit/test_madt.c) and fuzzed (tests/fuzz/fuzz_madt.c). Issue 11.
 *
 * ACPI 6.5 5.2.12: a 44-byte header (36-byte SDT header, local APIC address,
 * flags), then variable-length entries {type, length, ...}. The CPUs are the
 * Processor Local APIC entries (type 0: ACPI id, APIC id, flags) and the
 * Processor Local x2APIC entries (type 9: x2APIC id, flags, ACPI uid). Flags
 * bit 0 = Enabled; bit 1 = Online Capable (ACPI 6.3+: a disabled CPU the OS may
 * bring online later). hvmon virtualizes every CPU the guest may start: enabled
 * or online-capable ones.
 */
#ifndef HVMON_VMM_MADT_H
#define HVMON_VMM_MADT_H

#include <stddef.h>
#include <stdint.h>

#define MADT_MAX_CPUS 64                 /* = HV_MAX_CPUS */
#define MADT_ERR_LEN  96

struct madt_cpu {
	uint32_t apic_id;                    /* xAPIC id (type 0) or x2APIC id (type 9) */
	uint32_t acpi_id;
	uint8_t  x2apic;                     /* from a type-9 entry */
	uint8_t  enabled;                    /* flags bit 0 (else: online-capable only) */
};

struct madt_info {
	uint32_t lapic_addr;                 /* local APIC physical address (header) */
	uint32_t nr_cpus;                    /* usable CPUs listed in cpus[] */
	uint32_t nr_disabled;                /* entries neither enabled nor online-capable */
	uint32_t nr_dropped;                 /* usable CPUs beyond MADT_MAX_CPUS */
	struct madt_cpu cpus[MADT_MAX_CPUS];
};

/*
 * Parse the MADT at @tbl (@len bytes available to read; the header's length
 * must fit in it). 0, or -1 with a reason in @err (NUL-terminated, MADT_ERR_LEN):
 * bad signature, length or checksum, an entry shorter than its type needs or
 * running past the table, a duplicate APIC id. The same CPU listed as both a
 * type-0 and a type-9 entry (same id) counts once.
 */
int madt_parse(const void *tbl, size_t len, struct madt_info *out, char err[MADT_ERR_LEN]);

/* Index of @apic_id in @m->cpus, or -1. */
int madt_find(const struct madt_info *m, uint32_t apic_id);

#endif
