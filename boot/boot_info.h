/*
 * boot_info — the one boot description both front ends (Multiboot2, UEFI)
 * hand to the vmm core. Contract: the core reads nothing else from the boot
 * environment. All addresses are host-physical; hvmon runs identity-mapped.
 */
#ifndef HVMON_BOOT_INFO_H
#define HVMON_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_VERSION   1
#define BOOT_MEM_MAX        256   /* memory-map entries */
#define BOOT_RSVD_MAX       32    /* hvmon-owned ranges */
#define BOOT_CMDLINE_MAX    2048

/* E820-compatible memory types (Linux boot protocol values). */
enum boot_mem_type {
	BOOT_MEM_RAM          = 1,
	BOOT_MEM_RESERVED     = 2,
	BOOT_MEM_ACPI         = 3,   /* ACPI reclaimable */
	BOOT_MEM_NVS          = 4,   /* ACPI NVS */
	BOOT_MEM_UNUSABLE     = 5,
	BOOT_MEM_PERSISTENT   = 7,
};

struct boot_mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type;               /* enum boot_mem_type */
	uint32_t pad;
};

/* A range of physical memory hvmon owns: hidden from the guest (not in its
 * e820, not mapped in EPT). */
struct boot_reserved {
	uint64_t base;
	uint64_t length;
	const char *what;            /* "image", "heap", "boot-data", ... */
};

struct boot_blob {
	uint64_t base;               /* physical address, 0 if absent */
	uint64_t size;
};

enum boot_source { BOOT_SRC_MULTIBOOT2 = 1, BOOT_SRC_UEFI = 2 };

struct boot_framebuffer {
	uint64_t addr;               /* 0 if none */
	uint32_t pitch, width, height;
	uint8_t  bpp, type;
};

struct boot_info {
	uint32_t version;            /* BOOT_INFO_VERSION */
	uint32_t source;             /* enum boot_source */
	char hv_cmdline[BOOT_CMDLINE_MAX];     /* hvmon key=value options */
	char guest_cmdline[BOOT_CMDLINE_MAX];  /* guest kernel command line */
	struct boot_blob guest_kernel;         /* bzImage as loaded by the front end */
	struct boot_blob guest_initrd;         /* may be absent */
	uint64_t acpi_rsdp;                    /* physical address of RSDP, 0 if none */
	struct boot_framebuffer fb;
	uint32_t nr_mem;
	struct boot_mem_region mem[BOOT_MEM_MAX];   /* firmware map, sorted, as given */
	uint32_t nr_reserved;
	struct boot_reserved reserved[BOOT_RSVD_MAX]; /* hvmon-owned, hidden */
	/* appended (issue 18): random bytes from the firmware's EFI_RNG_PROTOCOL
	 * (UEFI front end); rng_seed_len 0 when absent (always on Multiboot2) */
	uint32_t rng_seed_len;
	uint8_t  rng_seed[32];
};

#endif
