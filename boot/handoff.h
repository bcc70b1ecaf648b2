/*
 * hvmon 64-bit handoff header — the contract between hvmon.elf and loaders
 * that are already in long mode (the UEFI front end, hvmon.efi).
 *
 * The header sits at the very start of the first PT_LOAD segment of
 * hvmon.elf (file offset = that segment's p_offset). A loader:
 *   1. finds the header (magic "HVMON64\0") and checks version/header_size;
 *   2. allocates image_size + heap_size contiguous bytes aligned to `align`
 *      (2 MiB), BELOW 4 GiB (hvmon's boot page tables identity-map 0..4 GiB);
 *   3. copies every PT_LOAD segment to phys_base + (p_vaddr - first p_vaddr)
 *      and zeroes the rest of its p_memsz (bss);
 *   4. fills a struct boot_info (boot/boot_info.h) in memory it owns and lists
 *      that memory and the image+heap block in boot_info.reserved;
 *   5. disables interrupts and jumps to phys_base + entry64_offset in long
 *      mode with an identity map covering at least the image and boot_info,
 *      with RDI = physical address of boot_info, RSI = phys_base.
 * hvmon never returns.
 */
#ifndef HVMON_BOOT_HANDOFF_H
#define HVMON_BOOT_HANDOFF_H

#define HV_HANDOFF_MAGIC      "HVMON64"        /* 8 bytes with the NUL */
#define HV_HANDOFF_VERSION    1
#define HV_HANDOFF_ALIGN      0x200000ULL      /* 2 MiB */

#ifndef __ASSEMBLY__
#include <stdint.h>

struct hv_handoff_header {
	char     magic[8];        /* "HVMON64\0" */
	uint32_t version;         /* HV_HANDOFF_VERSION */
	uint32_t header_size;     /* sizeof(struct hv_handoff_header) */
	uint64_t entry64_offset;  /* entry point, offset from phys_base */
	uint64_t image_size;      /* first PT_LOAD start through end of bss */
	uint64_t heap_size;       /* bytes wanted right after image_size */
	uint64_t align;           /* required alignment of phys_base */
};

_Static_assert(sizeof(struct hv_handoff_header) == 48, "handoff header ABI");
#endif

#endif
