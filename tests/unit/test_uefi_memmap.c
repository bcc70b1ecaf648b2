/* Unit tests for boot/uefi/memmap.c (UEFI memory map -> boot_info) and the
 * handoff path into vmm/e820.c (hvmon's ranges carved out of the guest's e820). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "boot/uefi/memmap.h"
#include "vmm/e820.h"

#define KB 1024ULL
#define MB (1024ULL * KB)
#define GB (1024ULL * MB)
#define PG 4096ULL

static struct boot_info bi;

/* A firmware map with a 48-byte stride (OVMF's desc_size), as bytes. */
struct fwmap {
	unsigned char buf[48 * 600];
	size_t size, stride;
};

static void add(struct fwmap *m, uint32_t type, uint64_t base, uint64_t bytes)
{
	struct uefi_mem_desc d = { type, 0, base, 0, bytes / PG, 0xf };

	memcpy(m->buf + m->size, &d, sizeof(d));
	memset(m->buf + m->size + sizeof(d), 0xa5, m->stride - sizeof(d));
	m->size += m->stride;
}

static void expect_mem(uint32_t i, uint64_t base, uint64_t len, uint32_t type)
{
	assert_true(i < bi.nr_mem);
	assert_int_equal(bi.mem[i].base, base);
	assert_int_equal(bi.mem[i].length, len);
	assert_int_equal(bi.mem[i].type, type);
}

/* Shaped like OVMF's map under QEMU q35 with 1 GiB, given out of order. */
static void ovmf_like(struct fwmap *m)
{
	memset(m, 0, sizeof(*m));
	m->stride = 48;
	add(m, UEFI_MT_BS_CODE,      0x0,         0x1000);
	add(m, UEFI_MT_CONVENTIONAL, 0x1000,      0x9f000);
	add(m, UEFI_MT_CONVENTIONAL, 0x100000,    0x700000);
	add(m, UEFI_MT_ACPI_NVS,     0x800000,    0x8000);
	add(m, UEFI_MT_CONVENTIONAL, 0x808000,    0x8000);
	add(m, UEFI_MT_ACPI_NVS,     0x810000,    0xf0000);
	add(m, UEFI_MT_LOADER_CODE,  0x8000000,   34 * MB);       /* hvmon image+heap */
	add(m, UEFI_MT_CONVENTIONAL, 0x900000,    0x8000000 - 0x900000);
	add(m, UEFI_MT_LOADER_DATA,  0xa200000,   8 * MB);        /* kernel, initrd */
	add(m, UEFI_MT_CONVENTIONAL, 0xaa00000,   0x30000000 - 0xaa00000);
	add(m, UEFI_MT_BS_DATA,      0x30000000,  0x8000000);
	add(m, UEFI_MT_RT_DATA,      0x38000000,  0x100000);
	add(m, UEFI_MT_RT_CODE,      0x38100000,  0x100000);
	add(m, UEFI_MT_ACPI_RECLAIM, 0x38200000,  0x10000);
	add(m, UEFI_MT_BS_DATA,      0x38210000,  0x3f000000 - 0x38210000);
	add(m, UEFI_MT_RESERVED,     0x3f000000,  0x1000000);
	add(m, UEFI_MT_MMIO,         0xb0000000,  0x10000000);
	add(m, UEFI_MT_MMIO,         0xffc00000,  0x400000);
	add(m, UEFI_MT_CONVENTIONAL, 0x100000000ULL, 1 * GB);     /* above 4 GiB */
	add(m, UEFI_MT_LOADER_DATA,  0x140000000ULL, 0);          /* zero pages: ignored */
}

static void test_type_mapping(void **st)
{
	(void)st;
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_RESERVED), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_LOADER_CODE), BOOT_MEM_RAM);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_LOADER_DATA), BOOT_MEM_RAM);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_BS_CODE), BOOT_MEM_RAM);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_BS_DATA), BOOT_MEM_RAM);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_RT_CODE), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_RT_DATA), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_CONVENTIONAL), BOOT_MEM_RAM);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_UNUSABLE), BOOT_MEM_UNUSABLE);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_ACPI_RECLAIM), BOOT_MEM_ACPI);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_ACPI_NVS), BOOT_MEM_NVS);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_MMIO), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_MMIO_PORT), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_PAL_CODE), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_PERSISTENT), BOOT_MEM_PERSISTENT);
	assert_int_equal(uefi_memtype_to_e820(UEFI_MT_UNACCEPTED), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(0x80000001), BOOT_MEM_RESERVED);
	assert_int_equal(uefi_memtype_to_e820(0x70000000), BOOT_MEM_RESERVED);
}

