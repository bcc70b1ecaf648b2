/*
 * ept_map — EPT paging structures, MTRR type resolution, EPTP. See ept_map.h.
 *
 * Software conventions: a non-leaf entry always has R|W|X set (permissions are
 * decided at the leaf). Leaves carry EPT_SW_MAPPED (bit 52, ignored by the CPU)
 * so that a mapping with no permissions (every access exits) is still told apart
 * from "nothing mapped" (entry == 0). Recursion depth is at most 4.
 */
#include "vmm/ept_map.h"

#define EPT_SW_MAPPED   (1ULL << 52)
#define EPT_LEAF_ATTRS  (EPT_RWX | EPT_MT_MASK | EPT_IGNORE_PAT | EPT_SW_MAPPED)

uint32_t ept_caps_from_msr(uint64_t c)
{
	uint32_t caps = 0;

	if (c & (1ULL << 0))  caps |= EPT_CAP_EXEC_ONLY;
	if (c & (1ULL << 6))  caps |= EPT_CAP_WALK4;
	if (c & (1ULL << 8))  caps |= EPT_CAP_UC;
	if (c & (1ULL << 14)) caps |= EPT_CAP_WB;
	if (c & (1ULL << 16)) caps |= EPT_CAP_2M;
	if (c & (1ULL << 17)) caps |= EPT_CAP_1G;
	if (c & (1ULL << 21)) caps |= EPT_CAP_AD;
	return caps;
}

