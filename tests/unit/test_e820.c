/* Unit tests for vmm/e820.c (guest e820 construction, free-range search). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/e820.h"

#define MB (1024ULL * 1024)
#define GB (1024ULL * MB)

static struct boot_mem_region R(uint64_t b, uint64_t l, uint32_t t)
{
	struct boot_mem_region r = { b, l, t, 0 };
	return r;
}

static struct boot_reserved V(uint64_t b, uint64_t l)
{
	struct boot_reserved r = { b, l, "test" };
	return r;
}

static void expect_entry(const struct e820_entry *e, uint64_t a, uint64_t s, uint32_t t)
{
	assert_int_equal(e->addr, a);
	assert_int_equal(e->size, s);
	assert_int_equal(e->type, t);
}

static void test_layout_matches_linux(void **st)
{
	(void)st;
	assert_int_equal(sizeof(struct e820_entry), 20);
	assert_int_equal(offsetof(struct e820_entry, size), 8);
	assert_int_equal(offsetof(struct e820_entry, type), 16);
}

static void test_sort_merge_unsorted(void **st)
{
	(void)st;
	struct boot_mem_region m[] = {
		R(1 * MB, 511 * MB, 1),        /* 1M..512M RAM */
		R(0, 0x9fc00, 1),
		R(0xf0000, 0x10000, 2),
		R(0x9fc00, 0x400, 2),
		R(512 * MB, 512 * MB, 1),      /* adjacent RAM: merged */
		R(3 * GB, 0, 1),               /* zero length: ignored */
	};
	struct e820_entry out[E820_MAX_ENTRIES_ZEROPAGE];
	uint32_t n = 99;
	assert_int_equal(e820_build_guest(m, 6, NULL, 0, out, 128, &n), E820_OK);
	assert_int_equal(n, 4);
	expect_entry(&out[0], 0, 0x9fc00, 1);
	expect_entry(&out[1], 0x9fc00, 0x400, 2);
	expect_entry(&out[2], 0xf0000, 0x10000, 2);
	expect_entry(&out[3], 1 * MB, 1023 * MB, 1);
}

static void test_overlap_higher_type_wins(void **st)
{
	(void)st;
	struct boot_mem_region m[] = {
		R(0, 16 * MB, 1),
		R(4 * MB, 1 * MB, 3),          /* ACPI inside RAM */
		R(8 * MB, 2 * MB, 2),
		R(9 * MB, 2 * MB, 4),          /* NVS overlaps reserved and RAM */
	};
	struct e820_entry out[16];
	uint32_t n;
	assert_int_equal(e820_build_guest(m, 4, NULL, 0, out, 16, &n), E820_OK);
	assert_int_equal(n, 6);
	expect_entry(&out[0], 0, 4 * MB, 1);
	expect_entry(&out[1], 4 * MB, 1 * MB, 3);
	expect_entry(&out[2], 5 * MB, 3 * MB, 1);
	expect_entry(&out[3], 8 * MB, 1 * MB, 2);
	expect_entry(&out[4], 9 * MB, 2 * MB, 4);
	expect_entry(&out[5], 11 * MB, 5 * MB, 1);
}

static void test_reserved_carved_page_aligned_outward(void **st)
{
	(void)st;
	struct boot_mem_region m[] = { R(0, 64 * MB, 1) };
	/* unaligned hvmon range: 16M+0x123 .. 20M+0x10 -> hole 16M .. 20M+4K */
	struct boot_reserved r[] = { V(16 * MB + 0x123, 4 * MB - 0x123 + 0x10) };
	struct e820_entry out[8];
	uint32_t n;
	assert_int_equal(e820_build_guest(m, 1, r, 1, out, 8, &n), E820_OK);
	assert_int_equal(n, 2);
	expect_entry(&out[0], 0, 16 * MB, 1);
	expect_entry(&out[1], 20 * MB + 0x1000, 44 * MB - 0x1000, 1);
	/* no output byte inside the reserved range */
	for (uint32_t i = 0; i < n; i++)
		assert_true(out[i].addr + out[i].size <= 16 * MB || out[i].addr >= 20 * MB + 0x1000);
}

