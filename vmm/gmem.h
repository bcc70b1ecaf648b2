/*
 * gmem — guest memory access from ring -1: guest-virtual -> guest-physical
 * through the guest's own page tables (4- and 5-level, 1 GiB / 2 MiB pages),
 * and bounded reads of structs and strings that may cross pages.
 *
 * Nothing here dereferences a guest pointer: every physical read goes through
 * the caller's callback (in ring -1 it reads through the identity/EPT view and
 * REFUSES hvmon's memory; in unit tests it reads a host buffer). Every failure
 * is reported with a reason (enum gmem_err) and, for walks, the level that failed.
 * Freestanding, no allocation, all loops bounded.
 */
#ifndef HVMON_VMM_GMEM_H
#define HVMON_VMM_GMEM_H

#include <stdint.h>
#include <stdbool.h>

/* Read @len bytes at guest-physical @gpa into @buf. Never asked to cross a 4 KiB
 * boundary. Return 0 on success, non-zero if the address is not readable
 * (not RAM, hvmon memory, out of range). */
typedef int (*gmem_read_phys_fn)(void *ctx, uint64_t gpa, void *buf, uint32_t len);

/*
 * Optional translation cache (struct gmem_mmu.tc): successful walks, keyed by
 * (CR3, page, flags), one entry per guest page of the size the walk found
 * (4 KiB, 2 MiB or 1 GiB, as a TLB holds it: a task_struct, the per-CPU area and
 * the kernel's other direct-map data share one entry). The owner clears it
 * (gmem_tc_reset) whenever the guest may have changed its page tables: ring -1
 * keeps one per vCPU and resets it at every VM exit, so the walks of one exit
 * are paid once.
 */
#define GMEM_TC_ENTRIES 8
struct gmem_tc_ent {
	uint64_t cr3, va, gpa;     /* va, gpa: aligned to page_size */
	uint32_t flags;
	bool writable, user, nx;
	uint64_t page_size;
	uint64_t leaf_pa, leaf;    /* the walk's mapping entry (struct gmem_walk) */
};
struct gmem_tc {
	uint32_t n, next;          /* entries used; next to replace (round robin) */
	struct gmem_tc_ent e[GMEM_TC_ENTRIES];
	uint64_t hits, misses;
};
static inline void gmem_tc_reset(struct gmem_tc *tc) { tc->n = 0; tc->next = 0; }

struct gmem_mmu {
	gmem_read_phys_fn read_phys;
	void *ctx;
	uint64_t cr3;          /* guest CR3 (PCID bits 11:0 ignored; bit 63 no-flush ignored) */
	bool la57;             /* guest CR4.LA57: 5-level paging */
	bool nxe;              /* guest EFER.NXE: bit 63 of entries means XD (else reserved) */
	uint8_t maxphyaddr;    /* guest MAXPHYADDR for reserved-bit checks; 0 -> 52 */
	struct gmem_tc *tc;    /* optional translation cache; NULL = walk every time */
};

enum gmem_err {
	GMEM_OK             = 0,
	GMEM_ERR_INVAL      = -1,  /* NULL argument, zero length where not allowed */
	GMEM_ERR_NONCANON   = -2,  /* address not canonical for the paging mode */
	GMEM_ERR_NOT_KERNEL = -3,  /* GMEM_KERNEL_ONLY and the address is in the lower half */
	GMEM_ERR_NOT_PRESENT= -4,  /* a paging-structure entry has P = 0 */
	GMEM_ERR_RESERVED   = -5,  /* reserved bits set in an entry (PS in PML4/PML5, address beyond MAXPHYADDR, misaligned large page) */
	GMEM_ERR_READ_PHYS  = -6,  /* the physical reader refused (table or data) */
	GMEM_ERR_USER_PAGE  = -7,  /* GMEM_KERNEL_ONLY and the page is user-accessible */
	GMEM_ERR_TOO_LONG   = -8,  /* string not terminated within the bound */
	GMEM_ERR_OVERFLOW   = -9,  /* gva + len wraps */
};

/* Flags for reads / translation. */
#define GMEM_KERNEL_ONLY  0x1   /* address must be in the upper (kernel) half, page must be supervisor */

struct gmem_walk {
	uint64_t gpa;          /* translation of gva */
	uint64_t page_size;    /* 4K / 2M / 1G */
	bool writable;         /* R/W set at every level */
	bool user;             /* U/S set at every level */
	bool nx;               /* XD set at some level (only when nxe) */
	int  levels;           /* 4 or 5 */
	int  fail_level;       /* on error: level whose entry failed (5..1), 0 otherwise */
	uint64_t fail_entry;   /* that entry's value (0 when the read itself failed) */
	uint64_t leaf_pa;      /* on success: guest-physical address of the entry that maps the page */
	uint64_t leaf;         /* ... and its value */
};

/* Canonical for the mode (48-bit or 57-bit). */
bool gmem_canonical(const struct gmem_mmu *m, uint64_t gva);
/* Is @gva in the USER half for the paging mode: below 2^47 with 4-level paging,
 * below 2^56 with 5-level (CR4.LA57; SDM Vol. 3A 4.5: the canonical lower half
 * is bits 63:47 resp. 63:56 all zero). Non-canonical and kernel-half addresses are
 * not user. The one helper for every monitor that judges a guest pointer
 * (keylogger read buffers, ret2usr fetch addresses). */
static inline bool gmem_user_va(uint64_t gva, bool la57)
{
	return (gva >> (la57 ? 56 : 47)) == 0;
}

/* gmem_translate - walk the guest page tables for @gva. Returns GMEM_OK and fills
 * @w, or an enum gmem_err (w->fail_level set). */
int gmem_translate(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, struct gmem_walk *w);

/* gmem_read - copy @len bytes (<= 1 MiB) from guest-virtual @gva into @buf,
 * translating each page. On error, *@done (optional) = bytes copied before it. */
int gmem_read(const struct gmem_mmu *m, uint64_t gva, void *buf, uint32_t len,
	      uint32_t flags, uint32_t *done);

/* gmem_read_u64 - convenience for one 8-byte value (may cross a page). */
int gmem_read_u64(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, uint64_t *val);

/* gmem_read_str - copy a NUL-terminated string of at most @max - 1 chars into
 * @buf (always NUL-terminated when max > 0). GMEM_ERR_TOO_LONG when no NUL within
 * max - 1 bytes (buf then holds the truncated prefix). *@len (optional) = strlen. */
int gmem_read_str(const struct gmem_mmu *m, uint64_t gva, char *buf, uint32_t max,
		  uint32_t flags, uint32_t *len);

const char *gmem_strerror(int err);

#endif
