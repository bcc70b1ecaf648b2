/*
 * vtd — one VT-d DMA-remapping unit (Intel VT-d spec rev 4.1, chapters 6, 10, 11):
 * probe, root table, queued or register-based invalidation, translation on,
 * fault-recording polling. Legacy (root/context) translation mode only; no
 * interrupt remapping, no ATS, no PASID. Hardware access goes through the
 * unit's MMIO registers only; memory comes from the platform ops.
 */
#ifndef HVMON_DRIVERS_VTD_VTD_H
#define HVMON_DRIVERS_VTD_VTD_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "drivers/vtd/dmar.h"

struct vtd_platform {
	void *(*map_mmio)(uint64_t pa, uint64_t len);   /* uncached mapping of the registers */
	uint64_t (*virt_to_phys)(const void *p);
	void *(*alloc_page)(void);                      /* zeroed 4 KiB page, hvmon-owned */
	void (*flush)(const void *p, size_t len);       /* write back cache lines (non-coherent walks) */
	uint64_t (*now)(void);                          /* TSC */
	uint64_t timeout_ticks;                         /* bound for every hardware wait */
};

struct vtd_unit {
	const struct vtd_platform *plat;
	uint64_t base;
	uint32_t reg_bytes;
	volatile uint8_t *regs;
	struct vtd_caps caps;
	bool qi;                 /* queued invalidation in use */
	uint64_t *iq;            /* 256 x 128-bit descriptors */
	uint32_t iq_tail;        /* next free descriptor */
	volatile uint32_t *wait_word;   /* status written by wait descriptors */
	uint32_t wait_seq;
	/* counters */
	uint64_t invalidations, inv_ticks, faults_seen, fault_overflows, timeouts;
};

/* Map the registers (2^size_field pages), read and decode CAP/ECAP; turn off
 * translation and queued invalidation left on by firmware. 0 or -1 (*why). */
int vtd_unit_probe(struct vtd_unit *u, const struct vtd_platform *p, uint64_t base,
		   unsigned size_field, const char **why);

/* Fault interrupt masked (hvmon polls), stale fault records cleared, root table
 * @root_pa set, queued invalidation on when ECAP.QI, caches invalidated
 * globally, translation on. 0 or -1 (*why). */
int vtd_unit_enable(struct vtd_unit *u, uint64_t root_pa, const char **why);

/* Invalidations (queued when enabled, else through the registers); each waits
 * for completion. 0 or -1 (timeout). */
int vtd_inv_context_global(struct vtd_unit *u);
int vtd_inv_iotlb_global(struct vtd_unit *u);
/* One 4 KiB page of domain @did: page-selective when CAP.PSI, else domain-selective. */
int vtd_inv_iotlb_page(struct vtd_unit *u, uint16_t did, uint64_t addr);

/* Read up to @max recorded faults, clearing each, calling @cb for each.
 * Returns the number read. Overflow (FSTS.PFO) is counted and cleared. */
unsigned vtd_fault_poll(struct vtd_unit *u, void (*cb)(void *ctx, const struct vtd_fault *f),
			void *ctx, unsigned max);

uint32_t vtd_read_gsts(const struct vtd_unit *u);

#endif
