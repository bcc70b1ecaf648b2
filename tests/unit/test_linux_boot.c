/* Unit tests for vmm/linux_boot.c: setup-header checks (one per error), kernel
 * placement, boot_params layout (checked against Linux's own uapi
 * <asm/bootparam.h>) and a real Debian bzImage (HVMON_TEST_BZIMAGE or the
 * pinned 6.1 cloud kernel extracted under cache/). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <asm/bootparam.h>     /* the real Linux layout, host only */

#include "vmm/linux_boot.h"

#define MB (1024ULL * 1024)
#define GB (1024ULL * MB)
#define DEFAULT_BZIMAGE "cache/kern-6.1-cloud/boot/vmlinuz-6.1.0-56-cloud-amd64"

static void w16(uint8_t *p, uint32_t o, uint16_t v) { memcpy(p + o, &v, 2); }
static void w32(uint8_t *p, uint32_t o, uint32_t v) { memcpy(p + o, &v, 4); }
static void w64(uint8_t *p, uint32_t o, uint64_t v) { memcpy(p + o, &v, 8); }
static uint16_t r16(const uint8_t *p, uint32_t o) { uint16_t v; memcpy(&v, p + o, 2); return v; }
static uint32_t r32(const uint8_t *p, uint32_t o) { uint32_t v; memcpy(&v, p + o, 4); return v; }
static uint64_t r64(const uint8_t *p, uint32_t o) { uint64_t v; memcpy(&v, p + o, 8); return v; }

/* A minimal valid synthetic bzImage: 4 setup sects (field 0), 64 KiB payload. */
enum { SYN_PM = 0x10000, SYN_SIZE = 5 * 512 + SYN_PM };
static uint8_t syn[SYN_SIZE];

static void make_syn(void)
{
	memset(syn, 0, sizeof(syn));
	syn[0x1f1] = 0;                        /* setup_sects 0 -> 4 */
	w32(syn, 0x1f4, SYN_PM / 16);
	w16(syn, 0x1fa, 0xffff);
	w16(syn, 0x1fe, 0xAA55);
	syn[0x200] = 0xeb; syn[0x201] = 0x6a;  /* jmp: header ends at 0x26c */
	memcpy(syn + 0x202, "HdrS", 4);
	w16(syn, 0x206, 0x020f);
	syn[0x211] = 0x01;
	w32(syn, 0x22c, 0x7fffffff);
	w32(syn, 0x230, 0x200000);
	syn[0x234] = 1;
	syn[0x235] = 21;
	w16(syn, 0x236, 0x7f);
	w32(syn, 0x238, 2047);
	w32(syn, 0x248, 0x100);
	w32(syn, 0x24c, 0x8000);
	w64(syn, 0x258, 0x1000000);
	w32(syn, 0x260, 0x400000);
}

