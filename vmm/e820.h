/*
 * e820 — guest memory map construction (pure logic, host-testable).
 *
 * Input: the firmware memory map as the front end found it (boot_info.mem:
 * unsorted, overlapping, zero-length entries possible) and hvmon's own ranges
 * (boot_info.reserved). Output: the e820 table the guest sees in boot_params:
 * sorted, non-overlapping, adjacent same-type entries merged, hvmon's ranges
 * removed (holes, page-aligned outward), at most E820_MAX_ENTRIES_ZEROPAGE.
 *
 * Overlap rule (as Linux's e820__update_table): where firmware entries overlap,
 * the numerically higher type wins (RAM=1 loses to everything), so memory is
 * never reported as RAM when any firmware entry says otherwise.
 *
 * Freestanding: no libc, no allocation, every loop bounded by the input counts.
 */
#ifndef HVMON_VMM_E820_H
#define HVMON_VMM_E820_H

#include <stdint.h>
#include <stdbool.h>
#include "boot/boot_info.h"

#define E820_MAX_ENTRIES_ZEROPAGE 128   /* boot_params.e820_table[] capacity */
#define E820_PAGE_SIZE            0x1000ULL

#define E820_TYPE_RAM        1
#define E820_TYPE_RESERVED   2
#define E820_TYPE_ACPI       3
#define E820_TYPE_NVS        4
#define E820_TYPE_UNUSABLE   5
#define E820_TYPE_PMEM       7

/* Byte-identical to Linux's struct boot_e820_entry (20 bytes, packed), so a
 * table can be copied straight into boot_params at offset 0x2d0. */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* A plain physical range [base, base + length). */
struct e820_range {
	uint64_t base;
	uint64_t length;
};

enum e820_err {
	E820_OK            = 0,
	E820_ERR_INVAL     = -1,  /* NULL pointer, count above BOOT_MEM_MAX/BOOT_RSVD_MAX, bad size/align */
	E820_ERR_TOO_MANY  = -2,  /* result needs more entries than out_max */
	E820_ERR_NOT_FOUND = -3,  /* e820_find_free: no free range satisfies the request */
	E820_ERR_EMPTY     = -4,  /* result contains no RAM at all */
};

/*
 * e820_build_guest - build the guest's e820 table.
 * @mem, @nr_mem:     firmware map (nr_mem <= BOOT_MEM_MAX). Zero-length entries
 *                    are ignored; entries reaching past 2^64 are clamped.
 * @rsvd, @nr_rsvd:   hvmon-owned ranges (nr_rsvd <= BOOT_RSVD_MAX). Each is widened
 *                    to 4 KiB boundaries (base down, end up) and removed from every
 *                    firmware entry it overlaps (the guest sees a hole).
 * @out, @out_max:    caller buffer; out_max is normally E820_MAX_ENTRIES_ZEROPAGE.
 * @out_nr:           number of entries written.
 * Returns E820_OK, E820_ERR_INVAL, E820_ERR_TOO_MANY (nothing useful in @out;
 * *out_nr = entries that would have been needed) or E820_ERR_EMPTY (no RAM left).
 * Output is sorted by address, non-overlapping, with adjacent equal types merged.
 */
int e820_build_guest(const struct boot_mem_region *mem, uint32_t nr_mem,
		     const struct boot_reserved *rsvd, uint32_t nr_rsvd,
		     struct e820_entry *out, uint32_t out_max, uint32_t *out_nr);

/* Flags for e820_find_free. */
#define E820_FIND_TOP_DOWN  0x1   /* highest fitting address (default: lowest) */

/*
 * e820_find_free - find [addr, addr + size) inside RAM entries of @map that
 * avoids every range in @avoid, with addr % align == 0, min <= addr and
 * addr + size <= limit.
 * @map, @nr:         a sorted or unsorted e820 table (e.g. e820_build_guest's output,
 *                    which already excludes hvmon's reserved ranges); nr <= 256.
 *                    Only E820_TYPE_RAM entries are usable, and a byte covered by
 *                    any non-RAM entry is never returned.
 * @avoid, @nr_avoid: extra ranges to keep clear (boot modules, kernel already placed,
 *                    boot_info...); may be NULL/0; nr_avoid <= 64.
 * @size:             > 0. @align: power of two >= 1 (0 is treated as 1).
 * @flags:            E820_FIND_TOP_DOWN or 0.
 * Returns E820_OK with *addr set, E820_ERR_NOT_FOUND, or E820_ERR_INVAL.
 */
int e820_find_free(const struct e820_entry *map, uint32_t nr,
		   const struct e820_range *avoid, uint32_t nr_avoid,
		   uint64_t size, uint64_t align, uint64_t min, uint64_t limit,
		   uint32_t flags, uint64_t *addr);

/*
 * e820_ram_minus - the guest-RAM ranges hvmon may read for the guest: every
 * E820_TYPE_RAM entry of @map minus every range of @rsvd widened to 4 KiB
 * boundaries (base down, end up), written to @out (largest first, so that a
 * lookup usually stops at the first range). [pa, pa + len) lies inside one
 * output range exactly when it lies inside one RAM entry and overlaps no
 * widened reserved range. Returns the number of ranges, or -1 when more than
 * @out_max would be needed (the caller then checks the tables directly).
 */
int e820_ram_minus(const struct e820_entry *map, uint32_t nr, const struct boot_reserved *rsvd,
		   uint32_t nr_rsvd, struct e820_range *out, uint32_t out_max);

/* Sum of E820_TYPE_RAM bytes in @map (for logging). */
uint64_t e820_ram_bytes(const struct e820_entry *map, uint32_t nr);

/* Human-readable name of an e820 type ("RAM", "reserved", "ACPI", ...). */
const char *e820_type_name(uint32_t type);

/* Human-readable message for an enum e820_err value. */
const char *e820_strerror(int err);

#endif
