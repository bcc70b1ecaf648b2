/*
 * linux_boot — Linux x86 boot protocol (Documentation/arch/x86/boot.rst):
 * bzImage setup-header checks, placement of the protected-mode kernel, and
 * construction of boot_params (the "zero page") for the 64-bit entry point.
 * Pure logic, host-testable, freestanding; nothing here touches the machine.
 *
 * Typical use by the core:
 *   struct lb_image img;
 *   if ((err = lb_parse(kernel, kernel_size, &img))) log(lb_strerror(err));
 *   lb_place_kernel(&img, e820, n, avoid, navoid, &load);   // aligned, room for init_size
 *   memcpy(phys(load), kernel + img.setup_size, img.payload_file_size);
 *   lb_build_boot_params(kernel, kernel_size, &img, &args, phys(bp_addr), 4096);
 *   guest RIP = lb_entry64(load); RSI = bp_addr; flat 64-bit segments, paging
 *   identity-mapping kernel, boot_params and command line (boot.rst "64-bit BOOT PROTOCOL").
 */
#ifndef HVMON_VMM_LINUX_BOOT_H
#define HVMON_VMM_LINUX_BOOT_H

#include <stdint.h>
#include <stdbool.h>
#include "vmm/e820.h"

/* ---- boot_params / setup_header offsets (byte offsets into the zero page) ---- */
#define LB_BP_SIZE               0x1000
#define LB_BP_ACPI_RSDP_ADDR     0x070   /* u64, protocol >= 2.14 */
#define LB_BP_EXT_RAMDISK_IMAGE  0x0c0   /* u32 */
#define LB_BP_EXT_RAMDISK_SIZE   0x0c4   /* u32 */
#define LB_BP_EXT_CMD_LINE_PTR   0x0c8   /* u32 */
#define LB_BP_E820_ENTRIES       0x1e8   /* u8 */
#define LB_BP_SENTINEL           0x1ef   /* u8, must be 0 */
#define LB_BP_HDR                0x1f1   /* struct setup_header */
#define LB_BP_E820_TABLE         0x2d0   /* struct boot_e820_entry[128] */

#define LB_HDR_SETUP_SECTS       0x1f1   /* u8 */
#define LB_HDR_SYSSIZE           0x1f4   /* u32, 16-byte units */
#define LB_HDR_VID_MODE          0x1fa   /* u16 */
#define LB_HDR_BOOT_FLAG         0x1fe   /* u16 = 0xAA55 */
#define LB_HDR_JUMP              0x200   /* u16; byte 0x201 = header length - 0x202 + 0x200 */
#define LB_HDR_HEADER            0x202   /* u32 = "HdrS" */
#define LB_HDR_VERSION           0x206   /* u16 */
#define LB_HDR_TYPE_OF_LOADER    0x210   /* u8 */
#define LB_HDR_LOADFLAGS         0x211   /* u8 */
#define LB_HDR_CODE32_START      0x214   /* u32 */
#define LB_HDR_RAMDISK_IMAGE     0x218   /* u32 */
#define LB_HDR_RAMDISK_SIZE      0x21c   /* u32 */
#define LB_HDR_HEAP_END_PTR      0x224   /* u16 */
#define LB_HDR_EXT_LOADER_VER    0x226   /* u8 */
#define LB_HDR_EXT_LOADER_TYPE   0x227   /* u8 */
#define LB_HDR_CMD_LINE_PTR      0x228   /* u32 */
#define LB_HDR_INITRD_ADDR_MAX   0x22c   /* u32 */
#define LB_HDR_KERNEL_ALIGNMENT  0x230   /* u32 */
#define LB_HDR_RELOCATABLE       0x234   /* u8 */
#define LB_HDR_MIN_ALIGNMENT     0x235   /* u8, log2 */
#define LB_HDR_XLOADFLAGS        0x236   /* u16 */
#define LB_HDR_CMDLINE_SIZE      0x238   /* u32 */
#define LB_HDR_PAYLOAD_OFFSET    0x248   /* u32 */
#define LB_HDR_PAYLOAD_LENGTH    0x24c   /* u32 */
#define LB_HDR_SETUP_DATA        0x250   /* u64 */
#define LB_HDR_PREF_ADDRESS      0x258   /* u64 */
#define LB_HDR_INIT_SIZE         0x260   /* u32 */
#define LB_HDR_HANDOVER_OFFSET   0x264   /* u32 */
#define LB_HDR_KERNEL_INFO_OFF   0x268   /* u32, protocol >= 2.15 */
#define LB_HDR_END_MAX           0x290   /* boot_params.hdr ends before edd_mbr_sig_buffer */