static void test_offsets_match_linux_uapi(void **st)
{
	(void)st;
	assert_int_equal(sizeof(struct boot_params), LB_BP_SIZE);
	assert_int_equal(offsetof(struct boot_params, acpi_rsdp_addr), LB_BP_ACPI_RSDP_ADDR);
	assert_int_equal(offsetof(struct boot_params, ext_ramdisk_image), LB_BP_EXT_RAMDISK_IMAGE);
	assert_int_equal(offsetof(struct boot_params, ext_ramdisk_size), LB_BP_EXT_RAMDISK_SIZE);
	assert_int_equal(offsetof(struct boot_params, ext_cmd_line_ptr), LB_BP_EXT_CMD_LINE_PTR);
	assert_int_equal(offsetof(struct boot_params, e820_entries), LB_BP_E820_ENTRIES);
	assert_int_equal(offsetof(struct boot_params, sentinel), LB_BP_SENTINEL);
	assert_int_equal(offsetof(struct boot_params, hdr), LB_BP_HDR);
	assert_int_equal(offsetof(struct boot_params, e820_table), LB_BP_E820_TABLE);
	assert_int_equal(sizeof(struct boot_e820_entry), sizeof(struct e820_entry));
#define H(f, c) assert_int_equal(offsetof(struct boot_params, hdr.f), c)
	H(setup_sects, LB_HDR_SETUP_SECTS); H(syssize, LB_HDR_SYSSIZE); H(vid_mode, LB_HDR_VID_MODE);
	H(boot_flag, LB_HDR_BOOT_FLAG); H(jump, LB_HDR_JUMP); H(header, LB_HDR_HEADER);
	H(version, LB_HDR_VERSION); H(type_of_loader, LB_HDR_TYPE_OF_LOADER); H(loadflags, LB_HDR_LOADFLAGS);
	H(code32_start, LB_HDR_CODE32_START); H(ramdisk_image, LB_HDR_RAMDISK_IMAGE);
	H(ramdisk_size, LB_HDR_RAMDISK_SIZE); H(heap_end_ptr, LB_HDR_HEAP_END_PTR);
	H(ext_loader_ver, LB_HDR_EXT_LOADER_VER); H(ext_loader_type, LB_HDR_EXT_LOADER_TYPE);
	H(cmd_line_ptr, LB_HDR_CMD_LINE_PTR); H(initrd_addr_max, LB_HDR_INITRD_ADDR_MAX);
	H(kernel_alignment, LB_HDR_KERNEL_ALIGNMENT); H(relocatable_kernel, LB_HDR_RELOCATABLE);
	H(min_alignment, LB_HDR_MIN_ALIGNMENT); H(xloadflags, LB_HDR_XLOADFLAGS);
	H(cmdline_size, LB_HDR_CMDLINE_SIZE); H(payload_offset, LB_HDR_PAYLOAD_OFFSET);
	H(payload_length, LB_HDR_PAYLOAD_LENGTH); H(setup_data, LB_HDR_SETUP_DATA);
	H(pref_address, LB_HDR_PREF_ADDRESS); H(init_size, LB_HDR_INIT_SIZE);
	H(handover_offset, LB_HDR_HANDOVER_OFFSET); H(kernel_info_offset, LB_HDR_KERNEL_INFO_OFF);
#undef H
	assert_true(offsetof(struct boot_params, hdr) + sizeof(struct setup_header) <= LB_HDR_END_MAX);
	assert_int_equal(LB_XLF_KERNEL_64, XLF_KERNEL_64);
	assert_int_equal(LB_XLF_CAN_BE_LOADED_ABOVE_4G, XLF_CAN_BE_LOADED_ABOVE_4G);
	assert_int_equal(LB_LOADED_HIGH, LOADED_HIGH);
	assert_int_equal(LB_CAN_USE_HEAP, CAN_USE_HEAP);
	assert_int_equal(LB_KEEP_SEGMENTS, KEEP_SEGMENTS);
}

static void test_parse_synthetic_ok(void **st)
{
	(void)st;
	struct lb_image img;
	make_syn();
	assert_int_equal(lb_parse(syn, SYN_SIZE, &img), LB_OK);
	assert_int_equal(img.setup_sects, 4);
	assert_int_equal(img.setup_size, 5 * 512);
	assert_int_equal(img.payload_file_size, SYN_PM);
	assert_int_equal(img.version, 0x020f);
	assert_int_equal(img.kernel_alignment, 0x200000);
	assert_int_equal(img.init_size, 0x400000);
	assert_int_equal(img.hdr_end, 0x26c);
	assert_int_equal(img.pref_address, 0x1000000);
	assert_true(img.above_4g_ok);
}

static void expect_parse(int err)
{
	struct lb_image img;
	assert_int_equal(lb_parse(syn, SYN_SIZE, &img), err);
}

