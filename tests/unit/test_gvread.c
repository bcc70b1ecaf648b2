/* Unit tests for vmm/gvread.c (the ring -1 inference reader): a TLB over
 * vmm/gmem on synthetic page tables in a host buffer standing for guest RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/gvread.h"

#define MEM_SIZE (16u << 20)
#define HVMON_GPA 0xe00000ULL         /* 64 KiB the physical reader refuses */
#define P  1ULL
#define RW 2ULL
#define US 4ULL
#define PS 0x80ULL
#define KMAP 0xffffffff80000000ULL

#include "tests/unit/fake_guest_mem.h"
static uint64_t root;
static struct gmem_mmu mmu;

static void map(uint64_t gva, uint64_t gpa, int leaf_level, uint64_t flags)
{
	uint64_t table = root;
	for (int level = 4; level > leaf_level; level--) {
		unsigned idx = (gva >> (12 + 9 * (level - 1))) & 511;
		uint64_t *e = ent(table, idx);
		if (!(*e & P))
			*e = new_table() | P | RW | US;
		table = *e & 0x000ffffffffff000ULL;
	}
	unsigned idx = (gva >> (12 + 9 * (leaf_level - 1))) & 511;
	*ent(table, idx) = gpa | flags | (leaf_level > 1 ? PS : 0);
}

/* Layout (like a kernel at KASLR slide 0x2e00000):
 *   KMAP + 0x3000000 .. +4 MiB : two 2 MiB pages -> gpa 0x200000, 0x400000
 *   KMAP + 0x3400000          : a PD with 4 KiB pages, every other one present,
 *                               scrambled physical pages in 0x800000..
 *   KMAP + 0x3600000          : 4 KiB page pointing into hvmon memory
 *   KMAP + 0x3601000          : a user page
 *   0xffff888000000000        : 1 GiB page -> gpa 0 (direct map)                 */
static int setup(void **st)
{
	(void)st;
	mem = calloc(1, MEM_SIZE);
	for (size_t i = 0; i < MEM_SIZE; i += 4)
		*(uint32_t *)(mem + i) = (uint32_t)(i * 2654435761u);
	next_table = 0x100000;
	root = new_table();
	mmu = (struct gmem_mmu){ .read_phys = rd, .cr3 = root, .nxe = true, .maxphyaddr = 46 };
	map(KMAP + 0x3000000, 0x200000, 2, P | RW);
	map(KMAP + 0x3200000, 0x400000, 2, P | RW);
	for (unsigned i = 0; i < 512; i += 2)
		map(KMAP + 0x3400000 + i * 0x1000ULL, 0x800000 + ((i * 37) % 512) * 0x1000ULL, 1, P | RW);
	map(KMAP + 0x3600000, HVMON_GPA, 1, P | RW);
	map(KMAP + 0x3601000, 0xa00000, 1, P | RW | US);
	map(0xffff888000000000ULL, 0, 3, P | RW);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	free(mem);
	return 0;
}

static void test_large_pages_one_walk(void **st)
{
	(void)st;
	struct gvread r;
	gvread_init(&r, &mmu);
	static uint8_t buf[1 << 21];
	/* 4 MiB read across two 2 MiB pages: 2 walks, 1024 page copies, right bytes */
	assert_true(gvread_read(&r, KMAP + 0x3000000, buf, sizeof(buf)));
	assert_memory_equal(buf, mem + 0x200000, sizeof(buf));
	assert_true(gvread_read(&r, KMAP + 0x3200000 + 0x1ff000, buf, 0x1000));
	assert_memory_equal(buf, mem + 0x400000 + 0x1ff000, 0x1000);
	assert_int_equal(r.walks, 2);
	assert_int_equal(r.pages, 513);
	/* a read straddling the two large pages (different physical pages) */
	assert_true(gvread_read(&r, KMAP + 0x31ffff0, buf, 32));
	assert_memory_equal(buf, mem + 0x3ffff0, 16);
	assert_memory_equal(buf + 16, mem + 0x400000, 16);
	assert_int_equal(r.walks, 2);
	/* 1 GiB page */
	assert_true(gvread_read(&r, 0xffff888000123456ULL, buf, 100));
	assert_memory_equal(buf, mem + 0x123456, 100);
	assert_int_equal(r.walks, 3);
}

