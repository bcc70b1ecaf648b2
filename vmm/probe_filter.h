/*
 * probe_filter — "could this guest-physical page be probed?" without a lock
 * (issue 16, docs/PROBES.md "Guest reads in an exit"). Every kernel-stack write
 * hvmon makes (the emulated `push` of a probe hit, the tracer's return-address
 * swap) must refuse a probed page (its shadow would go stale), and the exact
 * answer is a scan of the page table under the probes' lock. The filter is a
 * 1 024-bit set keyed by a hash of the page number: a clear bit means "not
 * probed" (one load, no lock, any number of vCPUs); a set bit sends the caller
 * to the exact locked check (16 pages in 1 024 bits: ~1.6 % of other pages
 * collide). Pure and freestanding: host-tested by tests/unit/test_probe_filter.c.
 *
 * Writers are serialised by the caller (the probes' lock) and rebuild the whole
 * set from the table after every change of its pages. Each 64-bit word is
 * stored atomically, so a page present before and after a rebuild reads as
 * set throughout; a page added is seen once its word is stored — the same
 * window the locked check had (a writer that took the lock just before the
 * placement also wrote the unprobed page). Bits of removed pages go at the
 * next rebuild; a stale set bit only costs the exact check.
 */
#ifndef HVMON_PROBE_FILTER_H
#define HVMON_PROBE_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#define PROBE_FILTER_BITS  1024u
#define PROBE_FILTER_WORDS (PROBE_FILTER_BITS / 64u)

struct probe_filter {
	uint64_t w[PROBE_FILTER_WORDS];
};

/* Fibonacci hashing of the 4 KiB page number to 10 bits: neighbouring pages
 * (a kernel stack next to a text page) land far apart. */
static inline unsigned probe_filter_bit(uint64_t gpa)
{
	return (unsigned)(((gpa >> 12) * 0x9e3779b97f4a7c15ULL) >> 54);
}

/* false: @gpa's page is certainly not in the set; true: it may be */
static inline bool probe_filter_maybe(const struct probe_filter *f, uint64_t gpa)
{
	unsigned b = probe_filter_bit(gpa);
	return (__atomic_load_n(&f->w[b / 64u], __ATOMIC_ACQUIRE) >> (b % 64u)) & 1u;
}

/* Replace the set by the pages gpas[i] with used[i] (the probe table's pages);
 * the caller serialises rebuilds. */
static inline void probe_filter_build(struct probe_filter *f, const uint64_t *gpas,
				      const bool *used, unsigned n)
{
	uint64_t nw[PROBE_FILTER_WORDS] = { 0 };
	for (unsigned i = 0; i < n; i++)
		if (used[i]) {
			unsigned b = probe_filter_bit(gpas[i]);
			nw[b / 64u] |= 1ULL << (b % 64u);
		}
	for (unsigned i = 0; i < PROBE_FILTER_WORDS; i++)
		__atomic_store_n(&f->w[i], nw[i], __ATOMIC_RELEASE);
}

#endif
