#ifndef HVMON_ARCH_PAGING_H
#define HVMON_ARCH_PAGING_H
#include <stdint.h>
/* Build hvmon's final page tables (identity 0..max(4 GiB, top), hvmon's image
 * at HV_VBASE) from heap pages and switch to them. Returns 0 or -1. */
int paging_init(uint64_t phys_top);
#endif
