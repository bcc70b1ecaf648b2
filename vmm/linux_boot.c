/*
 * linux_boot — Linux x86 boot protocol: bzImage checks, kernel placement,
 * boot_params construction. See linux_boot.h and docs/VMM-LOGIC.md.
 * All multi-byte fields are read/written byte-wise (little endian), so the code
 * is independent of the alignment of the image and of @bp.
 */
#include "vmm/linux_boot.h"

static uint32_t get8(const uint8_t *p, uint32_t off)  { return p[off]; }
static uint32_t get16(const uint8_t *p, uint32_t off) { return p[off] | (uint32_t)p[off + 1] << 8; }
static uint32_t get32(const uint8_t *p, uint32_t off)
{
	return get16(p, off) | get16(p, off + 2) << 16;
}
static uint64_t get64(const uint8_t *p, uint32_t off)
{
	return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}
static void put8(uint8_t *p, uint32_t off, uint32_t v)  { p[off] = (uint8_t)v; }
static void put16(uint8_t *p, uint32_t off, uint32_t v) { put8(p, off, v); put8(p, off + 1, v >> 8); }
static void put32(uint8_t *p, uint32_t off, uint32_t v) { put16(p, off, v); put16(p, off + 2, v >> 16); }
static void put64(uint8_t *p, uint32_t off, uint64_t v) { put32(p, off, (uint32_t)v); put32(p, off + 4, (uint32_t)(v >> 32)); }

#define LB_MIN_IMAGE 0x270u   /* through kernel_info_offset (0x26c) rounded up */

int lb_parse(const void *image, uint64_t size, struct lb_image *out)
{
	const uint8_t *p = image;
	uint32_t sects, align, hdr_end;
	uint64_t pm_size, sys_bytes;

	if (!image || !out)
		return LB_ERR_INVAL;
	if (size < LB_MIN_IMAGE)
		return LB_ERR_TOO_SMALL;
	if (get16(p, LB_HDR_BOOT_FLAG) != LB_BOOT_FLAG)
		return LB_ERR_BOOT_FLAG;
	if (get32(p, LB_HDR_HEADER) != LB_HDRS_MAGIC)
		return LB_ERR_MAGIC;

	out->version = (uint16_t)get16(p, LB_HDR_VERSION);
	if (out->version < LB_MIN_VERSION)
		return LB_ERR_VERSION;
	/* boot.rst: the header ends at 0x202 + the byte at 0x201 (the jump offset);
	 * protocol 2.12 fields reach 0x268 (handover_offset). */
	hdr_end = 0x202 + get8(p, LB_HDR_JUMP + 1);
	if (hdr_end < LB_HDR_KERNEL_INFO_OFF)
		return LB_ERR_HDR_LEN;
	if (hdr_end > LB_HDR_END_MAX)
		hdr_end = LB_HDR_END_MAX;
	out->xloadflags = (uint16_t)get16(p, LB_HDR_XLOADFLAGS);
	if (!(out->xloadflags & LB_XLF_KERNEL_64))
		return LB_ERR_NOT_64BIT;
	out->relocatable = (uint8_t)get8(p, LB_HDR_RELOCATABLE);
	if (!out->relocatable)
		return LB_ERR_NOT_RELOCATABLE;
	align = get32(p, LB_HDR_KERNEL_ALIGNMENT);
	if (align < 0x1000 || align > 0x40000000 || (align & (align - 1)))
		return LB_ERR_ALIGNMENT;
	out->kernel_alignment = align;
	out->min_alignment = (uint8_t)get8(p, LB_HDR_MIN_ALIGNMENT);
	if (out->min_alignment < 12 || out->min_alignment > 30 ||
	    (1u << out->min_alignment) > align)
		return LB_ERR_ALIGNMENT;

	sects = get8(p, LB_HDR_SETUP_SECTS);
	if (sects == 0)
		sects = 4;                       /* boot.rst: 0 means 4 */
	out->setup_sects = (uint8_t)sects;
	out->setup_size = (sects + 1) * 512;
	if (out->setup_size >= size)
		return LB_ERR_SETUP_BOUNDS;

	/* Protected-mode kernel: syssize paragraphs (rounded up by the build), maybe
	 * followed by a signature/padding in the file. */
	pm_size = size - out->setup_size;
	out->syssize = get32(p, LB_HDR_SYSSIZE);
	sys_bytes = (uint64_t)out->syssize * 16;
	if (out->syssize == 0 || sys_bytes > pm_size + 15)
		return LB_ERR_PAYLOAD_BOUNDS;
	out->payload_file_size = sys_bytes < pm_size ? sys_bytes : pm_size;
	out->payload_offset = get32(p, LB_HDR_PAYLOAD_OFFSET);
	out->payload_length = get32(p, LB_HDR_PAYLOAD_LENGTH);
	if (out->payload_length == 0 ||
	    (uint64_t)out->payload_offset + out->payload_length > out->payload_file_size)
		return LB_ERR_PAYLOAD_BOUNDS;

	out->init_size = get32(p, LB_HDR_INIT_SIZE);
	if (out->init_size == 0 || out->init_size < out->payload_file_size)
		return LB_ERR_INIT_SIZE;

	out->loadflags = (uint8_t)get8(p, LB_HDR_LOADFLAGS);
	out->pref_address = get64(p, LB_HDR_PREF_ADDRESS);
	out->cmdline_size = get32(p, LB_HDR_CMDLINE_SIZE);
	out->initrd_addr_max = get32(p, LB_HDR_INITRD_ADDR_MAX);
	out->above_4g_ok = (out->xloadflags & LB_XLF_CAN_BE_LOADED_ABOVE_4G) != 0;

	out->hdr_end = hdr_end;
	return LB_OK;
}