static void test_reserved_across_entries_and_edges(void **st)
{
	(void)st;
	struct boot_mem_region m[] = { R(0, 8 * MB, 1), R(8 * MB, 8 * MB, 2), R(16 * MB, 16 * MB, 1) };
	struct boot_reserved r[] = { V(6 * MB, 12 * MB), V(0, 0x1000), V(31 * MB, 1 * MB), V(100 * GB, 0) };
	struct e820_entry out[8];
	uint32_t n;
	assert_int_equal(e820_build_guest(m, 3, r, 4, out, 8, &n), E820_OK);
	assert_int_equal(n, 2);
	expect_entry(&out[0], 0x1000, 6 * MB - 0x1000, 1);
	expect_entry(&out[1], 18 * MB, 13 * MB, 1);
}

static void test_too_many_entries(void **st)
{
	(void)st;
	static struct boot_mem_region m[200];
	for (int i = 0; i < 200; i++)     /* alternating types: nothing merges */
		m[i] = R((uint64_t)i * MB, MB, (i & 1) ? 2 : 1);
	struct e820_entry out[E820_MAX_ENTRIES_ZEROPAGE];
	uint32_t n;
	assert_int_equal(e820_build_guest(m, 200, NULL, 0, out, 128, &n), E820_ERR_TOO_MANY);
	assert_int_equal(n, 200);
	/* same input fits with all-RAM types (merges into one) */
	for (int i = 0; i < 200; i++)
		m[i].type = 1;
	assert_int_equal(e820_build_guest(m, 200, NULL, 0, out, 128, &n), E820_OK);
	assert_int_equal(n, 1);
	expect_entry(&out[0], 0, 200 * MB, 1);
}

static void test_invalid_and_empty(void **st)
{
	(void)st;
	struct boot_mem_region m[] = { R(0, 1 * MB, 2) };
	struct boot_reserved r[] = { V(0, 16 * MB) };
	struct boot_mem_region ram[] = { R(0, 16 * MB, 1) };
	struct e820_entry out[4];
	uint32_t n;
	assert_int_equal(e820_build_guest(NULL, 1, NULL, 0, out, 4, &n), E820_ERR_INVAL);
	assert_int_equal(e820_build_guest(m, BOOT_MEM_MAX + 1, NULL, 0, out, 4, &n), E820_ERR_INVAL);
	assert_int_equal(e820_build_guest(m, 1, NULL, 0, out, 4, NULL), E820_ERR_INVAL);
	assert_int_equal(e820_build_guest(m, 0, NULL, 0, out, 4, &n), E820_ERR_EMPTY);
	assert_int_equal(e820_build_guest(m, 1, NULL, 0, out, 4, &n), E820_ERR_EMPTY);
	assert_int_equal(e820_build_guest(ram, 1, r, 1, out, 4, &n), E820_ERR_EMPTY);
	assert_string_not_equal(e820_strerror(E820_ERR_TOO_MANY), e820_strerror(E820_ERR_INVAL));
}

static void test_wraparound_entry_clamped(void **st)
{
	(void)st;
	struct boot_mem_region m[] = { R(0, 4 * MB, 1), R(0xfffffffffff00000ULL, 0x200000, 2) };
	struct e820_entry out[4];
	uint32_t n;
	assert_int_equal(e820_build_guest(m, 2, NULL, 0, out, 4, &n), E820_OK);
	assert_int_equal(n, 2);
	expect_entry(&out[1], 0xfffffffffff00000ULL, 0xfffff, 2);
}

