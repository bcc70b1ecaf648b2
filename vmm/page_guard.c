/*
 * page_guard — EPT write protection of guest-physical pages for a subscriber
 * (vmm/page_guard.h). The ranges and the open pages are kept here; the EPT
 * entries are changed under vm->ept_lock, the per-vCPU views are rebuilt
 * (probe_views_stale) and removed write access is shot down on every CPU
 * (smp_ept_sync, never with a lock held: it waits for the other CPUs' exits).
 */
#include <string.h>
#include "vmm/page_guard.h"
#include "vmm/vcpu.h"
#include "vmm/probe.h"
#include "vmm/smp.h"
#include "lib/console.h"
#include "lib/spinlock.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

struct guard_range {
	uint64_t gpa, size;
	hv_icpt_fn fn;
	void *ctx;
};

static struct guard_range ranges[PAGE_GUARD_MAX_RANGES];
static unsigned nr_ranges;                      /* published after the range is filled */
static uint64_t open_pages[PAGE_GUARD_MAX_OPEN];   /* 0: free */
static hv_spinlock_t glock;                     /* open_pages, ranges */
static struct page_guard_stats st;
static bool overflow_open;                      /* a page was opened with the table full */
static uint32_t nr_open;                        /* entries of open_pages in use (+1 while overflow_open) */

bool hv_page_guard_any_open(void)
{
	return __atomic_load_n(&nr_open, __ATOMIC_ACQUIRE) != 0;
}

