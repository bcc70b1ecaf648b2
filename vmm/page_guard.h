/*
 * page_guard — write protection of guest-physical pages through EPT for a
 * subscriber (issue 15: the integrity monitor's kernel text, read-only data,
 * system-call table and IDT; docs/MONITORS.md "Integrity monitor").
 *
 * hv_page_guard() maps every 4 KiB page of a range read+execute in the VM's EPT
 * (large pages are split; every vCPU's view is rebuilt: vmm/ept_view.h) and
 * subscribes to its EPT violations (vmm/intercept.h). A guest write to a guarded
 * page reaches @fn (x->page: GPA and exit qualification) and is then let through
 * without emulation: the core OPENS the page (read/write/execute) and the write
 * is retried, so the guest never breaks. The page stays open until the
 * subscriber closes it (hv_page_guard_close, e.g. from its next tick, after
 * looking at what was written). A page that holds probes is the probes' (its EPT
 * entries are theirs, vmm/probe.h): it is not guarded, and when its last probe
 * goes the probes restore it as a guarded page (page_guard_perms).
 *
 * Call from a VM exit (the guest stopped). Removing write access ends with an
 * INVEPT on every CPU (smp_ept_sync).
 */
#ifndef HVMON_VMM_PAGE_GUARD_H
#define HVMON_VMM_PAGE_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/intercept.h"

struct vm;
struct vcpu;

#define PAGE_GUARD_MAX_RANGES 24      /* the integrity monitor (<= 12 runs + IDT) and the probes' page tables (<= 8) */
#define PAGE_GUARD_MAX_OPEN   64

/* Guard [gpa, gpa + size) (4 KiB aligned): @fn sees each write before the page
 * opens. Returns the number of pages guarded (probed pages are skipped), or -1. */
long hv_page_guard(struct vm *vm, uint64_t gpa, uint64_t size, hv_icpt_fn fn, void *ctx);
/* Write-protect the open page @gpa again (a no-op if it is not open). */
void hv_page_guard_close(struct vm *vm, uint64_t gpa);
/* hvmon's own write into a guarded page that is closed (the subscriber
 * protected it again first, so the guest cannot write it meanwhile): puts
 * @len bytes at @gpa back (e.g. a page's bytes from before a refused write).
 * The range must lie in one guarded, closed, unprobed page of guest RAM. 0 or -1. */
int hv_page_guard_restore(struct vm *vm, uint64_t gpa, const void *buf, uint32_t len);
/* Is any page open (one load: a subscriber's tick can skip its closing pass)? */
bool hv_page_guard_any_open(void);
/* Pages open now (for a subscriber that closes them all). */
unsigned hv_page_guard_open_pages(uint64_t *out, unsigned max);
/* The EPT permissions the page's identity mapping should have (EPT_RWX, or
 * EPT_R|EPT_X while it is guarded and not open): the probes restore this. */
uint32_t page_guard_perms(uint64_t gpa);

struct page_guard_stats {
	uint64_t pages;          /* guarded pages */
	uint64_t skipped;        /* pages left to the probes */
	uint64_t tables;         /* EPT paging-structure pages the splits took */
	uint64_t guard_ticks;    /* TSC ticks hv_page_guard spent (all calls) */
	uint64_t opens, closes;  /* writes let through / pages protected again */
	uint64_t restores;       /* hv_page_guard_restore calls done */
	uint64_t open_full;      /* writes that found the open table full (page opened anyway, closed at the next close) */
};
void page_guard_get_stats(struct page_guard_stats *s);

#endif
