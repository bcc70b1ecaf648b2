/* Unit tests for drivers/vtd/dmar.c and drivers/vtd/vtd_domain.c: the DMAR
 * parser on QEMU 7.2 q35's real tables (tests/unit/fixtures/, dumped by
 * iommu_selftest=on) and on malformed/truncated ones, CAP/ECAP decoding, the
 * fault-record decoder, the flood limiter, root/context entries, and the
 * second-level table builder checked by an independent walker with the VT-d
 * rules (spec 9.8: R/W bits, PS at levels 2-3, 3 or 4 levels). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>

#include "drivers/vtd/dmar.h"
#include "drivers/vtd/vtd_domain.h"
#include "events/event.h"

#define MB (1024ULL * 1024)
#define GB (1024ULL * MB)

/* ---- fixtures ---- */
static size_t load_hex(const char *name, uint8_t *buf, size_t max)
{
	char path[256];
	const char *top = getenv("HV_TOP");
	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/%s", top ? top : ".", name);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(path, sizeof(path), "%s/../../../tests/unit/fixtures/%s", top ? top : ".", name);
		f = fopen(path, "r");
	}
	assert_non_null(f);
	size_t n = 0;
	int hi = -1, c;
	while ((c = fgetc(f)) != EOF && n < max) {
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			buf[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	return n;
}

static struct dmar_info info;

static void test_qemu_q35_fixture(void **st)
{
	uint8_t t[512];
	const char *why = NULL;
	for (int aw = 39; aw <= 48; aw += 9) {
		char name[64];
		snprintf(name, sizeof(name), "qemu72-q35-dmar-aw%d.hex", aw);
		size_t n = load_hex(name, t, sizeof(t));
		assert_int_equal(n, 120);
		assert_int_equal(dmar_parse(t, n, &info, &why), 0);
		assert_int_equal(info.haw, aw);
		assert_true(info.flags & DMAR_F_INTR_REMAP);
		assert_int_equal(info.nr_drhd, 1);
		assert_int_equal(info.nr_rmrr, 0);
		assert_int_equal(info.drhd[0].base, 0xfed90000ULL);
		assert_int_equal(info.drhd[0].segment, 0);
		assert_false(info.drhd[0].flags & DRHD_F_INCLUDE_PCI_ALL);
		assert_int_equal(info.drhd[0].nr_scopes, 7);
		assert_int_equal(info.drhd[0].scopes[0].type, DMAR_SCOPE_IOAPIC);
		assert_int_equal(info.drhd[0].scopes[0].bus, 0xff);
		assert_int_equal(info.drhd[0].scopes[1].type, DMAR_SCOPE_ENDPOINT);
		assert_int_equal(info.drhd[0].scopes[3].nr_path, 1);
		assert_int_equal(info.drhd[0].scopes[3].path[0][0], 2);     /* edu at 00:02.0 */
		assert_int_equal(info.drhd[0].scopes[6].path[0][0], 0x1f);
		assert_int_equal(info.drhd[0].scopes[6].path[0][1], 3);
		/* every truncation is refused, never read beyond */
		for (size_t l = 0; l < n; l++) {
			uint8_t *c = malloc(l ? l : 1);
			memcpy(c, t, l);
			why = NULL;
			assert_int_equal(dmar_parse(c, l, &info, &why), -1);
			assert_non_null(why);
			free(c);
		}
	}
}

/* ---- synthetic tables ---- */
struct tb { uint8_t b[2048]; size_t n; };
static void tb_hdr(struct tb *t, uint8_t haw, uint8_t flags)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "DMAR", 4);
	t->b[8] = 1;
	t->b[36] = (uint8_t)(haw - 1);
	t->b[37] = flags;
	t->n = 48;
}
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint8_t *tb_add(struct tb *t, uint16_t type, uint16_t len)
{
	uint8_t *p = t->b + t->n;
	put16(p, type);
	put16(p + 2, len);
	t->n += len;
	return p;
}
static void tb_drhd(struct tb *t, uint8_t flags, uint64_t base, int nscopes)
{
	uint8_t *p = tb_add(t, 0, (uint16_t)(16 + 8 * nscopes));
	p[4] = flags;
	put64(p + 8, base);
	for (int i = 0; i < nscopes; i++) {
		uint8_t *s = p + 16 + 8 * i;
		s[0] = DMAR_SCOPE_ENDPOINT; s[1] = 8; s[5] = 0; s[6] = (uint8_t)i; s[7] = 0;
	}
}
static void tb_rmrr(struct tb *t, uint64_t base, uint64_t limit)
{
	uint8_t *p = tb_add(t, 1, 24 + 8);
	put64(p + 8, base);
	put64(p + 16, limit);
	uint8_t *s = p + 24;
	s[0] = DMAR_SCOPE_ENDPOINT; s[1] = 8; s[5] = 0; s[6] = 0x14; s[7] = 0;
}
static void tb_fin(struct tb *t)
{
	uint32_t l = (uint32_t)t->n;
	memcpy(t->b + 4, &l, 4);
	t->b[9] = 0;
	uint8_t s = 0;
	for (size_t i = 0; i < t->n; i++)
		s += t->b[i];
	t->b[9] = (uint8_t)-s;
}
static int tb_parse(struct tb *t, const char **why)
{
	*why = NULL;
	return dmar_parse(t->b, t->n, &info, why);
}

