/* Unit tests for vmm/gmem.c: synthetic guest page tables (4- and 5-level, 4K/2M/1G
 * pages) built in a host buffer that stands for guest-physical memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/gmem.h"

#define MEM_SIZE (8u << 20)          /* 8 MiB of "guest-physical" memory at gpa 0 */
#define HVMON_GPA 0x600000ULL        /* a 64 KiB range the reader refuses (hvmon memory) */
#define P  1ULL
#define RW 2ULL
#define US 4ULL
#define PS 0x80ULL
#define XD (1ULL << 63)

#include "tests/unit/fake_guest_mem.h"

/* Map gva -> gpa with a leaf at @leaf_level (1 = 4K, 2 = 2M, 3 = 1G); upper levels get
 * P|RW|US unless @upper overrides. */
static void map(uint64_t root, int levels, uint64_t gva, uint64_t gpa, int leaf_level,
		uint64_t leaf_flags, uint64_t upper)
{
	uint64_t table = root;
	for (int level = levels; level > leaf_level; level--) {
		unsigned idx = (gva >> (12 + 9 * (level - 1))) & 511;
		uint64_t *e = ent(table, idx);
		if (!(*e & P))
			*e = new_table() | upper;
		table = *e & 0x000ffffffffff000ULL;
	}
	unsigned idx = (gva >> (12 + 9 * (leaf_level - 1))) & 511;
	*ent(table, idx) = gpa | leaf_flags | (leaf_level > 1 ? PS : 0);
}

static struct gmem_mmu mmu;
static uint64_t root;

static int setup(void **st)
{
	(void)st;
	mem = calloc(1, MEM_SIZE);
	next_table = 0x100000;
	root = new_table();
	mmu.read_phys = rd;
	mmu.ctx = NULL;
	mmu.cr3 = root | 0x5;      /* PCID bits must be ignored */
	mmu.la57 = false;
	mmu.nxe = true;
	mmu.maxphyaddr = 46;
	return 0;
}

static int teardown(void **st) { (void)st; free(mem); return 0; }

/* The translation cache: a hit answers without a page-table read and with the
 * walk's result; keys are (CR3, page, flags); failures are not cached; a reset
 * forgets everything; a full cache replaces entries and stays correct. */
