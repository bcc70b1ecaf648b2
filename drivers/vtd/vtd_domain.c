/*
 * vtd_domain — VT-d second-level tables through vmm/ept_map. See vtd_domain.h.
 */
#include "drivers/vtd/vtd_domain.h"

#define VTD_RW  (EPT_R | EPT_W)
#define PAGE    0x1000ULL

static int fail(const char **why, const char *msg, int rc)
{
	if (why)
		*why = msg;
	return rc;
}

static uint64_t down4k(uint64_t v) { return v & ~(PAGE - 1); }
static uint64_t up4k(uint64_t v) { return v > ~0ULL - (PAGE - 1) ? ~(PAGE - 1) : (v + PAGE - 1) & ~(PAGE - 1); }

static int domain_init(struct vtd_domain *d, const struct ept_alloc *a, const struct vtd_caps *c)
{
	d->levels = c->levels;
	d->top = 0;
	d->rmrr_mapped = d->rmrr_conflicts = d->rmrr_beyond = 0;
	return ept_init(&d->pt, a, c->large);
}

/* The pointer the context entries get: the 4-level root, or for 3 levels the
 * table under its entry 0 (created if nothing was mapped below 512 GiB). */
static int domain_root(struct vtd_domain *d)
{
	if (d->levels == 4) {
		d->root_pa = d->pt.pml4_pa;
		return 0;
	}
	if (!(d->pt.pml4[0] & EPT_ADDR_MASK)) {
		/* map then unmap one page: leaves the PDPT under entry 0 in place */
		int rc = ept_map_identity(&d->pt, 0, PAGE, VTD_RW, MT_UC);
		if (rc || (rc = ept_unmap(&d->pt, 0, PAGE)))
			return rc;
	}
	d->root_pa = d->pt.pml4[0] & EPT_ADDR_MASK;
	return 0;
}

static bool overlaps(uint64_t b, uint64_t e, const struct vtd_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (b < up4k(r[i].end) && e > down4k(r[i].base))
			return true;
	return false;
}

static int map_rmrrs(struct vtd_domain *d, const struct vtd_caps *c, const struct vtd_range *excl,
		     unsigned nexcl, const struct dmar_info *dm)
{
	for (uint32_t i = 0; dm && i < dm->nr_rmrr && i < DMAR_MAX_RMRR; i++) {
		uint64_t b = dm->rmrr[i].base, e = dm->rmrr[i].limit + 1;
		if (e > c->limit) {
			d->rmrr_beyond++;
			continue;
		}
		if (overlaps(b, e, excl, nexcl))
			d->rmrr_conflicts++;
		int rc = ept_map_identity(&d->pt, b, e - b, VTD_RW, MT_UC);
		if (rc)
			return rc;
		d->rmrr_mapped++;
	}
	return 0;
}

int vtd_guest_domain_build(struct vtd_domain *d, const struct ept_alloc *a,
			   const struct vtd_caps *c, uint64_t top,
			   const struct vtd_range *excl, unsigned nexcl,
			   const struct dmar_info *dm, const char **why)
{
	int rc = domain_init(d, a, c);
	if (rc)
		return fail(why, "VT-d domain: cannot allocate the root table", rc);
	top = up4k(top);
	if (top > c->limit)
		top = c->limit;
	d->top = top;
	if (top && (rc = ept_map_identity(&d->pt, 0, top, VTD_RW, MT_UC)))
		return fail(why, "VT-d domain: cannot map guest memory", rc);
	if ((rc = map_rmrrs(d, c, excl, nexcl, dm)))
		return fail(why, "VT-d domain: cannot map an RMRR", rc);
	for (unsigned i = 0; i < nexcl; i++) {
		uint64_t b = down4k(excl[i].base), e = up4k(excl[i].end);
		if (e > c->limit)
			e = c->limit;
		if (e > b && (rc = ept_unmap(&d->pt, b, e - b)))
			return fail(why, "VT-d domain: cannot remove an excluded range", rc);
	}
	if ((rc = domain_root(d)))
		return fail(why, "VT-d domain: cannot build the 3-level root", rc);
	return 0;
}

int vtd_only_domain_build(struct vtd_domain *d, const struct ept_alloc *a,
			  const struct vtd_caps *c, const struct vtd_range *map, unsigned n,
			  const char **why)
{
	int rc = domain_init(d, a, c);
	if (rc)
		return fail(why, "VT-d domain: cannot allocate the root table", rc);
	for (unsigned i = 0; i < n; i++) {
		uint64_t b = down4k(map[i].base), e = up4k(map[i].end);
		if (e > c->limit)
			return fail(why, "VT-d domain: range beyond the unit's address width", EPT_ERR_INVAL);
		if (e > b && (rc = ept_map_identity(&d->pt, b, e - b, VTD_RW, MT_UC)))
			return fail(why, "VT-d domain: cannot map a range", rc);
		if (e > d->top)
			d->top = e;
	}
	if ((rc = domain_root(d)))
		return fail(why, "VT-d domain: cannot build the 3-level root", rc);
	return 0;
}

int vtd_domain_unmap(struct vtd_domain *d, uint64_t base, uint64_t len)
{
	return ept_unmap(&d->pt, down4k(base), up4k(base + len) - down4k(base));
}

int vtd_domain_map(struct vtd_domain *d, uint64_t base, uint64_t len)
{
	uint64_t b = down4k(base), e = up4k(base + len);
	if (d->levels == 3 && e > (1ULL << 39))
		return EPT_ERR_INVAL;
	return ept_map_identity(&d->pt, b, e - b, VTD_RW, MT_UC);
}

uint32_t vtd_domain_access(const struct vtd_domain *d, uint64_t addr)
{
	struct ept_lookup l;
	if (d->levels == 3 && addr >= (1ULL << 39))
		return 0;
	if (ept_lookup(&d->pt, addr, &l) || l.hpa != addr)
		return 0;
	return l.perms & VTD_RW;
}