static void test_synthetic_and_malformed(void **st)
{
	struct tb t;
	const char *why;
	/* INCLUDE_PCI_ALL unit + an RMRR + an unknown structure (skipped) */
	tb_hdr(&t, 46, 0);
	tb_drhd(&t, DRHD_F_INCLUDE_PCI_ALL, 0xfed91000, 0);
	tb_rmrr(&t, 0x7c000000, 0x7c7fffff);
	tb_add(&t, 3, 16);                              /* RHSA */
	tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), 0);
	assert_int_equal(info.nr_drhd, 1);
	assert_true(info.drhd[0].flags & DRHD_F_INCLUDE_PCI_ALL);
	assert_int_equal(info.nr_rmrr, 1);
	assert_int_equal(info.rmrr[0].base, 0x7c000000);
	assert_int_equal(info.rmrr[0].limit, 0x7c7fffff);
	assert_int_equal(info.rmrr[0].nr_scopes, 1);
	assert_int_equal(info.rmrr[0].scopes[0].path[0][0], 0x14);
	assert_int_equal(info.other, 1);

	/* bad checksum */
	t.b[60] ^= 1;
	assert_int_equal(tb_parse(&t, &why), -1);
	assert_string_equal(why, "DMAR: bad checksum");
	/* bad signature */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90000, 0); tb_fin(&t);
	t.b[0] = 'X'; assert_int_equal(tb_parse(&t, &why), -1);
	/* header length beyond the buffer */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90000, 0); tb_fin(&t);
	t.n -= 1; assert_int_equal(tb_parse(&t, &why), -1);
	assert_string_equal(why, "DMAR: header length beyond the table");
	/* structure length 0 (would loop forever) */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90000, 0); put16(t.b + 50, 0); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* structure longer than the table */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90000, 0); put16(t.b + 50, 200); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* DRHD shorter than 16 */
	tb_hdr(&t, 39, 0); tb_add(&t, 0, 12); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* unaligned / zero base */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90800, 0); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0, 0); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* device scope of length 0 and of odd path length */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 0, 0xfed90000, 1); t.b[48 + 16 + 1] = 0; tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	assert_string_equal(why, "DMAR: bad device scope length");
	tb_hdr(&t, 39, 0); tb_drhd(&t, 0, 0xfed90000, 1); t.b[48 + 16 + 1] = 7; tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* inverted and unaligned RMRRs */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90000, 0); tb_rmrr(&t, 0x2000, 0xfff); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	tb_hdr(&t, 39, 0); tb_drhd(&t, 1, 0xfed90000, 0); tb_rmrr(&t, 0x2000, 0x2ffe); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* no unit at all */
	tb_hdr(&t, 39, 0); tb_rmrr(&t, 0x2000, 0x2fff); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	assert_string_equal(why, "DMAR: no remapping unit (DRHD)");
	/* too many units: clear error */
	tb_hdr(&t, 39, 0);
	for (int i = 0; i < DMAR_MAX_DRHD + 1; i++)
		tb_drhd(&t, 0, 0xfed90000 + 0x1000ULL * i, 0);
	tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), -1);
	/* more scopes than kept: counted */
	tb_hdr(&t, 39, 0); tb_drhd(&t, 0, 0xfed90000, DMAR_MAX_SCOPES + 3); tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), 0);
	assert_int_equal(info.drhd[0].nr_scopes, DMAR_MAX_SCOPES);
	assert_int_equal(info.drhd[0].scopes_dropped, 3);
	/* NULL / tiny */
	assert_int_equal(dmar_parse(NULL, 100, &info, &why), -1);
	assert_int_equal(dmar_parse(t.b, 10, &info, &why), -1);
}

