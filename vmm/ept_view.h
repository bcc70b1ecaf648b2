/*
 * ept_view — per-vCPU EPT roots over one shared EPT (issue 11; docs/PROBES.md
 * "Several vCPUs"), in the manner of Xen's altp2m as DRAKVUF uses it.
 *
 * A view is a private PML4 whose entries point at the shared EPT's tables,
 * except along the walk to a few overridden 4 KiB pages: there the view holds
 * private copies of the PDPT, PD and PT, and the overridden leaf is the view's
 * own. Everything else (all of guest RAM and MMIO, hvmon's holes, the sink
 * pages) stays shared: a change below a shared pointer reaches every view at
 * once. A change that replaces a shared entry a view copied (a new table under
 * a copied PML4/PDPT/PD entry) reaches the view at its next ept_view_build.
 *
 * Pure logic, host-tested (tests/unit/test_ept_view.c): pages come from the
 * shared EPT's allocator (struct ept_alloc), no VMX here.
 */
#ifndef HVMON_VMM_EPT_VIEW_H
#define HVMON_VMM_EPT_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/ept_map.h"

#define EPT_VIEW_MAX_PAGES  16                              /* overridden 4 KiB pages */
#define EPT_VIEW_MAX_TABLES (1 + 3 * EPT_VIEW_MAX_PAGES)     /* PML4 + a path per page */

struct ept_view {
	const struct ept *base;
	struct {
		uint64_t *t;
		uint64_t pa;
		uint64_t src;          /* the shared table it copies (this build) */
	} pool[EPT_VIEW_MAX_TABLES];   /* pool[0] is the PML4; pages are kept across builds */
	unsigned nalloc;               /* pages allocated in pool[] */
	unsigned nused;                /* pages the current build uses */
	struct {
		uint64_t gpa;              /* 4 KiB page; 0 with !used */
		uint64_t leaf;             /* the view's EPT leaf for it */
		bool used;
	} ovr[EPT_VIEW_MAX_PAGES];
	uint64_t builds;
};

/* Allocate the PML4 and build (a copy of the shared root). EPT_OK, EPT_ERR_NOMEM. */
int ept_view_init(struct ept_view *w, const struct ept *base);
/* Set the view's leaf of 4 KiB page @gpa to @hpa with @perms, keeping the shared
 * leaf's memory type. The shared EPT must map @gpa with a 4 KiB leaf
 * (ept_split_4k). If the page is overridden and its path already private, only
 * the leaf changes (the fast path of a view switch); otherwise the view is
 * rebuilt. EPT_OK, EPT_ERR_INVAL (table full), EPT_ERR_NOT_MAPPED, EPT_ERR_NOMEM. */
int ept_view_set(struct ept_view *w, uint64_t gpa, uint64_t hpa, uint32_t perms);
/* Drop the override of @gpa (the shared mapping shows through after the next
 * build; the caller rebuilds). true if it was overridden. */
bool ept_view_clear(struct ept_view *w, uint64_t gpa);
/* Rebuild from the shared EPT and the overrides (fresh copies of the shared
 * tables along each overridden path). */
int ept_view_build(struct ept_view *w);
/* Physical address of the view's PML4 (for the EPTP). */
static inline uint64_t ept_view_root(const struct ept_view *w) { return w->pool[0].pa; }
/* The view's leaf for @gpa (its own or the shared one); 0 if unmapped. */
uint64_t ept_view_leaf(const struct ept_view *w, uint64_t gpa);


#endif