static void test_parse_each_error(void **st)
{
	(void)st;
	struct lb_image img;
	make_syn();
	assert_int_equal(lb_parse(NULL, SYN_SIZE, &img), LB_ERR_INVAL);
	assert_int_equal(lb_parse(syn, 0x26f, &img), LB_ERR_TOO_SMALL);
	make_syn(); w16(syn, 0x1fe, 0x55aa);          expect_parse(LB_ERR_BOOT_FLAG);
	make_syn(); syn[0x205] = 'T';                 expect_parse(LB_ERR_MAGIC);
	make_syn(); w16(syn, 0x206, 0x020b);          expect_parse(LB_ERR_VERSION);
	make_syn(); w16(syn, 0x236, 0x7e);            expect_parse(LB_ERR_NOT_64BIT);
	make_syn(); syn[0x201] = 0x65;                expect_parse(LB_ERR_HDR_LEN);
	make_syn(); syn[0x234] = 0;                   expect_parse(LB_ERR_NOT_RELOCATABLE);
	make_syn(); w32(syn, 0x230, 0x300000);        expect_parse(LB_ERR_ALIGNMENT);
	make_syn(); w32(syn, 0x230, 0);               expect_parse(LB_ERR_ALIGNMENT);
	make_syn(); syn[0x235] = 22;                  expect_parse(LB_ERR_ALIGNMENT);
	make_syn(); syn[0x1f1] = 200;                 expect_parse(LB_ERR_SETUP_BOUNDS);
	make_syn(); w32(syn, 0x1f4, SYN_PM / 16 + 1); expect_parse(LB_ERR_PAYLOAD_BOUNDS);
	make_syn(); w32(syn, 0x1f4, 0);               expect_parse(LB_ERR_PAYLOAD_BOUNDS);
	make_syn(); w32(syn, 0x248, SYN_PM - 0x10);   expect_parse(LB_ERR_PAYLOAD_BOUNDS);
	make_syn(); w32(syn, 0x24c, 0xffffffff);      expect_parse(LB_ERR_PAYLOAD_BOUNDS);
	make_syn(); w32(syn, 0x260, 0);               expect_parse(LB_ERR_INIT_SIZE);
	make_syn(); w32(syn, 0x260, SYN_PM - 1);      expect_parse(LB_ERR_INIT_SIZE);
	/* every error has its own message */
	for (int a = LB_ERR_HDR_LEN; a <= LB_OK; a++)
		for (int b = a + 1; b <= LB_OK; b++)
			assert_string_not_equal(lb_strerror(a), lb_strerror(b));
}

static struct e820_entry E(uint64_t a, uint64_t s, uint32_t t)
{
	struct e820_entry e = { a, s, t };
	return e;
}

static void test_place_kernel(void **st)
{
	(void)st;
	struct lb_image img;
	uint64_t load;
	make_syn();
	assert_int_equal(lb_parse(syn, SYN_SIZE, &img), LB_OK);
	struct e820_entry map[] = { E(0, 0x9f000, 1), E(1 * MB, 511 * MB, 1) };
	/* pref_address (16M) free -> used */
	assert_int_equal(lb_place_kernel(&img, map, 2, NULL, 0, &load), LB_OK);
	assert_int_equal(load, 16 * MB);
	/* pref blocked by a boot module -> next 2M-aligned address with 4M room after 20M */
	struct e820_range av[] = { { 16 * MB, 4 * MB + 1 } };
	assert_int_equal(lb_place_kernel(&img, map, 2, av, 1, &load), LB_OK);
	assert_int_equal(load, 22 * MB);
	assert_int_equal(load % img.kernel_alignment, 0);
	assert_int_equal(lb_entry64(load), 22 * MB + 0x200);
	/* no room */
	struct e820_entry small[] = { E(1 * MB, 18 * MB, 1) };
	assert_int_equal(lb_place_kernel(&img, small, 1, NULL, 0, &load), LB_ERR_NO_ROOM);
	/* only above 4G RAM: ok if above_4g_ok, else no room */
	struct e820_entry high[] = { E(4 * GB, 1 * GB, 1) };
	assert_int_equal(lb_place_kernel(&img, high, 1, NULL, 0, &load), LB_OK);
	assert_int_equal(load, 4 * GB);
	img.above_4g_ok = false;
	assert_int_equal(lb_place_kernel(&img, high, 1, NULL, 0, &load), LB_ERR_NO_ROOM);
}

static uint8_t bp[LB_BP_SIZE];