static void test_caps(void **st)
{
	struct vtd_caps c;
	const char *why = NULL;
	/* QEMU 7.2 q35 intel-iommu, aw-bits=39 (PLATFORM.md) */
	assert_int_equal(vtd_caps_decode(0x00d2008c22260206ULL, 0xf00f4a, 4096, &c, &why), 0);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.aw, 1);
	assert_int_equal(c.mgaw, 39);
	assert_int_equal(c.limit, 1ULL << 39);
	assert_int_equal(c.fro, 0x220);
	assert_int_equal(c.nfr, 1);
	assert_int_equal(c.iro, 0xf0);
	assert_true(c.qi);
	assert_true(c.ir);
	assert_true(c.pt);
	assert_false(c.eim);
	assert_false(c.coherent);
	assert_false(c.cm);
	assert_true(c.psi);
	assert_int_equal(c.large, EPT_CAP_2M | EPT_CAP_1G);
	/* aw-bits=48, caching-mode=on */
	assert_int_equal(vtd_caps_decode(0x00d2008c222f0686ULL, 0xf00f4a, 4096, &c, &why), 0);
	assert_int_equal(c.levels, 4);
	assert_int_equal(c.aw, 2);
	assert_int_equal(c.mgaw, 48);
	assert_int_equal(c.limit, 1ULL << 48);
	assert_true(c.cm);
	/* 4-level offered but MGAW 40: limit is the MGAW */
	assert_int_equal(vtd_caps_decode((0x4ULL << 8) | (39ULL << 16) | (0x22ULL << 24), 0xf00, 4096, &c, &why), 0);
	assert_int_equal(c.limit, 1ULL << 40);
	assert_int_equal(c.large, 0);
	/* only 5-level: refused */
	assert_int_equal(vtd_caps_decode((0x8ULL << 8) | (0x22ULL << 24), 0xf00, 4096, &c, &why), -1);
	/* fault registers or IOTLB registers beyond the register page */
	assert_int_equal(vtd_caps_decode((0x2ULL << 8) | (0x3ffULL << 24), 0xf00, 4096, &c, &why), -1);
	assert_int_equal(vtd_caps_decode((0x2ULL << 8) | (0x22ULL << 24), 0x3ff00, 4096, &c, &why), -1);
	assert_int_equal(vtd_caps_decode((0x2ULL << 8) | (0x22ULL << 24), 0, 4096, &c, &why), -1);
}

static void test_fault_decode(void **st)
{
	struct vtd_fault f;
	char s[8];
	/* write fault, reason 5, source 00:02.0 (QEMU sets T only for reads) */
	uint64_t hi = (1ULL << 63) | (5ULL << 32) | 0x0010;
	assert_true(vtd_fault_decode(0x1dc97123, hi, &f));
	assert_int_equal(f.addr, 0x1dc97000);
	assert_int_equal(f.sid, 0x10);
	assert_true(f.write);
	assert_int_equal(f.reason, 5);
	vtd_sid_format(f.sid, s);
	assert_string_equal(s, "00:02.0");
	assert_true(vtd_fault_decode(0x1000, (hi & ~0xffffULL) | (1ULL << 62) | 0xff07, &f));
	assert_false(f.write);
	assert_int_equal(f.reason, 5 | 1);
	vtd_sid_format(f.sid, s);
	assert_string_equal(s, "ff:00.7");
	vtd_sid_format(0x3a9a, s);
	assert_string_equal(s, "3a:13.2");
	assert_false(vtd_fault_decode(0x1000, hi & ~(1ULL << 63), &f));
	assert_string_equal(vtd_fault_reason_name(6), "read of a page not readable (or not mapped)");
	assert_string_equal(vtd_fault_reason_name(0), "other");
	assert_string_equal(vtd_fault_reason_name(0xff), "other");
}

