/*
 * ept_map — EPT paging structures (4-level), built through a caller-provided
 * page allocator, plus the MTRR -> memory type resolution EPT needs (with EPT
 * the guest's physical accesses take their memory type from the EPT entry, so
 * hvmon must encode what the MTRRs say) and the EPTP builder.
 * Pure logic, host-testable (the allocator can hand out malloc'd pages with
 * fake physical addresses), freestanding.
 */
#ifndef HVMON_VMM_EPT_MAP_H
#define HVMON_VMM_EPT_MAP_H

#include <stdint.h>
#include <stdbool.h>

/* ---- EPT entry bits (SDM Vol. 3C 29.3.2) ---- */
#define EPT_R            0x1ULL
#define EPT_W            0x2ULL
#define EPT_X            0x4ULL
#define EPT_RWX          (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT     3
#define EPT_MT_MASK      (7ULL << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT   (1ULL << 6)
#define EPT_LARGE        (1ULL << 7)
#define EPT_ACCESSED     (1ULL << 8)
#define EPT_DIRTY        (1ULL << 9)
#define EPT_ADDR_MASK    0x000ffffffffff000ULL

/* memory types (EPT and MTRR share the encoding) */
#define MT_UC   0
#define MT_WC   1
#define MT_WT   4
#define MT_WP   5
#define MT_WB   6
#define MT_INVALID 0xff

#define EPT_PAGE_4K      0x1000ULL
#define EPT_PAGE_2M      0x200000ULL
#define EPT_PAGE_1G      0x40000000ULL
#define EPT_GPA_LIMIT    (1ULL << 48)     /* 4-level walk */

/* capabilities (derive from IA32_VMX_EPT_VPID_CAP with ept_caps_from_msr) */
#define EPT_CAP_WALK4    0x01
#define EPT_CAP_2M       0x02
#define EPT_CAP_1G       0x04
#define EPT_CAP_AD       0x08
#define EPT_CAP_WB       0x10
#define EPT_CAP_UC       0x20
#define EPT_CAP_EXEC_ONLY 0x40

/* Decode IA32_VMX_EPT_VPID_CAP (MSR 0x48C): bit 0 execute-only, 6 walk 4,
 * 8 UC, 14 WB, 16 2 MiB, 17 1 GiB, 21 A/D. */
uint32_t ept_caps_from_msr(uint64_t ept_vpid_cap);

enum ept_err {
	EPT_OK          = 0,
	EPT_ERR_INVAL   = -1,  /* unaligned, zero size, range beyond 2^48, bad perms/memtype */
	EPT_ERR_NOMEM   = -2,  /* allocator returned NULL (structures may be partially built) */
	EPT_ERR_NOT_MAPPED = -3, /* lookup/perm change on a GPA with no mapping */
	EPT_ERR_CORRUPT = -4,  /* a table entry points to memory phys_to_virt refuses */
	EPT_ERR_MTRR_MIXED = -5, /* mtrr_type: range has more than one type */
};

struct ept_alloc {
	void *ctx;
	/* Return a ZEROED 4 KiB page (virtual pointer) and store its host-physical
	 * address (4 KiB aligned) in *pa; NULL when out of pages. */
	void *(*alloc_page)(void *ctx, uint64_t *pa);
	/* Host-physical -> pointer usable by the caller; NULL if @pa is not one of
	 * the allocator's pages (treated as corruption). */
	void *(*phys_to_virt)(void *ctx, uint64_t pa);
};

struct ept {
	struct ept_alloc a;
	uint32_t caps;        /* EPT_CAP_* */
	uint64_t pml4_pa;
	uint64_t *pml4;
	uint64_t tables;      /* paging-structure pages allocated (incl. PML4) */
};

/* ept_init - allocate the PML4. @caps limits large pages (EPT_CAP_2M/1G).
 * Returns EPT_OK, EPT_ERR_INVAL, EPT_ERR_NOMEM. */
int ept_init(struct ept *e, const struct ept_alloc *a, uint32_t caps);

/*
 * ept_map - map [gpa, gpa+size) -> [hpa, hpa+size) with @perms (EPT_R|W|X subset)
 * and @memtype (MT_UC/WC/WT/WP/WB). gpa, hpa, size 4 KiB aligned, gpa+size <= 2^48.
 * Uses 1 GiB / 2 MiB leaves where the caps allow and gpa/hpa/remaining size are
 * aligned; replaces existing mappings (splitting large pages that are partly
 * overwritten; an existing table under a would-be large page is reused, not freed).
 * perms == 0 is allowed (present-nothing: every access exits).
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms, uint8_t memtype);

/* Identity map: ept_map(e, base, base, size, perms, memtype). */
int ept_map_identity(struct ept *e, uint64_t base, uint64_t size, uint32_t perms, uint8_t memtype);