#define LB_BOOT_FLAG             0xAA55
#define LB_HDRS_MAGIC            0x53726448u  /* "HdrS" little endian */
#define LB_MIN_VERSION           0x020c       /* 2.12: xloadflags, 64-bit entry */

/* loadflags */
#define LB_LOADED_HIGH           0x01
#define LB_KASLR_FLAG            0x02
#define LB_QUIET_FLAG            0x20
#define LB_KEEP_SEGMENTS         0x40
#define LB_CAN_USE_HEAP          0x80
/* xloadflags */
#define LB_XLF_KERNEL_64                 0x01
#define LB_XLF_CAN_BE_LOADED_ABOVE_4G    0x02
#define LB_XLF_EFI_HANDOVER_32           0x04
#define LB_XLF_EFI_HANDOVER_64           0x08
#define LB_XLF_EFI_KEXEC                 0x10
#define LB_XLF_5LEVEL                    0x20
#define LB_XLF_5LEVEL_ENABLED            0x40

#define LB_TYPE_OF_LOADER_UNDEF  0xff     /* "undefined/other" boot loader id */
#define LB_HEAP_END_PTR          0xde00   /* 0xe000 - 0x200, as boot.rst recommends */
#define LB_ENTRY64_OFFSET        0x200
#define LB_MIN_LOAD_ADDR         0x1000000ULL /* place the kernel at >= 16 MiB */

enum lb_err {
	LB_OK                    = 0,
	LB_ERR_INVAL             = -1,   /* NULL argument / bad buffer size */
	LB_ERR_TOO_SMALL         = -2,   /* image shorter than the setup header */
	LB_ERR_BOOT_FLAG         = -3,   /* 0x1fe != 0xAA55 */
	LB_ERR_MAGIC             = -4,   /* 0x202 != "HdrS" */
	LB_ERR_VERSION           = -5,   /* protocol < 2.12 */
	LB_ERR_NOT_64BIT         = -6,   /* xloadflags lacks XLF_KERNEL_64 */
	LB_ERR_NOT_RELOCATABLE   = -7,   /* relocatable_kernel == 0 */
	LB_ERR_ALIGNMENT         = -8,   /* kernel_alignment not a power of two in [4 KiB, 1 GiB] */
	LB_ERR_SETUP_BOUNDS      = -9,   /* (setup_sects+1)*512 beyond end of file */
	LB_ERR_PAYLOAD_BOUNDS    = -10,  /* syssize / payload_offset+payload_length beyond the file */
	LB_ERR_INIT_SIZE         = -11,  /* init_size zero or smaller than the protected-mode kernel */
	LB_ERR_CMDLINE_TOO_LONG  = -12,  /* command line longer than cmdline_size */
	LB_ERR_ABOVE_4G          = -13,  /* an address >= 4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G */
	LB_ERR_INITRD_ADDR       = -14,  /* initrd ends above initrd_addr_max (below-4G kernel) */
	LB_ERR_E820_TOO_MANY     = -15,  /* more than 128 e820 entries */
	LB_ERR_NO_ROOM           = -16,  /* no free RAM for the kernel (init_size, alignment) */
	LB_ERR_LOAD_ADDR         = -17,  /* load address not aligned / range overflows */
	LB_ERR_HDR_LEN           = -18,  /* header length (0x202 + byte 0x201) shorter than protocol 2.12's 0x268 */
};