int lb_place_kernel(const struct lb_image *img, const struct e820_entry *map, uint32_t nr,
		    const struct e820_range *avoid, uint32_t nr_avoid, uint64_t *load_addr)
{
	uint64_t limit, a, pref;
	int rc;

	if (!img || !load_addr || !map || img->init_size == 0 || img->kernel_alignment == 0)
		return LB_ERR_INVAL;
	limit = img->above_4g_ok ? (1ULL << 46) : (1ULL << 32);
	pref = img->pref_address;
	if (pref >= LB_MIN_LOAD_ADDR && (pref & (img->kernel_alignment - 1)) == 0 &&
	    pref <= limit - img->init_size &&
	    e820_find_free(map, nr, avoid, nr_avoid, img->init_size, img->kernel_alignment,
			   pref, pref + img->init_size, 0, &a) == E820_OK && a == pref) {
		*load_addr = pref;
		return LB_OK;
	}
	rc = e820_find_free(map, nr, avoid, nr_avoid, img->init_size, img->kernel_alignment,
			    LB_MIN_LOAD_ADDR, limit, 0, &a);
	if (rc == E820_ERR_INVAL)
		return LB_ERR_INVAL;
	if (rc != E820_OK)
		return LB_ERR_NO_ROOM;
	*load_addr = a;
	return LB_OK;
}

