/* Unit tests of hvmon-collect's own logic (tools/hvmon-collect.c, included
 * for its statics like the fuzz target does): the syslog size rule, the
 * per-source per-second aggregation of stderr reports, --make-profile's
 * hashes (issue 18). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elf.h>
#include <lzma.h>
#include <zlib.h>
#include "mbedtls/sha256.h"
#define main hvmon_collect_main
#include "tools/hvmon-collect.c"
#undef main

/* the largest exec: every byte of filename and arguments needs a \u00XX
 * escape in JSON (6 bytes each), ~6.4 KB of JSON */
static void big_exec(struct hv_event *ev)
{
	char arg[HV_ARG_LEN];
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = HV_EV_EXEC;
	ev->u.exec.flags = HV_EXECF_OK;
	memset(ev->u.exec.filename, 1, HV_PATH_LEN - 1);
	memset(arg, 2, sizeof(arg));
	for (int i = 0; i < HV_ARGV_MAX; i++)
		hv_exec_add_arg(ev, arg, sizeof(arg));
}

static void test_syslog_size_rule(void **state)
{
	static struct hv_event ev;
	static char js[HV_EVENT_JSON_MAX + 256];
	const char *hdr = "<134>1 2026-12-04T22:00:00.000000Z hvmon-00000051 hvmon 81 exec [hvmon@32473 boot=\"000000000000000000000000\" seq=\"1\"";
	bool trimmed;
	big_exec(&ev);
	size_t jl = hv_event_to_json(&ev, "\"sender_id\":81", js, sizeof(js));
	assert_true(jl > 4000);
	size_t m = syslog_format(&ev, hdr, strlen(hdr), js, jl - 1, &trimmed);
	assert_true(trimmed);
	assert_true(m > 0 && m <= SYSLOG_MAX);
	sysmsg[m] = 0;
	assert_non_null(strstr(sysmsg, " trimmed=\"1\"] {\"event\":\"exec\""));
	assert_int_equal(sysmsg[m - 1], '}');         /* JSON closed, not cut */
	/* a small event is passed whole */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HV_EV_FORK;
	jl = hv_event_to_json(&ev, NULL, js, sizeof(js));
	m = syslog_format(&ev, hdr, strlen(hdr), js, jl - 1, &trimmed);
	assert_false(trimmed);
	assert_int_equal(m, strlen(hdr) + 2 + jl - 1);
}

/* stderr of the code under test, into a string */
static char errbuf[16384];
static FILE *errf;
static int saved_stderr = -1;

static void err_begin(void)
{
	fflush(stderr);
	errf = tmpfile();
	assert_non_null(errf);
	saved_stderr = dup(2);
	assert_true(dup2(fileno(errf), 2) >= 0);
}

static const char *err_end(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(errf);
	size_t n = fread(errbuf, 1, sizeof(errbuf) - 1, errf);
	errbuf[n] = 0;
	fclose(errf);
	return errbuf;
}

static unsigned count_lines(const char *s, const char *needle)
{
	unsigned n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct sockaddr_in src(uint32_t host_order)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(host_order);
	return a;
}

static void agg_reset(void)
{
	nagg = 0;
	agg_sec = -1;
	memset(agg_other, 0, sizeof(agg_other));
	memset(agg_other_missing, 0, sizeof(agg_other_missing));
	memset(&st, 0, sizeof(st));
	quiet = 0;
}

/* gaps from one source in one second: the first is printed in full by the
 * caller, the others are one line with the gaps and the datagrams they miss */
