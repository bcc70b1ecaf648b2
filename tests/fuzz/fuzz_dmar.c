/* libFuzzer target: the DMAR parser (drivers/vtd/dmar.c) on arbitrary bytes,
 * half of the inputs with length and checksum fixed up so the structure walk
 * is reached; CAP/ECAP and fault-record decoding; and the guest-domain builder
 * fed with the parsed RMRRs and fuzzed exclusions. Invariants: parse results
 * are bounded and aligned; every excluded page is unreachable; every RMRR page
 * outside the exclusions and inside the width is mapped read/write. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "drivers/vtd/dmar.h"
#include "drivers/vtd/vtd_domain.h"

#define POOL_PAGES 4096
#define POOL_PA    0x70000000ULL
static uint8_t *pool;
static uint32_t used;
static void *p_alloc(void *ctx, uint64_t *pa)
{
	if (used >= POOL_PAGES)
		return NULL;
	void *v = pool + (size_t)used * 4096;
	memset(v, 0, 4096);
	*pa = POOL_PA + (uint64_t)used++ * 4096;
	return v;
}
static void *p_p2v(void *ctx, uint64_t pa)
{
	return pa >= POOL_PA && pa < POOL_PA + (uint64_t)used * 4096 ? pool + (pa - POOL_PA) : NULL;
}

static struct dmar_info info;
static uint8_t buf[DMAR_TABLE_MAX + 64];

static void check_info(void)
{
	if (info.nr_drhd < 1 || info.nr_drhd > DMAR_MAX_DRHD || info.nr_rmrr > DMAR_MAX_RMRR)
		abort();
	for (uint32_t i = 0; i < info.nr_drhd; i++) {
		if (!info.drhd[i].base || (info.drhd[i].base & 0xfff) || info.drhd[i].nr_scopes > DMAR_MAX_SCOPES)
			abort();
		for (uint32_t k = 0; k < info.drhd[i].nr_scopes; k++)
			if (info.drhd[i].scopes[k].nr_path > DMAR_MAX_PATH)
				abort();
	}
	for (uint32_t i = 0; i < info.nr_rmrr; i++)
		if ((info.rmrr[i].base & 0xfff) || ((info.rmrr[i].limit + 1) & 0xfff) ||
		    info.rmrr[i].limit < info.rmrr[i].base)
			abort();
}

static void build_domain(const uint8_t *d, size_t n)
{
	struct vtd_caps c;
	struct vtd_domain dom;
	struct vtd_range ex[4];
	const char *why;
	uint64_t cap = 0x00d2008c22260206ULL;
	if (n < 40)
		return;
	if (d[0] & 1)
		cap = 0x00d2008c222f0686ULL;
	if (d[0] & 2)
		cap &= ~(3ULL << 34);             /* no large pages */
	if (vtd_caps_decode(cap, 0xf00f4a, 4096, &c, &why))
		abort();
	for (int i = 0; i < 4; i++) {
		uint64_t b, l;
		memcpy(&b, d + 8 + 8 * i, 4);
		memcpy(&l, d + 12 + 8 * i, 4);
		b &= 0xffffffffULL;
		l &= 0xffffffULL;
		ex[i] = (struct vtd_range){ b, b + l, "x" };
	}
	used = 0;
	if (vtd_guest_domain_build(&dom, &(struct ept_alloc){ NULL, p_alloc, p_p2v }, &c,
				   (uint64_t)(d[1] & 3) << 28, ex, 4, &info, &why))
		return;                                /* pool exhausted: a clean error */
	for (int i = 0; i < 4; i++) {
		if (ex[i].end == ex[i].base)
			continue;
		if (vtd_domain_access(&dom, ex[i].base) || vtd_domain_access(&dom, ex[i].end - 1))
			abort();
	}
	for (uint32_t i = 0; i < info.nr_rmrr; i++) {
		uint64_t a = info.rmrr[i].base;
		bool excluded = false;
		for (int k = 0; k < 4; k++)
			if (ex[k].end > ex[k].base && a < ((ex[k].end + 0xfff) & ~0xfffULL) && a >= (ex[k].base & ~0xfffULL))
				excluded = true;
		if (!excluded && a < c.limit && vtd_domain_access(&dom, a) != 3)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	if (!pool)
		pool = aligned_alloc(4096, (size_t)POOL_PAGES * 4096);
	if (size < 1 || size > DMAR_TABLE_MAX)
		return 0;
	size_t n = size - 1;
	memcpy(buf, data + 1, n);
	if ((data[0] & 1) && n >= 48) {            /* fix up signature, length, checksum */
		uint32_t l = (uint32_t)n;
		memcpy(buf, "DMAR", 4);
		memcpy(buf + 4, &l, 4);
		buf[9] = 0;
		uint8_t s = 0;
		for (size_t i = 0; i < n; i++)
			s += buf[i];
		buf[9] = (uint8_t)-s;
	}
	if (dmar_parse(buf, n, &info, &why) == 0) {
		check_info();
		if (data[0] & 2)
			build_domain(data, size);
	} else if (!why) {
		abort();
	}
	if (size >= 16) {
		struct vtd_caps c;
		struct vtd_fault f;
		uint64_t a, b;
		memcpy(&a, data, 8);
		memcpy(&b, data + 8, 8);
		if (vtd_caps_decode(a, b, 4096, &c, &why) == 0 &&
		    ((c.levels != 3 && c.levels != 4) || c.fro + 16ULL * c.nfr > 4096 || c.limit > (1ULL << 48)))
			abort();
		if (vtd_fault_decode(a, b, &f) && (f.addr & 0xfff))
			abort();
		(void)vtd_fault_reason_name(f.reason);
	}
	return 0;
}
