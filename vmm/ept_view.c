/*
 * ept_view — per-vCPU EPT roots over one shared EPT (vmm/ept_view.h).
 * Pure, freestanding; every loop bounded by the table sizes.
 */
#include <string.h>
#include "vmm/ept_view.h"

#define LEAF_KEEP (EPT_MT_MASK | EPT_IGNORE_PAT | (1ULL << 52))   /* memory type, IPAT, ept_map's SW bit */

static unsigned idx(uint64_t gpa, int level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

static bool entry_is_table(uint64_t e, int level)
{
	return e != 0 && (level == 4 || !(e & EPT_LARGE));
}

/* the page of pool[] at @pa, or NULL if @pa is not one of this build's copies */
static int own_index(const struct ept_view *w, uint64_t pa)
{
	for (unsigned i = 0; i < w->nused; i++)
		if (w->pool[i].pa == pa)
			return (int)i;
	return -1;
}

static uint64_t *own_table(const struct ept_view *w, uint64_t pa)
{
	int i = own_index(w, pa);
	return i < 0 ? NULL : w->pool[i].t;
}

static uint64_t *take(struct ept_view *w, uint64_t *pa)
{
	if (w->nused >= EPT_VIEW_MAX_TABLES)
		return NULL;
	if (w->nused == w->nalloc) {
		uint64_t p;
		uint64_t *t = w->base->a.alloc_page(w->base->a.ctx, &p);
		if (!t || (p & 0xfff))
			return NULL;
		w->pool[w->nalloc].t = t;
		w->pool[w->nalloc].pa = p;
		w->nalloc++;
	}
	*pa = w->pool[w->nused].pa;
	return w->pool[w->nused++].t;
}

/* Make the walk to @gpa private (copying shared tables on the way) and return
 * its leaf slot in the view. */
static int privatise(struct ept_view *w, uint64_t gpa, uint64_t **leaf)
{
	unsigned ti = 0;
	uint64_t *table = w->pool[0].t;
	for (int level = 4; level > 1; level--) {
		uint64_t *e = &table[idx(gpa, level)];
		if (!entry_is_table(*e, level)) {
			/* the shared EPT was split here after this copy was made (a probe
			 * on a new page): take its entry, the same mapping in a table */
			const uint64_t *src = w->base->a.phys_to_virt(w->base->a.ctx, w->pool[ti].src);
			uint64_t se = src ? src[idx(gpa, level)] : 0;
			if (!entry_is_table(se, level))
				return EPT_ERR_NOT_MAPPED;    /* the shared EPT must be split to 4 KiB here */
			__atomic_store_n(e, se, __ATOMIC_RELEASE);
		}
		uint64_t pa = *e & EPT_ADDR_MASK;
		uint64_t *next = own_table(w, pa);
		if (!next) {
			const uint64_t *src = w->base->a.phys_to_virt(w->base->a.ctx, pa);
			uint64_t npa;
			if (!src)
				return EPT_ERR_CORRUPT;
			next = take(w, &npa);
			if (!next)
				return EPT_ERR_NOMEM;
			memcpy(next, src, 4096);
			w->pool[w->nused - 1].src = pa;
			/* copy first, then one 64-bit store: a CPU walking the view meanwhile
			 * sees the shared table or its identical copy */
			__atomic_store_n(e, (*e & ~EPT_ADDR_MASK) | npa, __ATOMIC_RELEASE);
		}
		ti = (unsigned)own_index(w, *e & EPT_ADDR_MASK);
		table = next;
	}
	*leaf = &table[idx(gpa, 1)];
	return **leaf ? EPT_OK : EPT_ERR_NOT_MAPPED;
}

int ept_view_build(struct ept_view *w)
{
	w->nused = 1;
	w->pool[0].src = w->base->pml4_pa;
	memcpy(w->pool[0].t, w->base->pml4, 4096);
	w->builds++;
	for (unsigned i = 0; i < EPT_VIEW_MAX_PAGES; i++) {
		uint64_t *leaf;
		if (!w->ovr[i].used)
			continue;
		int rc = privatise(w, w->ovr[i].gpa, &leaf);
		if (rc)
			return rc;
		*leaf = w->ovr[i].leaf;
	}
	return EPT_OK;
}

int ept_view_init(struct ept_view *w, const struct ept *base)
{
	uint64_t pa;
	memset(w, 0, sizeof(*w));
	w->base = base;
	if (!take(w, &pa))
		return EPT_ERR_NOMEM;
	return ept_view_build(w);
}

/* The view's own leaf slot of @gpa if its whole walk is private, else NULL. */
static uint64_t *own_leaf(const struct ept_view *w, uint64_t gpa)
{
	const uint64_t *table = w->pool[0].t;
	for (int level = 4; level > 1; level--) {
		uint64_t e = table[idx(gpa, level)];
		if (!entry_is_table(e, level) || !(table = own_table(w, e & EPT_ADDR_MASK)))
			return NULL;
	}
	return (uint64_t *)&table[idx(gpa, 1)];
}

static uint64_t shared_leaf(const struct ept *e, uint64_t gpa)
{
	struct ept_lookup l;
	if (ept_lookup(e, gpa, &l) || l.page_size != EPT_PAGE_4K)
		return 0;
	return *l.entry;
}

int ept_view_set(struct ept_view *w, uint64_t gpa, uint64_t hpa, uint32_t perms)
{
	gpa &= ~0xfffULL;
	if ((hpa & 0xfff) || hpa > EPT_ADDR_MASK || (perms & ~(uint32_t)EPT_RWX))
		return EPT_ERR_INVAL;
	uint64_t shared = shared_leaf(w->base, gpa);
	if (!shared)
		return EPT_ERR_NOT_MAPPED;
	uint64_t leaf = (shared & LEAF_KEEP) | hpa | perms;
	int slot = -1, free_slot = -1;
	for (int i = 0; i < EPT_VIEW_MAX_PAGES; i++) {
		if (w->ovr[i].used && w->ovr[i].gpa == gpa)
			slot = i;
		else if (!w->ovr[i].used && free_slot < 0)
			free_slot = i;
	}
	if (slot < 0) {
		if (free_slot < 0)
			return EPT_ERR_INVAL;
		slot = free_slot;
		w->ovr[slot].used = true;
		w->ovr[slot].gpa = gpa;
	}
	w->ovr[slot].leaf = leaf;
	/* the fast path of a view switch: the walk is already the view's own */
	uint64_t *own = own_leaf(w, gpa);
	if (!own) {
		/* copy the path into this build: safe while the view is in use (copies
		 * are published by one store each), so another CPU may do it */
		int rc = privatise(w, gpa, &own);
		if (rc) {
			w->ovr[slot].used = false;
			w->ovr[slot].gpa = 0;
			return rc;
		}
	}
	__atomic_store_n(own, leaf, __ATOMIC_RELEASE);   /* one 64-bit store: never torn */
	return EPT_OK;
}

bool ept_view_clear(struct ept_view *w, uint64_t gpa)
{
	gpa &= ~0xfffULL;
	for (int i = 0; i < EPT_VIEW_MAX_PAGES; i++)
		if (w->ovr[i].used && w->ovr[i].gpa == gpa) {
			w->ovr[i].used = false;
			w->ovr[i].gpa = 0;
			return true;
		}
	return false;
}

uint64_t ept_view_leaf(const struct ept_view *w, uint64_t gpa)
{
	const uint64_t *table = w->pool[0].t;
	for (int level = 4; level >= 1; level--) {
		uint64_t e = table[idx(gpa, level)];
		if (level == 1 || !entry_is_table(e, level))
			return e;
		const uint64_t *t = own_table(w, e & EPT_ADDR_MASK);
		if (!t)
			t = w->base->a.phys_to_virt(w->base->a.ctx, e & EPT_ADDR_MASK);
		if (!t)
			return 0;
		table = t;
	}
	return 0;
}
