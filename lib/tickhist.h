/*
 * tickhist — a fixed-size histogram of TSC tick counts for ring -1 statistics
 * that report a median (issue 16: "median ring -1 ticks per hit"), without
 * keeping the samples.
 *
 * Buckets are log-linear: values below 32 have a bucket each; above, every
 * power of two is cut into 16 equal buckets, so a bucket is at most 1/16 of
 * its lower bound wide and the median (the midpoint of the bucket holding the
 * middle sample) is within ±3.2 % of the exact median of the samples. Values
 * at or above 2^28 share the last bucket (its lower bound is reported).
 *
 * Adding is one atomic increment (several CPUs may record into one histogram
 * without a lock: a statistic, read only at power-off). Pure, freestanding,
 * host-tested (tests/unit/test_tickhist.c).
 */
#ifndef HVMON_LIB_TICKHIST_H
#define HVMON_LIB_TICKHIST_H

#include <stdint.h>

#define TICKHIST_SUB_BITS  4                          /* 16 buckets per power of two */
#define TICKHIST_SUB       (1u << TICKHIST_SUB_BITS)
#define TICKHIST_LINEAR    (2u * TICKHIST_SUB)        /* 0..31: one bucket per value */
#define TICKHIST_MAX_LOG2  28                         /* values >= 2^28: last bucket */
#define TICKHIST_BUCKETS   (TICKHIST_LINEAR + (TICKHIST_MAX_LOG2 - TICKHIST_SUB_BITS - 1) * TICKHIST_SUB + 1)

struct tickhist {
	uint32_t b[TICKHIST_BUCKETS];
};

static inline unsigned tickhist_bucket(uint64_t v)
{
	if (v < TICKHIST_LINEAR)
		return (unsigned)v;
	if (v >> TICKHIST_MAX_LOG2)
		return TICKHIST_BUCKETS - 1;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);          /* 5 .. 27 */
	unsigned sub = (unsigned)(v >> (e - TICKHIST_SUB_BITS)) & (TICKHIST_SUB - 1);
	return TICKHIST_LINEAR + (e - TICKHIST_SUB_BITS - 1) * TICKHIST_SUB + sub;
}

/* Lowest value of bucket @i and its width (the last bucket: width 0). */
static inline uint64_t tickhist_lower(unsigned i, uint64_t *width)
{
	if (i < TICKHIST_LINEAR) {
		*width = 1;
		return i;
	}
	if (i >= TICKHIST_BUCKETS - 1) {
		*width = 0;
		return 1ull << TICKHIST_MAX_LOG2;
	}
	unsigned k = i - TICKHIST_LINEAR, e = k / TICKHIST_SUB + TICKHIST_SUB_BITS + 1;
	*width = 1ull << (e - TICKHIST_SUB_BITS);
	return (1ull << e) + (uint64_t)(k % TICKHIST_SUB) * *width;
}

static inline void tickhist_add(struct tickhist *h, uint64_t v)
{
	__atomic_fetch_add(&h->b[tickhist_bucket(v)], 1, __ATOMIC_RELAXED);
}

/* Samples recorded (saturates at 2^32 - 1 per bucket's worth; statistics only). */
static inline uint64_t tickhist_count(const struct tickhist *h)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < TICKHIST_BUCKETS; i++)
		n += h->b[i];
	return n;
}

/* The @pct-th percentile (50 = median; 0 < pct < 100): the midpoint of the
 * bucket that holds the sample of rank ceil(n * pct / 100). 0 when empty. */
static inline uint64_t tickhist_percentile(const struct tickhist *h, unsigned pct)
{
	uint64_t n = tickhist_count(h), seen = 0;
	if (!n || pct == 0 || pct >= 100)
		return 0;
	uint64_t rank = (n * pct + 99) / 100;                       /* 1-based */
	for (unsigned i = 0; i < TICKHIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t w, lo = tickhist_lower(i, &w);
			return lo + w / 2;
		}
	}
	return 0;                                                   /* not reached */
}

static inline uint64_t tickhist_median(const struct tickhist *h)
{
	return tickhist_percentile(h, 50);
}

#endif