/* Randomised cross-check against a page-granular reference model. */
static void test_random_vs_reference(void **st)
{
	(void)st;
	enum { PAGES = 512 };
	srand(12345);
	for (int iter = 0; iter < 500; iter++) {
		struct boot_mem_region m[12];
		struct boot_reserved r[4];
		uint8_t ref[PAGES];
		uint32_t nm = 1 + rand() % 12, nr = rand() % 5, n;
		memset(ref, 0, sizeof(ref));
		for (uint32_t i = 0; i < nm; i++) {
			uint64_t b = rand() % PAGES, l = rand() % 64;
			if (b + l > PAGES) l = PAGES - b;
			m[i] = R(b * 0x1000, l * 0x1000, 1 + rand() % 4);
			for (uint64_t p = b; p < b + l; p++)
				if (m[i].type > ref[p]) ref[p] = m[i].type;
		}
		for (uint32_t i = 0; i < nr; i++) {
			uint64_t b = rand() % (PAGES * 0x1000), l = rand() % (32 * 0x1000);
			if (b + l > PAGES * 0x1000) l = PAGES * 0x1000 - b;
			r[i] = V(b, l);
			if (l == 0) continue;
			for (uint64_t p = b / 0x1000; p < (b + l + 0xfff) / 0x1000 && p < PAGES; p++)
				ref[p] = 0;
		}
		struct e820_entry out[128];
		int rc = e820_build_guest(m, nm, r, nr, out, 128, &n);
		uint8_t got[PAGES];
		memset(got, 0, sizeof(got));
		if (rc == E820_ERR_EMPTY) {
			for (int p = 0; p < PAGES; p++)
				assert_true(ref[p] != 1);
			continue;
		}
		assert_int_equal(rc, E820_OK);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(out[i].size > 0);
			assert_int_equal(out[i].addr % 0x1000, 0);
			assert_int_equal(out[i].size % 0x1000, 0);
			if (i > 0) {
				assert_true(out[i - 1].addr + out[i - 1].size <= out[i].addr);
				/* merged: no two adjacent entries of the same type */
				assert_false(out[i - 1].addr + out[i - 1].size == out[i].addr &&
					     out[i - 1].type == out[i].type);
			}
			for (uint64_t p = out[i].addr / 0x1000; p < (out[i].addr + out[i].size) / 0x1000; p++)
				got[p] = out[i].type;
		}
		assert_memory_equal(got, ref, PAGES);
	}
}

static struct e820_entry E(uint64_t a, uint64_t s, uint32_t t)
{
	struct e820_entry e = { a, s, t };
	return e;
}

static void test_find_free_basic(void **st)
{
	(void)st;
	struct e820_entry map[] = {
		E(0, 0x9f000, 1), E(0x100000, 15 * MB, 1), E(16 * MB, 1 * MB, 2), E(17 * MB, 2031 * MB, 1),
	};
	uint64_t a = 0;
	/* lowest 2M-aligned 4 MiB block at/above 1 MiB: 2M..6M */
	assert_int_equal(e820_find_free(map, 4, NULL, 0, 4 * MB, 2 * MB, 1 * MB, 4 * GB, 0, &a), E820_OK);
	assert_int_equal(a, 2 * MB);
	/* avoid [1M, 10M): next 2M-aligned that fits in RAM is 10M..14M */
	struct e820_range av[] = { { 1 * MB, 9 * MB } };
	assert_int_equal(e820_find_free(map, 4, av, 1, 4 * MB, 2 * MB, 1 * MB, 4 * GB, 0, &a), E820_OK);
	assert_int_equal(a, 10 * MB);
	/* 8M does not fit below 16M anymore -> after the reserved hole, 2M aligned: 18M */
	assert_int_equal(e820_find_free(map, 4, av, 1, 8 * MB, 2 * MB, 1 * MB, 4 * GB, 0, &a), E820_OK);
	assert_int_equal(a, 18 * MB);
	/* top-down below 1 GiB */
	assert_int_equal(e820_find_free(map, 4, NULL, 0, 1 * MB, 4096, 0, 1 * GB, E820_FIND_TOP_DOWN, &a), E820_OK);
	assert_int_equal(a, 1 * GB - 1 * MB);
	/* top-down limited by the end of RAM */
	assert_int_equal(e820_find_free(map, 4, NULL, 0, 1 * MB, 4096, 0, 64 * GB, E820_FIND_TOP_DOWN, &a), E820_OK);
	assert_int_equal(a, 2 * GB - 1 * MB);
	/* too big */
	assert_int_equal(e820_find_free(map, 4, NULL, 0, 4 * GB, 4096, 0, 64 * GB, 0, &a), E820_ERR_NOT_FOUND);
	/* bad align */
	assert_int_equal(e820_find_free(map, 4, NULL, 0, 4096, 3, 0, 64 * GB, 0, &a), E820_ERR_INVAL);
	assert_int_equal(e820_find_free(map, 4, NULL, 0, 0, 4096, 0, 64 * GB, 0, &a), E820_ERR_INVAL);
}