static void test_ovmf_like_map(void **st)
{
	(void)st;
	static struct fwmap m;

	ovmf_like(&m);
	memset(&bi, 0xcc, sizeof(bi));
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OK);
	/* sorted, merged: BS/loader/conventional are RAM and join up */
	expect_mem(0, 0x0, 0xa0000, BOOT_MEM_RAM);
	expect_mem(1, 0x100000, 0x700000, BOOT_MEM_RAM);
	expect_mem(2, 0x800000, 0x8000, BOOT_MEM_NVS);
	expect_mem(3, 0x808000, 0x8000, BOOT_MEM_RAM);
	expect_mem(4, 0x810000, 0xf0000, BOOT_MEM_NVS);
	expect_mem(5, 0x900000, 0x38000000 - 0x900000, BOOT_MEM_RAM);
	expect_mem(6, 0x38000000, 0x200000, BOOT_MEM_RESERVED);    /* RT data+code */
	expect_mem(7, 0x38200000, 0x10000, BOOT_MEM_ACPI);
	expect_mem(8, 0x38210000, 0x3f000000 - 0x38210000, BOOT_MEM_RAM);
	expect_mem(9, 0x3f000000, 0x1000000, BOOT_MEM_RESERVED);
	expect_mem(10, 0xb0000000, 0x10000000, BOOT_MEM_RESERVED);
	expect_mem(11, 0xffc00000, 0x400000, BOOT_MEM_RESERVED);
	expect_mem(12, 0x100000000ULL, 1 * GB, BOOT_MEM_RAM);
	assert_int_equal(bi.nr_mem, 13);
}

static void test_stride_must_fit(void **st)
{
	(void)st;
	static struct fwmap m;

	ovmf_like(&m);
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, 32, &bi), UEFI_MEMMAP_BAD_DESC_SIZE);
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, 44, &bi), UEFI_MEMMAP_BAD_DESC_SIZE);
	/* a 40-byte stride (the bare struct) works too */
	memset(&m, 0, sizeof(m));
	m.stride = 40;
	add(&m, UEFI_MT_CONVENTIONAL, 0x1000, 0x2000);
	add(&m, UEFI_MT_BS_DATA, 0x3000, 0x1000);
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OK);
	assert_int_equal(bi.nr_mem, 1);
	expect_mem(0, 0x1000, 0x3000, BOOT_MEM_RAM);
	/* a trailing partial descriptor is not read */
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size + 39, m.stride, &bi), UEFI_MEMMAP_OK);
	assert_int_equal(bi.nr_mem, 1);
}

static void test_bad_ranges(void **st)
{
	(void)st;
	static struct fwmap m;

	memset(&m, 0, sizeof(m));
	m.stride = 48;
	add(&m, UEFI_MT_CONVENTIONAL, 0x100000, 0x100000);
	add(&m, UEFI_MT_ACPI_NVS, 0x180000, 0x1000);          /* inside the first */
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OVERLAP);

	memset(&m, 0, sizeof(m));
	m.stride = 48;
	add(&m, UEFI_MT_CONVENTIONAL, 0x100000, 0x100000);
	add(&m, UEFI_MT_CONVENTIONAL, 0x0ff000, 0x2000);      /* straddles the start */
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OVERLAP);

	memset(&m, 0, sizeof(m));
	m.stride = 48;
	add(&m, UEFI_MT_CONVENTIONAL, 0x100800, 0x1000);      /* misaligned */
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_BAD_RANGE);

	memset(&m, 0, sizeof(m));
	m.stride = 48;
	{
		struct uefi_mem_desc d = { UEFI_MT_CONVENTIONAL, 0, 0xfffffffffff00000ULL, 0, 0x100, 0 };
		memcpy(m.buf, &d, sizeof(d));    /* ends exactly at 2^64: does not fit */
		m.size = 48;
	}
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_BAD_RANGE);
}

static void test_too_many(void **st)
{
	(void)st;
	static struct fwmap m;
	uint32_t i;

	memset(&m, 0, sizeof(m));
	m.stride = 48;
	for (i = 0; i < BOOT_MEM_MAX; i++)    /* alternating types: no merging */
		add(&m, (i & 1) ? UEFI_MT_ACPI_NVS : UEFI_MT_CONVENTIONAL, (uint64_t)i * PG, PG);
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OK);
	assert_int_equal(bi.nr_mem, BOOT_MEM_MAX);
	add(&m, UEFI_MT_ACPI_NVS, (uint64_t)(BOOT_MEM_MAX + 1) * PG, PG);
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_TOO_MANY);
	/* ...but many same-type neighbours merge into one entry */
	memset(&m, 0, sizeof(m));
	m.stride = 48;
	for (i = 0; i < 500; i++)
		add(&m, (i % 3) ? UEFI_MT_BS_DATA : UEFI_MT_CONVENTIONAL, (uint64_t)(499 - i) * PG, PG);
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OK);
	assert_int_equal(bi.nr_mem, 1);
	expect_mem(0, 0, 500 * PG, BOOT_MEM_RAM);
}

/* The whole UEFI path: hvmon's allocations are RAM in boot_info.mem, listed
 * in boot_info.reserved, and vmm/e820 turns them into holes for the guest. */