/* What lb_parse learned from the setup header (all values validated). */
struct lb_image {
	uint16_t version;            /* e.g. 0x020f */
	uint8_t  setup_sects;        /* after the 0 -> 4 rule */
	uint8_t  loadflags;
	uint16_t xloadflags;
	uint8_t  relocatable;
	uint8_t  min_alignment;      /* log2 */
	uint32_t kernel_alignment;   /* power of two */
	uint32_t syssize;            /* 16-byte units */
	uint32_t setup_size;         /* (setup_sects + 1) * 512: file offset of the protected-mode kernel */
	uint64_t payload_file_size;  /* file size - setup_size: bytes to copy to the load address */
	uint32_t payload_offset;     /* compressed payload, relative to the protected-mode kernel */
	uint32_t payload_length;
	uint32_t init_size;          /* memory needed at the load address */
	uint64_t pref_address;
	uint32_t cmdline_size;       /* max command line length, excluding NUL */
	uint32_t initrd_addr_max;
	uint32_t hdr_end;            /* end offset of the header to copy (0x202 + byte 0x201), clamped */
	bool     above_4g_ok;        /* XLF_CAN_BE_LOADED_ABOVE_4G */
};

/*
 * lb_parse - validate a bzImage and fill @out.
 * Checks, each with its own error: size >= 0x270 (LB_ERR_TOO_SMALL), boot flag,
 * "HdrS", version >= 2.12, header length >= 0x268 (LB_ERR_HDR_LEN), XLF_KERNEL_64, relocatable_kernel, kernel_alignment,
 * setup_sects (0 -> 4) within the file, syssize*16 and payload_offset+length within
 * the protected-mode part, init_size >= the protected-mode part.
 * @image may be any bytes; nothing outside [image, image + size) is read.
 */
int lb_parse(const void *image, uint64_t size, struct lb_image *out);

/*
 * lb_place_kernel - choose the physical load address of the protected-mode kernel:
 * aligned to kernel_alignment, [addr, addr + init_size) inside free RAM of @map
 * avoiding @avoid (boot modules, boot_info, initrd...), at or above
 * LB_MIN_LOAD_ADDR, below 4 GiB unless above_4g_ok. pref_address is used when
 * it qualifies, else the lowest qualifying address.
 * Returns LB_OK or LB_ERR_NO_ROOM / LB_ERR_INVAL.
 */
int lb_place_kernel(const struct lb_image *img, const struct e820_entry *map, uint32_t nr,
		    const struct e820_range *avoid, uint32_t nr_avoid, uint64_t *load_addr);

/* 64-bit entry point of a kernel loaded at @load_addr (load + 0x200). */
static inline uint64_t lb_entry64(uint64_t load_addr) { return load_addr + LB_ENTRY64_OFFSET; }

struct lb_params {
	uint64_t load_addr;          /* where the protected-mode kernel was copied (code32_start) */
	uint64_t cmdline_addr;       /* physical address of the NUL-terminated command line; 0 = none */
	uint32_t cmdline_len;        /* strlen of the command line (checked against cmdline_size) */
	uint64_t initrd_addr;        /* 0 = no initrd */
	uint64_t initrd_size;
	uint64_t acpi_rsdp;          /* 0 = let the kernel search; written only for protocol >= 2.14 */
	const struct e820_entry *e820;
	uint32_t nr_e820;            /* <= E820_MAX_ENTRIES_ZEROPAGE */
};

/*
 * lb_build_boot_params - fill @bp (LB_BP_SIZE bytes, zeroed first) for the 64-bit entry:
 * setup header copied from the image (0x1f1 .. hdr_end), type_of_loader = 0xFF,
 * loadflags |= LOADED_HIGH | CAN_USE_HEAP (KEEP_SEGMENTS is not needed by the
 * 64-bit entry and left clear), heap_end_ptr = 0xde00, code32_start = load_addr,
 * cmd_line_ptr/ext_cmd_line_ptr, ramdisk_image/size + ext_, e820 table,
 * acpi_rsdp_addr (>= 2.14).
 * Errors: LB_ERR_INVAL, LB_ERR_CMDLINE_TOO_LONG, LB_ERR_ABOVE_4G, LB_ERR_INITRD_ADDR,
 * LB_ERR_E820_TOO_MANY, LB_ERR_LOAD_ADDR. On error @bp content is unspecified.
 */
int lb_build_boot_params(const void *image, uint64_t image_size, const struct lb_image *img,
			 const struct lb_params *p, void *bp, uint32_t bp_size);

const char *lb_strerror(int err);

#endif