static void test_find_free_never_over_non_ram(void **st)
{
	(void)st;
	/* RAM overlapped by a reserved entry (unsanitized map): must not be returned */
	struct e820_entry map[] = { E(0, 64 * MB, 1), E(0, 32 * MB, 2) };
	uint64_t a;
	assert_int_equal(e820_find_free(map, 2, NULL, 0, 16 * MB, 1 * MB, 0, 4 * GB, 0, &a), E820_OK);
	assert_int_equal(a, 32 * MB);
	/* adjacent RAM entries count as one range */
	struct e820_entry map2[] = { E(0, 8 * MB, 1), E(8 * MB, 8 * MB, 1) };
	assert_int_equal(e820_find_free(map2, 2, NULL, 0, 12 * MB, 4 * MB, 0, 4 * GB, 0, &a), E820_OK);
	assert_int_equal(a, 0);
}

/* Brute force cross-check of find_free on page-granular random maps. */
static void test_find_free_random(void **st)
{
	(void)st;
	enum { PAGES = 256 };
	srand(777);
	for (int iter = 0; iter < 2000; iter++) {
		struct e820_entry map[8];
		struct e820_range av[3];
		uint8_t bad[PAGES], ram[PAGES];
		uint32_t nm = 1 + rand() % 8, na = rand() % 4;
		memset(bad, 0, sizeof(bad));
		memset(ram, 0, sizeof(ram));
		for (uint32_t i = 0; i < nm; i++) {
			uint64_t b = rand() % PAGES, l = 1 + rand() % 80;
			if (b + l > PAGES) l = PAGES - b;
			uint32_t t = (rand() % 4) ? 1 : 2;
			map[i] = E(b * 4096, l * 4096, t);
			for (uint64_t p = b; p < b + l; p++) {
				if (t == 1) ram[p] = 1; else bad[p] = 1;
			}
		}
		for (uint32_t i = 0; i < na; i++) {
			uint64_t b = rand() % PAGES, l = rand() % 20;
			if (b + l > PAGES) l = PAGES - b;
			av[i].base = b * 4096;
			av[i].length = l * 4096;
			for (uint64_t p = b; p < b + l; p++) bad[p] = 1;
		}
		uint64_t size = (1 + rand() % 16) * 4096, align = 4096ULL << (rand() % 4);
		uint64_t min = (rand() % 64) * 4096, limit = min + (rand() % PAGES) * 4096 + 4096;
		uint32_t flags = rand() % 2;
		/* reference */
		int64_t want = -1;
		for (uint64_t c = 0; c + size <= (uint64_t)PAGES * 4096; c += align) {
			if (c < min || c + size > limit) continue;
			int ok = 1;
			for (uint64_t p = c / 4096; p < (c + size) / 4096; p++)
				if (!ram[p] || bad[p]) { ok = 0; break; }
			if (!ok) continue;
			if (want < 0 || flags) want = (int64_t)c;
			if (!flags) break;
		}
		uint64_t a = 0;
		int rc = e820_find_free(map, nm, av, na, size, align, min, limit, flags, &a);
		if (want < 0) {
			assert_int_equal(rc, E820_ERR_NOT_FOUND);
		} else {
			assert_int_equal(rc, E820_OK);
			assert_int_equal(a, (uint64_t)want);
		}
	}
}