static void test_tcache(void **st)
{
	(void)st;
	struct gmem_walk w, w0;
	struct gmem_tc tc;
	uint64_t kva = 0xffffffff84000000ULL, uva = 0x00007e0000100000ULL;
	map(root, 4, kva, 0x510000, 1, P | RW, P | RW);
	map(root, 4, uva, 0x540000, 1, P | RW | US, P | RW | US);
	map(root, 4, 0xffffffffc0800000ULL, 0x400000, 2, P | XD, P | RW);
	gmem_tc_reset(&tc);
	tc.hits = tc.misses = 0;
	mmu.tc = &tc;
	assert_int_equal(gmem_translate(&mmu, kva + 0x10, 0, &w0), GMEM_OK);
	unsigned r0 = reads;
	assert_int_equal(gmem_translate(&mmu, kva + 0xff8, 0, &w), GMEM_OK);
	assert_int_equal(reads, r0);                          /* no walk */
	assert_int_equal(w.gpa, 0x510ff8);
	assert_int_equal(w.page_size, w0.page_size);
	assert_true(w.writable);
	assert_false(w.user);
	assert_int_equal(tc.hits, 1);
	/* another flag set is another key: the kernel-only check still runs */
	assert_int_equal(gmem_translate(&mmu, uva + 8, 0, &w), GMEM_OK);
	assert_int_equal(gmem_translate(&mmu, uva + 8, GMEM_KERNEL_ONLY, &w), GMEM_ERR_NOT_KERNEL);
	assert_int_equal(gmem_translate(&mmu, uva + 16, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x540010);
	/* another CR3 is another key */
	uint64_t cr3 = mmu.cr3;
	mmu.cr3 = new_table();
	assert_int_equal(gmem_translate(&mmu, kva, 0, &w), GMEM_ERR_NOT_PRESENT);
	assert_int_equal(gmem_translate(&mmu, kva, 0, &w), GMEM_ERR_NOT_PRESENT);   /* not cached */
	mmu.cr3 = cr3;
	/* large page: one entry for the whole 2 MiB page (as a TLB), nx kept */
	assert_int_equal(gmem_translate(&mmu, 0xffffffffc0801234ULL, 0, &w), GMEM_OK);
	r0 = reads;
	unsigned h0 = tc.hits;
	assert_int_equal(gmem_translate(&mmu, 0xffffffffc0801238ULL, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x401238);
	assert_true(w.nx);
	assert_int_equal(w.page_size, 2u << 20);
	assert_int_equal(gmem_translate(&mmu, 0xffffffffc09ffff8ULL, 0, &w), GMEM_OK);  /* other 4K granule */
	assert_int_equal(w.gpa, 0x5ffff8);
	assert_int_equal(gmem_translate(&mmu, 0xffffffffc0800000ULL, 0, &w), GMEM_OK);  /* first byte */
	assert_int_equal(w.gpa, 0x400000);
	assert_int_equal(reads, r0);                          /* no walk for any of them */
	assert_int_equal(tc.hits, h0 + 3);
	/* the next 2 MiB page is not that entry: it is not mapped */
	assert_int_equal(gmem_translate(&mmu, 0xffffffffc0a00000ULL, 0, &w), GMEM_ERR_NOT_PRESENT);
	/* the mapping entry is reported (walk and cache hit alike) */
	{
		struct gmem_walk a, b;
		gmem_tc_reset(&tc);
		assert_int_equal(gmem_translate(&mmu, kva + 5, 0, &a), GMEM_OK);
		assert_int_equal(gmem_translate(&mmu, kva + 9, 0, &b), GMEM_OK);
		assert_int_equal(a.leaf, 0x510000 | P | RW);
		assert_memory_equal(mem + a.leaf_pa, &a.leaf, 8);
		assert_int_equal(b.leaf_pa, a.leaf_pa);
		assert_int_equal(b.leaf, a.leaf);
	}
	/* 1 GiB page (the kernel's direct map): one entry for all of it */
	map(root, 4, 0xffff888000000000ULL, 0x0, 3, P | RW | XD, P | RW);
	assert_int_equal(gmem_translate(&mmu, 0xffff888000001000ULL, GMEM_KERNEL_ONLY, &w), GMEM_OK);
	r0 = reads;
	assert_int_equal(gmem_translate(&mmu, 0xffff88803ffff008ULL, GMEM_KERNEL_ONLY, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x3ffff008ULL);
	assert_int_equal(w.page_size, 1u << 30);
	assert_int_equal(reads, r0);
	assert_int_equal(gmem_translate(&mmu, 0xffff888040000000ULL, GMEM_KERNEL_ONLY, &w), GMEM_ERR_NOT_PRESENT);
	/* a changed mapping is seen only after a reset (the owner's job at each exit) */
	map(root, 4, kva, 0x520000, 1, P | RW, P | RW);
	assert_int_equal(gmem_translate(&mmu, kva, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x510000);
	gmem_tc_reset(&tc);
	assert_int_equal(gmem_translate(&mmu, kva, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x520000);
	/* more pages than entries: replaced round robin, answers stay right */
	for (unsigned i = 0; i < 3 * GMEM_TC_ENTRIES; i++)
		map(root, 4, kva + 0x10000 + i * 0x1000ULL, 0x560000 + i * 0x1000ULL, 1, P | RW, P | RW);
	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; i < 3 * GMEM_TC_ENTRIES; i++) {
			assert_int_equal(gmem_translate(&mmu, kva + 0x10000 + i * 0x1000ULL + 5, 0, &w), GMEM_OK);
			assert_int_equal(w.gpa, 0x560005 + i * 0x1000ULL);
		}
	/* reads through the cache */
	char buf[16];
	memcpy(mem + 0x540000 + 0xff8, "crosses!", 8);
	map(root, 4, uva + 0x1000, 0x550000, 1, P | RW | US, P | RW | US);
	memcpy(mem + 0x550000, "a page", 7);
	assert_int_equal(gmem_read(&mmu, uva + 0xff8, buf, 15, 0, NULL), GMEM_OK);
	assert_memory_equal(buf, "crosses!a page", 15);
	mmu.tc = NULL;
}

static void test_translate_4k_2m_1g(void **st)
{
	(void)st;
	struct gmem_walk w;
	uint64_t kva = 0xffffffff81000000ULL;
	map(root, 4, kva, 0x200000, 1, P | RW, P | RW);                  /* kernel 4K rw */
	map(root, 4, kva + 0x1000, 0x201000, 1, P | XD, P | RW);         /* kernel 4K ro nx */
	map(root, 4, 0xffff888000000000ULL, 0x0, 3, P | RW | XD, P | RW); /* direct map 1G */
	map(root, 4, 0xffffffffc0000000ULL, 0x400000, 2, P | RW, P | RW);  /* 2M */
	map(root, 4, 0x00007f0000001000ULL, 0x300000, 1, P | RW | US, P | RW | US);   /* user */

	assert_int_equal(gmem_translate(&mmu, kva + 0x123, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x200123);
	assert_int_equal(w.page_size, 0x1000);
	assert_true(w.writable);
	assert_false(w.user);
	assert_false(w.nx);
	assert_int_equal(w.levels, 4);

	assert_int_equal(gmem_translate(&mmu, kva + 0x1008, GMEM_KERNEL_ONLY, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x201008);
	assert_false(w.writable);
	assert_true(w.nx);

	assert_int_equal(gmem_translate(&mmu, 0xffff888012345678ULL, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x12345678);
	assert_int_equal(w.page_size, 1ULL << 30);

	assert_int_equal(gmem_translate(&mmu, 0xffffffffc01fffffULL, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x5fffff);
	assert_int_equal(w.page_size, 2ULL << 20);

	assert_int_equal(gmem_translate(&mmu, 0x00007f0000001010ULL, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x300010);
	assert_true(w.user);
	/* user addresses / pages refused when kernel-only */
	assert_int_equal(gmem_translate(&mmu, 0x00007f0000001010ULL, GMEM_KERNEL_ONLY, &w), GMEM_ERR_NOT_KERNEL);
	map(root, 4, 0xffffc90000000000ULL, 0x302000, 1, P | RW | US, P | RW | US);
	assert_int_equal(gmem_translate(&mmu, 0xffffc90000000000ULL, GMEM_KERNEL_ONLY, &w), GMEM_ERR_USER_PAGE);
	assert_int_equal(gmem_translate(&mmu, 0xffffc90000000000ULL, 0, &w), GMEM_OK);
}

static void test_translate_failures(void **st)
{
	(void)st;
	struct gmem_walk w;
	/* non-canonical */
	assert_int_equal(gmem_translate(&mmu, 0x0000800000000000ULL, 0, &w), GMEM_ERR_NONCANON);
	assert_int_equal(gmem_translate(&mmu, 0xff00000000000000ULL, 0, &w), GMEM_ERR_NONCANON);
	/* not present, with the failing level */
	assert_int_equal(gmem_translate(&mmu, 0xffffffff82000000ULL, 0, &w), GMEM_ERR_NOT_PRESENT);
	assert_int_equal(w.fail_level, 2);
	assert_int_equal(gmem_translate(&mmu, 0xffff900000000000ULL, 0, &w), GMEM_ERR_NOT_PRESENT);
	assert_int_equal(w.fail_level, 4);
	/* XD without EFER.NXE is reserved */
	mmu.nxe = false;
	assert_int_equal(gmem_translate(&mmu, 0xffffffff81001000ULL, 0, &w), GMEM_ERR_RESERVED);
	assert_int_equal(w.fail_level, 1);
	mmu.nxe = true;
	/* address bits above MAXPHYADDR */
	map(root, 4, 0xffffffff81002000ULL, 1ULL << 47, 1, P, P | RW);
	assert_int_equal(gmem_translate(&mmu, 0xffffffff81002000ULL, 0, &w), GMEM_ERR_RESERVED);
	/* misaligned 2M page (bit 13 set) */
	map(root, 4, 0xffffffff81400000ULL, 0x402000, 2, P, P | RW);
	assert_int_equal(gmem_translate(&mmu, 0xffffffff81400000ULL, 0, &w), GMEM_ERR_RESERVED);
	/* bit 12 (PAT) in a 2M page is fine */
	map(root, 4, 0xffffffff81600000ULL, 0x401000, 2, P, P | RW);
	assert_int_equal(gmem_translate(&mmu, 0xffffffff81600010ULL, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x400010);
	/* PS in a PML4E is reserved */
	*ent(root, 300) = 0x0 | P | PS;
	assert_int_equal(gmem_translate(&mmu, 0xffff960000000000ULL, 0, &w), GMEM_ERR_RESERVED);
	assert_int_equal(w.fail_level, 4);
	/* a table pointer into refused memory (hvmon) / beyond memory */
	*ent(root, 301) = HVMON_GPA | P | RW;
	assert_int_equal(gmem_translate(&mmu, 0xffff968000000000ULL, 0, &w), GMEM_ERR_READ_PHYS);
	assert_int_equal(w.fail_level, 3);
	*ent(root, 302) = 0x3fff000000ULL | P | RW;
	assert_int_equal(gmem_translate(&mmu, 0xffff970000000000ULL, 0, &w), GMEM_ERR_READ_PHYS);
	/* CR3 beyond MAXPHYADDR */
	uint64_t cr3 = mmu.cr3;
	mmu.cr3 = 1ULL << 50;
	assert_int_equal(gmem_translate(&mmu, 0xffffffff81000000ULL, 0, &w), GMEM_ERR_RESERVED);
	mmu.cr3 = cr3;
	assert_int_equal(gmem_translate(NULL, 0, 0, &w), GMEM_ERR_INVAL);
	for (int a = GMEM_ERR_OVERFLOW; a < GMEM_OK; a++)
		assert_string_not_equal(gmem_strerror(a), gmem_strerror(a + 1));
}

static void test_five_level(void **st)
{
	(void)st;
	struct gmem_mmu m5 = mmu;
	struct gmem_walk w;
	uint64_t r5 = new_table();
	m5.cr3 = r5;
	m5.la57 = true;
	uint64_t va = 0xff11000000000000ULL;              /* canonical only with 57 bits */
	assert_false(gmem_canonical(&mmu, va));
	assert_true(gmem_canonical(&m5, va));
	map(r5, 5, va, 0x205000, 1, P | RW, P | RW);
	assert_int_equal(gmem_translate(&m5, va + 0x42, 0, &w), GMEM_OK);
	assert_int_equal(w.gpa, 0x205042);
	assert_int_equal(w.levels, 5);
	assert_int_equal(gmem_translate(&mmu, va, 0, &w), GMEM_ERR_NONCANON);
	assert_int_equal(gmem_translate(&m5, 0x0100000000000000ULL, 0, &w), GMEM_ERR_NONCANON);
	assert_int_equal(gmem_translate(&m5, 0xff12000000000000ULL, 0, &w), GMEM_ERR_NOT_PRESENT);
	assert_int_equal(w.fail_level, 5);
}

/* issue 15 item 5: the user-half check every monitor applies to a guest pointer (the keylogger's
 * read buffers and iovecs, ret2usr's fetch addresses): with 5-level paging user buffers reach 2^56 - 1 */
static void test_user_va(void **st)
{
	(void)st;
	assert_true(gmem_user_va(0, false));
	assert_true(gmem_user_va(0x00007fffffffffffULL, false));
	assert_false(gmem_user_va(0x0000800000000000ULL, false));   /* 2^47: non-canonical with 4 levels */
	assert_false(gmem_user_va(0xffff888000000000ULL, false));   /* kernel half */
	assert_true(gmem_user_va(0x0000800000000000ULL, true));     /* 2^47: a user buffer with LA57 */
	assert_true(gmem_user_va(0x00ff7f0000001000ULL, true));     /* near the top of the 57-bit user half */
	assert_true(gmem_user_va(0x00ffffffffffffffULL, true));
	assert_false(gmem_user_va(0x0100000000000000ULL, true));    /* 2^56: non-canonical with 5 levels */
	assert_false(gmem_user_va(0xff11000000000000ULL, true));    /* 5-level kernel half */
	/* a buffer's last byte is checked too: one that crosses the top is refused */
	uint64_t base = 0x00fffffffffff000ULL, len = 0x2000;
	assert_true(gmem_user_va(base, true));
	assert_false(gmem_user_va(base + len - 1, true));
}

static void test_read_across_pages(void **st)
{
	(void)st;
	uint64_t va = 0xffffffff90000000ULL;
	/* two virtually adjacent pages backed by non-adjacent physical pages */
	map(root, 4, va, 0x210000, 1, P | RW, P | RW);
	map(root, 4, va + 0x1000, 0x2f0000, 1, P | RW, P | RW);
	for (int i = 0; i < 0x1000; i++) {
		mem[0x210000 + i] = (uint8_t)i;
		mem[0x2f0000 + i] = (uint8_t)(0x80 + i);
	}
	uint8_t buf[64];
	uint32_t done;
	cross_page_reads = 0;
	assert_int_equal(gmem_read(&mmu, va + 0xfe0, buf, 64, GMEM_KERNEL_ONLY, &done), GMEM_OK);
	assert_int_equal(done, 64);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(buf[i], (uint8_t)(0xe0 + i));
		assert_int_equal(buf[32 + i], (uint8_t)(0x80 + i));
	}
	assert_int_equal(cross_page_reads, 0);
	/* u64 straddling the boundary */
	uint64_t v;
	assert_int_equal(gmem_read_u64(&mmu, va + 0xffc, 0, &v), GMEM_OK);
	assert_int_equal(v, 0x83828180fffefdfcULL);
	/* the third page is absent: partial read reported */
	assert_int_equal(gmem_read(&mmu, va + 0x1ff0, buf, 64, 0, &done), GMEM_ERR_NOT_PRESENT);
	assert_int_equal(done, 16);
	/* a page mapped onto hvmon memory: refused */
	map(root, 4, va + 0x3000, HVMON_GPA, 1, P | RW, P | RW);
	assert_int_equal(gmem_read(&mmu, va + 0x3000, buf, 8, 0, &done), GMEM_ERR_READ_PHYS);
	assert_int_equal(done, 0);
	/* wrap-around and bound */
	assert_int_equal(gmem_read(&mmu, 0xfffffffffffffff0ULL, buf, 64, 0, NULL), GMEM_ERR_OVERFLOW);
	assert_int_equal(gmem_read(&mmu, va, NULL, 8, 0, NULL), GMEM_ERR_INVAL);
	static uint8_t big[(1 << 20) + 1];
	assert_int_equal(gmem_read(&mmu, va, big, sizeof(big), 0, NULL), GMEM_ERR_INVAL);
	assert_int_equal(gmem_read(&mmu, va, buf, 0, 0, &done), GMEM_OK);
}

static void test_read_str(void **st)
{
	(void)st;
	uint64_t va = 0xffffffffa0000000ULL;
	map(root, 4, va, 0x220000, 1, P | RW, P | RW);
	map(root, 4, va + 0x1000, 0x230000, 1, P | RW, P | RW);
	memset(mem + 0x220000, 'A', 0x1000);
	memset(mem + 0x230000, 'B', 0x1000);
	mem[0x230000 + 5] = 0;
	memcpy(mem + 0x220000 + 0x100, "/bin/ls", 8);
	char buf[64];
	uint32_t len;
	assert_int_equal(gmem_read_str(&mmu, va + 0x100, buf, sizeof(buf), GMEM_KERNEL_ONLY, &len), GMEM_OK);
	assert_string_equal(buf, "/bin/ls");
	assert_int_equal(len, 7);
	/* crosses the page: 3 'A' then 5 'B' */
	assert_int_equal(gmem_read_str(&mmu, va + 0xffd, buf, sizeof(buf), 0, &len), GMEM_OK);
	assert_string_equal(buf, "AAABBBBB");
	assert_int_equal(len, 8);
	/* bound hit: truncated, terminated, error */
	assert_int_equal(gmem_read_str(&mmu, va, buf, 16, 0, &len), GMEM_ERR_TOO_LONG);
	assert_int_equal(len, 15);
	assert_int_equal(strlen(buf), 15);
	/* string runs into an unmapped page */
	memset(mem + 0x230000, 'B', 0x1000);
	char big[0x3000];
	assert_int_equal(gmem_read_str(&mmu, va + 0xff0, big, sizeof(big), 0, &len), GMEM_ERR_NOT_PRESENT);
	assert_int_equal(len, 0x1010);
	assert_int_equal(strlen(big), 0x1010);
	/* max = 1: empty string, TOO_LONG unless... there is no room for any char */
	assert_int_equal(gmem_read_str(&mmu, va + 0x100, buf, 1, 0, &len), GMEM_ERR_TOO_LONG);
	assert_string_equal(buf, "");
	assert_int_equal(gmem_read_str(&mmu, va, buf, 0, 0, &len), GMEM_ERR_INVAL);
	/* a string at the very top of the address space wraps: reported, length consistent */
	map(root, 4, 0xfffffffffffff000ULL, 0x240000, 1, P | RW, P | RW);
	mem[0x240fff] = 'Z';
	assert_int_equal(gmem_read_str(&mmu, 0xffffffffffffffffULL, buf, 8, 0, &len), GMEM_ERR_OVERFLOW);
	assert_int_equal(len, 1);
	assert_string_equal(buf, "Z");
	assert_int_equal(gmem_read_str(&mmu, 0x00007fff00000000ULL, buf, 8, GMEM_KERNEL_ONLY, &len), GMEM_ERR_NOT_KERNEL);
}

/* Random guest page tables: compare the walker against a reference model built
 * alongside (a table of mapped gva pages). */
static void test_random_mappings(void **st)
{
	(void)st;
	enum { N = 300 };
	static struct { uint64_t va, pa, size; bool present; } ref[N];
	struct gmem_mmu m = mmu;
	srand(2024);
	next_table = 0x100000;
	uint64_t r = new_table();
	m.cr3 = r;
	int n = 0;
	for (int i = 0; i < N; i++) {
		int lvl = 1 + (rand() % 10 == 0) + (rand() % 20 == 0);
		uint64_t size = 1ULL << (12 + 9 * (lvl - 1));
		uint64_t va = ((((uint64_t)rand() << 31) ^ (uint64_t)rand()) << 12) & 0x00007ffffffff000ULL;
		if (rand() & 1) va |= 0xffff800000000000ULL;
		va &= ~(size - 1);
		uint64_t pa = ((uint64_t)rand() % 1024) << 30 & ~(size - 1);
		/* skip if it would collide with an existing mapping at a different level */
		bool clash = false;
		for (int j = 0; j < n; j++) {
			uint64_t big = ref[j].size > size ? ref[j].size : size;
			if ((ref[j].va & ~(big - 1)) == (va & ~(big - 1)) && ref[j].size != size)
				clash = true;
		}
		if (clash) continue;
		map(r, 4, va, pa, lvl, P | RW, P | RW | US);
		ref[n].va = va; ref[n].pa = pa; ref[n].size = size; ref[n].present = true;
		n++;
	}
	for (int j = n - 1; j >= 0; j--) {
		struct gmem_walk w;
		uint64_t off = ((uint64_t)rand() * 7919) % ref[j].size;
		/* a later mapping of the same page may have replaced it */
		bool shadowed = false;
		for (int k = j + 1; k < n; k++)
			if (ref[k].va == ref[j].va) shadowed = true;
		if (shadowed) continue;
		assert_int_equal(gmem_translate(&m, ref[j].va + off, 0, &w), GMEM_OK);
		assert_int_equal(w.gpa, ref[j].pa + off);
		assert_int_equal(w.page_size, ref[j].size);
		assert_false(w.user);               /* leaves without US */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate_4k_2m_1g),
		cmocka_unit_test(test_tcache),
		cmocka_unit_test(test_translate_failures),
		cmocka_unit_test(test_five_level),
		cmocka_unit_test(test_user_va),
		cmocka_unit_test(test_read_across_pages),
		cmocka_unit_test(test_read_str),
		cmocka_unit_test(test_random_mappings),
	};
	return cmocka_run_group_tests_name("gmem", tests, setup, teardown);
}