static void test_reserved_carved_for_guest(void **st)
{
	(void)st;
	static struct fwmap m;
	static struct e820_entry out[E820_MAX_ENTRIES_ZEROPAGE];
	uint32_t nr = 0, i, bad = 99;
	uint64_t ram_before = 0, ram_after;
	const uint64_t img = 0x8000000, img_len = 34 * MB;
	const uint64_t kern = 0xa200000, kern_len = 0x7f3000;   /* not a page multiple of MB */

	ovmf_like(&m);
	memset(&bi, 0, sizeof(bi));
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OK);
	assert_int_equal(uefi_add_reserved(&bi, img, img_len, "image"), 0);
	assert_int_equal(uefi_add_reserved(&bi, kern, kern_len, "guest-kernel"), 0);
	assert_int_equal(uefi_add_reserved(&bi, 0x30000000, 0x3000, "boot-data"), 0);
	assert_int_equal(uefi_check_reserved(&bi, &bad), UEFI_MEMMAP_OK);

	for (i = 0; i < bi.nr_mem; i++)
		if (bi.mem[i].type == BOOT_MEM_RAM)
			ram_before += bi.mem[i].length;
	assert_int_equal(e820_build_guest(bi.mem, bi.nr_mem, bi.reserved, bi.nr_reserved,
					  out, E820_MAX_ENTRIES_ZEROPAGE, &nr), E820_OK);
	ram_after = e820_ram_bytes(out, nr);
	assert_int_equal(ram_before - ram_after, img_len + kern_len + 0x3000);
	for (i = 0; i < nr; i++) {
		uint64_t a = out[i].addr, e = out[i].addr + out[i].size;
		uint32_t r;

		if (out[i].type != E820_TYPE_RAM)
			continue;
		for (r = 0; r < bi.nr_reserved; r++) {
			uint64_t rb = bi.reserved[r].base, re = rb + bi.reserved[r].length;
			assert_false(a < re && rb < e);   /* no guest RAM over hvmon's ranges */
		}
	}
	/* the non-RAM firmware ranges are still there for the guest */
	for (i = 0; i < nr; i++)
		if (out[i].addr == 0x38200000)
			break;
	assert_true(i < nr);
	assert_int_equal(out[i].type, E820_TYPE_ACPI);
}

static void test_reserved_checks(void **st)
{
	(void)st;
	static struct fwmap m;
	uint32_t bad = 99, i;

	ovmf_like(&m);
	memset(&bi, 0, sizeof(bi));
	assert_int_equal(uefi_memmap_to_boot(m.buf, m.size, m.stride, &bi), UEFI_MEMMAP_OK);
	assert_int_equal(uefi_add_reserved(&bi, 0x100000, 0x1000, "ok"), 0);
	assert_int_equal(uefi_add_reserved(&bi, 0x38000000, 0x1000, "rt"), 0);   /* runtime: not RAM */
	assert_int_equal(uefi_check_reserved(&bi, &bad), UEFI_MEMMAP_RSVD_NOT_RAM);
	assert_int_equal(bad, 1);
	bi.nr_reserved = 0;
	assert_int_equal(uefi_add_reserved(&bi, 0x7ff000, 0x2000, "straddles"), 0); /* RAM then NVS */
	assert_int_equal(uefi_check_reserved(&bi, &bad), UEFI_MEMMAP_RSVD_NOT_RAM);
	assert_int_equal(bad, 0);
	bi.nr_reserved = 0;
	assert_int_equal(uefi_add_reserved(&bi, 0xc0000000, 0x1000, "hole"), 0);
	assert_int_equal(uefi_check_reserved(&bi, &bad), UEFI_MEMMAP_RSVD_NOT_RAM);
	bi.nr_reserved = 0;
	assert_int_equal(uefi_add_reserved(&bi, 0x100000, 0, "empty"), 0);
	assert_int_equal(uefi_check_reserved(&bi, &bad), UEFI_MEMMAP_RSVD_NOT_RAM);
	bi.nr_reserved = 0;
	for (i = 0; i < BOOT_RSVD_MAX; i++)
		assert_int_equal(uefi_add_reserved(&bi, 0x100000 + i * PG, PG, "x"), 0);
	assert_int_equal(uefi_add_reserved(&bi, 0x200000, PG, "one too many"), UEFI_MEMMAP_RSVD_FULL);
	assert_int_equal(bi.nr_reserved, BOOT_RSVD_MAX);
	assert_int_equal(uefi_check_reserved(&bi, &bad), UEFI_MEMMAP_OK);
	assert_non_null(strstr(uefi_memmap_strerror(UEFI_MEMMAP_OVERLAP), "overlap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_mapping),
		cmocka_unit_test(test_ovmf_like_map),
		cmocka_unit_test(test_stride_must_fit),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_reserved_carved_for_guest),
		cmocka_unit_test(test_reserved_checks),
	};
	return cmocka_run_group_tests_name("uefi_memmap", tests, NULL, NULL);
}
