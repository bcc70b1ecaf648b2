/*
 * UEFI memory map -> boot_info conversion. Pure C (no EFI headers, no libc,
 * no allocation) so that hvmon.efi can run it right after ExitBootServices
 * and host unit tests can run it on synthetic maps.
 */
#ifndef HVMON_BOOT_UEFI_MEMMAP_H
#define HVMON_BOOT_UEFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

/* UEFI memory types (UEFI spec 2.10, 7.2 EFI_MEMORY_TYPE). */
enum {
	UEFI_MT_RESERVED = 0, UEFI_MT_LOADER_CODE, UEFI_MT_LOADER_DATA,
	UEFI_MT_BS_CODE, UEFI_MT_BS_DATA, UEFI_MT_RT_CODE, UEFI_MT_RT_DATA,
	UEFI_MT_CONVENTIONAL, UEFI_MT_UNUSABLE, UEFI_MT_ACPI_RECLAIM,
	UEFI_MT_ACPI_NVS, UEFI_MT_MMIO, UEFI_MT_MMIO_PORT, UEFI_MT_PAL_CODE,
	UEFI_MT_PERSISTENT, UEFI_MT_UNACCEPTED,
};

/* Layout of EFI_MEMORY_DESCRIPTOR (version 1). The firmware's stride is
 * desc_size, which may be larger than this struct. */
struct uefi_mem_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;          /* 4 KiB pages */
	uint64_t attribute;
};

#define UEFI_PAGE_SIZE 4096ULL

enum uefi_memmap_err {
	UEFI_MEMMAP_OK = 0,
	UEFI_MEMMAP_BAD_DESC_SIZE,   /* desc_size < sizeof(struct uefi_mem_desc) or not 8-aligned */
	UEFI_MEMMAP_BAD_RANGE,       /* num_pages overflows the address space */
	UEFI_MEMMAP_OVERLAP,         /* two descriptors overlap */
	UEFI_MEMMAP_TOO_MANY,        /* more than BOOT_MEM_MAX entries after merging */
	UEFI_MEMMAP_RSVD_FULL,       /* more than BOOT_RSVD_MAX reserved ranges */
	UEFI_MEMMAP_RSVD_NOT_RAM,    /* a reserved range is not inside RAM of the map */
};

/* E820 type (enum boot_mem_type) for a UEFI memory type. Loader, boot
 * services and conventional memory are RAM; runtime services, MMIO, PAL code,
 * unaccepted and unknown/OEM/OS types are reserved. */
uint32_t uefi_memtype_to_e820(uint32_t efi_type);

/*
 * Fill bi->mem / bi->nr_mem from the UEFI map (map_size bytes, stride
 * desc_size): E820 types, sorted by base, adjacent ranges of one type merged.
 * hvmon's own allocations stay RAM here, as in a Multiboot2 map: they are
 * listed in bi->reserved and the core carves them out of the guest's e820.
 * Zero-length descriptors are ignored. Returns enum uefi_memmap_err.
 */
int uefi_memmap_to_boot(const void *map, size_t map_size, size_t desc_size,
			struct boot_info *bi);

/* Append a reserved (hvmon-owned) range. `what` must point to memory that
 * stays valid for the core (hvmon.efi copies it into the boot_info block). */
int uefi_add_reserved(struct boot_info *bi, uint64_t base, uint64_t length,
		      const char *what);

/* Check that every reserved range lies entirely inside RAM of bi->mem
 * (else the core could not hide it from the guest). Returns 0 or
 * UEFI_MEMMAP_RSVD_NOT_RAM with *bad set to its index. */
int uefi_check_reserved(const struct boot_info *bi, uint32_t *bad);

const char *uefi_memmap_strerror(int err);

#endif