static void test_gap_aggregation_one_source(void **state)
{
	(void)state;
	struct sockaddr_in a = src(0x0a000001), b = src(0x0a000002);
	agg_reset();
	err_begin();
	assert_true(agg_first_n(AGG_GAP, &a, 100.1, 1));
	for (uint64_t len = 2; len <= 5; len++)
		assert_false(agg_first_n(AGG_GAP, &a, 100.5, len));     /* 2+3+4+5 = 14 */
	assert_true(agg_first_n(AGG_GAP, &b, 100.6, 7));          /* another source: its own line */
	assert_true(agg_first_n(AGG_LATE, &a, 100.7, 0));         /* another kind */
	assert_false(agg_first_n(AGG_LATE, &a, 100.8, 0));
	assert_true(agg_first_n(AGG_GAP, &a, 101.0, 3));          /* a new second: full again */
	const char *e = err_end();
	assert_non_null(strstr(e, "gap: 4 more gaps (14 datagrams missing) from 10.0.0.1 in the same second (reported once)\n"));
	assert_non_null(strstr(e, "reordered: 1 more datagrams from 10.0.0.1 in the same second (reported once)\n"));
	assert_null(strstr(e, "from 10.0.0.2"));                  /* b had one gap: nothing to sum up */
	assert_int_equal(count_lines(e, "\n"), 2);
	assert_int_equal(st.suppressed, 5);
	err_begin();
	agg_flush();                                              /* the last second: one gap, no line */
	assert_string_equal(err_end(), "");
}

/* a loss storm from many sources: at most AGG_SOURCES lines of their own, the
 * rest one line per kind with every gap and missing datagram counted */
static void test_gap_aggregation_many_sources(void **state)
{
	(void)state;
	agg_reset();
	err_begin();
	unsigned full = 0;
	uint64_t missing_summed = 0;
	for (uint32_t i = 0; i < 100; i++) {
		struct sockaddr_in a = src(0x0a000000 + i);
		for (int k = 0; k < 3; k++)
			full += agg_first_n(AGG_GAP, &a, 7.25, 2);
	}
	agg_flush();
	const char *e = err_end();
	assert_int_equal(full, AGG_SOURCES);
	assert_int_equal(count_lines(e, "gap: 2 more gaps (4 datagrams missing) from 10.0.0."), AGG_SOURCES);
	/* 68 sources x 3 gaps x 2 datagrams */
	assert_non_null(strstr(e, "gap: 204 gaps (408 datagrams missing) from more than 32 other sources in the same second"));
	assert_int_equal(count_lines(e, "\n"), AGG_SOURCES + 1);
	/* every gap accounted: full lines + summed gaps = 300 */
	for (const char *p = e; (p = strstr(p, "datagrams missing)")); p++) {
		const char *q = p;
		while (q > e && q[-1] != '(')
			q--;
		missing_summed += strtoull(q, NULL, 10);
	}
	assert_int_equal(missing_summed + 2 * full, 600);
	assert_int_equal(st.suppressed, 300 - AGG_SOURCES);
}

/* --quiet: counted, no lines */
static void test_gap_aggregation_quiet(void **state)
{
	(void)state;
	struct sockaddr_in a = src(0x7f000001);
	agg_reset();
	quiet = 1;
	err_begin();
	agg_first_n(AGG_GAP, &a, 1.0, 1);
	agg_first_n(AGG_GAP, &a, 1.0, 1);
	agg_flush();
	assert_string_equal(err_end(), "");
	quiet = 0;
}

static void sha_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[32];
	static const char d[] = "0123456789abcdef";
	mbedtls_sha256_ret(p, n, h, 0);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[64] = 0;
}

/* a small image shaped like hvmon.elf (linker.ld): one PT_LOAD at a high
 * vaddr holding .text (AX), .rodata (A, after a gap) and .data (WA), then a
 * bss past p_filesz; optionally __image_start/__ro_end symbols */
