/* Unit tests for vmm/ept_map.c: EPT construction into host buffers (fake
 * physical addresses), checked by an independent hardware-semantics walker and
 * a page-granular model; MTRR type resolution; EPTP. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/ept_map.h"

#define KB 1024ULL
#define MB (1024ULL * KB)
#define GB (1024ULL * MB)

/* ---- page pool: fake physical addresses 0x7000_0000 + i * 4K ---- */
#include "tests/unit/page_pool.h"

static int teardown(void **st) { (void)st; pool_free(); return 0; }

/* Independent walker with the CPU's rules (SDM 29.3.2): returns 0 = not present
 * (RWX == 0 on any level), else fills hpa/perms/mt/size. */
struct hw { uint64_t hpa, size; uint32_t perms; uint8_t mt; };
static int hw_walk(const struct ept *e, uint64_t gpa, struct hw *out)
{
	uint64_t table_pa = e->pml4_pa;
	for (int level = 4; level >= 1; level--) {
		const uint64_t *t = pool_p2v(&pool, table_pa);
		assert_non_null(t);
		uint64_t ent = t[(gpa >> (12 + 9 * (level - 1))) & 511];
		if (!(ent & 7))
			return 0;
		bool leaf = level == 1 || (level < 4 && (ent & (1ULL << 7)));
		assert_false(level == 4 && (ent & (1ULL << 7)));   /* PS reserved in PML4E */
		if (!leaf) {
			assert_int_equal(ent & 0x78, 0);               /* no memtype/IPAT on tables */
			table_pa = ent & 0x000ffffffffff000ULL;
			continue;
		}
		uint64_t size = 1ULL << (12 + 9 * (level - 1));
		assert_int_equal(ent & 0x000ffffffffff000ULL & (size - 1), 0);   /* large page aligned */
		out->size = size;
		out->hpa = (ent & 0x000ffffffffff000ULL & ~(size - 1)) | (gpa & (size - 1));
		out->perms = ent & 7;
		out->mt = (ent >> 3) & 7;
		return 1;
	}
	return 0;
}

static void test_caps_and_eptp(void **st)
{
	(void)st;
	uint32_t c = ept_caps_from_msr((1ULL << 6) | (1ULL << 14) | (1ULL << 16) | (1ULL << 17) | (1ULL << 21));
	assert_int_equal(c, EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_AD);
	assert_int_equal(ept_caps_from_msr(1), EPT_CAP_EXEC_ONLY);
	assert_int_equal(ept_eptp(0x1234000, false), 0x1234000 | 6 | (3 << 3));
	assert_int_equal(ept_eptp(0x1234000, true), 0x1234000 | 6 | (3 << 3) | (1 << 6));
}