/* Reference check of e820_ram_minus: inside one output range <=> inside one RAM
 * entry and no overlap with a widened reserved range, for many random reads. */
static bool ref_ok(const struct e820_entry *m, uint32_t nr, const struct boot_reserved *r,
		   uint32_t nr_r, uint64_t pa, uint64_t len)
{
	for (uint32_t i = 0; i < nr_r; i++) {
		uint64_t b = r[i].base & ~0xfffULL, e = (r[i].base + r[i].length + 0xfff) & ~0xfffULL;
		if (r[i].length && pa < e && pa + len > b)
			return false;
	}
	for (uint32_t i = 0; i < nr; i++)
		if (m[i].type == E820_TYPE_RAM && pa >= m[i].addr && pa + len <= m[i].addr + m[i].size)
			return true;
	return false;
}

static void test_ram_minus(void **st)
{
	(void)st;
	struct e820_entry m[] = {
		{ 0, 0x9fc00, E820_TYPE_RAM }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 },
		{ 0x100000, 0x1ff00000, E820_TYPE_RAM }, { 0x20000000, 0x100000, 2 },
		{ 0x20100000, 0x3000000, E820_TYPE_RAM },
	};
	struct boot_reserved r[] = {
		{ 0x1000000, 0x200000, "image" }, { 0x3000800, 0x100, "boot-data" },  /* widened */
		{ 0x20100000, 0x1000, "start" }, { 0x230ff000, 0x1000, "end" },
		{ 0x5000, 0, "empty" },
	};
	struct e820_range out[16];
	int n = e820_ram_minus(m, 6, r, 5, out, 16);
	assert_int_equal(n, 5);   /* [0,9fc00) [1M,16M) [18M,48M) [48M+4K,512M) [513M+4K,560M-4K) */
	for (int i = 1; i < n; i++)
		assert_true(out[i - 1].length >= out[i].length);
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (unsigned k = 0; k < 200000; k++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint64_t pa = x % 0x24000000ull, len = 1 + (x >> 40) % 0x1000;
		if (k % 4 == 0)
			pa = (pa & ~0xfffull) + ((k / 4) % 2 ? 0xff8 : 0) ;   /* page edges */
		bool got = false;
		for (int i = 0; i < n; i++)
			if (pa >= out[i].base && pa + len <= out[i].base + out[i].length)
				got = true;
		assert_int_equal(got, ref_ok(m, 6, r, 5, pa, len));
	}
	assert_int_equal(e820_ram_minus(m, 6, r, 5, out, 3), -1);   /* does not fit */
	/* a reserved range covering a whole entry removes it */
	struct boot_reserved all = { 0, 0x100000, "low" };
	assert_int_equal(e820_ram_minus(m, 1, &all, 1, out, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_matches_linux),
		cmocka_unit_test(test_sort_merge_unsorted),
		cmocka_unit_test(test_overlap_higher_type_wins),
		cmocka_unit_test(test_reserved_carved_page_aligned_outward),
		cmocka_unit_test(test_reserved_across_entries_and_edges),
		cmocka_unit_test(test_too_many_entries),
		cmocka_unit_test(test_invalid_and_empty),
		cmocka_unit_test(test_wraparound_entry_clamped),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_find_free_basic),
		cmocka_unit_test(test_find_free_never_over_non_ram),
		cmocka_unit_test(test_find_free_random),
		cmocka_unit_test(test_ram_minus),
	};
	return cmocka_run_group_tests_name("e820", tests, NULL, NULL);
}
