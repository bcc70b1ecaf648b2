/*
 * hvmon.elf loader logic for hvmon.efi — pure C (no EFI, no libc) so the
 * host tests and the fuzzer exercise exactly what runs in firmware.
 * Implements the loader side of boot/handoff.h.
 */
#ifndef HVMON_BOOT_UEFI_ELFLOAD_H
#define HVMON_BOOT_UEFI_ELFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "boot/handoff.h"

#define UEFI_ELF_HDR_SEARCH  0x8000   /* header within the first 32 KiB */
#define UEFI_ELF_MAX_PHDRS   64

struct uefi_elf_plan {
	uint64_t first_vaddr;     /* p_vaddr of the first PT_LOAD */
	uint64_t entry64_offset;  /* from the handoff header */
	uint64_t image_size;      /* first PT_LOAD start .. end of bss */
	uint64_t heap_size;
	uint64_t align;           /* power of two, >= 4 KiB */
	uint64_t total;           /* image_size + heap_size: bytes to allocate */
	uint32_t version;
	uint32_t nr_load;         /* PT_LOAD segments */
};

/*
 * Validate an hvmon.elf file image (ELF64 x86-64, PT_LOAD segments, handoff
 * header) and compute the allocation plan. Returns 0, or -1 with *why set to
 * a static message a person can act on. Never reads outside elf[0..size).
 */
int uefi_elf_plan(const void *elf, size_t size, struct uefi_elf_plan *plan,
		  const char **why);

/*
 * Copy the PT_LOAD segments into dest (plan->total bytes, the future
 * phys_base) and zero everything else in dest (bss and heap). The file must
 * have passed uefi_elf_plan with this plan.
 */
void uefi_elf_load(const void *elf, const struct uefi_elf_plan *plan, void *dest);

#endif