/* ept_unmap - remove [gpa, gpa+size): leaves cleared, large pages split as needed.
 * Unmapped parts of the range are not an error. */
int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size);

/* ept_set_perms_4k - change the permissions of the 4 KiB page holding @gpa
 * (splitting a large page down to 4 KiB first). EPT_ERR_NOT_MAPPED if unmapped.
 * (Used by probes: execute-only / read-write views.) */
int ept_set_perms_4k(struct ept *e, uint64_t gpa, uint32_t perms);

/* ept_remap_4k - point the 4 KiB page holding @gpa at @hpa with @perms, keeping
 * its memory type (splitting first). EPT_ERR_NOT_MAPPED if unmapped. */
int ept_remap_4k(struct ept *e, uint64_t gpa, uint64_t hpa, uint32_t perms);

/* ept_split_4k - split large pages down to a 4 KiB leaf at @gpa, mapping unchanged
 * (per-vCPU views, vmm/ept_view.h). EPT_ERR_NOT_MAPPED if unmapped. */
int ept_split_4k(struct ept *e, uint64_t gpa);

struct ept_lookup {
	uint64_t hpa;         /* translation of the looked-up gpa (not the page base) */
	uint64_t page_size;   /* 4K, 2M or 1G */
	uint32_t perms;       /* EPT_R|W|X */
	uint8_t  memtype;
	uint64_t *entry;      /* the leaf entry (for callers that need A/D bits) */
};
/* ept_lookup - translate @gpa. EPT_ERR_NOT_MAPPED if no leaf or leaf has no R/W/X
 * and is zero. */
int ept_lookup(const struct ept *e, uint64_t gpa, struct ept_lookup *out);

/* EPTP: memtype WB (6) bits 2:0, walk length 4 - 1 = 3 in bits 5:3, bit 6 = A/D. */
uint64_t ept_eptp(uint64_t pml4_pa, bool ad);

/* ---- MTRRs (SDM Vol. 3A 12.11) ---- */
#define MTRR_MAX_VAR 32

struct mtrr_state {
	uint64_t cap;                 /* IA32_MTRRCAP (0xFE): VCNT 7:0, FIX bit 8, WC bit 10 */
	uint64_t def_type;            /* IA32_MTRR_DEF_TYPE (0x2FF): type 7:0, FE bit 10, E bit 11 */
	uint64_t fixed[11];           /* 0x250 (64K), 0x258, 0x259 (16K), 0x268..0x26F (4K) */
	uint64_t var_base[MTRR_MAX_VAR]; /* IA32_MTRR_PHYSBASEn (0x200 + 2n) */
	uint64_t var_mask[MTRR_MAX_VAR]; /* IA32_MTRR_PHYSMASKn (0x201 + 2n), valid bit 11 */
	uint8_t  phys_bits;           /* MAXPHYADDR (CPUID 0x80000008 EAX[7:0]); 0 -> 36 */
};

/* mtrr_type_at - memory type of the byte at @pa (UC when MTRRs are disabled;
 * overlapping variable ranges: UC wins, WT beats WB, other conflicts -> UC). */
uint8_t mtrr_type_at(const struct mtrr_state *m, uint64_t pa);

/* mtrr_type - the single memory type of [base, base+size) (4 KiB aligned).
 * Returns EPT_OK with *type, EPT_ERR_MTRR_MIXED if the range is not uniform
 * (callers then split into smaller pages; a 4 KiB page is always uniform),
 * EPT_ERR_INVAL on bad arguments. */
int mtrr_type(const struct mtrr_state *m, uint64_t base, uint64_t size, uint8_t *type);

/*
 * ept_map_identity_mtrr - identity-map [base, base+size) with @perms, each piece
 * getting its MTRR-derived type: the largest allowed page whose range has one
 * type, falling back to 2 MiB and 4 KiB where types mix. Use for MMIO / non-RAM;
 * RAM is mapped WB with ept_map_identity.
 */
int ept_map_identity_mtrr(struct ept *e, uint64_t base, uint64_t size, uint32_t perms,
			  const struct mtrr_state *m);

const char *ept_strerror(int err);

#endif