int lb_build_boot_params(const void *image, uint64_t image_size, const struct lb_image *img,
			 const struct lb_params *p, void *bpv, uint32_t bp_size)
{
	const uint8_t *im = image;
	uint8_t *bp = bpv;
	uint32_t i, off, minalign;
	uint64_t initrd_end;

	if (!image || !img || !p || !bp || bp_size < LB_BP_SIZE || image_size < img->hdr_end ||
	    img->hdr_end > LB_HDR_END_MAX || img->hdr_end <= LB_BP_HDR ||
	    (p->nr_e820 && !p->e820))
		return LB_ERR_INVAL;

	/* The kernel: aligned to at least min_alignment, range not wrapping. */
	minalign = 1u << (img->min_alignment > 30 ? 30 : img->min_alignment);
	if (p->load_addr == 0 || (p->load_addr & (minalign - 1)) ||
	    p->load_addr + img->init_size < p->load_addr)
		return LB_ERR_LOAD_ADDR;
	if (p->cmdline_addr && p->cmdline_len > img->cmdline_size)
		return LB_ERR_CMDLINE_TOO_LONG;
	if (p->nr_e820 > E820_MAX_ENTRIES_ZEROPAGE)
		return LB_ERR_E820_TOO_MANY;
	initrd_end = p->initrd_addr + p->initrd_size;
	if (p->initrd_size && initrd_end < p->initrd_addr)
		return LB_ERR_INVAL;
	if (!img->above_4g_ok) {
		if (p->load_addr + img->init_size > (1ULL << 32) ||
		    p->cmdline_addr + p->cmdline_len + 1 > (1ULL << 32) ||
		    (p->initrd_size && initrd_end > (1ULL << 32)))
			return LB_ERR_ABOVE_4G;
		if (p->initrd_size && initrd_end - 1 > img->initrd_addr_max)
			return LB_ERR_INITRD_ADDR;
	}

	for (i = 0; i < LB_BP_SIZE; i++)
		bp[i] = 0;
	/* Setup header exactly as in the image (boot.rst: copy 0x1f1 .. end of header). */
	for (off = LB_BP_HDR; off < img->hdr_end; off++)
		bp[off] = im[off];

	put8(bp, LB_HDR_TYPE_OF_LOADER, LB_TYPE_OF_LOADER_UNDEF);
	put8(bp, LB_HDR_LOADFLAGS, (get8(bp, LB_HDR_LOADFLAGS) | LB_LOADED_HIGH | LB_CAN_USE_HEAP) &
	     ~(uint32_t)LB_KEEP_SEGMENTS & 0xff);
	put16(bp, LB_HDR_HEAP_END_PTR, LB_HEAP_END_PTR);
	put32(bp, LB_HDR_CODE32_START, (uint32_t)p->load_addr);
	if (img->setup_sects != get8(im, LB_HDR_SETUP_SECTS))
		put8(bp, LB_HDR_SETUP_SECTS, img->setup_sects);

	put32(bp, LB_HDR_CMD_LINE_PTR, (uint32_t)p->cmdline_addr);
	put32(bp, LB_BP_EXT_CMD_LINE_PTR, (uint32_t)(p->cmdline_addr >> 32));
	if (p->initrd_size) {
		put32(bp, LB_HDR_RAMDISK_IMAGE, (uint32_t)p->initrd_addr);
		put32(bp, LB_BP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_addr >> 32));
		put32(bp, LB_HDR_RAMDISK_SIZE, (uint32_t)p->initrd_size);
		put32(bp, LB_BP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_size >> 32));
	}
	if (p->acpi_rsdp && img->version >= 0x020e)
		put64(bp, LB_BP_ACPI_RSDP_ADDR, p->acpi_rsdp);

	put8(bp, LB_BP_E820_ENTRIES, p->nr_e820);
	for (i = 0; i < p->nr_e820; i++) {
		off = LB_BP_E820_TABLE + i * 20;
		put64(bp, off, p->e820[i].addr);
		put64(bp, off + 8, p->e820[i].size);
		put32(bp, off + 16, p->e820[i].type);
	}
	return LB_OK;
}

const char *lb_strerror(int err)
{
	switch (err) {
	case LB_OK:                  return "ok";
	case LB_ERR_INVAL:           return "invalid argument";
	case LB_ERR_TOO_SMALL:       return "bzImage too small to hold a setup header";
	case LB_ERR_BOOT_FLAG:       return "bzImage boot flag at 0x1fe is not 0xAA55";
	case LB_ERR_MAGIC:           return "bzImage has no \"HdrS\" setup header magic at 0x202";
	case LB_ERR_VERSION:         return "boot protocol older than 2.12 (no 64-bit entry)";
	case LB_ERR_NOT_64BIT:       return "kernel has no 64-bit entry point (xloadflags XLF_KERNEL_64 clear)";
	case LB_ERR_NOT_RELOCATABLE: return "kernel is not relocatable (relocatable_kernel == 0)";
	case LB_ERR_ALIGNMENT:       return "kernel_alignment/min_alignment invalid (power of two, 4 KiB..1 GiB)";
	case LB_ERR_SETUP_BOUNDS:    return "setup sectors extend beyond the end of the bzImage";
	case LB_ERR_PAYLOAD_BOUNDS:  return "protected-mode kernel (syssize/payload) extends beyond the bzImage";
	case LB_ERR_INIT_SIZE:       return "init_size is zero or smaller than the protected-mode kernel";
	case LB_ERR_CMDLINE_TOO_LONG:return "guest command line longer than the kernel's cmdline_size";
	case LB_ERR_ABOVE_4G:        return "address above 4 GiB but kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G";
	case LB_ERR_INITRD_ADDR:     return "initrd ends above the kernel's initrd_addr_max";
	case LB_ERR_E820_TOO_MANY:   return "more than 128 e820 entries for boot_params";
	case LB_ERR_NO_ROOM:         return "no free RAM for the kernel (init_size at kernel_alignment)";
	case LB_ERR_LOAD_ADDR:       return "kernel load address not aligned to min_alignment or overflows";
	case LB_ERR_HDR_LEN:         return "setup header shorter than boot protocol 2.12 requires (byte 0x201)";
	default:                     return "unknown linux_boot error";
	}
}