static void test_boot_params_fields(void **st)
{
	(void)st;
	struct lb_image img;
	make_syn();
	assert_int_equal(lb_parse(syn, SYN_SIZE, &img), LB_OK);
	struct e820_entry map[] = { E(0, 0x9f000, 1), E(0x9f000, 0x1000, 2), E(1 * MB, 0x1ff00000ULL, 1) };
	struct lb_params p = {
		.load_addr = 16 * MB, .cmdline_addr = 0x123456789ULL, .cmdline_len = 100,
		.initrd_addr = 0x234567000ULL, .initrd_size = 0x1800000,
		.acpi_rsdp = 0xf5a10, .e820 = map, .nr_e820 = 3,
	};
	memset(bp, 0xcc, sizeof(bp));
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_OK);
	const struct boot_params *b = (const void *)bp;
	/* header copied from the image */
	assert_int_equal(b->hdr.boot_flag, 0xAA55);
	assert_int_equal(b->hdr.header, 0x53726448);
	assert_int_equal(b->hdr.version, 0x020f);
	assert_int_equal(b->hdr.kernel_alignment, 0x200000);
	assert_int_equal(b->hdr.init_size, 0x400000);
	assert_int_equal(b->hdr.setup_sects, 4);     /* 0 in the image, made explicit */
	/* loader-written fields */
	assert_int_equal(b->hdr.type_of_loader, 0xff);
	assert_int_equal(b->hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	assert_int_equal(b->hdr.heap_end_ptr, 0xde00);
	assert_int_equal(b->hdr.code32_start, 16 * MB);
	assert_int_equal(b->hdr.cmd_line_ptr, 0x23456789);
	assert_int_equal(b->ext_cmd_line_ptr, 0x1);
	assert_int_equal(b->hdr.ramdisk_image, 0x34567000);
	assert_int_equal(b->ext_ramdisk_image, 0x2);
	assert_int_equal(b->hdr.ramdisk_size, 0x1800000);
	assert_int_equal(b->ext_ramdisk_size, 0);
	assert_int_equal(b->acpi_rsdp_addr, 0xf5a10);
	assert_int_equal(b->e820_entries, 3);
	assert_int_equal(b->e820_table[1].addr, 0x9f000);
	assert_int_equal(b->e820_table[1].size, 0x1000);
	assert_int_equal(b->e820_table[1].type, 2);
	assert_int_equal(b->e820_table[2].size, 0x1ff00000ULL);
	assert_int_equal(b->sentinel, 0);
	/* everything outside the header and the written fields is zero */
	for (uint32_t i = 0; i < 0x1e8; i++)
		if (i < 0x070 || (i >= 0x078 && i < 0x0c0) || i >= 0x0cc)
			assert_int_equal(bp[i], 0);
	for (uint32_t i = 0x2d0 + 3 * 20; i < LB_BP_SIZE; i++)
		assert_int_equal(bp[i], 0);
}

static void test_boot_params_errors(void **st)
{
	(void)st;
	struct lb_image img;
	make_syn();
	assert_int_equal(lb_parse(syn, SYN_SIZE, &img), LB_OK);
	struct e820_entry map[1] = { E(0, 1 * GB, 1) };
	struct lb_params p = { .load_addr = 16 * MB, .cmdline_addr = 0x10000, .cmdline_len = 2047,
			       .e820 = map, .nr_e820 = 1 };
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_OK);
	p.cmdline_len = 2048;
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_ERR_CMDLINE_TOO_LONG);
	p.cmdline_len = 10;
	p.nr_e820 = 129;
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_ERR_E820_TOO_MANY);
	p.nr_e820 = 1;
	p.load_addr = 16 * MB + 0x1000;            /* not 2M (min_alignment 21) aligned */
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_ERR_LOAD_ADDR);
	p.load_addr = 16 * MB;
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, 4095), LB_ERR_INVAL);
	img.above_4g_ok = false;
	p.initrd_addr = 0x7ff00000; p.initrd_size = 0x200000;   /* ends above initrd_addr_max */
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_ERR_INITRD_ADDR);
	p.initrd_addr = 0xfff00000; p.initrd_size = 0x200000;   /* crosses 4G */
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_ERR_ABOVE_4G);
	p.initrd_addr = 0x10000000; p.initrd_size = 0x100000;
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_OK);
	/* protocol 2.13: acpi_rsdp_addr not written */
	make_syn(); w16(syn, 0x206, 0x020d);
	assert_int_equal(lb_parse(syn, SYN_SIZE, &img), LB_OK);
	p.acpi_rsdp = 0xf0000;
	assert_int_equal(lb_build_boot_params(syn, SYN_SIZE, &img, &p, bp, sizeof(bp)), LB_OK);
	assert_int_equal(r64(bp, 0x70), 0);
}

/* ---- the real bzImage ---- */
static uint8_t *real;
static size_t real_size;