static void test_identity_large_pages(void **st)
{
	(void)st;
	struct ept e;
	struct ept_lookup l;
	pool_reset(64);
	assert_int_equal(ept_init(&e, &alloc, EPT_CAP_1G | EPT_CAP_2M), EPT_OK);
	assert_int_equal(ept_map_identity(&e, 0, 4 * GB, EPT_RWX, MT_WB), EPT_OK);
	assert_int_equal(e.tables, 2);              /* PML4 + one PDPT: four 1 GiB leaves */
	assert_int_equal(ept_lookup(&e, 3 * GB + 0x1234, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_1G);
	assert_int_equal(l.hpa, 3 * GB + 0x1234);
	assert_int_equal(l.memtype, MT_WB);
	assert_int_equal(l.perms, EPT_RWX);
	assert_int_equal(ept_lookup(&e, 4 * GB, &l), EPT_ERR_NOT_MAPPED);

	/* 2 MiB only: 3 MiB + 4 KiB at 0 -> one 2M leaf, then 257 4K leaves */
	pool_reset(64);
	assert_int_equal(ept_init(&e, &alloc, EPT_CAP_2M), EPT_OK);
	assert_int_equal(ept_map_identity(&e, 0, 3 * MB + 4 * KB, EPT_R | EPT_W, MT_UC), EPT_OK);
	assert_int_equal(ept_lookup(&e, 1 * MB, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_2M);
	assert_int_equal(ept_lookup(&e, 3 * MB, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_4K);
	assert_int_equal(l.perms, EPT_R | EPT_W);
	assert_int_equal(ept_lookup(&e, 3 * MB + 4 * KB, &l), EPT_ERR_NOT_MAPPED);
	assert_int_equal(e.tables, 4);              /* PML4, PDPT, PD, PT */

	/* no large-page caps: all 4K even when aligned */
	pool_reset(64);
	assert_int_equal(ept_init(&e, &alloc, 0), EPT_OK);
	assert_int_equal(ept_map_identity(&e, 2 * MB, 2 * MB, EPT_RWX, MT_WB), EPT_OK);
	assert_int_equal(ept_lookup(&e, 2 * MB, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_4K);

	/* gpa aligned but hpa not: no large page */
	pool_reset(64);
	assert_int_equal(ept_init(&e, &alloc, EPT_CAP_2M | EPT_CAP_1G), EPT_OK);
	assert_int_equal(ept_map(&e, 2 * MB, 5 * MB + 4 * KB, 2 * MB, EPT_RWX, MT_WB), EPT_OK);
	assert_int_equal(ept_lookup(&e, 3 * MB, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_4K);
	assert_int_equal(l.hpa, 6 * MB + 4 * KB);
}

static void test_split_perms_remap_unmap(void **st)
{
	(void)st;
	struct ept e;
	struct ept_lookup l;
	struct hw h;
	pool_reset(64);
	assert_int_equal(ept_init(&e, &alloc, EPT_CAP_1G | EPT_CAP_2M | EPT_CAP_EXEC_ONLY), EPT_OK);
	assert_int_equal(ept_map_identity(&e, 0, 2 * GB, EPT_RWX, MT_WB), EPT_OK);
	uint64_t g = 1 * GB + 6 * MB + 0x5000;
	assert_int_equal(ept_set_perms_4k(&e, g, EPT_X), EPT_OK);       /* execute-only view */
	assert_int_equal(ept_lookup(&e, g + 0x10, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_4K);
	assert_int_equal(l.perms, EPT_X);
	assert_int_equal(l.hpa, g + 0x10);
	assert_int_equal(l.memtype, MT_WB);
	/* neighbours keep their mapping; the other 2M pages of that 1G stay 2M */
	assert_int_equal(ept_lookup(&e, g + 0x1000, &l), EPT_OK);
	assert_int_equal(l.perms, EPT_RWX);
	assert_int_equal(l.page_size, EPT_PAGE_4K);
	assert_int_equal(l.hpa, g + 0x1000);
	assert_int_equal(ept_lookup(&e, 1 * GB + 100 * MB, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_2M);
	assert_int_equal(l.hpa, 1 * GB + 100 * MB);
	assert_int_equal(ept_lookup(&e, 0x1000, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_1G);
	/* the hardware view agrees */
	assert_int_equal(hw_walk(&e, g, &h), 1);
	assert_int_equal(h.perms, EPT_X);
	assert_int_equal(hw_walk(&e, 1 * GB + 6 * MB + 0x1ff000, &h), 1);
	assert_int_equal(h.hpa, 1 * GB + 6 * MB + 0x1ff000);

	/* remap one page elsewhere (probe's shadow copy), memtype kept */
	assert_int_equal(ept_remap_4k(&e, g, 0x7ff000, EPT_R | EPT_W), EPT_OK);
	assert_int_equal(ept_lookup(&e, g + 8, &l), EPT_OK);
	assert_int_equal(l.hpa, 0x7ff008);
	assert_int_equal(l.perms, EPT_R | EPT_W);
	assert_int_equal(l.memtype, MT_WB);

	/* permissions 0: still mapped in software, not present for the CPU */
	assert_int_equal(ept_set_perms_4k(&e, 0x3000, 0), EPT_OK);
	assert_int_equal(ept_lookup(&e, 0x3000, &l), EPT_OK);
	assert_int_equal(l.perms, 0);
	assert_int_equal(hw_walk(&e, 0x3000, &h), 0);
	assert_int_equal(ept_set_perms_4k(&e, 0x3000, EPT_R), EPT_OK);
	assert_int_equal(hw_walk(&e, 0x3000, &h), 1);

	/* unmap one 4K inside a 2M page */
	assert_int_equal(ept_unmap(&e, 1 * GB + 200 * MB + 0x4000, 0x1000), EPT_OK);
	assert_int_equal(ept_lookup(&e, 1 * GB + 200 * MB + 0x4000, &l), EPT_ERR_NOT_MAPPED);
	assert_int_equal(hw_walk(&e, 1 * GB + 200 * MB + 0x4000, &h), 0);
	assert_int_equal(ept_lookup(&e, 1 * GB + 200 * MB + 0x3000, &l), EPT_OK);
	assert_int_equal(ept_lookup(&e, 1 * GB + 200 * MB + 0x5000, &l), EPT_OK);
	/* unmapping what is not mapped is fine; perms on unmapped is an error */
	assert_int_equal(ept_unmap(&e, 8 * GB, 4 * GB), EPT_OK);
	assert_int_equal(ept_set_perms_4k(&e, 8 * GB, EPT_R), EPT_ERR_NOT_MAPPED);
	assert_int_equal(ept_remap_4k(&e, 1 * GB + 200 * MB + 0x4000, 0, EPT_R), EPT_ERR_NOT_MAPPED);
	/* unmap a whole 1 GiB leaf */
	assert_int_equal(ept_unmap(&e, 0, 1 * GB), EPT_OK);
	assert_int_equal(ept_lookup(&e, 0x3000, &l), EPT_ERR_NOT_MAPPED);
}

static void test_invalid_and_nomem(void **st)
{
	(void)st;
	struct ept e;
	struct ept_lookup l;
	pool_reset(3);
	assert_int_equal(ept_init(&e, &alloc, EPT_CAP_2M), EPT_OK);
	assert_int_equal(ept_map(&e, 0x1001, 0, 0x1000, EPT_RWX, MT_WB), EPT_ERR_INVAL);
	assert_int_equal(ept_map(&e, 0, 0, 0, EPT_RWX, MT_WB), EPT_ERR_INVAL);
	assert_int_equal(ept_map(&e, 0, 0, 0x1000, EPT_W, MT_WB), EPT_ERR_INVAL);    /* W without R */
	assert_int_equal(ept_map(&e, 0, 0, 0x1000, EPT_X, MT_WB), EPT_ERR_INVAL);    /* no exec-only cap */
	assert_int_equal(ept_map(&e, 0, 0, 0x1000, EPT_RWX, 2), EPT_ERR_INVAL);      /* reserved type */
	assert_int_equal(ept_map(&e, EPT_GPA_LIMIT - 0x1000, 0, 0x2000, EPT_RWX, MT_WB), EPT_ERR_INVAL);
	assert_int_equal(ept_map(&e, 0, 0, 0x1000, 8, MT_WB), EPT_ERR_INVAL);
	/* 3 pages: PML4 + PDPT + PD, no room for the PT */
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 0x1000, EPT_RWX, MT_WB), EPT_ERR_NOMEM);
	assert_int_equal(ept_lookup(&e, 0x1000, &l), EPT_ERR_NOT_MAPPED);
	/* a 2M mapping needs no PT and fits */
	assert_int_equal(ept_map(&e, 0, 0, 2 * MB, EPT_RWX, MT_WB), EPT_OK);
	/* splitting it needs a page: NOMEM, mapping untouched */
	assert_int_equal(ept_set_perms_4k(&e, 0x1000, EPT_R), EPT_ERR_NOMEM);
	assert_int_equal(ept_lookup(&e, 0x1000, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_2M);
	/* corrupted table pointer is detected, not followed */
	e.pml4[0] = 0x12345000ULL | EPT_RWX;
	assert_int_equal(ept_lookup(&e, 0x1000, &l), EPT_ERR_CORRUPT);
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 0x1000, EPT_RWX, MT_WB), EPT_ERR_CORRUPT);
}

/* Random map/unmap/perm operations against a page-granular model, verified by the
 * hardware-semantics walker on every page. */
static void test_random_vs_model(void **st)
{
	(void)st;
	enum { SPACE = 64 * 1024 * 1024, PAGES = SPACE / 4096 };
	static struct { uint64_t hpa; uint8_t perms, mt, mapped; } model[PAGES];
	struct ept e;
	srand(4242);
	for (int round = 0; round < 6; round++) {
		pool_reset(4096);
		memset(model, 0, sizeof(model));
		assert_int_equal(ept_init(&e, &alloc, (round & 1) ? EPT_CAP_2M : (EPT_CAP_2M | EPT_CAP_1G)), EPT_OK);
		for (int op = 0; op < 60; op++) {
			uint64_t p0 = rand() % PAGES, n = 1 + rand() % 2048;
			if (rand() % 3 == 0) { p0 &= ~511ULL; n = 512 * (1 + rand() % 8); }
			if (p0 + n > PAGES) n = PAGES - p0;
			int kind = rand() % 4;
			uint64_t hbase = (rand() % 2) ? p0 * 4096 : (uint64_t)(rand() % 1024) * 2 * MB;
			static const uint8_t perms[] = { EPT_R, EPT_R | EPT_W, EPT_RWX, EPT_R | EPT_X };
			static const uint8_t mts[] = { MT_UC, MT_WB, MT_WT };
			uint8_t pm = perms[rand() % 4], mt = mts[rand() % 3];
			if (kind <= 1) {
				assert_int_equal(ept_map(&e, p0 * 4096, hbase, n * 4096, pm, mt), EPT_OK);
				for (uint64_t i = 0; i < n; i++) {
					model[p0 + i].hpa = hbase + i * 4096;
					model[p0 + i].perms = pm;
					model[p0 + i].mt = mt;
					model[p0 + i].mapped = 1;
				}
			} else if (kind == 2) {
				assert_int_equal(ept_unmap(&e, p0 * 4096, n * 4096), EPT_OK);
				for (uint64_t i = 0; i < n; i++)
					model[p0 + i].mapped = 0;
			} else {
				int rc = ept_set_perms_4k(&e, p0 * 4096, pm);
				assert_int_equal(rc, model[p0].mapped ? EPT_OK : EPT_ERR_NOT_MAPPED);
				if (model[p0].mapped)
					model[p0].perms = pm;
			}
		}
		for (uint64_t p = 0; p < PAGES; p++) {
			struct hw h;
			int present = hw_walk(&e, p * 4096 + 0x18, &h);
			assert_int_equal(present, model[p].mapped);
			if (!present)
				continue;
			assert_int_equal(h.hpa, model[p].hpa + 0x18);
			assert_int_equal(h.perms, model[p].perms);
			assert_int_equal(h.mt, model[p].mt);
		}
	}
}

/* ---- MTRR ---- */
static struct mtrr_state typical(void)
{
	struct mtrr_state m;
	memset(&m, 0, sizeof(m));
	m.cap = 8 | (1 << 8) | (1 << 10);
	m.def_type = (1 << 11) | (1 << 10) | MT_WB;
	m.phys_bits = 40;
	m.fixed[0] = 0x0606060606060606ULL;          /* 0-512K WB */
	m.fixed[1] = 0x0606060606060606ULL;          /* 512K-640K WB */
	m.fixed[2] = 0;                              /* 640K-768K UC (VGA) */
	for (int i = 3; i < 11; i++)
		m.fixed[i] = 0x0505050505050505ULL;      /* ROM: WP */
	m.var_base[0] = 0xC0000000ULL | MT_UC;       /* 3G..4G UC (PCI hole) */
	m.var_mask[0] = (~(1 * GB - 1) & ((1ULL << 40) - 1)) | (1 << 11);
	return m;
}

static void test_mtrr_points_and_ranges(void **st)
{
	(void)st;
	struct mtrr_state m = typical();
	uint8_t t;
	assert_int_equal(mtrr_type_at(&m, 0x50000), MT_WB);
	assert_int_equal(mtrr_type_at(&m, 0xA0000), MT_UC);
	assert_int_equal(mtrr_type_at(&m, 0xBF000), MT_UC);
	assert_int_equal(mtrr_type_at(&m, 0xC0000), MT_WP);
	assert_int_equal(mtrr_type_at(&m, 0xFF000), MT_WP);
	assert_int_equal(mtrr_type_at(&m, 0x100000), MT_WB);
	assert_int_equal(mtrr_type_at(&m, 0xBFFFF000), MT_WB);
	assert_int_equal(mtrr_type_at(&m, 0xC0000000), MT_UC);
	assert_int_equal(mtrr_type_at(&m, 0xFFFFF000), MT_UC);
	assert_int_equal(mtrr_type_at(&m, 0x100000000ULL), MT_WB);

	assert_int_equal(mtrr_type(&m, 0, 2 * MB, &t), EPT_ERR_MTRR_MIXED);
	assert_int_equal(mtrr_type(&m, 0xA0000, 0x20000, &t), EPT_OK);
	assert_int_equal(t, MT_UC);
	assert_int_equal(mtrr_type(&m, 0x80000, 0x40000, &t), EPT_ERR_MTRR_MIXED);
	assert_int_equal(mtrr_type(&m, 2 * MB, 2 * MB, &t), EPT_OK);
	assert_int_equal(t, MT_WB);
	assert_int_equal(mtrr_type(&m, 3 * GB, 1 * GB, &t), EPT_OK);
	assert_int_equal(t, MT_UC);
	assert_int_equal(mtrr_type(&m, 2 * GB, 2 * GB, &t), EPT_ERR_MTRR_MIXED);
	assert_int_equal(mtrr_type(&m, 1 * MB, 3 * GB - 1 * MB, &t), EPT_OK);   /* unaligned length: split internally */
	assert_int_equal(t, MT_WB);
	assert_int_equal(mtrr_type(&m, 0x1001, 0x1000, &t), EPT_ERR_INVAL);

	/* overlaps: UC beats WT; WT beats WB; WC + WB is undefined -> UC */
	m.var_base[1] = 0xC0000000ULL | MT_WT; m.var_mask[1] = m.var_mask[0];
	assert_int_equal(mtrr_type_at(&m, 0xC0001000), MT_UC);
	m.var_base[2] = 0x40000000ULL | MT_WT; m.var_mask[2] = (~(256 * MB - 1) & ((1ULL << 40) - 1)) | (1 << 11);
	m.var_base[3] = 0x40000000ULL | MT_WB; m.var_mask[3] = m.var_mask[2];
	assert_int_equal(mtrr_type_at(&m, 0x40000000), MT_WT);
	m.var_base[3] = 0x40000000ULL | MT_WC;
	m.var_base[2] = 0x40000000ULL | MT_WB;
	assert_int_equal(mtrr_type_at(&m, 0x40000000), MT_UC);
	/* an invalid (V=0) entry is ignored */
	m.var_mask[2] &= ~(1ULL << 11); m.var_mask[3] &= ~(1ULL << 11);
	assert_int_equal(mtrr_type_at(&m, 0x40000000), MT_WB);
	/* disabled MTRRs: UC everywhere */
	m.def_type &= ~(1ULL << 11);
	assert_int_equal(mtrr_type_at(&m, 0x100000), MT_UC);
	assert_int_equal(mtrr_type(&m, 0, 4 * GB, &t), EPT_OK);
	assert_int_equal(t, MT_UC);
}

static void test_mtrr_noncontiguous_mask(void **st)
{
	(void)st;
	struct mtrr_state m;
	uint8_t t;
	memset(&m, 0, sizeof(m));
	m.cap = 2;
	m.def_type = (1 << 11) | MT_WB;
	m.phys_bits = 36;
	m.var_base[0] = (1ULL << 30) | MT_UC;            /* every odd GiB */
	m.var_mask[0] = (1ULL << 30) | (1 << 11);
	assert_int_equal(mtrr_type(&m, 1 * GB, 1 * GB, &t), EPT_OK);
	assert_int_equal(t, MT_UC);
	assert_int_equal(mtrr_type(&m, 2 * GB, 1 * GB, &t), EPT_OK);
	assert_int_equal(t, MT_WB);
	assert_int_equal(mtrr_type(&m, 3 * GB + 2 * MB, 2 * MB, &t), EPT_OK);
	assert_int_equal(t, MT_UC);
	assert_int_equal(mtrr_type(&m, 0, 2 * GB, &t), EPT_ERR_MTRR_MIXED);
}

/* Soundness against brute force: whenever mtrr_type says "uniform T", every 4K page is T. */
static void test_mtrr_random_soundness(void **st)
{
	(void)st;
	srand(99);
	for (int iter = 0; iter < 300; iter++) {
		struct mtrr_state m;
		memset(&m, 0, sizeof(m));
		m.cap = 4 | (1 << 8);
		m.def_type = (1 << 11) | ((rand() & 1) << 10) | ((rand() & 1) ? MT_WB : MT_UC);
		m.phys_bits = 36;
		for (int i = 0; i < 11; i++)
			for (int b = 0; b < 8; b++)
				m.fixed[i] |= (uint64_t)((rand() % 3) ? MT_WB : MT_UC) << (8 * b);
		static const uint8_t mts[] = { MT_UC, MT_WB, MT_WT, MT_WC };
		for (int i = 0; i < 4; i++) {
			uint64_t sz = 64 * KB << (rand() % 8);            /* 64K .. 8M */
			uint64_t base = ((uint64_t)rand() % (16 * MB / sz)) * sz;
			uint64_t mask = ~(sz - 1) & ((1ULL << 36) - 1);
			if (rand() % 5 == 0) mask &= ~(1ULL << (20 + rand() % 4));  /* holes in the mask */
			m.var_base[i] = base | mts[rand() % 4];
			m.var_mask[i] = mask | ((rand() % 6) ? (1 << 11) : 0);
		}
		for (int q = 0; q < 40; q++) {
			uint64_t sz = 4 * KB << (rand() % 12);            /* 4K .. 8M */
			uint64_t b = ((uint64_t)rand() % (16 * MB / sz)) * sz;
			uint8_t t;
			int rc = mtrr_type(&m, b, sz, &t);
			if (sz == 4 * KB)
				assert_int_equal(rc, EPT_OK);              /* a page is always uniform */
			if (rc != EPT_OK)
				continue;
			for (uint64_t p = b; p < b + sz; p += 4096)
				assert_int_equal(mtrr_type_at(&m, p), t);
		}
	}
}

static void test_map_identity_mtrr(void **st)
{
	(void)st;
	struct mtrr_state m = typical();
	struct ept e;
	struct ept_lookup l;
	pool_reset(64);
	assert_int_equal(ept_init(&e, &alloc, EPT_CAP_1G | EPT_CAP_2M), EPT_OK);
	assert_int_equal(ept_map_identity_mtrr(&e, 0, 4 * GB, EPT_RWX, &m), EPT_OK);
	assert_int_equal(ept_lookup(&e, 0x50000, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_4K);
	assert_int_equal(l.memtype, MT_WB);
	assert_int_equal(ept_lookup(&e, 0xA8000, &l), EPT_OK);
	assert_int_equal(l.memtype, MT_UC);
	assert_int_equal(ept_lookup(&e, 0xE0000, &l), EPT_OK);
	assert_int_equal(l.memtype, MT_WP);
	assert_int_equal(ept_lookup(&e, 0x100000, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_4K);                 /* first 2M is mixed */
	assert_int_equal(ept_lookup(&e, 0x200000, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_2M);
	assert_int_equal(l.memtype, MT_WB);
	assert_int_equal(ept_lookup(&e, 2 * GB, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_1G);
	assert_int_equal(ept_lookup(&e, 3 * GB + 5, &l), EPT_OK);
	assert_int_equal(l.page_size, EPT_PAGE_1G);
	assert_int_equal(l.memtype, MT_UC);
	assert_int_equal(l.hpa, 3 * GB + 5);
	assert_true(e.tables <= 5);   /* PML4, PDPT, PD(0-1G), PT(0-2M) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_and_eptp),
		cmocka_unit_test(test_identity_large_pages),
		cmocka_unit_test(test_split_perms_remap_unmap),
		cmocka_unit_test(test_invalid_and_nomem),
		cmocka_unit_test(test_random_vs_model),
		cmocka_unit_test(test_mtrr_points_and_ranges),
		cmocka_unit_test(test_mtrr_noncontiguous_mask),
		cmocka_unit_test(test_mtrr_random_soundness),
		cmocka_unit_test(test_map_identity_mtrr),
	};
	return cmocka_run_group_tests_name("ept_map", tests, NULL, teardown);
}