static bool in_ranges(uint64_t page)
{
	unsigned n = __atomic_load_n(&nr_ranges, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (page - ranges[i].gpa < ranges[i].size)
			return true;
	return false;
}

static bool is_open(uint64_t page)
{
	for (unsigned i = 0; i < PAGE_GUARD_MAX_OPEN; i++)
		if (__atomic_load_n(&open_pages[i], __ATOMIC_RELAXED) == page)
			return true;
	return false;
}

uint32_t page_guard_perms(uint64_t gpa)
{
	uint64_t page = gpa & ~0xfffULL;
	return in_ranges(page) && !is_open(page) ? (EPT_R | EPT_X) : EPT_RWX;
}

/* EPT violation on a guarded range: writes go to the subscriber, then open */
static int guard_fault(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct guard_range *r = ctx;
	struct vm *vm = v->vm;
	uint64_t page = x->page.gpa & ~0xfffULL;
	/* only writes (qualification bit 1, SDM Table 28-7) to pages that are ours */
	if (!(x->page.qual & 2) || probe_gpa_probed(page))
		return HV_ICPT_PASS;
	r->fn(v, x, r->ctx);
	hv_spin_lock(&glock);
	unsigned i;
	for (i = 0; i < PAGE_GUARD_MAX_OPEN && open_pages[i] && open_pages[i] != page; i++)
		;
	if (i < PAGE_GUARD_MAX_OPEN) {
		if (!open_pages[i]) {
			st.opens++;
			__atomic_add_fetch(&nr_open, 1, __ATOMIC_RELEASE);
		}
		open_pages[i] = page;
	} else {
		st.open_full++;
		if (!overflow_open)
			__atomic_add_fetch(&nr_open, 1, __ATOMIC_RELEASE);
		overflow_open = true;
	}
	hv_spin_unlock(&glock);
	hv_spin_lock(&vm->ept_lock);
	int rc = ept_set_perms_4k(&vm->ept, page, EPT_RWX);
	hv_spin_unlock(&vm->ept_lock);
	if (rc) {
		/* never fatal: the core's default reports it and the guest gets #GP */
		pr_err("page_guard: cannot open GPA %#lx: %s\n", (unsigned long)page, ept_strerror(rc));
		return HV_ICPT_PASS;
	}
	/* adding access needs no shootdown; the views copied this page's table
	 * when it shares a 2 MiB region with a probed page: rebuilt at this exit's end */
	probe_views_stale();
	invept_global();
	return HV_ICPT_DONE;            /* the write is retried on the open page */
}

static int protect(struct vm *vm, uint64_t page)
{
	hv_spin_lock(&vm->ept_lock);
	uint64_t before = vm->ept.tables;
	int rc = ept_set_perms_4k(&vm->ept, page, EPT_R | EPT_X);
	st.tables += vm->ept.tables - before;
	hv_spin_unlock(&vm->ept_lock);
	return rc;
}

long hv_page_guard(struct vm *vm, uint64_t gpa, uint64_t size, hv_icpt_fn fn, void *ctx)
{
	uint64_t t0 = rdtsc();
	uint64_t base = gpa & ~0xfffULL, end = (gpa + size + 0xfff) & ~0xfffULL;
	if (!fn || !size || end <= base)
		return -1;
	hv_spin_lock(&glock);
	if (nr_ranges >= PAGE_GUARD_MAX_RANGES) {
		hv_spin_unlock(&glock);
		pr_err("page_guard: table full (%u ranges)\n", PAGE_GUARD_MAX_RANGES);
		return -1;
	}
	struct guard_range *r = &ranges[nr_ranges];
	*r = (struct guard_range){ .gpa = base, .size = end - base, .fn = fn, .ctx = ctx };
	hv_spin_unlock(&glock);
	if (hv_intercept_gpa_range(vm, base, end - base, guard_fault, r))
		return -1;
	__atomic_store_n(&nr_ranges, nr_ranges + 1, __ATOMIC_RELEASE);
	long n = 0;
	for (uint64_t p = base; p < end; p += 4096) {
		if (!vm_is_guest_ram(vm, p, 4096) || probe_gpa_probed(p)) {
			st.skipped++;
			continue;
		}
		int rc = protect(vm, p);
		if (rc) {
			pr_err("page_guard: GPA %#lx: %s\n", (unsigned long)p, ept_strerror(rc));
			continue;
		}
		n++;
	}
	st.pages += (uint64_t)n;
	probe_views_stale();
	smp_ept_sync(vm);
	st.guard_ticks += rdtsc() - t0;
	return n;
}

static void close_page(struct vm *vm, uint64_t page)
{
	if (probe_gpa_probed(page))
		return;                         /* a probe took the page meanwhile: its entry */
	hv_spin_lock(&vm->ept_lock);
	int rc = ept_set_perms_4k(&vm->ept, page, EPT_R | EPT_X);
	hv_spin_unlock(&vm->ept_lock);
	if (rc)
		pr_err("page_guard: cannot protect GPA %#lx again: %s\n", (unsigned long)page, ept_strerror(rc));
}

void hv_page_guard_close(struct vm *vm, uint64_t gpa)
{
	uint64_t page = gpa & ~0xfffULL;
	bool found = false, all = false;
	hv_spin_lock(&glock);
	for (unsigned i = 0; i < PAGE_GUARD_MAX_OPEN; i++)
		if (open_pages[i] == page) {
			open_pages[i] = 0;
			found = true;
			st.closes++;
			__atomic_sub_fetch(&nr_open, 1, __ATOMIC_RELEASE);
		}
	all = overflow_open;
	if (all)
		__atomic_sub_fetch(&nr_open, 1, __ATOMIC_RELEASE);
	overflow_open = false;
	hv_spin_unlock(&glock);
	if (found)
		close_page(vm, page);
	if (all) {
		/* pages opened while the table was full are not known one by one:
		 * protect every guarded page that is not open again */
		for (unsigned i = 0; i < __atomic_load_n(&nr_ranges, __ATOMIC_ACQUIRE); i++)
			for (uint64_t p = ranges[i].gpa; p < ranges[i].gpa + ranges[i].size; p += 4096)
				if (!is_open(p) && vm_is_guest_ram(vm, p, 4096))
					close_page(vm, p);
	}
	if (found || all) {
		probe_views_stale();
		smp_ept_sync(vm);
	}
}

int hv_page_guard_restore(struct vm *vm, uint64_t gpa, const void *buf, uint32_t len)
{
	uint64_t page = gpa & ~0xfffULL;
	if (!len || len > 4096 || (gpa & 0xfff) + len > 4096 || !vm_is_guest_ram(vm, gpa, len))
		return -1;
	hv_spin_lock(&glock);
	bool ok = in_ranges(page) && !is_open(page) && !overflow_open;
	hv_spin_unlock(&glock);
	if (!ok || probe_gpa_probed(page))
		return -1;
	/* through hvmon's identity map, not the guest's EPT view: a CPU running
	 * this code sees the bytes change as under any cross-modifying write
	 * (SDM Vol. 3A 8.1.3); the guest made the change the same way */
	memcpy(hv_phys_to_ptr(gpa), buf, len);
	st.restores++;
	return 0;
}

unsigned hv_page_guard_open_pages(uint64_t *out, unsigned max)
{
	unsigned n = 0;
	hv_spin_lock(&glock);
	for (unsigned i = 0; i < PAGE_GUARD_MAX_OPEN && n < max; i++)
		if (open_pages[i])
			out[n++] = open_pages[i];
	if (overflow_open && n < max)
		out[n++] = ranges[0].gpa;       /* any guarded page: its close protects them all */
	hv_spin_unlock(&glock);
	return n;
}

void page_guard_get_stats(struct page_guard_stats *s)
{
	*s = st;
}