static uint64_t level_size(int level) { return 1ULL << (12 + 9 * (level - 1)); }
static unsigned level_index(uint64_t gpa, int level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

static bool memtype_ok(uint8_t mt)
{
	return mt == MT_UC || mt == MT_WC || mt == MT_WT || mt == MT_WP || mt == MT_WB;
}

static bool perms_ok(const struct ept *e, uint32_t perms)
{
	if (perms & ~(uint32_t)EPT_RWX)
		return false;
	if ((perms & EPT_W) && !(perms & EPT_R))          /* write without read: misconfiguration */
		return false;
	if (perms == EPT_X && !(e->caps & EPT_CAP_EXEC_ONLY))
		return false;
	return true;
}

static bool is_table(uint64_t entry, int level)
{
	return level > 1 && entry != 0 && (level == 4 || !(entry & EPT_LARGE));
}

static bool large_allowed(const struct ept *e, int level)
{
	return (level == 2 && (e->caps & EPT_CAP_2M)) || (level == 3 && (e->caps & EPT_CAP_1G));
}

static uint64_t *table_va(const struct ept *e, uint64_t entry)
{
	return e->a.phys_to_virt(e->a.ctx, entry & EPT_ADDR_MASK);
}

static uint64_t *new_table(struct ept *e, uint64_t *pa)
{
	uint64_t *t = e->a.alloc_page(e->a.ctx, pa);

	if (!t || (*pa & 0xfff))
		return (uint64_t *)0;
	e->tables++;
	return t;
}

/* Replace the large leaf *entry (at @level) by a table of 512 equivalent leaves. */
static int split(struct ept *e, uint64_t *entry, int level)
{
	uint64_t pa, child = level_size(level - 1), base = *entry & EPT_ADDR_MASK & ~(level_size(level) - 1);
	uint64_t attrs = *entry & EPT_LEAF_ATTRS;
	uint64_t *t = new_table(e, &pa);
	unsigned i;

	if (!t)
		return EPT_ERR_NOMEM;
	for (i = 0; i < 512; i++)
		t[i] = (base + i * child) | attrs | (level - 1 > 1 ? EPT_LARGE : 0);
	*entry = pa | EPT_RWX;
	return EPT_OK;
}

static int walk_range(struct ept *e, uint64_t *table, int level, uint64_t gpa, uint64_t hpa,
		      uint64_t size, uint64_t attrs, bool unmap)
{
	uint64_t page = level_size(level);

	while (size) {
		uint64_t *entry = &table[level_index(gpa, level)];
		uint64_t end = (gpa & ~(page - 1)) + page;
		uint64_t chunk = end - gpa < size ? end - gpa : size;
		int rc;

		if (level == 1) {
			*entry = unmap ? 0 : ((hpa & EPT_ADDR_MASK) | attrs);
		} else if (!unmap && chunk == page && !(hpa & (page - 1)) && large_allowed(e, level) &&
			   !is_table(*entry, level)) {
			*entry = (hpa & EPT_ADDR_MASK) | attrs | EPT_LARGE;
		} else if (unmap && chunk == page && !is_table(*entry, level)) {
			*entry = 0;
		} else if (unmap && *entry == 0) {
			/* nothing mapped here */
		} else {
			uint64_t *next;
			if (*entry == 0) {
				uint64_t pa;
				next = new_table(e, &pa);
				if (!next)
					return EPT_ERR_NOMEM;
				*entry = pa | EPT_RWX;
			} else {
				if (!is_table(*entry, level)) {
					rc = split(e, entry, level);
					if (rc)
						return rc;
				}
				next = table_va(e, *entry);
				if (!next)
					return EPT_ERR_CORRUPT;
			}
			rc = walk_range(e, next, level - 1, gpa, hpa, chunk, attrs, unmap);
			if (rc)
				return rc;
		}
		gpa += chunk;
		hpa += chunk;
		size -= chunk;
	}
	return EPT_OK;
}

int ept_init(struct ept *e, const struct ept_alloc *a, uint32_t caps)
{
	if (!e || !a || !a->alloc_page || !a->phys_to_virt)
		return EPT_ERR_INVAL;
	e->a = *a;
	e->caps = caps;
	e->tables = 0;
	e->pml4 = new_table(e, &e->pml4_pa);
	if (!e->pml4)
		return EPT_ERR_NOMEM;
	return EPT_OK;
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
	return size && !(gpa & 0xfff) && !(size & 0xfff) && gpa < EPT_GPA_LIMIT &&
	       size <= EPT_GPA_LIMIT - gpa;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms, uint8_t memtype)
{
	if (!e || !e->pml4 || !range_ok(gpa, size) || (hpa & 0xfff) || hpa > EPT_ADDR_MASK ||
	    size - 1 > EPT_ADDR_MASK - hpa || !memtype_ok(memtype) || !perms_ok(e, perms))
		return EPT_ERR_INVAL;
	return walk_range(e, e->pml4, 4, gpa, hpa, size,
			  perms | ((uint64_t)memtype << EPT_MT_SHIFT) | EPT_SW_MAPPED, false);
}

int ept_map_identity(struct ept *e, uint64_t base, uint64_t size, uint32_t perms, uint8_t memtype)
{
	return ept_map(e, base, base, size, perms, memtype);
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size)
{
	if (!e || !e->pml4 || !range_ok(gpa, size))
		return EPT_ERR_INVAL;
	return walk_range(e, e->pml4, 4, gpa, 0, size, 0, true);
}

/* Walk to the 4 KiB leaf of @gpa, splitting large pages. */
static int leaf_4k(struct ept *e, uint64_t gpa, uint64_t **leaf)
{
	uint64_t *table = e->pml4;
	int level, rc;

	for (level = 4; level > 1; level--) {
		uint64_t *entry = &table[level_index(gpa, level)];
		if (*entry == 0)
			return EPT_ERR_NOT_MAPPED;
		if (!is_table(*entry, level)) {
			rc = split(e, entry, level);
			if (rc)
				return rc;
		}
		table = table_va(e, *entry);
		if (!table)
			return EPT_ERR_CORRUPT;
	}
	*leaf = &table[level_index(gpa, 1)];
	if (**leaf == 0)
		return EPT_ERR_NOT_MAPPED;
	return EPT_OK;
}

int ept_split_4k(struct ept *e, uint64_t gpa)
{
	uint64_t *leaf;

	if (!e || !e->pml4 || gpa >= EPT_GPA_LIMIT)
		return EPT_ERR_INVAL;
	return leaf_4k(e, gpa, &leaf);
}

int ept_set_perms_4k(struct ept *e, uint64_t gpa, uint32_t perms)
{
	uint64_t *leaf;
	int rc;

	if (!e || !e->pml4 || gpa >= EPT_GPA_LIMIT || !perms_ok(e, perms))
		return EPT_ERR_INVAL;
	rc = leaf_4k(e, gpa, &leaf);
	if (rc)
		return rc;
	*leaf = (*leaf & ~EPT_RWX) | perms;
	return EPT_OK;
}

int ept_remap_4k(struct ept *e, uint64_t gpa, uint64_t hpa, uint32_t perms)
{
	uint64_t *leaf;
	int rc;

	if (!e || !e->pml4 || gpa >= EPT_GPA_LIMIT || (hpa & 0xfff) || hpa > EPT_ADDR_MASK ||
	    !perms_ok(e, perms))
		return EPT_ERR_INVAL;
	rc = leaf_4k(e, gpa, &leaf);
	if (rc)
		return rc;
	*leaf = (*leaf & (EPT_MT_MASK | EPT_IGNORE_PAT | EPT_SW_MAPPED)) | hpa | perms;
	return EPT_OK;
}

int ept_lookup(const struct ept *e, uint64_t gpa, struct ept_lookup *out)
{
	const uint64_t *table;
	int level;

	if (!e || !e->pml4 || !out || gpa >= EPT_GPA_LIMIT)
		return EPT_ERR_INVAL;
	table = e->pml4;
	for (level = 4; level >= 1; level--) {
		uint64_t *entry = (uint64_t *)&table[level_index(gpa, level)];
		if (*entry == 0)
			return EPT_ERR_NOT_MAPPED;
		if (is_table(*entry, level)) {
			table = table_va(e, *entry);
			if (!table)
				return EPT_ERR_CORRUPT;
			continue;
		}
		out->page_size = level_size(level);
		out->hpa = (*entry & EPT_ADDR_MASK & ~(out->page_size - 1)) | (gpa & (out->page_size - 1));
		out->perms = (uint32_t)(*entry & EPT_RWX);
		out->memtype = (uint8_t)((*entry & EPT_MT_MASK) >> EPT_MT_SHIFT);
		out->entry = entry;
		return EPT_OK;
	}
	return EPT_ERR_CORRUPT;
}

uint64_t ept_eptp(uint64_t pml4_pa, bool ad)
{
	return (pml4_pa & EPT_ADDR_MASK) | MT_WB | (3ULL << 3) | (ad ? (1ULL << 6) : 0);
}

/* ---- MTRRs ---- */

#define MTRR_DEF_E   (1ULL << 11)
#define MTRR_DEF_FE  (1ULL << 10)
#define MTRR_CAP_FIX (1ULL << 8)
#define MTRR_VALID   (1ULL << 11)
#define FIXED_END    0x100000ULL

static uint8_t sane_type(uint64_t t)
{
	t &= 0xff;
	return memtype_ok((uint8_t)t) ? (uint8_t)t : MT_UC;   /* reserved encodings: UC, conservatively */
}

static bool fixed_on(const struct mtrr_state *m)
{
	return (m->def_type & MTRR_DEF_FE) && (m->cap & MTRR_CAP_FIX);
}

static uint8_t fixed_type(const struct mtrr_state *m, uint64_t pa)
{
	unsigned msr, byte;

	if (pa < 0x80000) {
		msr = 0; byte = (unsigned)(pa >> 16);
	} else if (pa < 0xc0000) {
		msr = 1 + (unsigned)((pa - 0x80000) >> 17); byte = (unsigned)((pa >> 14) & 7);
	} else {
		msr = 3 + (unsigned)((pa - 0xc0000) >> 15); byte = (unsigned)((pa >> 12) & 7);
	}
	return sane_type(m->fixed[msr] >> (byte * 8));
}

static uint64_t phys_mask(const struct mtrr_state *m)
{
	unsigned bits = m->phys_bits ? m->phys_bits : 36;

	if (bits > 52)
		bits = 52;
	return ((1ULL << bits) - 1) & ~0xfffULL;
}

static unsigned var_count(const struct mtrr_state *m)
{
	unsigned n = (unsigned)(m->cap & 0xff);
	return n > MTRR_MAX_VAR ? MTRR_MAX_VAR : n;
}

/* SDM 12.11.4.1: UC wins; WT + WB -> WT; any other mix is undefined -> UC. */
static uint8_t combine(int have, uint8_t cur, uint8_t t)
{
	if (!have || cur == t)
		return t;
	if (cur == MT_UC || t == MT_UC)
		return MT_UC;
	if ((cur == MT_WT && t == MT_WB) || (cur == MT_WB && t == MT_WT))
		return MT_WT;
	return MT_UC;
}

uint8_t mtrr_type_at(const struct mtrr_state *m, uint64_t pa)
{
	uint64_t pm;
	unsigned i;
	int have = 0;
	uint8_t t = MT_UC;

	if (!m || !(m->def_type & MTRR_DEF_E))
		return MT_UC;
	if (pa < FIXED_END && fixed_on(m))
		return fixed_type(m, pa);
	pm = phys_mask(m);
	for (i = 0; i < var_count(m); i++) {
		uint64_t mask = m->var_mask[i];
		if (!(mask & MTRR_VALID))
			continue;
		mask &= pm;
		if ((pa & mask) == (m->var_base[i] & mask)) {
			t = combine(have, t, sane_type(m->var_base[i]));
			have = 1;
		}
	}
	return have ? t : sane_type(m->def_type);
}

/* Type of the naturally aligned power-of-two block [b, b + s), or MT_INVALID if mixed. */
static uint8_t block_type(const struct mtrr_state *m, uint64_t b, uint64_t s)
{
	uint64_t pm, p;
	unsigned i;
	int have = 0;
	uint8_t t = MT_UC;

	if (!(m->def_type & MTRR_DEF_E))
		return MT_UC;
	if (s == 0x1000)
		return mtrr_type_at(m, b);
	if (b < FIXED_END && fixed_on(m)) {
		if (b + s > FIXED_END)
			return MT_INVALID;             /* crosses from fixed into variable ranges */
		t = fixed_type(m, b);
		for (p = b + 0x1000; p < b + s; p += 0x1000)   /* <= 255 iterations */
			if (fixed_type(m, p) != t)
				return MT_INVALID;
		return t;
	}
	pm = phys_mask(m);
	for (i = 0; i < var_count(m); i++) {
		uint64_t mask = m->var_mask[i], hi;
		if (!(mask & MTRR_VALID))
			continue;
		mask &= pm;
		hi = mask & ~(s - 1);
		if ((b & hi) != (m->var_base[i] & hi))
			continue;                      /* matches no address of the block */
		if (mask & (s - 1))
			return MT_INVALID;             /* matches part of the block only (possibly) */
		t = combine(have, t, sane_type(m->var_base[i]));
		have = 1;
	}
	return have ? t : sane_type(m->def_type);
}

int mtrr_type(const struct mtrr_state *m, uint64_t base, uint64_t size, uint8_t *type)
{
	uint8_t t = MT_INVALID;

	if (!m || !type || !size || (base & 0xfff) || (size & 0xfff) || base + size < base)
		return EPT_ERR_INVAL;
	while (size) {                      /* at most ~2 * 52 aligned blocks */
		uint64_t blk = base ? (base & -base) : (1ULL << 63);
		uint8_t bt;
		while (blk > size)
			blk >>= 1;
		bt = block_type(m, base, blk);
		if (bt == MT_INVALID || (t != MT_INVALID && bt != t))
			return EPT_ERR_MTRR_MIXED;
		t = bt;
		base += blk;
		size -= blk;
	}
	*type = t;
	return EPT_OK;
}

int ept_map_identity_mtrr(struct ept *e, uint64_t base, uint64_t size, uint32_t perms,
			  const struct mtrr_state *m)
{
	if (!e || !m || !range_ok(base, size))
		return EPT_ERR_INVAL;
	while (size) {
		static const uint64_t pages[3] = { EPT_PAGE_1G, EPT_PAGE_2M, EPT_PAGE_4K };
		uint64_t piece = EPT_PAGE_4K;
		uint8_t t = MT_UC;
		unsigned i;
		int rc;

		for (i = 0; i < 3; i++) {
			uint64_t p = pages[i];
			if ((p == EPT_PAGE_1G && !(e->caps & EPT_CAP_1G)) ||
			    (p == EPT_PAGE_2M && !(e->caps & EPT_CAP_2M)) ||
			    (base & (p - 1)) || size < p)
				continue;
			if (mtrr_type(m, base, p, &t) == EPT_OK) {
				piece = p;
				break;
			}
		}
		if (i == 3) {
			/* unaligned head/tail: 4 KiB, always uniform */
			t = mtrr_type_at(m, base);
			piece = EPT_PAGE_4K;
		}
		rc = ept_map(e, base, base, piece, perms, t);
		if (rc)
			return rc;
		base += piece;
		size -= piece;
	}
	return EPT_OK;
}

const char *ept_strerror(int err)
{
	switch (err) {
	case EPT_OK:             return "ok";
	case EPT_ERR_INVAL:      return "invalid EPT request (alignment, size, range beyond 2^48, permissions or memory type)";
	case EPT_ERR_NOMEM:      return "out of pages for EPT paging structures";
	case EPT_ERR_NOT_MAPPED: return "guest-physical address not mapped in EPT";
	case EPT_ERR_CORRUPT:    return "EPT entry points outside the EPT page pool";
	case EPT_ERR_MTRR_MIXED: return "range has more than one MTRR memory type";
	default:                 return "unknown EPT error";
	}
}

