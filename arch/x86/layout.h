/*
 * hvmon's virtual layout. Ring -1 code is linked at HV_VBASE (top 2 GiB,
 * -mcmodel=kernel) and runs at whatever physical base it was loaded at
 * (2 MiB aligned, below 4 GiB). hvmon's page tables map
 *   HV_VBASE .. +1 GiB  -> phys_base .. +1 GiB
 *   0 .. top of physical memory -> identity (boot modules, guest memory)
 */
#ifndef HVMON_ARCH_LAYOUT_H
#define HVMON_ARCH_LAYOUT_H

#define HV_VBASE            0xffffffff80000000
/* Physical address GRUB loads the ELF at (p_paddr); the code itself is
 * position independent with respect to its physical base. */
#define HV_PHYS_DEFAULT     0x08000000
#define HV_HEAP_SIZE        0x02000000      /* 32 MiB, after bss */
#define HV_BOOT_STACK_SIZE  0x4000

#define KERNEL_CS  0x08
#define KERNEL_DS  0x10
#define KERNEL_TSS 0x18

#ifndef __ASSEMBLY__
#include <stdint.h>

extern uint64_t hv_phys_base;
extern char __image_start[], __image_end[], __heap_start[], __heap_end[];

/* Image/heap virtual address -> physical. */
static inline uint64_t hv_virt_to_phys(const void *va)
{
	return (uint64_t)va - HV_VBASE + hv_phys_base;
}

/* Physical memory is identity-mapped up to here (arch/x86/paging.c: one PML4
 * slot): a physical address below it is a pointer; above it, not mapped. */
#define HV_IDENTITY_LIMIT   (512ULL << 30)

/* Physical memory is identity-mapped: a physical address is a pointer. */
static inline void *hv_phys_to_ptr(uint64_t pa)
{
	return (void *)pa;
}
#endif

#endif