static size_t mini_elf(uint8_t *buf, size_t size, bool symbols, uint64_t *ro_len)
{
	const uint64_t va = 0xffffffff80000000ull;
	memset(buf, 0, size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + 64);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = 64; eh->e_phentsize = sizeof(Elf64_Phdr); eh->e_phnum = 1;
	/* segment: file 0x1000.., .text 0x100 bytes, gap to 0x140, .rodata 0x60, .data at 0x1000 */
	ph->p_type = PT_LOAD; ph->p_offset = 0x1000; ph->p_vaddr = va; ph->p_paddr = 0x8000000;
	ph->p_filesz = 0x1010; ph->p_memsz = 0x3000;
	for (int i = 0; i < 0x100; i++) buf[0x1000 + i] = (uint8_t)(0x90 + i);
	for (int i = 0; i < 0x40; i++) buf[0x1100 + i] = 0xcc;          /* padding a loader copies too */
	for (int i = 0; i < 0x60; i++) buf[0x1140 + i] = (uint8_t)i;
	for (int i = 0; i < 0x10; i++) buf[0x2000 + i] = 0x55;          /* .data: not measured */
	*ro_len = 0x1a0;
	/* section headers at 0x3000: null, .text, .rodata, .data, .bss, [.symtab, .strtab] */
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + 0x3000);
	sh[1] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR, .sh_addr = va, .sh_offset = 0x1000, .sh_size = 0x100 };
	sh[2] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC, .sh_addr = va + 0x140, .sh_offset = 0x1140, .sh_size = 0x60 };
	sh[3] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE, .sh_addr = va + 0x1000, .sh_offset = 0x2000, .sh_size = 0x10 };
	sh[4] = (Elf64_Shdr){ .sh_type = SHT_NOBITS, .sh_flags = SHF_ALLOC | SHF_WRITE, .sh_addr = va + 0x2000, .sh_size = 0x1000 };
	eh->e_shoff = 0x3000; eh->e_shentsize = sizeof(Elf64_Shdr); eh->e_shnum = 5;
	if (!symbols)
		return 0x3000 + 5 * sizeof(Elf64_Shdr);
	/* __ro_end placed 0x20 before the end of .rodata: the symbol wins */
	static const char strs[] = "\0__image_start\0__ro_end";
	memcpy(buf + 0x3400, strs, sizeof(strs));
	Elf64_Sym *sym = (Elf64_Sym *)(buf + 0x3500);
	sym[1] = (Elf64_Sym){ .st_name = 1, .st_value = va };
	sym[2] = (Elf64_Sym){ .st_name = 15, .st_value = va + 0x180 };
	sh[5] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = 0x3500, .sh_size = 3 * sizeof(Elf64_Sym), .sh_link = 6, .sh_entsize = sizeof(Elf64_Sym) };
	sh[6] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = 0x3400, .sh_size = sizeof(strs) };
	eh->e_shnum = 7;
	*ro_len = 0x180;
	return 0x3600;
}

static void test_profile_hvmon_hash(void **state)
{
	(void)state;
	static uint8_t elf[0x4000];
	char got[65], want[65], err[256];
	uint64_t ro;
	/* stripped: .text through the end of .rodata, as loaded (padding included) */
	size_t n = mini_elf(elf, sizeof(elf), false, &ro);
	sha_hex(elf + 0x1000, ro, want);
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	/* with symbols: __image_start..__ro_end */
	n = mini_elf(elf, sizeof(elf), true, &ro);
	sha_hex(elf + 0x1000, ro, want);
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	/* .data does not count; .rodata does */
	elf[0x2000] ^= 1;
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	elf[0x1150] ^= 1;
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), 0);
	assert_string_not_equal(got, want);
	/* malformed images are refused with a reason */
	n = mini_elf(elf, sizeof(elf), false, &ro);
	assert_int_equal(prof_hvmon_sha256(elf, 40, got, err, sizeof(err)), -1);
	((Elf64_Phdr *)(elf + 64))->p_filesz = 0x100000;
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside the file"));
	n = mini_elf(elf, sizeof(elf), false, &ro);
	((Elf64_Ehdr *)elf)->e_shnum = 0;
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "section headers"));
	/* a read-only range far larger than the file is not an image (no 64 MiB of zeros hashed) */
	n = mini_elf(elf, sizeof(elf), false, &ro);
	((Elf64_Shdr *)(elf + 0x3000))[2].sh_size = 64u << 20;
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than the file"));
	/* a range just within file + 2 MiB is still hashed (zeros past the file bytes) */
	((Elf64_Shdr *)(elf + 0x3000))[2].sh_size = (2u << 20) - 0x140;
	assert_int_equal(prof_hvmon_sha256(elf, n, got, err, sizeof(err)), 0);
}

