/*
 * gvread — a guest-virtual reader for bulk scans from ring -1 (the inference
 * engine's infer_reader in vmm/introspect.c): vmm/gmem translations cached in a
 * small TLB (4 KiB / 2 MiB / 1 GiB entries, positive and negative — an
 * unmapped 1 GiB or 2 MiB region costs one walk, not one per page), data
 * read page by page through the mmu's physical reader (which refuses hvmon's
 * memory and non-RAM). Supervisor pages in the kernel half only.
 *
 * The cache is never invalidated: use one gvread for one stretch of ring -1
 * work during which the guest does not run (its page tables cannot change).
 * Pure logic, freestanding, no allocation, bounded; host-tested (test_gvread).
 */
#ifndef HVMON_VMM_GVREAD_H
#define HVMON_VMM_GVREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/gmem.h"

#define GVREAD_T4K 64
#define GVREAD_T2M 32
#define GVREAD_T1G 8
#define GVREAD_MAX_LEN (64u << 20)   /* longest single read */

struct gvread_ent {
	uint64_t va;          /* aligned to the entry's size; 1 = empty */
	uint64_t pa;
	bool present;
};

/* Pointer to len bytes of guest RAM at gpa through hvmon's map, or NULL when
 * any of them is not guest RAM (hvmon's memory, MMIO, beyond the map). */
typedef const uint8_t *(*gvread_phys_ptr_fn)(void *ctx, uint64_t gpa, uint64_t len);

struct gvread {
	struct gmem_mmu mmu;
	gvread_phys_ptr_fn phys_ptr;   /* NULL: no views (gvread_set_view) */
	void *phys_ctx;
	struct gvread_ent t4k[GVREAD_T4K], t2m[GVREAD_T2M], t1g[GVREAD_T1G];
	/* counters */
	uint64_t reads;       /* gvread_read calls */
	uint64_t bytes;       /* bytes returned */
	uint64_t pages;       /* per-page copies (4 KiB granules read) */
	uint64_t walks;       /* page-table walks (TLB misses) */
	uint64_t failed;      /* reads that failed */
	uint64_t views;       /* gvread_view calls that handed out a pointer */
	uint64_t view_bytes;  /* bytes those views covered (read in place, not copied) */
};

void gvread_init(struct gvread *r, const struct gmem_mmu *m);

/* Translate the page of @va (kernel-only); false if not mapped/refused. */
bool gvread_translate(struct gvread *r, uint64_t va, uint64_t *pa);

/* infer_read_fn-compatible: ctx = struct gvread *. All or nothing. */
bool gvread_read(void *ctx, uint64_t va, void *buf, size_t len);

/* Enable gvread_view through fn (vm_guest_ram_ptr in ring -1). */
void gvread_set_view(struct gvread *r, gvread_phys_ptr_fn fn, void *ctx);

/* infer_reader.view-compatible zero-copy read: a pointer to the len bytes at
 * va, or NULL. Only when every page of [va, va + len) is mapped (the rules of
 * gvread_read), the pages are one physically contiguous run, and phys_ptr
 * accepts the whole run: so a view never succeeds where gvread_read would
 * fail, and gives the same bytes. len <= GVREAD_MAX_LEN. NULL is no error
 * (the caller copies instead); it is not counted as a failed read. */
const uint8_t *gvread_view(void *ctx, uint64_t va, size_t len);

/* First present 2 MiB slot in [start, start + size) (start 2 MiB aligned,
 * size <= 1 GiB): the kernel's _text in the kernel map. 0 if none. */
uint64_t gvread_first_mapped_2m(struct gvread *r, uint64_t start, uint64_t size);

/* End of the run of present 2 MiB slots starting at @start (2 MiB aligned),
 * at most @start + @max (max <= 1 GiB): with gvread_first_mapped_2m, the span
 * of the kernel image as its early page tables map it (_text .. ~_end). */
uint64_t gvread_mapped_end_2m(struct gvread *r, uint64_t start, uint64_t max);

#endif
