/*
 * iommu — hvmon's VT-d policy (docs/VTD.md): every guest device behind one
 * second-level domain that maps the machine 1:1 except hvmon's memory; the
 * management NIC in a domain of its own; DMAR hidden from the guest; the
 * units' registers out of EPT; faults polled from the tick and reported as
 * dma_fault events. Option iommu=required|auto|off (docs/OPTIONS.md).
 */
#ifndef HVMON_VMM_IOMMU_H
#define HVMON_VMM_IOMMU_H

#include <stdint.h>
#include <stdbool.h>
#include "drivers/vtd/vtd.h"
#include "drivers/vtd/vtd_domain.h"

struct vm;

#define IOMMU_DID_GUEST  1
#define IOMMU_DID_NIC    2
#define IOMMU_MAX_EXCL   (16 + DMAR_MAX_DRHD + 8)

struct iommu_state {
	bool on;                          /* translation enabled on every unit */
	struct dmar_info dmar;
	unsigned nr_units;
	struct vtd_unit units[DMAR_MAX_DRHD];
	struct vtd_caps common;           /* what every unit supports (levels, pages, limit) */
	uint64_t *root;                   /* root table (256 buses) */
	uint64_t *ctx_guest;              /* context table: every dev:fn -> guest domain */
	uint64_t *ctx_nic;                /* the NIC's bus: the same but the NIC -> NIC domain */
	struct vtd_domain guest, nic;
	bool nic_domain;
	uint16_t nic_sid;
	unsigned nr_excl;
	struct vtd_range excl[IOMMU_MAX_EXCL];
	uint64_t table_pages;             /* root + context + second-level pages */
	uint64_t setup_ticks;             /* TSC ticks from DMAR parse to translation on */
	/* faults */
	struct vtd_ratelimit rl;
	uint64_t faults, events;
};

/* hv_main, after ept_setup and netdev_init, before the first VM entry.
 * iommu=off: nothing. No usable VT-d: auto warns loudly, required panics. */
void iommu_setup(struct vm *vm);
/* Register pages of the remapping units (removed from EPT): the EPT violation
 * path points guest accesses at the sink page. */
bool iommu_hide_gpa(uint64_t gpa);
struct iommu_state *iommu_get(void);
/* Flush CPU caches for table memory the unit may walk (non-coherent units). */
void iommu_flush(const void *p, size_t len);
/* Poll every unit's fault records now (the tick does this every 10 ms). */
void iommu_poll_faults(unsigned cpu);
void iommu_print_stats(void);

/* vmm/iommu_selftest.c: iommu_selftest=on (QEMU q35 + intel-iommu + edu). Never returns. */
void __attribute__((noreturn)) iommu_selftest(struct vm *vm);

#endif