/* the dma_fault event as JSON (docs/EVENTS.md, a contract) */
static void test_dma_fault_json(void **st)
{
	struct hv_event ev;
	char buf[HV_EVENT_JSON_MAX];
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_DMA_FAULT;
	ev.hdr.monitor = HV_EMON_CORE;
	ev.hdr.tsc = 42;
	ev.u.dma_fault.source = 0x3a9a;
	ev.u.dma_fault.write = 1;
	ev.u.dma_fault.reason = 5;
	ev.u.dma_fault.addr = 0x1dc97000;
	ev.u.dma_fault.unit = 0;
	ev.u.dma_fault.suppressed = 3;
	assert_true(hv_event_to_json(&ev, NULL, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "{\"event\":\"dma_fault\",\"cpu\":0,\"tsc\":42,\"monitor\":\"hvmon\","
			    "\"source\":\"3a:13.2\",\"address\":\"0x1dc97000\",\"access\":\"write\","
			    "\"reason\":5,\"unit\":0,\"suppressed\":3}\n");
	ev.u.dma_fault.write = 0;
	ev.u.dma_fault.source = 0xff07;
	assert_true(hv_event_to_json(&ev, NULL, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"source\":\"ff:00.7\",\"address\":\"0x1dc97000\",\"access\":\"read\""));
	assert_int_equal(hv_event_type_from_name("dma_fault"), HV_EV_DMA_FAULT);
}

static void test_ratelimit(void **st)
{
	struct vtd_ratelimit r = { .window_ticks = 1000, .per_window = 20 };
	uint64_t skipped = 99;
	unsigned allowed = 0;
	for (int i = 0; i < 25; i++)
		allowed += vtd_ratelimit_allow(&r, 5000 + i, &skipped);
	assert_int_equal(allowed, 20);
	assert_int_equal(r.suppressed, 5);
	assert_true(vtd_ratelimit_allow(&r, 6100, &skipped));   /* next window */
	assert_int_equal(skipped, 5);
	assert_true(vtd_ratelimit_allow(&r, 6101, &skipped));
	assert_int_equal(skipped, 0);
	/* a flood of a million faults costs O(1) each and is all counted */
	for (int i = 0; i < 1000000; i++)
		vtd_ratelimit_allow(&r, 10000 + (uint64_t)i, &skipped);   /* 1000 faults per window */
	assert_int_equal(r.suppressed, 5 + 1000000 - 20 * 1000);
}

static void test_root_ctx(void **st)
{
	uint64_t root[512] = { 0 }, ctx[512] = { 0 };
	vtd_root_set(root, 3, 0x12345000);
	assert_int_equal(root[6], 0x12345001);
	assert_int_equal(root[7], 0);
	vtd_ctx_set(ctx, 0x10, 0xabcde000, 2, 1);
	assert_int_equal(ctx[0x20], 0xabcde001);     /* P, TT = 00 */
	assert_int_equal(ctx[0x21], 2 | (1 << 8));   /* AW = 2 (48-bit), DID 1 */
	vtd_ctx_set(ctx, 0xff, 0xabcde000, 1, 0xffff);
	assert_int_equal(ctx[0x1ff], 1 | (0xffffULL << 8));
}

/* ---- table builder ---- */
#include "tests/unit/page_pool.h"

/* What the remapping hardware would do (spec 3.6, 9.8): walk from root_pa,
 * `levels` levels, R/W bits, PS at levels 2 and 3. Returns R|W of the leaf
 * (0 = fault) and checks the translation is 1:1 and no reserved bit is set. */
static uint32_t vtd_walk(const struct vtd_domain *d, unsigned mgaw, uint64_t addr)
{
	uint64_t pa = d->root_pa;
	if (addr >> (12 + 9 * d->levels))
		return 0;
	for (int lvl = d->levels; lvl >= 1; lvl--) {
		uint64_t *t = pool_p2v(&pool, pa);
		assert_non_null(t);
		uint64_t e = t[(addr >> (12 + 9 * (lvl - 1))) & 511];
		if (!(e & 3))
			return 0;
		assert_int_equal(e & (1ULL << 11), 0);                    /* SNP: reserved without SC */
		assert_int_equal(e & ~0xfff0000000000fffULL & ~((1ULL << mgaw) - 1), 0);
		bool leaf = lvl == 1 || (e & (1ULL << 7));
		if (leaf) {
			assert_true(lvl <= 3);
			uint64_t size = 1ULL << (12 + 9 * (lvl - 1));
			assert_int_equal((e & 0x000ffffffffff000ULL & ~(size - 1)) + (addr & (size - 1)), addr);
			assert_int_equal(e & 0x78, 0);                     /* no memory-type / IPAT bits */
			return (uint32_t)(e & 3);
		}
		pa = e & 0x000ffffffffff000ULL;
	}
	return 0;
}

static void check_range(const struct vtd_domain *d, unsigned mgaw, uint64_t b, uint64_t e, uint32_t want)
{
	for (uint64_t a = b; a < e; a += 4096)
		if (vtd_walk(d, mgaw, a) != want) {
			fprintf(stderr, "address %#llx: want %u\n", (unsigned long long)a, want);
			fail();
		}
}

static void build_and_check(uint64_t cap, unsigned levels, unsigned mgaw)
{
	struct vtd_caps c;
	struct vtd_domain d;
	const char *why = NULL;
	struct tb t;
	assert_int_equal(vtd_caps_decode(cap, 0xf00f4a, 4096, &c, &why), 0);
	assert_int_equal(c.levels, levels);
	tb_hdr(&t, 39, 0);
	tb_drhd(&t, 1, 0xfed90000, 0);
	tb_rmrr(&t, 0x7c000000, 0x7c7fffff);          /* inside the span */
	tb_rmrr(&t, 0x1c0000000ULL, 0x1c00fffffULL);   /* above top (5 GiB): mapped explicitly */
	tb_rmrr(&t, 0x1dd00000, 0x1dd0ffff);           /* overlaps hvmon: hvmon wins */
	tb_fin(&t);
	assert_int_equal(tb_parse(&t, &why), 0);
	struct vtd_range excl[] = {
		{ 0x1dc00000, 0x1fd05000, "hvmon image+heap" },
		{ 0xfed90000, 0xfed91000, "VT-d registers" },
		{ 0xfebc0123, 0xfebc0456, "unaligned NIC BAR" },
	};
	pool_reset(512);
	assert_int_equal(vtd_guest_domain_build(&d, &alloc, &c, 4 * GB + 12345, excl, 3, &info, &why), 0);
	assert_int_equal(d.levels, levels);
	assert_int_equal(d.rmrr_mapped, 3);
	assert_int_equal(d.rmrr_conflicts, 1);
	assert_int_equal(d.top, 4 * GB + 16384);
	/* hvmon's ranges absent (every page), their neighbours present */
	check_range(&d, mgaw, 0x1dc00000, 0x1fd05000, 0);
	check_range(&d, mgaw, 0xfed90000, 0xfed91000, 0);
	check_range(&d, mgaw, 0xfebc0000, 0xfebc1000, 0);
	check_range(&d, mgaw, 0x1dbff000, 0x1dc00000, 3);
	check_range(&d, mgaw, 0x1fd05000, 0x1fd06000, 3);
	check_range(&d, mgaw, 0xfebbf000, 0xfebc0000, 3);
	/* guest RAM present (below and above the hole), read and write */
	check_range(&d, mgaw, 0, 16 * MB, 3);
	check_range(&d, mgaw, 0x20000000, 0x20400000, 3);
	check_range(&d, mgaw, 4 * GB, 4 * GB + 16384, 3);
	assert_int_equal(vtd_walk(&d, mgaw, 4 * GB + 16384), 0);
	/* RMRRs present */
	check_range(&d, mgaw, 0x7c000000, 0x7c800000, 3);
	check_range(&d, mgaw, 0x1c0000000ULL, 0x1c0100000ULL, 3);
	assert_int_equal(vtd_walk(&d, mgaw, 0x1c0100000ULL), 0);
	assert_int_equal(vtd_domain_access(&d, 0x1dd00000), 0);
	assert_int_equal(vtd_domain_access(&d, 0x7c000000), 3);
	/* remove one page, put it back */
	assert_int_equal(vtd_domain_unmap(&d, 0x2002000, 4096), 0);
	assert_int_equal(vtd_walk(&d, mgaw, 0x2002000), 0);
	assert_int_equal(vtd_walk(&d, mgaw, 0x2001000), 3);
	assert_int_equal(vtd_walk(&d, mgaw, 0x2003000), 3);
	assert_int_equal(vtd_domain_map(&d, 0x2002000, 4096), 0);
	assert_int_equal(vtd_walk(&d, mgaw, 0x2002000), 3);
	/* large pages where the unit allows them: few tables */
	assert_true(d.pt.tables < 40);

	/* the management NIC's domain: only its buffers */
	struct vtd_range nic = { 0x1dc81000, 0x1dca9800, "NIC" };
	struct vtd_domain n;
	assert_int_equal(vtd_only_domain_build(&n, &alloc, &c, &nic, 1, &why), 0);
	check_range(&n, mgaw, 0x1dc81000, 0x1dcaa000, 3);
	assert_int_equal(vtd_walk(&n, mgaw, 0x1dc80000), 0);
	assert_int_equal(vtd_walk(&n, mgaw, 0x1dcaa000), 0);
	assert_int_equal(vtd_walk(&n, mgaw, 0x2000000), 0);
	assert_int_equal(vtd_walk(&n, mgaw, 0), 0);
}

static void test_domain_4level(void **st) { build_and_check(0x00d2008c222f0686ULL, 4, 48); }
static void test_domain_3level(void **st) { build_and_check(0x00d2008c22260206ULL, 3, 39); }

static void test_domain_small_pages_and_limits(void **st)
{
	struct vtd_caps c;
	struct vtd_domain d;
	const char *why = NULL;
	/* 3-level, no large pages, MGAW 39: 4 GiB in 4 KiB pages = 2048 tables + 4 PDs */
	assert_int_equal(vtd_caps_decode((0x2ULL << 8) | (38ULL << 16) | (0x22ULL << 24), 0xf00, 4096, &c, &why), 0);
	assert_int_equal(c.large, 0);
	pool_reset(2100);
	assert_int_equal(vtd_guest_domain_build(&d, &alloc, &c, 4 * GB, NULL, 0, NULL, &why), 0);
	check_range(&d, 39, 0x1000000, 0x1100000, 3);
	assert_int_equal(vtd_walk(&d, 39, 4 * GB), 0);
	/* span beyond the unit's width: clipped to it */
	pool_reset(64);
	assert_int_equal(vtd_caps_decode(0x00d2008c22260206ULL, 0xf00f4a, 4096, &c, &why), 0);
	assert_int_equal(vtd_guest_domain_build(&d, &alloc, &c, 1ULL << 41, NULL, 0, NULL, &why), 0);
	assert_int_equal(d.top, 1ULL << 39);
	/* NIC range beyond the width: refused */
	struct vtd_range far = { 1ULL << 40, (1ULL << 40) + 4096, "far" };
	assert_int_equal(vtd_only_domain_build(&d, &alloc, &c, &far, 1, &why), EPT_ERR_INVAL);
	/* allocator exhausted: an error, no crash */
	pool_reset(1);
	assert_int_not_equal(vtd_guest_domain_build(&d, &alloc, &c, 4 * GB, NULL, 0, NULL, &why), 0);
	assert_non_null(why);
}

static int teardown(void **st) { (void)st; pool_free(); return 0; }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_q35_fixture),
		cmocka_unit_test(test_synthetic_and_malformed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_fault_decode),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_dma_fault_json),
		cmocka_unit_test(test_root_ctx),
		cmocka_unit_test(test_domain_4level),
		cmocka_unit_test(test_domain_3level),
		cmocka_unit_test(test_domain_small_pages_and_limits),
	};
	return cmocka_run_group_tests_name("vtd", tests, NULL, teardown);
}
