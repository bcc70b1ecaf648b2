/*
 * gmem — guest page-table walker and bounded guest-virtual reads. See gmem.h.
 * Every guest-controlled value (CR3, entries, addresses, lengths) is checked
 * before use; physical memory is only touched through m->read_phys.
 */
#include "vmm/gmem.h"

#define PTE_P    (1ULL << 0)
#define PTE_RW   (1ULL << 1)
#define PTE_US   (1ULL << 2)
#define PTE_PS   (1ULL << 7)
#define PTE_XD   (1ULL << 63)
#define PAGE     0x1000ULL
#define GMEM_READ_MAX (1u << 20)

static unsigned maxphy(const struct gmem_mmu *m)
{
	return (m->maxphyaddr && m->maxphyaddr <= 52) ? m->maxphyaddr : 52;
}

bool gmem_canonical(const struct gmem_mmu *m, uint64_t gva)
{
	unsigned bits = (m && m->la57) ? 57 : 48;
	int64_t s = (int64_t)(gva << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == gva;
}

static bool in_kernel_half(uint64_t gva)
{
	return (gva >> 63) != 0;
}

static int walk(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, struct gmem_walk *w);

static const struct gmem_tc_ent *tc_find(const struct gmem_tc *tc, uint64_t cr3, uint64_t va, uint32_t flags)
{
	for (uint32_t i = 0; i < tc->n && i < GMEM_TC_ENTRIES; i++)
		if (tc->e[i].va == (va & ~(tc->e[i].page_size - 1)) && tc->e[i].cr3 == cr3 &&
		    tc->e[i].flags == flags)
			return &tc->e[i];
	return 0;
}

static void tc_put(struct gmem_tc *tc, uint64_t cr3, uint64_t va, uint32_t flags, const struct gmem_walk *w)
{
	uint32_t i = tc->n < GMEM_TC_ENTRIES ? tc->n++ : tc->next++ % GMEM_TC_ENTRIES;
	struct gmem_tc_ent *e = &tc->e[i];
	e->cr3 = cr3;
	e->va = va & ~(w->page_size - 1);          /* page_size: 4K, 2M or 1G (a walk's) */
	e->gpa = w->gpa & ~(w->page_size - 1);
	e->flags = flags;
	e->writable = w->writable;
	e->user = w->user;
	e->nx = w->nx;
	e->page_size = w->page_size;
	e->leaf_pa = w->leaf_pa;
	e->leaf = w->leaf;
}

int gmem_translate(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, struct gmem_walk *w)
{
	if (!m || !m->tc || !w)
		return walk(m, gva, flags, w);
	uint64_t va = gva & ~(PAGE - 1);
	const struct gmem_tc_ent *e = tc_find(m->tc, m->cr3, va, flags);
	if (e) {
		m->tc->hits++;
		w->gpa = e->gpa | (gva & (e->page_size - 1));
		w->page_size = e->page_size;
		w->leaf_pa = e->leaf_pa;
		w->leaf = e->leaf;
		w->writable = e->writable;
		w->user = e->user;
		w->nx = e->nx;
		w->levels = m->la57 ? 5 : 4;
		w->fail_level = 0;
		w->fail_entry = 0;
		return GMEM_OK;
	}
	m->tc->misses++;
	int rc = walk(m, gva, flags, w);
	if (rc == GMEM_OK)
		tc_put(m->tc, m->cr3, va, flags, w);
	return rc;
}

static int walk(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, struct gmem_walk *w)
{
	uint64_t addr_mask, table, entry = 0;
	int level;

	if (!m || !m->read_phys || !w)
		return GMEM_ERR_INVAL;
	w->gpa = 0;
	w->page_size = 0;
	w->writable = true;
	w->user = true;
	w->nx = false;
	w->levels = m->la57 ? 5 : 4;
	w->fail_level = 0;
	w->fail_entry = 0;
	if (!gmem_canonical(m, gva))
		return GMEM_ERR_NONCANON;
	if ((flags & GMEM_KERNEL_ONLY) && !in_kernel_half(gva))
		return GMEM_ERR_NOT_KERNEL;

	/* physical address bits [maxphy-1:12] */
	addr_mask = ((1ULL << maxphy(m)) - 1) & ~(PAGE - 1);
	table = m->cr3 & 0x000ffffffffff000ULL;
	if (table & ~addr_mask) {
		w->fail_level = w->levels;
		return GMEM_ERR_RESERVED;
	}

	for (level = w->levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t idx = (gva >> shift) & 511;
		uint64_t phys_bits;

		w->fail_level = level;
		if (m->read_phys(m->ctx, table + idx * 8, &entry, 8) != 0) {
			w->fail_entry = 0;
			return GMEM_ERR_READ_PHYS;
		}
		w->fail_entry = entry;
		if (!(entry & PTE_P))
			return GMEM_ERR_NOT_PRESENT;
		/* bits 51:maxphy of the address field must be zero */
		phys_bits = entry & 0x000ffffffffff000ULL;
		if (phys_bits & ~addr_mask)
			return GMEM_ERR_RESERVED;
		if ((entry & PTE_XD) && !m->nxe)
			return GMEM_ERR_RESERVED;
		if (!(entry & PTE_RW))
			w->writable = false;
		if (!(entry & PTE_US))
			w->user = false;
		if (entry & PTE_XD)
			w->nx = true;

		if (level == 1 || ((entry & PTE_PS) && (level == 2 || level == 3))) {
			uint64_t size = 1ULL << shift;
			uint64_t base = phys_bits & ~(size - 1);
			/* large pages: bits [shift-1:13] reserved (bit 12 is PAT) */
			if (level > 1 && (phys_bits & (size - 1) & ~(PAGE * 2 - 1)))
				return GMEM_ERR_RESERVED;
			if ((flags & GMEM_KERNEL_ONLY) && w->user)
				return GMEM_ERR_USER_PAGE;
			w->gpa = base | (gva & (size - 1));
			w->page_size = size;
			w->leaf_pa = table + idx * 8;
			w->leaf = entry;
			w->fail_level = 0;
			w->fail_entry = 0;
			return GMEM_OK;
		}
		if (entry & PTE_PS)            /* PS in PML4E / PML5E is reserved */
			return GMEM_ERR_RESERVED;
		table = phys_bits;
	}
	return GMEM_ERR_RESERVED;   /* not reached: level 1 always returns */
}

/* The readers need only the address: a cache hit fills nothing else. */
static int xlate(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, uint64_t *gpa)
{
	struct gmem_walk w;
	int rc;
	if (m->tc) {
		const struct gmem_tc_ent *e = tc_find(m->tc, m->cr3, gva & ~(PAGE - 1), flags);
		if (e) {
			m->tc->hits++;
			*gpa = e->gpa | (gva & (e->page_size - 1));
			return GMEM_OK;
		}
		m->tc->misses++;
	}
	rc = walk(m, gva, flags, &w);
	if (rc == GMEM_OK && m->tc)
		tc_put(m->tc, m->cr3, gva & ~(PAGE - 1), flags, &w);
	*gpa = w.gpa;
	return rc;
}

int gmem_read(const struct gmem_mmu *m, uint64_t gva, void *buf, uint32_t len,
	      uint32_t flags, uint32_t *done)
{
	uint8_t *out = buf;
	uint32_t copied = 0;
	int rc = GMEM_OK;

	if (done)
		*done = 0;
	if (!m || !m->read_phys || (!buf && len) || len > GMEM_READ_MAX)
		return GMEM_ERR_INVAL;
	if (len && gva + len - 1 < gva)
		return GMEM_ERR_OVERFLOW;
	while (copied < len) {             /* <= 257 iterations for 1 MiB */
		uint64_t gpa;
		uint64_t va = gva + copied;
		uint32_t chunk = (uint32_t)(PAGE - (va & (PAGE - 1)));

		if (chunk > len - copied)
			chunk = len - copied;
		rc = xlate(m, va, flags, &gpa);
		if (rc)
			break;
		if (m->read_phys(m->ctx, gpa, out + copied, chunk) != 0) {
			rc = GMEM_ERR_READ_PHYS;
			break;
		}
		copied += chunk;
	}
	if (done)
		*done = copied;
	return rc;
}

int gmem_read_u64(const struct gmem_mmu *m, uint64_t gva, uint32_t flags, uint64_t *val)
{
	uint8_t b[8];
	uint64_t v = 0;
	int i, rc;

	if (!val)
		return GMEM_ERR_INVAL;
	rc = gmem_read(m, gva, b, 8, flags, (uint32_t *)0);
	if (rc)
		return rc;
	for (i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	*val = v;
	return GMEM_OK;
}

int gmem_read_str(const struct gmem_mmu *m, uint64_t gva, char *buf, uint32_t max,
		  uint32_t flags, uint32_t *len)
{
	uint32_t got = 0;

	if (len)
		*len = 0;
	if (!m || !m->read_phys || !buf || max == 0 || max > GMEM_READ_MAX)
		return GMEM_ERR_INVAL;
	buf[0] = 0;
	while (got < max - 1) {            /* each round reads >= 1 byte */
		uint64_t gpa;
		uint64_t va = gva + got;
		uint32_t chunk = (uint32_t)(PAGE - (va & (PAGE - 1))), i;
		int rc;

		if (va < gva) {
			buf[got] = 0;
			if (len)
				*len = got;
			return GMEM_ERR_OVERFLOW;
		}
		if (chunk > max - 1 - got)
			chunk = max - 1 - got;
		rc = xlate(m, va, flags, &gpa);
		if (rc == GMEM_OK && m->read_phys(m->ctx, gpa, buf + got, chunk) != 0)
			rc = GMEM_ERR_READ_PHYS;
		if (rc) {
			buf[got] = 0;
			if (len)
				*len = got;
			return rc;
		}
		for (i = 0; i < chunk; i++)
			if (buf[got + i] == 0) {
				if (len)
					*len = got + i;
				return GMEM_OK;
			}
		got += chunk;
	}
	buf[got] = 0;
	if (len)
		*len = got;
	return GMEM_ERR_TOO_LONG;
}

const char *gmem_strerror(int err)
{
	switch (err) {
	case GMEM_OK:              return "ok";
	case GMEM_ERR_INVAL:       return "invalid argument";
	case GMEM_ERR_NONCANON:    return "guest address not canonical";
	case GMEM_ERR_NOT_KERNEL:  return "guest address not in the kernel half";
	case GMEM_ERR_NOT_PRESENT: return "guest page not present";
	case GMEM_ERR_RESERVED:    return "reserved bit set in a guest paging entry";
	case GMEM_ERR_READ_PHYS:   return "guest-physical read refused";
	case GMEM_ERR_USER_PAGE:   return "user page where a kernel page was required";
	case GMEM_ERR_TOO_LONG:    return "guest string not terminated within the bound";
	case GMEM_ERR_OVERFLOW:    return "guest address range wraps around";
	default:                   return "unknown gmem error";
	}
}