static void test_negative_cache(void **st)
{
	(void)st;
	struct gvread r;
	gvread_init(&r, &mmu);
	uint8_t b[64];
	/* KMAP + 0 .. 0x3000000: PD present, PD entries absent -> one walk per 2 MiB */
	for (uint64_t va = KMAP; va < KMAP + 0x400000; va += 0x1000)
		assert_false(gvread_read(&r, va, b, sizeof(b)));
	assert_int_equal(r.walks, 2);
	assert_int_equal(r.failed, 1024);
	/* a whole absent 1 GiB (PDPT entry 1 of the kernel map's PDPT is empty) */
	unsigned w = (unsigned)r.walks;
	for (uint64_t va = 0xffffffffc0000000ULL; va < 0xffffffffc0000000ULL + (16u << 20); va += 0x1000)
		assert_false(gvread_read(&r, va, b, 8));
	assert_int_equal(r.walks, w + 1);
	/* an absent PML4 slot: cached too */
	w = (unsigned)r.walks;
	for (uint64_t va = 0xffffc90000000000ULL; va < 0xffffc90000000000ULL + (4u << 20); va += 0x1000)
		assert_false(gvread_read(&r, va, b, 8));
	assert_int_equal(r.walks, w + 1);
}

static void test_4k_pages_and_holes(void **st)
{
	(void)st;
	struct gvread r;
	gvread_init(&r, &mmu);
	uint8_t b[0x2000];
	/* present page i=0 then absent i=1: a read across fails (all or nothing) */
	assert_false(gvread_read(&r, KMAP + 0x3400ff0, b, 32));
	assert_true(gvread_read(&r, KMAP + 0x3400ff0, b, 16));
	assert_memory_equal(b, mem + 0x800000 + 0xff0, 16);
	/* page 2 maps to scrambled physical page (2*37)%512 */
	assert_true(gvread_read(&r, KMAP + 0x3402000, b, 0x1000));
	assert_memory_equal(b, mem + 0x800000 + 74 * 0x1000, 0x1000);
	/* refused physical (hvmon) and user pages: clean failures */
	assert_false(gvread_read(&r, KMAP + 0x3600000, b, 8));
	assert_false(gvread_read(&r, KMAP + 0x3601000, b, 8));
	/* lower half, non-canonical, wrap, too long, NULL buffer */
	assert_false(gvread_read(&r, 0x1000, b, 8));
	assert_false(gvread_read(&r, 0x0000800000000000ULL, b, 8));
	assert_false(gvread_read(&r, 0xfffffffffffffff0ULL, b, 32));
	/* the very last byte of the address space is not a wrap (found by fuzz_gvread) */
	assert_int_equal(gvread_read(&r, 0xffffffffffffffffULL, b, 1),
			 gmem_read(&mmu, 0xffffffffffffffffULL, b, 1, GMEM_KERNEL_ONLY, NULL) == GMEM_OK);
	assert_false(gvread_read(&r, KMAP + 0x3000000, b, GVREAD_MAX_LEN + 1));
	assert_false(gvread_read(&r, KMAP + 0x3000000, NULL, 8));
	assert_true(gvread_read(&r, KMAP + 0x3000000, b, 0));
}

/* The cache never changes an answer: random reads equal uncached gmem_read. */
static void test_equals_gmem(void **st)
{
	(void)st;
	struct gvread r;
	gvread_init(&r, &mmu);
	static uint8_t a[0x3000], b[0x3000];
	static const uint64_t bases[] = { KMAP + 0x3000000, KMAP + 0x3400000, KMAP + 0x3600000,
					  0xffff888000000000ULL, KMAP, KMAP + 0x3800000 };
	srand(12345);
	unsigned agree_ok = 0;
	for (int i = 0; i < 20000; i++) {
		uint64_t va = bases[rand() % 6] + ((uint64_t)rand() % 0x600000);
		uint32_t len = (uint32_t)(rand() % 0x2800) + 1;
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		bool got = gvread_read(&r, va, a, len);
		bool want = gmem_read(&mmu, va, b, len, GMEM_KERNEL_ONLY, NULL) == GMEM_OK;
		assert_int_equal(got, want);
		if (got) {
			assert_memory_equal(a, b, len);
			agree_ok++;
		}
	}
	assert_true(agree_ok > 1000);             /* the test exercised successful reads */
	print_message("20000 random reads: %lu walks\n", (unsigned long)r.walks);
	assert_true(r.walks < 20000 / 2);         /* and the cache did its job */
}

