/*
 * Pure Multiboot2 boot-information parser (host-testable, fuzzed:
 * tests/fuzz/fuzz_mb2.c, tests/unit/test_mb2.c). Reads only mbi[0..len),
 * bounds-checks every tag, and refuses (fail closed, like hvmon.efi) what
 * the GRUB front end used to accept silently: truncated command lines,
 * malformed tags, modules overlapping hvmon or outside RAM.
 */
#ifndef HVMON_BOOT_MB2_PARSE_H
#define HVMON_BOOT_MB2_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

#define MB2_ERR_LEN 160

struct mb2_parsed {
	uint32_t acpi_off, acpi_len;   /* RSDP copy inside the MBI (0 length: none) */
	uint32_t cmdline_off, cmdline_len;  /* hvmon command line tag body (to wipe) */
};

/* hv_base/hv_size: physical range hvmon occupies (image + heap); modules
 * must not overlap it, and must lie inside one RAM region of the map.
 * Returns 0 or -1 with a one-line reason in err. */
int mb2_parse(const uint8_t *mbi, size_t len, uint64_t hv_base, uint64_t hv_size,
	      struct boot_info *bi, struct mb2_parsed *p, char err[MB2_ERR_LEN]);

#endif
