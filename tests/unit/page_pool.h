/*
 * A pool of 4 KiB pages with fake physical addresses POOL_PA + i * 4 KiB, for
 * host tests of code that builds paging structures through struct ept_alloc
 * (vmm/ept_map.h): EPT (test_ept_map) and VT-d second-level tables (test_vtd).
 * One static pool per test binary: pool_reset(n) before a test, pool_free()
 * in its teardown.
 */
#ifndef HVMON_TESTS_PAGE_POOL_H
#define HVMON_TESTS_PAGE_POOL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/ept_map.h"

#define POOL_PA 0x70000000ULL

struct pool { uint8_t *mem; uint32_t n, used; };
static struct pool pool;

/* ept_alloc.alloc: a zeroed page, or NULL once the pool is exhausted */
static void *pool_alloc(void *ctx, uint64_t *pa)
{
	struct pool *p = ctx;
	if (p->used >= p->n)
		return NULL;
	void *va = p->mem + (size_t)p->used * 4096;
	memset(va, 0, 4096);
	*pa = POOL_PA + (uint64_t)p->used * 4096;
	p->used++;
	return va;
}

/* ept_alloc.p2v: only page-aligned addresses of pages handed out */
static void *pool_p2v(void *ctx, uint64_t pa)
{
	struct pool *p = ctx;
	if (pa < POOL_PA || pa >= POOL_PA + (uint64_t)p->used * 4096 || (pa & 0xfff))
		return NULL;
	return p->mem + (pa - POOL_PA);
}

static struct ept_alloc alloc = { &pool, pool_alloc, pool_p2v };

static void pool_reset(uint32_t n)
{
	free(pool.mem);
	pool.mem = aligned_alloc(4096, (size_t)n * 4096);
	pool.n = n;
	pool.used = 0;
}

static void pool_free(void)
{
	free(pool.mem);
	pool.mem = NULL;
}

#endif