static void test_first_mapped_2m(void **st)
{
	(void)st;
	struct gvread r;
	gvread_init(&r, &mmu);
	assert_int_equal(gvread_first_mapped_2m(&r, KMAP, 1ULL << 30), KMAP + 0x3000000);
	assert_int_equal(gvread_first_mapped_2m(&r, KMAP, 0x3000000), 0);
	assert_int_equal(gvread_first_mapped_2m(&r, KMAP + 0x1000, 1ULL << 30), 0);   /* misaligned */
	assert_int_equal(gvread_first_mapped_2m(&r, KMAP, 2ULL << 30), 0);           /* too big */
	/* two 2 MiB pages then a PD of 4 KiB pages (its first page present), then a hole */
	assert_int_equal(gvread_mapped_end_2m(&r, KMAP + 0x3000000, 1ULL << 30), KMAP + 0x3800000);
	assert_int_equal(gvread_mapped_end_2m(&r, KMAP + 0x3000000, 0x200000), KMAP + 0x3200000);
	assert_int_equal(gvread_mapped_end_2m(&r, KMAP + 0x2e00000, 1ULL << 30), KMAP + 0x2e00000);
}

/* gvread_view's physical side: like rd(), a pointer instead of a copy */
static unsigned ptr_calls;
static const uint8_t *phys_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	ptr_calls++;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return NULL;
	if (gpa < HVMON_GPA + 0x10000 && gpa + len > HVMON_GPA)
		return NULL;
	return mem + gpa;
}

/* Zero-copy views: only where gvread_read succeeds, the same bytes, one
 * physically contiguous run; never a pointer past what was checked. */
static void test_view(void **st)
{
	(void)st;
	struct gvread r;
	gvread_init(&r, &mmu);
	static uint8_t b[0x3000];
	/* no phys_ptr set: no views */
	assert_null(gvread_view(&r, KMAP + 0x3000000, 16));
	gvread_set_view(&r, phys_ptr, NULL);
	/* inside one 2 MiB page, and across the two (physically contiguous) */
	const uint8_t *p = gvread_view(&r, KMAP + 0x3000100, 0x10000);
	assert_ptr_equal(p, mem + 0x200100);
	p = gvread_view(&r, KMAP + 0x31ff000, 0x2000);
	assert_ptr_equal(p, mem + 0x3ff000);
	assert_int_equal(r.views, 2);
	assert_int_equal(r.view_bytes, 0x12000);
	assert_int_equal(r.reads, 0);                 /* nothing copied, nothing counted as read */
	/* 4 KiB pages mapped to scrambled physical pages: one page is fine, two are not */
	p = gvread_view(&r, KMAP + 0x3402010, 0xff0);
	assert_ptr_equal(p, mem + 0x800000 + 74 * 0x1000 + 0x10);
	assert_null(gvread_view(&r, KMAP + 0x3402010, 0xff1));     /* page 3 is absent */
	/* last byte of the mapped run, then one past: a hole, hvmon, user, wrap, sizes */
	unsigned before = ptr_calls;
	assert_null(gvread_view(&r, KMAP + 0x33fffff, 2));          /* 4 KiB page 0 is at 0x800000 */
	assert_null(gvread_view(&r, KMAP + 0x3600000, 8));          /* hvmon's memory: refused */
	assert_int_equal(ptr_calls, before + 1);                    /* asked for hvmon's page only */
	assert_null(gvread_view(&r, KMAP + 0x3601000, 8));          /* user page */
	assert_null(gvread_view(&r, 0x1000, 8));                    /* lower half */
	assert_null(gvread_view(&r, 0xfffffffffffffff0ULL, 32));    /* wraps */
	assert_null(gvread_view(&r, KMAP + 0x3000000, 0));
	assert_null(gvread_view(&r, KMAP + 0x3000000, GVREAD_MAX_LEN + 1));
	assert_int_equal(r.failed, 0);                              /* a refused view is no failed read */
	/* every view equals a read; random ranges over every kind of mapping */
	static const uint64_t bases[] = { KMAP + 0x3000000, KMAP + 0x3400000, KMAP + 0x3600000,
					  0xffff888000000000ULL, KMAP + 0x2e00000 };
	srand(777);
	unsigned ok = 0;
	for (int i = 0; i < 20000; i++) {
		uint64_t va = bases[rand() % 5] + ((uint64_t)rand() % 0x500000);
		uint32_t len = (uint32_t)(rand() % 0x2800) + 1;
		p = gvread_view(&r, va, len);
		bool got = gvread_read(&r, va, b, len);
		if (p) {
			assert_true(got);
			assert_memory_equal(p, b, len);
			assert_true(p >= mem && p + len <= mem + MEM_SIZE);
			ok++;
		}
	}
	assert_true(ok > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_pages_one_walk),
		cmocka_unit_test(test_negative_cache),
		cmocka_unit_test(test_4k_pages_and_holes),
		cmocka_unit_test(test_equals_gmem),
		cmocka_unit_test(test_first_mapped_2m),
		cmocka_unit_test(test_view),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
