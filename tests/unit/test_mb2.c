/* Unit tests: the pure Multiboot2 parser (boot/multiboot2/mb2_parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>
#include "boot/multiboot2/mb2_parse.h"

#define HV_BASE 0x1000000ull
#define HV_SIZE 0x2000000ull

static uint8_t mbi[16384];
static size_t mlen;

static void begin(void) { memset(mbi, 0, sizeof(mbi)); mlen = 8; }
static void tag(uint32_t type, const void *body, uint32_t blen)
{
	uint32_t size = 8 + blen;
	memcpy(mbi + mlen, &type, 4);
	memcpy(mbi + mlen + 4, &size, 4);
	memcpy(mbi + mlen + 8, body, blen);
	mlen += (size + 7) & ~7u;
}
static void module(uint32_t start, uint32_t end, const char *s)
{
	uint8_t b[4096];
	memcpy(b, &start, 4);
	memcpy(b + 4, &end, 4);
	strcpy((char *)b + 8, s);
	tag(3, b, 8 + (uint32_t)strlen(s) + 1);
}
static void mmap_ram(void)
{
	uint8_t b[8 + 2 * 24] = { 0 };
	uint32_t es = 24, one = 1;
	uint64_t base1 = 0x100000, len1 = 0x1ff00000, len0 = 0x9f000;
	memcpy(b, &es, 4);
	memcpy(b + 8 + 8, &len0, 8); memcpy(b + 8 + 16, &one, 4);
	memcpy(b + 32, &base1, 8); memcpy(b + 32 + 8, &len1, 8); memcpy(b + 32 + 16, &one, 4);
	tag(6, b, sizeof(b));
}
static void end(void) { tag(0, "", 0); uint32_t t = (uint32_t)mlen; memcpy(mbi, &t, 4); }

static int parse(struct boot_info *bi, struct mb2_parsed *p, char *err)
{
	memset(bi, 0, sizeof(*bi));
	return mb2_parse(mbi, mlen, HV_BASE, HV_SIZE, bi, p, err);
}

static void test_valid(void **state)
{
	static struct boot_info bi;
	struct mb2_parsed p;
	char err[MB2_ERR_LEN];
	begin();
	tag(1, "console=com2 key=00", 20);
	module(0x4000000, 0x4800000, "guest-kernel console=ttyS0 quiet");
	module(0x5000000, 0x5400000, "guest-initrd");
	mmap_ram();
	end();
	assert_int_equal(parse(&bi, &p, err), 0);
	assert_string_equal(bi.hv_cmdline, "console=com2 key=00");
	assert_string_equal(bi.guest_cmdline, "console=ttyS0 quiet");
	assert_int_equal(bi.guest_kernel.base, 0x4000000);
	assert_int_equal(bi.guest_kernel.size, 0x800000);
	assert_int_equal(bi.guest_initrd.size, 0x400000);
	assert_int_equal(bi.nr_mem, 2);
	assert_int_equal(p.cmdline_len, 19);
	assert_memory_equal(mbi + p.cmdline_off, "console=com2 key=00", 19);
}

static void expect_err(const char *what)
{
	static struct boot_info bi;
	struct mb2_parsed p;
	char err[MB2_ERR_LEN];
	if (parse(&bi, &p, err) != -1)
		fail_msg("accepted, expected an error with '%s'", what);
	if (!strstr(err, what))
		fail_msg("error '%s' does not contain '%s'", err, what);
}

/* the two over-reads of issue 18 (seeds of fuzz_mb2) */
static void test_issue18_seeds(void **state)
{
	static const uint8_t s1[] = { 0x10,0,0,0, 0,0,0,0, 6,0,0,0, 8,0,0,0 };
	static const uint8_t s2[] = { 0x20,0,0,0, 0,0,0,0, 6,0,0,0, 0x18,0,0,0,
				      0xf8,0xff,0xff,0xff, 0,0,0,0, 0,0x10,0,0, 0,0,0,0 };
	static struct boot_info bi;
	struct mb2_parsed p;
	char err[MB2_ERR_LEN];
	memset(&bi, 0, sizeof(bi));
	assert_int_equal(mb2_parse(s1, sizeof(s1), HV_BASE, HV_SIZE, &bi, &p, err), -1);
	assert_non_null(strstr(err, "memory map tag"));
	assert_int_equal(mb2_parse(s2, sizeof(s2), HV_BASE, HV_SIZE, &bi, &p, err), -1);
	assert_non_null(strstr(err, "entry size"));
}

static void test_refusals(void **state)
{
	static char big[2100];
	memset(big, 'a', 2048); big[2048] = 0;
	/* a command line of 2,048 characters is refused, not cut */
	begin(); tag(1, big, 2049); module(0x4000000, 0x4800000, "guest-kernel"); mmap_ram(); end();
	expect_err("refusing a truncated command line");
	memcpy(big, "guest-kernel ", 13);
	memset(big + 2048, 'b', 40); big[2088] = 0;
	begin(); tag(1, "", 1); module(0x4000000, 0x4800000, big); mmap_ram(); end();
	expect_err("the guest command line is");
	/* module over hvmon */
	begin(); tag(1, "", 1); module(0x1800000, 0x2000000, "guest-kernel"); mmap_ram(); end();
	expect_err("overlaps hvmon");
	begin(); tag(1, "", 1); module(0x4000000, 0x4800000, "guest-kernel");
	module(0x0f00000, 0x1000001, "guest-initrd"); mmap_ram(); end();
	expect_err("module 2 at 0xf00000 overlaps hvmon");
	/* module outside RAM (above the map, or in the hole below 1 MiB) */
	begin(); tag(1, "", 1); module(0x30000000, 0x30100000, "guest-kernel"); mmap_ram(); end();
	expect_err("not inside RAM");
	begin(); tag(1, "", 1); module(0x9f000, 0xa0000, "guest-kernel"); mmap_ram(); end();
	expect_err("not inside RAM");
	/* no kernel, empty module, missing end tag, tag overrun, unterminated string */
	begin(); tag(1, "", 1); mmap_ram(); end();
	expect_err("no guest kernel");
	begin(); tag(1, "", 1); module(0x4000000, 0x4000000, "guest-kernel"); mmap_ram(); end();
	expect_err("empty or inverted");
	begin(); tag(1, "", 1); module(0x4000000, 0x4800000, "guest-kernel"); mmap_ram();
	{ uint32_t t = (uint32_t)mlen; memcpy(mbi, &t, 4); }
	expect_err("no end tag");
	begin(); tag(1, "abc", 3); end();
	expect_err("not NUL-terminated");
	begin(); tag(1, "", 1); end();
	{ uint32_t big_size = 4096; memcpy(mbi + 12, &big_size, 4); }
	expect_err("overruns");
	/* total larger than what is readable */
	begin(); end(); { uint32_t t = (uint32_t)mlen + 8; memcpy(mbi, &t, 4); }
	expect_err("at most");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_issue18_seeds),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