static int load_real(void **st)
{
	(void)st;
	const char *path = getenv("HVMON_TEST_BZIMAGE");
	if (!path)
		path = DEFAULT_BZIMAGE;
	FILE *f = fopen(path, "rb");
	char alt[4096];
	if (!f && !getenv("HVMON_TEST_BZIMAGE")) {
		/* run from elsewhere: the binary lives in <top>/build/tests/unit/ */
		ssize_t n = readlink("/proc/self/exe", alt, sizeof(alt) - 200);
		if (n > 0) {
			alt[n] = 0;
			char *slash = strrchr(alt, '/');
			if (slash) {
				strcpy(slash, "/../../../" DEFAULT_BZIMAGE);
				f = fopen(alt, "rb");
			}
		}
	}
	if (!f) {
		fprintf(stderr, "cannot open %s (set HVMON_TEST_BZIMAGE or run "
			"'make cache/kern-6.1-cloud/boot/vmlinuz-6.1.0-56-cloud-amd64')\n", path);
		return -1;                  /* group setup failure: reported as an error, not a pass */
	}
	fseek(f, 0, SEEK_END);
	real_size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	real = malloc(real_size);
	if (!real || fread(real, 1, real_size, f) != real_size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int free_real(void **st)
{
	(void)st;
	free(real);
	return 0;
}

static void test_real_bzimage(void **st)
{
	(void)st;
	struct lb_image img;
	assert_int_equal(lb_parse(real, real_size, &img), LB_OK);
	/* independent reads at the documented offsets */
	assert_int_equal(img.version, r16(real, 0x206));
	assert_true(img.version >= 0x020f);                         /* 6.1: protocol 2.15 */
	assert_int_equal(img.kernel_alignment, r32(real, 0x230));
	assert_int_equal(img.kernel_alignment, 0x200000);           /* CONFIG_PHYSICAL_ALIGN */
	assert_int_equal(img.init_size, r32(real, 0x260));
	assert_true(img.init_size > img.payload_file_size);
	assert_int_equal(img.setup_size, (real[0x1f1] ? real[0x1f1] : 4) * 512 + 512);
	assert_true(img.payload_file_size + img.setup_size <= real_size);
	assert_int_equal(img.pref_address, 0x1000000);              /* CONFIG_PHYSICAL_START */
	assert_true(img.xloadflags & XLF_KERNEL_64);
	assert_true(img.above_4g_ok);
	assert_int_equal(img.cmdline_size, r32(real, 0x238));
	assert_int_equal(img.hdr_end, 0x202 + real[0x201]);
	/* payload (compressed vmlinux) lies inside the protected-mode part */
	assert_true((uint64_t)img.payload_offset + img.payload_length <= img.payload_file_size);

	struct e820_entry map[] = { E(0, 0x9f000, 1), E(1 * MB, 2047 * MB, 1) };
	struct e820_range av[] = { { 0x2000000, real_size } };      /* where a loader put the module */
	uint64_t load;
	assert_int_equal(lb_place_kernel(&img, map, 2, av, 1, &load), LB_OK);
	assert_int_equal(load % img.kernel_alignment, 0);
	assert_true(load + img.init_size <= 0x2000000 || load >= 0x2000000 + real_size);

	struct lb_params p = { .load_addr = load, .cmdline_addr = 0x20000, .cmdline_len = 30,
			       .initrd_addr = 0x40000000, .initrd_size = 0x100000, .e820 = map, .nr_e820 = 2 };
	assert_int_equal(lb_build_boot_params(real, real_size, &img, &p, bp, sizeof(bp)), LB_OK);
	const struct boot_params *b = (const void *)bp;
	/* the copied header equals the image bytes 0x1f1..hdr_end except loader fields */
	assert_memory_equal(bp + 0x1f1, real + 0x1f1, 0x210 - 0x1f1);
	assert_memory_equal(bp + 0x22c, real + 0x22c, img.hdr_end - 0x22c);
	assert_int_equal(b->hdr.type_of_loader, 0xff);
	assert_int_equal(b->hdr.code32_start, (uint32_t)load);
	assert_int_equal(b->hdr.cmd_line_ptr, 0x20000);
	assert_int_equal(b->hdr.ramdisk_image, 0x40000000);
	assert_int_equal(b->e820_entries, 2);
	/* 64-bit entry: startup_64 is 0x200 into the protected-mode kernel */
	assert_int_equal(lb_entry64(load) - load, 0x200);
	/* a truncated copy of the real image is rejected, not misread */
	assert_int_equal(lb_parse(real, img.setup_size + 4096, &img), LB_ERR_PAYLOAD_BOUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_match_linux_uapi),
		cmocka_unit_test(test_parse_synthetic_ok),
		cmocka_unit_test(test_parse_each_error),
		cmocka_unit_test(test_place_kernel),
		cmocka_unit_test(test_boot_params_fields),
		cmocka_unit_test(test_boot_params_errors),
	};
	const struct CMUnitTest real_tests[] = {
		cmocka_unit_test(test_real_bzimage),
	};
	int fails = cmocka_run_group_tests_name("linux_boot", tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("linux_boot_real_bzimage", real_tests, load_real, free_real);
	(void)r64;
	return fails;
}
