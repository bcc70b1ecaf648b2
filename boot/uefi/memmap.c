/*
 * UEFI memory map -> boot_info.mem (E820 types). See memmap.h.
 * Freestanding: runs inside hvmon.efi after ExitBootServices.
 */
#include "boot/uefi/memmap.h"

uint32_t uefi_memtype_to_e820(uint32_t t)
{
	switch (t) {
	case UEFI_MT_LOADER_CODE:
	case UEFI_MT_LOADER_DATA:
	case UEFI_MT_BS_CODE:
	case UEFI_MT_BS_DATA:
	case UEFI_MT_CONVENTIONAL:
		return BOOT_MEM_RAM;
	case UEFI_MT_UNUSABLE:
		return BOOT_MEM_UNUSABLE;
	case UEFI_MT_ACPI_RECLAIM:
		return BOOT_MEM_ACPI;
	case UEFI_MT_ACPI_NVS:
		return BOOT_MEM_NVS;
	case UEFI_MT_PERSISTENT:
		return BOOT_MEM_PERSISTENT;
	default:    /* reserved, runtime services, MMIO, PAL, unaccepted, OEM/OS */
		return BOOT_MEM_RESERVED;
	}
}

static uint64_t rend(const struct boot_mem_region *r)
{
	return r->base + r->length;
}

/* Insert [base, base+len) of `type` into the sorted, disjoint bi->mem,
 * merging with same-type neighbours it touches. */
static int insert_region(struct boot_info *bi, uint64_t base, uint64_t len,
			 uint32_t type)
{
	uint32_t n = bi->nr_mem, pos = 0, i;
	uint64_t end = base + len;
	struct boot_mem_region *prev, *next;

	while (pos < n && bi->mem[pos].base <= base)
		pos++;
	prev = pos > 0 ? &bi->mem[pos - 1] : 0;
	next = pos < n ? &bi->mem[pos] : 0;
	if ((prev && rend(prev) > base) || (next && next->base < end))
		return UEFI_MEMMAP_OVERLAP;

	if (prev && prev->type == type && rend(prev) == base) {
		prev->length += len;
		if (next && next->type == type && next->base == end) {
			prev->length += next->length;
			for (i = pos; i + 1 < n; i++)
				bi->mem[i] = bi->mem[i + 1];
			bi->nr_mem = n - 1;
		}
		return UEFI_MEMMAP_OK;
	}
	if (next && next->type == type && next->base == end) {
		next->base = base;
		next->length += len;
		return UEFI_MEMMAP_OK;
	}
	if (n >= BOOT_MEM_MAX)
		return UEFI_MEMMAP_TOO_MANY;
	for (i = n; i > pos; i--)
		bi->mem[i] = bi->mem[i - 1];
	bi->mem[pos].base = base;
	bi->mem[pos].length = len;
	bi->mem[pos].type = type;
	bi->mem[pos].pad = 0;
	bi->nr_mem = n + 1;
	return UEFI_MEMMAP_OK;
}

int uefi_memmap_to_boot(const void *map, size_t map_size, size_t desc_size,
			struct boot_info *bi)
{
	const unsigned char *p = map;
	size_t off;
	int rc;

	bi->nr_mem = 0;
	if (desc_size < sizeof(struct uefi_mem_desc) || desc_size % 8)
		return UEFI_MEMMAP_BAD_DESC_SIZE;
	for (off = 0; off + desc_size <= map_size; off += desc_size) {
		const struct uefi_mem_desc *d = (const void *)(p + off);
		uint64_t len;

		if (d->num_pages == 0)
			continue;
		if (d->phys_start % UEFI_PAGE_SIZE ||
		    d->num_pages > (UINT64_MAX - d->phys_start) / UEFI_PAGE_SIZE)
			return UEFI_MEMMAP_BAD_RANGE;
		len = d->num_pages * UEFI_PAGE_SIZE;
		rc = insert_region(bi, d->phys_start, len,
				   uefi_memtype_to_e820(d->type));
		if (rc)
			return rc;
	}
	return UEFI_MEMMAP_OK;
}

int uefi_add_reserved(struct boot_info *bi, uint64_t base, uint64_t length,
		      const char *what)
{
	struct boot_reserved *r;

	if (bi->nr_reserved >= BOOT_RSVD_MAX)
		return UEFI_MEMMAP_RSVD_FULL;
	r = &bi->reserved[bi->nr_reserved++];
	r->base = base;
	r->length = length;
	r->what = what;
	return UEFI_MEMMAP_OK;
}

int uefi_check_reserved(const struct boot_info *bi, uint32_t *bad)
{
	uint32_t i, j;

	for (i = 0; i < bi->nr_reserved; i++) {
		const struct boot_reserved *r = &bi->reserved[i];
		int inside = 0;

		for (j = 0; j < bi->nr_mem && !inside; j++) {
			const struct boot_mem_region *m = &bi->mem[j];

			/* merged map: a RAM range is one entry, so containment
			 * in a single entry is the whole test */
			inside = m->type == BOOT_MEM_RAM && r->length &&
				 r->base >= m->base &&
				 r->base - m->base < m->length &&
				 r->length <= m->length - (r->base - m->base);
		}
		if (!inside) {
			if (bad)
				*bad = i;
			return UEFI_MEMMAP_RSVD_NOT_RAM;
		}
	}
	return UEFI_MEMMAP_OK;
}

const char *uefi_memmap_strerror(int err)
{
	switch (err) {
	case UEFI_MEMMAP_OK: return "ok";
	case UEFI_MEMMAP_BAD_DESC_SIZE: return "firmware memory map has an invalid descriptor size";
	case UEFI_MEMMAP_BAD_RANGE: return "firmware memory map has a misaligned or overflowing range";
	case UEFI_MEMMAP_OVERLAP: return "firmware memory map has overlapping ranges";
	case UEFI_MEMMAP_TOO_MANY: return "firmware memory map has too many ranges for boot_info (BOOT_MEM_MAX)";
	case UEFI_MEMMAP_RSVD_FULL: return "too many hvmon-owned ranges (BOOT_RSVD_MAX)";
	case UEFI_MEMMAP_RSVD_NOT_RAM: return "an hvmon-owned range is not inside RAM of the memory map";
	default: return "unknown memory map error";
	}
}