/* under GRUB a gzip/xz module is hashed decompressed, under UEFI as is */
static void test_profile_module_hash(void **state)
{
	(void)state;
	static uint8_t plain[100000], gz[120000], xz[120000];
	char got[65], want[65], raw[65], err[256];
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 / 13);
	sha_hex(plain, sizeof(plain), want);
	/* gzip */
	z_stream z = { 0 };
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = plain; z.avail_in = sizeof(plain); z.next_out = gz; z.avail_out = sizeof(gz);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t gzn = z.total_out;
	deflateEnd(&z);
	assert_int_equal(prof_module_sha256(gz, gzn, PROF_LOADER_MULTIBOOT2, got, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	sha_hex(gz, gzn, raw);
	assert_int_equal(prof_module_sha256(gz, gzn, PROF_LOADER_UEFI, got, err, sizeof(err)), 0);
	assert_string_equal(got, raw);
	assert_int_equal(prof_module_sha256(gz, gzn / 2, PROF_LOADER_MULTIBOOT2, got, err, sizeof(err)), -1);
	/* xz */
	size_t xzn = 0;
	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, plain, sizeof(plain), xz, &xzn, sizeof(xz)), LZMA_OK);
	assert_int_equal(prof_module_sha256(xz, xzn, PROF_LOADER_MULTIBOOT2, got, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	/* not compressed (a bzImage, a zstd initrd): as is on both paths */
	assert_int_equal(prof_module_sha256(plain, sizeof(plain), PROF_LOADER_MULTIBOOT2, got, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	/* lzop: GRUB would decompress it, this tool cannot: refused, not guessed */
	static const uint8_t lzo[] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3 };
	assert_int_equal(prof_module_sha256(lzo, sizeof(lzo), PROF_LOADER_MULTIBOOT2, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "lzop"));
}

/* options: the summary hvmon would format, its hash, the monitors it turns on */
static void test_profile_options(void **state)
{
	(void)state;
	char h[65], h2[65], mons[128], sum[1024], err[256], want[65];
	assert_int_equal(prof_options("console=com2 log=debug monitors=tracer,hang", h, mons, sizeof(mons), sum,
				      sizeof(sum), err, sizeof(err)), 0);
	assert_string_equal(mons, "tracer,hang");
	assert_non_null(strstr(sum, "console=0x2f8 log=debug "));
	assert_non_null(strstr(sum, " monitors=tracer,hang "));
	sha_hex(sum, strlen(sum), want);
	assert_string_equal(h, want);
	/* word order does not matter (the summary is canonical), values do */
	assert_int_equal(prof_options("monitors=tracer,hang log=debug console=com2", h2, NULL, 0, NULL, 0, err,
				      sizeof(err)), 0);
	assert_string_equal(h, h2);
	assert_int_equal(prof_options("monitors=tracer log=debug console=com2", h2, mons, sizeof(mons), NULL, 0,
				      err, sizeof(err)), 0);
	assert_string_not_equal(h, h2);
	/* the key never reaches the summary */
	assert_int_equal(prof_options("key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", h, mons,
				      sizeof(mons), sum, sizeof(sum), err, sizeof(err)), 0);
	assert_non_null(strstr(sum, "key=<set>"));
	assert_null(strstr(sum, "0011"));
	assert_string_equal(mons, "tracer,hang,ret2usr,keylogger,integrity");   /* the default: all */
	assert_int_equal(prof_options("monitors=none", h, mons, sizeof(mons), NULL, 0, err, sizeof(err)), 0);
	assert_string_equal(mons, "");
	/* what hvmon refuses to boot with is refused here */
	assert_int_equal(prof_options("log=loud", h, mons, sizeof(mons), NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "log=loud"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_size_rule),
		cmocka_unit_test(test_gap_aggregation_one_source),
		cmocka_unit_test(test_gap_aggregation_many_sources),
		cmocka_unit_test(test_gap_aggregation_quiet),
		cmocka_unit_test(test_profile_hvmon_hash),
		cmocka_unit_test(test_profile_module_hash),
		cmocka_unit_test(test_profile_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
