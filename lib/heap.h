/*
 * hvmon's heap: the HV_HEAP_SIZE bytes right after the image (reserved by
 * every loader, hidden from the guest). Zeroed 4 KiB pages are carved from
 * the top (VMCS, EPT, bitmaps, per-CPU data); newlib's malloc grows from the
 * bottom through sbrk. They never cross.
 */
#ifndef HVMON_LIB_HEAP_H
#define HVMON_LIB_HEAP_H

#include <stddef.h>
#include <stdint.h>

void heap_init(void);
/* A zeroed, 4 KiB aligned page (hvmon VA), or NULL when the heap is exhausted. */
void *page_alloc(void);
/* n contiguous zeroed pages. */
void *pages_alloc(size_t n);
void *heap_sbrk(intptr_t incr);        /* newlib's sbrk; (void *)-1 when full */

struct heap_stats {
	uint64_t base_pa, size;
	uint64_t pages_used, sbrk_used;
};
void heap_get_stats(struct heap_stats *s);

#endif
