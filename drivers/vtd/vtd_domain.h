/*
 * vtd_domain — second-level (DMA) translation tables for VT-d domains, pure
 * logic. A VT-d second-level entry has the layout of an EPT entry (spec 9.8:
 * R bit 0, W bit 1, PS bit 7, address 51:12; bits 52-61 ignored), so the
 * tables are built with vmm/ept_map (4-level, 2 MiB / 1 GiB leaves where the
 * unit's SLLPS allows) with read/write permission, memory-type bits 0 and no
 * execute permission on leaves. A 3-level (39-bit) domain is the table under
 * the 4-level root's entry 0: everything it maps lies below 512 GiB.
 */
#ifndef HVMON_DRIVERS_VTD_DOMAIN_H
#define HVMON_DRIVERS_VTD_DOMAIN_H

#include <stdint.h>
#include <stdbool.h>
#include "vmm/ept_map.h"
#include "drivers/vtd/dmar.h"

struct vtd_range {
	uint64_t base, end;      /* [base, end) */
	const char *what;
};

struct vtd_domain {
	struct ept pt;
	uint8_t  levels;         /* 3 or 4 */
	uint64_t root_pa;        /* second-level pointer for the context entries */
	uint64_t top;            /* end of the identity span actually mapped */
	uint32_t rmrr_mapped;    /* RMRRs mapped (whole or in part) */
	uint32_t rmrr_conflicts; /* RMRRs overlapping an excluded range (that part left out) */
	uint32_t rmrr_beyond;    /* RMRRs beyond the unit's address width (left out) */
};

/*
 * vtd_guest_domain_build - the guest devices' domain: [0, @top) identity, read
 * and write, clipped to the unit's width (@c->limit); every RMRR of @dm mapped
 * 1:1; then every range of @excl (rounded out to 4 KiB) removed — excluded
 * ranges win over RMRRs. Returns 0 or an EPT_ERR_* (with *why).
 */
int vtd_guest_domain_build(struct vtd_domain *d, const struct ept_alloc *a,
			   const struct vtd_caps *c, uint64_t top,
			   const struct vtd_range *excl, unsigned nexcl,
			   const struct dmar_info *dm, const char **why);

/* vtd_only_domain_build - a domain mapping only @map (rounded out to 4 KiB),
 * 1:1, read and write (the management NIC: its descriptor rings and buffers). */
int vtd_only_domain_build(struct vtd_domain *d, const struct ept_alloc *a,
			  const struct vtd_caps *c, const struct vtd_range *map, unsigned n,
			  const char **why);

/* Change one range after the build (the caller invalidates the IOTLB). */
int vtd_domain_unmap(struct vtd_domain *d, uint64_t base, uint64_t len);
int vtd_domain_map(struct vtd_domain *d, uint64_t base, uint64_t len);

/* What a DMA to @addr would see: 0 = not mapped, else EPT_R | EPT_W bits. */
uint32_t vtd_domain_access(const struct vtd_domain *d, uint64_t addr);

#endif
